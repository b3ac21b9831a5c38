using System;
using Keel.Apps.Iperf3;
using Keel.Net;
using Keel.Net.Sockets;
using Keel.Tests.Net;

namespace Keel.Tests.Fuzz
{
    /// <summary>
    /// The iperf3 server (stack B, port 5201) fed control-connection and data-stream bytes by a client on stack A:
    /// the cookie, the state bytes, the length-prefixed parameter and result JSON, in whatever order and cut
    /// wherever the bytes say. The server must never throw, and after it stops every packet and page is back.
    /// </summary>
    public static class Iperf3ControlTarget
    {
        /// <summary>
        /// Each record: control (bit 0: on a new data-stream connection instead of the control connection;
        /// bits 1-7: milliseconds ×20 to run first), a 16-bit length and the bytes to send.
        /// </summary>
        public static void Run(ReadOnlySpan<byte> input)
        {
            NetPair pair = new NetPair(FuzzStack.Config(), FuzzStack.Config(), packetsB: 256, packetsA: 256, linkSlots: 512);
            Iperf3Server server = new Iperf3Server(pair.B, pair.Clock, new TextCapture(), new Iperf3ServerConfig());
            FuzzInvariantException.Check(server.Start(), "the iperf3 server did not start");
            Socket control = Connect(pair, server);
            Socket data = null;
            byte[] reply = new byte[4096];
            FuzzReader r = new FuzzReader(input);
            int records = 0;
            while (!r.AtEnd && records++ < 32)
            {
                int flags = r.U8();
                ReadOnlySpan<byte> bytes = r.Chunk();
                Run(pair, server, (flags >> 1) * 20);
                Socket target = control;
                if ((flags & 1) != 0)
                {
                    data ??= Connect(pair, server);
                    target = data;
                }
                SocketError error;
                target?.Send(bytes, out error);
                Run(pair, server, 20);
                control?.Receive(reply, out error);
            }
            Run(pair, server, 1000);
            server.Stop();
            Run(pair, server, 100);
            string detail;
            FuzzInvariantException.Check(pair.AllReturned(out detail), "packets or pages not returned: " + detail);
            FuzzInvariantException.Check(pair.DeviceA.DestroyPools() && pair.DeviceB.DestroyPools(), "device pools could not be destroyed");
            pair.A.TransmitPages.ReleaseFreePages();
            pair.B.TransmitPages.ReleaseFreePages();
            FuzzInvariantException.Check(pair.Allocator.Outstanding == 0, "pages not given back to the allocator: " + pair.Allocator.Outstanding);
        }

        private static Socket Connect(NetPair pair, Iperf3Server server)
        {
            Socket s = pair.A.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
            s.Connect(new IPEndPoint(NetPair.AddressB, server.Port));
            Run(pair, server, 20);
            return s;
        }

        private static void Run(NetPair pair, Iperf3Server server, int milliseconds)
        {
            pair.StepMicroseconds = 1000;
            for (int t = 0; t < milliseconds; t++)
            {
                pair.Step();
                server.Poll();
                FuzzStack.CheckConnections(pair.A);
                FuzzStack.CheckConnections(pair.B);
            }
        }
    }
}
