using Keel.Net.Sockets;

namespace Keel.Net.Tcp
{
    /// <summary>
    /// The edges of RFC 9293's state diagram (section 3.3.2), the only changes <see cref="TcpConnection.SetState"/>
    /// makes. Besides the drawn edges: every state may go to CLOSED (RST, ABORT, a timeout, section 3.10); FIN_WAIT_1
    /// goes straight to TIME_WAIT when a FIN arrives with the ACK of ours (section 3.10.7.4); SYN_RECEIVED goes to
    /// CLOSE_WAIT on a FIN (same section). A listener's connection is a separate control block made for the SYN: it
    /// starts in SYN_RECEIVED from CLOSED (the LISTEN to SYN_RECEIVED edge, with the listener staying in LISTEN).
    /// Staying in a state is not a change and always allowed.
    /// </summary>
    internal static class TcpStateMachine
    {
        internal static bool IsAllowed(TcpState from, TcpState to)
        {
            if (from == to || to == TcpState.Closed)
            {
                return true;
            }
            switch (from)
            {
                case TcpState.Closed:
                    return to == TcpState.Listen || to == TcpState.SynSent || to == TcpState.SynReceived;
                case TcpState.Listen:
                    return to == TcpState.SynReceived || to == TcpState.SynSent;
                case TcpState.SynSent:
                    return to == TcpState.SynReceived || to == TcpState.Established;
                case TcpState.SynReceived:
                    return to == TcpState.Established || to == TcpState.FinWait1 || to == TcpState.Listen ||
                           to == TcpState.CloseWait;
                case TcpState.Established:
                    return to == TcpState.FinWait1 || to == TcpState.CloseWait;
                case TcpState.FinWait1:
                    return to == TcpState.FinWait2 || to == TcpState.Closing || to == TcpState.TimeWait;
                case TcpState.FinWait2:
                    return to == TcpState.TimeWait;
                case TcpState.CloseWait:
                    return to == TcpState.LastAck;
                case TcpState.Closing:
                    return to == TcpState.TimeWait;
                default:
                    return false; // LAST_ACK and TIME_WAIT only end in CLOSED
            }
        }
    }
}
