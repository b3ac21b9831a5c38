using System;
using Keel.Apps.Json;
using Keel.Hal;
using Keel.Net;
using Keel.Net.Sockets;

namespace Keel.Apps.Iperf3
{
    /// <summary>The iperf3 server (see Iperf3Server.cs): accepting control connections, one test at a time.</summary>
    public sealed unsafe partial class Iperf3Server
    {
        // ---------------------------------------------------------------- listener

        private void ServiceListener(long now)
        {
            if (_listener == null)
            {
                return;
            }
            // At most a handful per call: each one costs a socket.
            for (int budget = 0; budget < 16; budget++)
            {
                if (_state == Iperf3ServerState.CreateStreams && !_parameters.Udp && _pendingCount == _pending.Length)
                {
                    return; // the rest wait in the backlog until a cookie is checked
                }
                Socket accepted;
                if (_listener.Accept(out accepted) != SocketError.Success)
                {
                    return;
                }
                if (_state == Iperf3ServerState.Idle)
                {
                    BeginTest(accepted, now);
                }
                else if (_state == Iperf3ServerState.CreateStreams && !_parameters.Udp)
                {
                    _pending[_pendingCount] = accepted;
                    _pendingBytes[_pendingCount] = 0;
                    _pendingCount++;
                }
                else
                {
                    Counters[Iperf3Statistics.AccessDenied]++;
                    if (_log != null)
                    {
                        _log.Write("iperf3: busy, access denied to ");
                        accepted.RemoteEndPoint.WriteTo(_log);
                        _log.WriteLine();
                    }
                    Deny(accepted);
                }
            }
        }

        /// <summary>
        /// ACCESS_DENIED: one 0xFF byte, then close. The stock server closes with the cookie unread (a reset); here
        /// the cookie is dropped and the close is a FIN, which the client handles the same way ("busy").
        /// </summary>
        private void Deny(Socket socket)
        {
            _smallMessage[0] = Iperf3Message.AccessDenied;
            SocketError error;
            socket.Send(new ReadOnlySpan<byte>(_smallMessage, 0, 1), out error);
            socket.Discard(int.MaxValue, out error);
            socket.Shutdown(SocketShutdown.Receive); // the cookie may still be on its way
            socket.Close();
        }

        private void BeginTest(Socket control, long now)
        {
            ResetTest();
            _testNumber++;
            Counters[Iperf3Statistics.ControlAccepted]++;
            _control = control;
            _control.NoDelay = true;
            _peer = control.RemoteEndPoint;
            EnterState(Iperf3ServerState.ReadCookie, now);
        }
    }
}
