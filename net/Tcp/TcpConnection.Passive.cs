using Keel.Hal;
using Keel.Net.Sockets;

namespace Keel.Net.Tcp
{
    internal sealed unsafe partial class TcpConnection
    {
        /// <summary>
        /// A passive open whose handshake has completed (a SYN queue entry or a valid SYN cookie, see
        /// TcpLayer.Listen.cs): the connection as it was in SYN-RECEIVED right after our SYN-ACK with ISN
        /// <paramref name="iss"/>, so that the completing ACK fed to <see cref="Input"/> establishes it.
        /// <paramref name="synOptions"/> holds the SYN's MSS, window scale, SACK-permitted and timestamps (for a SYN
        /// cookie: the MSS from the cookie, the rest decoded from the completing ACK's TSecr, its TSval as TS.Recent).
        /// <paramref name="synAckSent"/>: when the one SYN-ACK was sent, for the first RTT sample (0: unknown,
        /// a cookie or a retransmitted SYN-ACK, Karn's rule).
        /// </summary>
        internal void OpenFromRequest(TcpConnection listener, uint localAddress, int localPort, uint remoteAddress, int remotePort,
            uint iss, uint irs, ref TcpSegment synOptions, int window, Instant synAckSent, Instant now)
        {
            NoDelay = listener.NoDelay;
            UserMss = listener.UserMss;
            KeepAlive.CopySettings(listener.KeepAlive);
            SendBufferSize = listener.SendBufferSize;
            ReceiveBufferSize = listener.ReceiveBufferSize;
            ReceiveTuning.Enabled = listener.ReceiveTuning.Enabled;
            LocalAddress = localAddress;
            LocalPort = localPort;
            RemoteAddress = remoteAddress;
            RemotePort = remotePort;
            Orphan = true;
            InitSendSide(now);
            Snd.Start(iss);
            Snd.SynSent(); // the SYN-ACK
            Recovery.Start(iss);
            Rcv.Start(irs, ReceiveBufferSize < 65535 ? ReceiveBufferSize : 65535);
            ApplySynOptions(ref synOptions);
            InitCongestion();
            Snd.InitWindow(window, irs, 0);
            Options.AckSent(Rcv.Nxt); // the SYN-ACK acknowledged the SYN: the completing ACK's TSval becomes TS.Recent
            if (synAckSent.IsSet)
            {
                Backoff.SynSent(synAckSent);
            }
            SetState(TcpState.SynReceived);
        }
    }
}
