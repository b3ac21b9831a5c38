using Keel.Net.Sockets;

namespace Keel.Tests.Net
{
    /// <summary>
    /// Pumps a byte pattern from one socket to another and checks every byte on arrival. Allocation-free after
    /// construction so it can run inside zero-allocation measurements.
    /// </summary>
    public sealed class BulkTransfer : ICondition
    {
        private readonly byte[] _sendBuffer = new byte[16384];
        private readonly byte[] _receiveBuffer = new byte[16384];
        public readonly Socket Sender;
        public readonly Socket Receiver;
        public readonly long Total;
        public long Sent;
        public long Received;
        public long Mismatches;
        public bool EndOfStream;
        public bool CloseWhenSent = true;
        public bool ReceiverReads = true;
        public SocketError LastError;
        private bool _finSent;

        public BulkTransfer(Socket sender, Socket receiver, long total)
        {
            Sender = sender;
            Receiver = receiver;
            Total = total;
        }

        public static byte Pattern(long i) => (byte)((i * 7) ^ (i >> 9) ^ (i >> 17));

        public void Pump()
        {
            SocketError error;
            while (Sent < Total)
            {
                int chunk = (int)(Total - Sent < _sendBuffer.Length ? Total - Sent : _sendBuffer.Length);
                for (int i = 0; i < chunk; i++)
                {
                    _sendBuffer[i] = Pattern(Sent + i);
                }
                int n = Sender.Send(new System.ReadOnlySpan<byte>(_sendBuffer, 0, chunk), out error);
                if (n <= 0)
                {
                    if (error != SocketError.WouldBlock)
                    {
                        LastError = error;
                    }
                    break;
                }
                Sent += n;
            }
            if (Sent == Total && CloseWhenSent && !_finSent)
            {
                Sender.Shutdown(SocketShutdown.Send);
                _finSent = true;
            }
            while (ReceiverReads && !EndOfStream)
            {
                int n = Receiver.Receive(_receiveBuffer, out error);
                if (n > 0)
                {
                    for (int i = 0; i < n; i++)
                    {
                        if (_receiveBuffer[i] != Pattern(Received + i))
                        {
                            Mismatches++;
                        }
                    }
                    Received += n;
                    continue;
                }
                if (error == SocketError.Success)
                {
                    EndOfStream = true;
                }
                else if (error != SocketError.WouldBlock)
                {
                    LastError = error;
                }
                break;
            }
        }

        public bool Done()
        {
            Pump();
            return Received == Total && (!CloseWhenSent || EndOfStream);
        }
    }
}
