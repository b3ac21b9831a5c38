using Keel.Net;
using NUnit.Framework;

namespace Keel.Tests.Net
{
    /// <summary>
    /// Receive-side coalescing: adjacent segments, in order and out of order, are joined into
    /// one packet without a copy when their payload is in page fragments, so a window of data holds few of the
    /// driver's packet descriptors; the bytes still arrive exact.
    /// </summary>
    public class TcpCoalesceTests
    {
        [Test]
        public void AdjacentSegmentsAreJoinedAndTheDataStaysExact()
        {
            NetPair pair = new NetPair(NetPair.TestConfig(), NetPair.TestConfig(), 11);
            bool done;
            long ms;
            TcpLossRecoveryTests.Transfer(pair, 4 << 20, 0.02, 0, out done, out ms, 120_000);
            Assert.That(done, Is.True, "4 MiB byte-exact through 2 % loss");
            Assert.That(pair.B.Counter(NetStatistics.TcpOutOfOrder), Is.GreaterThan(0), "out-of-order data was queued");
            Assert.That(pair.B.Counter(NetStatistics.TcpRcvCoalesced), Is.GreaterThan(pair.B.Counter(NetStatistics.TcpOutOfOrder) / 4),
                "most adjacent segments joined");
            string detail;
            Assert.That(pair.AllReturned(out detail), Is.True, detail);
        }
    }
}
