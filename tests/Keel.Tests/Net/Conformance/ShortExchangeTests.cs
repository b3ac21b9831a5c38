using Keel.Net.Sockets;
using NUnit.Framework;

namespace Keel.Tests.Net.Conformance
{
    /// <summary>
    /// A request answered at once, as an HTTP server does: the segments a short exchange takes. A response written in
    /// pieces with "more" (Linux MSG_MORE) leaves as one segment, with the FIN when Close follows (RFC 9293 3.10.4
    /// lets a FIN ride on the last data segment); a window update the read caused rides on the response instead of
    /// going ahead of it alone (Linux sends it at the end of recvmsg, tcp_cleanup_rbuf, when the reply does not carry
    /// it first); and nothing the application held back waits beyond the end of the stack's batch.
    /// </summary>
    public class ShortExchangeTests
    {
        private const uint P = TcpHarness.PeerIss;

        private static TcpHarness Established()
        {
            TcpHarness h = new TcpHarness();
            // Window scaling on both sides: the SYN-ACK's window (never scaled) is less than the buffer, as with Linux peers.
            Seg synAck = h.EstablishPassive(Seg.Syn(P, mss: 1460, ws: 7));
            Assert.That(synAck.WindowScale, Is.GreaterThanOrEqualTo(0), "the stack scales its window");
            h.Socket.NoDelay = true;
            return h;
        }

        private static void SendPiece(TcpHarness h, int bytes, bool more)
        {
            SocketError error;
            Assert.That(h.Socket.Send(new byte[bytes], more, out error), Is.EqualTo(bytes));
            Assert.That(error, Is.EqualTo(SocketError.Success));
        }

        [Test, Rfc("9293 3.7.4")]
        public void AResponseWrittenInPiecesWithMoreLeavesAsOneSegment()
        {
            TcpHarness h = Established();
            SendPiece(h, 150, true);
            h.ExpectNothing("the head waits for the body");
            SendPiece(h, 612, false);
            Seg response = h.Out();
            Assert.That(response.PayloadLength, Is.EqualTo(762), "head and body in one segment");
            Assert.That(response.Sequence, Is.EqualTo(h.Iss + 1));
            Assert.That(response.Has(TcpFlags.Psh), Is.True);
            h.ExpectNothing();
        }

        [Test, Rfc("9293 3.10.4")]
        public void CloseAfterAResponseWrittenWithMoreSendsTheFinInTheDataSegment()
        {
            TcpHarness h = Established();
            SendPiece(h, 150, true);
            SendPiece(h, 612, true);
            h.ExpectNothing();
            h.Close();
            Seg last = h.Out();
            Assert.That(last.PayloadLength, Is.EqualTo(762));
            Assert.That(last.Has(TcpFlags.Fin), Is.True, "the FIN rides on the data");
            h.ExpectNothing("one segment for the whole response and the close");
            Assert.That(h.State, Is.EqualTo(TcpState.FinWait1));
        }

        [Test]
        public void DataHeldWithMoreLeavesAtTheNextPollWithoutTheClockMoving()
        {
            TcpHarness h = Established();
            SendPiece(h, 100, true);
            h.ExpectNothing();
            h.Stack.Poll();
            Seg held = h.Out();
            Assert.That(held.PayloadLength, Is.EqualTo(100), "held only until the end of the batch, no timer");
        }

        [Test]
        public void MoreDoesNotHoldFullSegments()
        {
            TcpHarness h = Established();
            SendPiece(h, 3000, true);
            int mss = h.Info.SendMss;
            long sent = h.SentBytes();
            Assert.That(sent, Is.EqualTo(3000 / mss * mss), "whole segments go at once, the part-filled tail waits");
            h.Stack.Poll();
            Assert.That(h.SentBytes(), Is.EqualTo(3000 - sent));
        }

        [Test, Rfc("9293 3.8.6.2.2")]
        public void AReadRequestAnsweredAtOnceSendsNoSeparateWindowUpdate()
        {
            TcpHarness h = Established();
            h.Send(Seg.Data(P + 1, h.Iss + 1, 87));
            h.ExpectNothing("one small segment: the ACK is delayed");
            SocketError error;
            Assert.That(h.Read(out error), Is.EqualTo(87));
            h.ExpectNothing("the window update waits for the reply");
            SendPiece(h, 762, false);
            Seg response = h.Out();
            Assert.That(response.PayloadLength, Is.EqualTo(762));
            Assert.That(response.Acknowledgment, Is.EqualTo(P + 1 + 87), "the response acknowledges the request");
            h.Stack.Poll();
            h.ExpectNothing("the response carried the ACK and the window: nothing else is owed");
        }

        [Test, Rfc("9293 3.8.6.2.2")]
        public void AWindowUpdateWithoutAReplyGoesAtTheEndOfTheBatch()
        {
            TcpHarness h = Established();
            h.Send(Seg.Data(P + 1, h.Iss + 1, 87));
            SocketError error;
            h.Read(out error);
            h.Stack.Poll();
            Seg update = h.Out();
            Assert.That(update.PayloadLength, Is.Zero);
            Assert.That(update.Acknowledgment, Is.EqualTo(P + 1 + 87));
            Assert.That(update.Window, Is.GreaterThan(65535 >> 7), "the full scaled window, past the SYN-ACK's 64 KiB");
        }
    }
}
