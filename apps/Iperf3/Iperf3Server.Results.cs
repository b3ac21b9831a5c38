using System;
using Keel.Apps.Json;
using Keel.Apps.Text;
using Keel.Hal;
using Keel.Net;
using Keel.Net.Sockets;

namespace Keel.Apps.Iperf3
{
    /// <summary>The iperf3 server (see Iperf3Server.cs): the end of a test — results exchange and summary — and failures, teardown and timeouts.</summary>
    public sealed unsafe partial class Iperf3Server
    {
        // ---------------------------------------------------------------- end of test

        /// <summary>TEST_END: freeze the counters, close the data sockets, EXCHANGE_RESULTS.</summary>
        private void EndTest(long now)
        {
            _testEnd = now;
            if (SentNothing())
            {
                // The stack could not send a byte (out of memory): an error, not an empty success.
                ServerError(Iperf3Message.ErrorStreamWrite, now, "could not send any data (out of memory?)");
                return;
            }
            for (int i = 0; i < _streamCount; i++)
            {
                Iperf3Stream s = _streams[i];
                if (!s.Sender && !s.Finished && s.Socket != null)
                {
                    // What arrived before TEST_END but was not read yet (the control socket was polled
                    // first) belongs to the test: the client counted it as sent (iperf3 -n).
                    if (s.Udp)
                    {
                        ReceiveUdp(s, now);
                    }
                    else
                    {
                        ReceiveTcp(s, now);
                    }
                }
                s.EndTime = (double)(now - s.StartNanoseconds) / 1e9;
                if (s.EndTime < 0)
                {
                    s.EndTime = 0;
                }
                if (s.Socket == null)
                {
                    continue;
                }
                if (s.Sender && !s.Udp)
                {
                    TcpInfo info;
                    s.Socket.GetTcpInfo(out info);
                    s.Retransmits = info.TotalRetransmits - s.RetransmitsAtStart;
                    if (s.Retransmits < 0)
                    {
                        s.Retransmits = 0;
                    }
                }
                CloseStreamSocket(s, false);
            }
            CloseUdpHello();
            SendControlByte(Iperf3Message.ExchangeResults);
            EnterState(Iperf3ServerState.ReadClientResults, now);
        }

        /// <summary>True when this server was a TCP sender for the test and no stream sent a byte.</summary>
        private bool SentNothing()
        {
            bool sender = false;
            for (int i = 0; i < _streamCount; i++)
            {
                Iperf3Stream s = _streams[i];
                if (!s.Sender || s.Udp)
                {
                    continue;
                }
                sender = true;
                if (s.BytesSentTotal > 0)
                {
                    return false;
                }
            }
            return sender;
        }

        private void CloseStreamSocket(Iperf3Stream s, bool abort)
        {
            Socket socket = s.Socket;
            if (socket == null)
            {
                return;
            }
            s.Socket = null;
            if (abort)
            {
                socket.Abort();
                return;
            }
            if (!s.Udp)
            {
                // Late data is not counted; reading it lets the close be a FIN rather than a reset.
                SocketError error;
                int late = socket.Discard(int.MaxValue, out error);
                if (late > 0)
                {
                    s.BytesIgnored += late;
                }
                // The client may still have data in flight: have the stack drop it instead of queueing it on
                // the closed (orphaned) connection, where it would pin receive pages until FIN_WAIT2 times out.
                socket.Shutdown(SocketShutdown.Receive);
            }
            socket.Close();
        }

        private void CloseUdpHello()
        {
            if (_udpHello != null)
            {
                _udpHello.Close();
                _udpHello = null;
            }
        }

        /// <summary>The client's results must be a JSON object; its numbers are not needed.</summary>
        private bool CheckClientResults(int length)
        {
            _reader.Reset(_rx, 4, length);
            if (!_reader.Read() || _reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }
            if (!_reader.Skip())
            {
                return false;
            }
            _reader.Read();
            return _reader.IsComplete;
        }

        /// <summary>The server's results JSON (protocol notes §5.2), framed, then DISPLAY_RESULTS.</summary>
        private void SendResults()
        {
            BuildSummary();
            bool anySender = false;
            for (int i = 0; i < _streamCount; i++)
            {
                anySender |= _streams[i].Sender;
            }
            JsonWriter w = _writer;
            w.Reset(4);
            w.BeginObject();
            w.Property("cpu_util_total", 0.0);
            w.Property("cpu_util_user", 0.0);
            w.Property("cpu_util_system", 0.0);
            // −1 as a receiver; as a sender 1 when TCP retransmits are real counts (ours are), 0 for UDP.
            w.Property("sender_has_retransmits", anySender ? (_parameters.Udp ? 0L : 1L) : -1L);
            if (_parameters.Tcp)
            {
                w.Property("congestion_used", "newreno");
            }
            if (_parameters.GetServerOutput)
            {
                w.PropertyName("server_output_text");
                w.StringValue(_line.Text);
            }
            w.PropertyName("streams");
            w.BeginArray();
            for (int i = 0; i < _streamCount; i++)
            {
                Iperf3Stream s = _streams[i];
                bool udpReceiver = s.Udp && !s.Sender;
                w.BeginObject();
                w.Property("id", (long)s.Id);
                w.Property("bytes", s.Bytes);
                w.Property("retransmits", s.Sender && !s.Udp ? s.Retransmits : -1L);
                w.Property("jitter", udpReceiver ? s.Jitter : 0.0);
                w.Property("errors", udpReceiver ? s.Lost : 0L);
                w.Property("packets", s.Udp ? (s.Sender ? s.PacketsSent : s.MaxSequence) : 0L);
                w.Property("start_time", 0L);
                w.Property("end_time", s.EndTime);
                w.EndObject();
            }
            w.EndArray();
            w.EndObject();
            if (w.Overflowed)
            {
                Counters[Iperf3Statistics.ProtocolErrors]++;
            }
            byte[] buffer = w.Buffer;
            int length = w.Length;
            buffer[0] = (byte)(length >> 24);
            buffer[1] = (byte)(length >> 16);
            buffer[2] = (byte)(length >> 8);
            buffer[3] = (byte)length;
            QueueControl(buffer, 0, 4 + length);
            SendControlByte(Iperf3Message.DisplayResults);
        }

        /// <summary>IPERF_DONE or end of stream after the results: the test is complete.</summary>
        private void Finish(long now)
        {
            CloseControl();
            Counters[Iperf3Statistics.TestsCompleted]++;
            _line.WriteLineTo(_log);
            EnterIdle(now);
        }

        /// <summary>The per-test log line (also sent as server_output_text when asked for).</summary>
        private void BuildSummary()
        {
            TextBuffer t = _line;
            t.Clear();
            t.Append("iperf3: test ");
            t.Append((long)_testNumber);
            t.Append(" from ");
            t.Append(_peer);
            t.Append(": ");
            t.Append(_parameters.Udp ? "UDP" : "TCP");
            if (_parameters.Bidirectional)
            {
                t.Append(" bidir");
            }
            else if (_parameters.Reverse)
            {
                t.Append(" reverse");
            }
            t.Append(", ");
            t.Append(_parameters.Parallel);
            t.Append(_parameters.Parallel == 1 ? " stream" : " streams");
            long received = 0;
            long sent = 0;
            long retransmits = 0;
            long packets = 0;
            long lost = 0;
            long datagramsSent = 0;
            double jitter = 0;
            int udpReceivers = 0;
            bool anyReceiver = false;
            bool anySender = false;
            double seconds = 0;
            for (int i = 0; i < _streamCount; i++)
            {
                Iperf3Stream s = _streams[i];
                if (s.EndTime > seconds)
                {
                    seconds = s.EndTime;
                }
                if (s.Sender)
                {
                    anySender = true;
                    sent += s.Bytes;
                    retransmits += s.Retransmits;
                    datagramsSent += s.PacketsSent;
                }
                else
                {
                    anyReceiver = true;
                    received += s.Bytes;
                    if (s.Udp)
                    {
                        packets += s.MaxSequence;
                        lost += s.Lost;
                        jitter += s.Jitter;
                        udpReceivers++;
                    }
                }
            }
            if (anyReceiver)
            {
                t.Append(", received ");
                t.Append(received);
                t.Append(" bytes in ");
                t.AppendFixed(seconds, 2);
                t.Append(" s = ");
                t.AppendBitRate(seconds > 0 ? received * 8.0 / seconds : 0);
                if (udpReceivers > 0)
                {
                    t.Append(", ");
                    t.Append(lost);
                    t.Append('/');
                    t.Append(packets);
                    t.Append(" datagrams lost (");
                    t.AppendFixed(packets > 0 ? lost * 100.0 / packets : 0, 2);
                    t.Append("%), jitter ");
                    t.AppendFixed(jitter / udpReceivers * 1000.0, 3);
                    t.Append(" ms");
                }
            }
            if (anySender)
            {
                t.Append(", sent ");
                t.Append(sent);
                t.Append(" bytes in ");
                t.AppendFixed(seconds, 2);
                t.Append(" s = ");
                t.AppendBitRate(seconds > 0 ? sent * 8.0 / seconds : 0);
                if (_parameters.Udp)
                {
                    t.Append(", ");
                    t.Append(datagramsSent);
                    t.Append(" datagrams");
                }
                else
                {
                    t.Append(", ");
                    t.Append(retransmits);
                    t.Append(" retransmits");
                }
            }
        }

        // ---------------------------------------------------------------- failures

        /// <summary>SERVER_ERROR: 0xFE, int32 BE i_errno, int32 BE errno (0); then the control connection closes.</summary>
        private void ServerError(int errorNumber, long now, string what)
        {
            Counters[Iperf3Statistics.ServerErrors]++;
            CloseStreams(true);
            _smallMessage[0] = Iperf3Message.ServerError;
            WriteBE32(_smallMessage, 1, (uint)errorNumber);
            WriteBE32(_smallMessage, 5, 0);
            QueueControl(_smallMessage, 0, 9);
            LogEvent("refused test: ", what);
            EnterState(Iperf3ServerState.Closing, now);
        }

        /// <summary>Drops the current test (EOF, CLIENT_TERMINATE, protocol error, timeout) and goes back to Idle.</summary>
        private void Abort(string why, int counter)
        {
            Counters[counter]++;
            if (counter != Iperf3Statistics.TestsAborted)
            {
                Counters[Iperf3Statistics.TestsAborted]++;
            }
            LogEvent("test aborted: ", why);
            Teardown(true);
            EnterIdle(_clock.NowNanoseconds);
        }

        private void LogEvent(string prefix, string why)
        {
            if (_log == null)
            {
                return;
            }
            _log.Write("iperf3: test ");
            _log.Write((long)_testNumber);
            _log.Write(' ');
            _log.Write(prefix);
            _log.Write(why);
            _log.WriteLine();
        }

        private void Teardown(bool abort)
        {
            CloseStreams(abort);
            CloseControl();
        }

        private void CloseStreams(bool abort)
        {
            for (int i = 0; i < _streamCount; i++)
            {
                CloseStreamSocket(_streams[i], abort);
            }
            for (int i = 0; i < _pendingCount; i++)
            {
                if (_pending[i] != null)
                {
                    _pending[i].Abort();
                    _pending[i] = null;
                }
            }
            _pendingCount = 0;
            CloseUdpHello();
            RestoreListenerBuffers();
        }

        private void CheckTimeouts(long now)
        {
            switch (_state)
            {
                case Iperf3ServerState.Stopped:
                case Iperf3ServerState.Idle:
                    return;
                case Iperf3ServerState.Running:
                {
                    Iperf3Parameters p = _parameters;
                    if (p.Time > 0)
                    {
                        long limit = (p.Time + p.Omit) * NanosecondsPerSecond +
                                     _config.RunningGraceMilliseconds * NanosecondsPerMillisecond;
                        if (now - _testStart > limit)
                        {
                            Abort("no TEST_END from the client", Iperf3Statistics.Timeouts);
                            return;
                        }
                    }
                    bool receiving = false;
                    for (int i = 0; i < _streamCount; i++)
                    {
                        receiving |= !_streams[i].Sender;
                    }
                    if (receiving && now - _lastData > _config.ReceiveIdleTimeoutMilliseconds * NanosecondsPerMillisecond)
                    {
                        Abort("no data received", Iperf3Statistics.Timeouts);
                    }
                    return;
                }
                default:
                    if (now - _stateSince > _config.HandshakeTimeoutMilliseconds * NanosecondsPerMillisecond)
                    {
                        Abort("the client stopped answering", Iperf3Statistics.Timeouts);
                    }
                    return;
            }
        }
    }
}
