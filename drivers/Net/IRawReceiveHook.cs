using Keel.Buffers;

namespace Keel.Drivers.Net
{
    /// <summary>What a <see cref="IRawReceiveHook"/> decides about a received frame.</summary>
    public enum RawReceiveVerdict
    {
        /// <summary>Build a packet and hand it to the receiver as usual.</summary>
        Pass,

        /// <summary>Drop the frame: its buffers go straight back to the driver's page pool, no packet is built.</summary>
        Drop,
    }

    /// <summary>
    /// A receive hook in the spirit of XDP: a driver calls it with the raw frame, in the device's receive
    /// buffer, before any <see cref="Packet"/> exists. Runs in the driver's poll (or, in the
    /// process-in-interrupt ablation, in interrupt context); must not keep the pointer after returning.
    /// </summary>
    public interface IRawReceiveHook
    {
        /// <summary>
        /// <paramref name="frame"/> points at the Ethernet header inside the first receive buffer;
        /// <paramref name="length"/> bytes of the frame are in that buffer; the frame spans
        /// <paramref name="bufferCount"/> buffers in all (more than one only with mergeable buffers).
        /// </summary>
        unsafe RawReceiveVerdict Inspect(byte* frame, int length, int bufferCount);
    }
}
