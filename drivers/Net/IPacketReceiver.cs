using Keel.Buffers;

namespace Keel.Drivers.Net
{
    /// <summary>Takes received frames from a driver (Linux: netif_receive_skb). Owns each packet it gets.</summary>
    public interface IPacketReceiver
    {
        /// <summary>One received Ethernet frame; the receiver frees it (now or later).</summary>
        void Receive(Packet frame);

        /// <summary>Called once at the end of each driver poll, so the stack can flush batched work (ACKs).</summary>
        void ReceiveBatchDone();
    }
}
