using System;
using System.Text;
using System.Text.Json;
using Keel.Apps.Iperf3;
using Keel.Net;
using Keel.Net.Sockets;
using Keel.Tests.Net;
using NUnit.Framework;

namespace Keel.Tests.Iperf3
{
    /// <summary>
    /// The iperf3 server on stack B (198.18.0.2) of a <see cref="NetPair"/>, and a scripted iperf3 3.12 client on
    /// stack A written from the protocol notes: every step the client takes pumps the link, both stacks and the
    /// server (test code: it allocates freely; the server under test does not).
    /// </summary>
    public sealed class Iperf3TestBed
    {
        public readonly NetPair Pair;
        public readonly Iperf3Server Server;
        public readonly TextCapture Log = new TextCapture();
        public static readonly IPEndPoint ServerEndPoint = new IPEndPoint(NetPair.AddressB, 5201);

        /// <summary>Server.Poll allocations measured while <see cref="MeasureAllocations"/> is true.</summary>
        public long PollAllocatedBytes;
        public bool MeasureAllocations;

        public Iperf3TestBed(Iperf3ServerConfig config = null, int timeWaitMilliseconds = 1000)
        {
            Pair = new NetPair(NetPair.TestConfig(timeWaitMilliseconds), NetPair.TestConfig(timeWaitMilliseconds));
            Server = new Iperf3Server(Pair.B, Pair.Clock, Log, config ?? new Iperf3ServerConfig());
            Assert.That(Server.Start(), Is.True);
        }

        public void Step()
        {
            Pair.Step();
            if (MeasureAllocations)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                Server.Poll();
                PollAllocatedBytes += GC.GetAllocatedBytesForCurrentThread() - before;
            }
            else
            {
                Server.Poll();
            }
        }

        public void Run(int milliseconds)
        {
            long end = Pair.Clock.NowNanoseconds + milliseconds * 1_000_000L;
            while (Pair.Clock.NowNanoseconds < end)
            {
                Step();
            }
        }

        public bool RunUntil(Func<bool> condition, int milliseconds = 5000)
        {
            long end = Pair.Clock.NowNanoseconds + milliseconds * 1_000_000L;
            while (Pair.Clock.NowNanoseconds < end)
            {
                if (condition())
                {
                    return true;
                }
                Step();
            }
            return condition();
        }

        public double Seconds => Pair.Clock.NowNanoseconds / 1e9;
    }
}
