using Keel.Net;
using Keel.Net.Sockets;
using Keel.Net.Tcp;
using NUnit.Framework;

namespace Keel.Tests.Net
{
    /// <summary>One event, two figures: the connection's (TcpInfo) and the stack's counter move together.</summary>
    public class TcpStatisticsTests
    {
        [Test]
        public void EachEventCountsOnTheConnectionAndOnTheStack()
        {
            long[] stack = new long[NetStatistics.Count];
            TcpStatistics s = new TcpStatistics(stack);
            s.Retransmitted();
            s.Retransmitted();
            s.FastRetransmit();
            s.Timeout();
            s.OutOfOrderSegment();
            s.SegmentOut();
            s.RackLosses(3);
            s.LossProbe();
            s.TlpRepair();
            s.SpuriousTimeout();
            s.DsackReceived();
            s.PawsReject();
            s.ReceiveBufferGrowth();
            s.PmtuReduction();
            TcpInfo info = default;
            s.Fill(ref info);
            Assert.That(info.TotalRetransmits, Is.EqualTo(2));
            Assert.That(stack[NetStatistics.TcpRetransmits], Is.EqualTo(2));
            Assert.That(info.FastRetransmits, Is.EqualTo(1));
            Assert.That(info.Recoveries, Is.EqualTo(1));
            Assert.That(stack[NetStatistics.TcpFastRetransmits], Is.EqualTo(1));
            Assert.That(info.Timeouts, Is.EqualTo(stack[NetStatistics.TcpTimeouts]).And.EqualTo(1));
            Assert.That(info.OutOfOrderSegments, Is.EqualTo(stack[NetStatistics.TcpOutOfOrder]).And.EqualTo(1));
            Assert.That(info.SegmentsOut, Is.EqualTo(stack[NetStatistics.TcpTxSegments]).And.EqualTo(1));
            Assert.That(info.RackLosses, Is.EqualTo(stack[NetStatistics.TcpRackLosses]).And.EqualTo(3));
            Assert.That(info.TlpProbes, Is.EqualTo(stack[NetStatistics.TcpLossProbes]).And.EqualTo(1));
            Assert.That(info.TlpRepairs, Is.EqualTo(stack[NetStatistics.TcpTlpRepairs]).And.EqualTo(1));
            Assert.That(info.SpuriousTimeouts, Is.EqualTo(stack[NetStatistics.TcpSpuriousRtos]).And.EqualTo(1));
            Assert.That(info.DsacksReceived, Is.EqualTo(stack[NetStatistics.TcpDsacksRx]).And.EqualTo(1));
            Assert.That(info.PawsRejected, Is.EqualTo(stack[NetStatistics.TcpPawsRejected]).And.EqualTo(1));
            Assert.That(info.ReceiveBufferGrowths, Is.EqualTo(stack[NetStatistics.TcpReceiveBufferGrowths]).And.EqualTo(1));
            Assert.That(s.PmtuReductions, Is.EqualTo(stack[NetStatistics.TcpPmtuReductions]).And.EqualTo(1));
        }

        [Test]
        public void ClearResetsTheConnectionButNotTheStack()
        {
            long[] stack = new long[NetStatistics.Count];
            TcpStatistics s = new TcpStatistics(stack);
            s.Timeout();
            s.TimeoutIn(TcpCaState.Recovery);
            s.BytesAcked(1000);
            s.BytesReceived(500);
            s.SegmentIn();
            s.DsackSent();
            s.Clear();
            TcpInfo info = default;
            s.Fill(ref info);
            Assert.That(info.Timeouts + info.BytesAcked + info.BytesReceived + info.SegmentsIn + info.DsacksSent, Is.Zero);
            Assert.That(s.RtoIn(TcpCaState.Recovery), Is.Zero);
            Assert.That(stack[NetStatistics.TcpTimeouts], Is.EqualTo(1), "the stack's counters are kept");
        }
    }
}
