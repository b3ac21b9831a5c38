using System.Collections.Generic;
using Keel.Net;
using Keel.Net.Sockets;
using Keel.Net.Tcp;
using NUnit.Framework;

namespace Keel.Tests.Net
{
    /// <summary>
    /// RFC 9293 section 3.3.2 (Figure 5) edge by edge, the transitions its text adds (any state to CLOSED on RST or
    /// ABORT, section 3.10.7; FIN_WAIT_1 to TIME_WAIT and SYN_RECEIVED to CLOSE_WAIT on a FIN, section 3.10.7.4),
    /// and every other pair refused.
    /// </summary>
    public class TcpStateMachineTests
    {
        private static readonly TcpState[] States =
        {
            TcpState.Closed, TcpState.Listen, TcpState.SynSent, TcpState.SynReceived, TcpState.Established,
            TcpState.FinWait1, TcpState.FinWait2, TcpState.CloseWait, TcpState.Closing, TcpState.LastAck,
            TcpState.TimeWait,
        };

        /// <summary>The edges of the diagram, each with the event that takes it.</summary>
        private static readonly (TcpState From, TcpState To, string Event)[] Diagram =
        {
            (TcpState.Closed, TcpState.Listen, "passive OPEN"),
            (TcpState.Closed, TcpState.SynSent, "active OPEN, snd SYN"),
            (TcpState.Listen, TcpState.SynReceived, "rcv SYN, snd SYN,ACK"),
            (TcpState.Listen, TcpState.SynSent, "SEND, snd SYN"),
            (TcpState.Listen, TcpState.Closed, "CLOSE"),
            (TcpState.SynSent, TcpState.SynReceived, "rcv SYN, snd ACK (simultaneous open)"),
            (TcpState.SynSent, TcpState.Established, "rcv SYN,ACK, snd ACK"),
            (TcpState.SynSent, TcpState.Closed, "CLOSE"),
            (TcpState.SynReceived, TcpState.Established, "rcv ACK of SYN"),
            (TcpState.SynReceived, TcpState.FinWait1, "CLOSE, snd FIN"),
            (TcpState.SynReceived, TcpState.Listen, "rcv RST (passive open)"),
            (TcpState.Established, TcpState.FinWait1, "CLOSE, snd FIN"),
            (TcpState.Established, TcpState.CloseWait, "rcv FIN, snd ACK"),
            (TcpState.FinWait1, TcpState.FinWait2, "rcv ACK of FIN"),
            (TcpState.FinWait1, TcpState.Closing, "rcv FIN, snd ACK (simultaneous close)"),
            (TcpState.FinWait2, TcpState.TimeWait, "rcv FIN, snd ACK"),
            (TcpState.Closing, TcpState.TimeWait, "rcv ACK of FIN"),
            (TcpState.CloseWait, TcpState.LastAck, "CLOSE, snd FIN"),
            (TcpState.LastAck, TcpState.Closed, "rcv ACK of FIN"),
            (TcpState.TimeWait, TcpState.Closed, "timeout = 2 MSL"),
        };

        /// <summary>Transitions the text of section 3.10 adds to the figure.</summary>
        private static readonly (TcpState From, TcpState To, string Event)[] Text =
        {
            (TcpState.FinWait1, TcpState.TimeWait, "3.10.7.4: FIN arrives and our FIN is acknowledged"),
            (TcpState.SynReceived, TcpState.CloseWait, "3.10.7.4: FIN in SYN-RECEIVED"),
            (TcpState.Closed, TcpState.SynReceived, "a listener's new connection (LISTEN stays with the listener)"),
        };

        private static bool Expected(TcpState from, TcpState to)
        {
            if (from == to)
            {
                return true; // no change
            }
            if (to == TcpState.Closed)
            {
                return true; // RST, ABORT or a timeout from any state (3.10.7, 3.10.8)
            }
            foreach (var e in Diagram)
            {
                if (e.From == from && e.To == to)
                {
                    return true;
                }
            }
            foreach (var e in Text)
            {
                if (e.From == from && e.To == to)
                {
                    return true;
                }
            }
            return false;
        }

        public static IEnumerable<TestCaseData> EveryPair()
        {
            foreach (TcpState from in States)
            {
                foreach (TcpState to in States)
                {
                    yield return new TestCaseData(from, to, Expected(from, to)).SetName(
                        "{m}(" + from + " -> " + to + (Expected(from, to) ? ": allowed)" : ": refused)"));
                }
            }
        }

        [TestCaseSource(nameof(EveryPair))]
        public void TransitionIsAllowedExactlyWhenTheRfcHasIt(TcpState from, TcpState to, bool allowed)
        {
            Assert.That(TcpStateMachine.IsAllowed(from, to), Is.EqualTo(allowed));
        }

        [Test]
        public void EveryEdgeOfTheDiagramIsTaken()
        {
            foreach (var e in Diagram)
            {
                Assert.That(TcpStateMachine.IsAllowed(e.From, e.To), Is.True, e.From + " -> " + e.To + ": " + e.Event);
            }
        }

        [Test]
        public void TheRefusedPairsAreTheRest()
        {
            int refused = 0;
            foreach (TcpState from in States)
            {
                foreach (TcpState to in States)
                {
                    if (!TcpStateMachine.IsAllowed(from, to))
                    {
                        refused++;
                    }
                }
            }
            // 121 pairs: 11 stay, 10 more go to CLOSED, 16 other diagram edges, 3 from the text.
            Assert.That(refused, Is.EqualTo(121 - 11 - 10 - 16 - 3));
        }

        [Test]
        public void SetStateRefusesAJumpAndKeepsTheState()
        {
            SingleStack s = new SingleStack();
            Socket socket = s.Stack.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
            TcpConnection c = socket.Tcp;
            Assert.That(c.State, Is.EqualTo(TcpState.Closed));
            Assert.That(c.SetState(TcpState.Established), Is.False, "CLOSED cannot jump to ESTABLISHED");
            Assert.That(c.State, Is.EqualTo(TcpState.Closed));
            Assert.That(c.SetState(TcpState.SynSent), Is.True);
            Assert.That(c.SetState(TcpState.SynReceived), Is.True, "simultaneous open");
            Assert.That(c.SetState(TcpState.Established), Is.True);
            Assert.That(c.SetState(TcpState.FinWait1), Is.True);
            Assert.That(c.SetState(TcpState.Closing), Is.True, "simultaneous close");
            Assert.That(c.SetState(TcpState.FinWait2), Is.False, "CLOSING does not go back");
            Assert.That(c.SetState(TcpState.TimeWait), Is.True);
            Assert.That(c.SetState(TcpState.Closed), Is.True);
        }
    }
}
