using System;
using Keel.Apps.Json;
using Keel.Hal;
using Keel.Net;
using Keel.Net.Sockets;

namespace Keel.Apps.Iperf3
{
    /// <summary>The iperf3 server (see Iperf3Server.cs): setting up a test — parameters, data connections and their cookies, UDP hellos.</summary>
    public sealed unsafe partial class Iperf3Server
    {
        // ---------------------------------------------------------------- set-up

        /// <summary>After the parameters: checks them, binds UDP if needed, sends CREATE_STREAMS.</summary>
        private void StartStreams(long now)
        {
            Iperf3Parameters p = _parameters;
            if (!p.ProtocolSupported)
            {
                ServerError(p.Sctp ? Iperf3Message.ErrorUnimplemented : Iperf3Message.ErrorProtocol, now, "protocol not supported");
                return;
            }
            if (p.StreamCount > _streams.Length)
            {
                ServerError(Iperf3Message.ErrorNumStreams, now, "too many streams");
                return;
            }
            _expectedStreams = (int)p.StreamCount;
            if (p.Udp)
            {
                // The UDP port must be bound before CREATE_STREAMS: the client's hello is not repeated.
                Socket udp = _stack.CreateSocket(SocketType.Dgram, ProtocolType.Udp);
                if (udp == null)
                {
                    Counters[Iperf3Statistics.SocketExhausted]++;
                    ServerError(Iperf3Message.ErrorStreamListen, now, "no UDP socket");
                    return;
                }
                udp.ReuseAddress = true;
                if (udp.Bind(new IPEndPoint(_stack.AnyAddress, _config.Port)) != SocketError.Success)
                {
                    udp.Close();
                    ServerError(Iperf3Message.ErrorStreamListen, now, "cannot bind the UDP port");
                    return;
                }
                _udpHello = udp;
                long size = p.Length;
                if (size > _payload.Length)
                {
                    size = _payload.Length; // at most 65,507 bytes; above the MTU IPv4 output fragments it
                }
                int header = p.UdpCounters64Bit ? UdpHeader64 : UdpHeader32;
                if (size < header)
                {
                    size = header;
                }
                _udpDatagramSize = (int)size;
            }
            else if (_listener != null && (p.Window > 0 || p.Mss > 0))
            {
                // Sockets accepted from now on (only data streams) take the listener's buffer sizes and MSS (-M:
                // the SYN-ACK of a data connection announces it, as upstream's listener set up with TCP_MAXSEG).
                if (p.Window > 0)
                {
                    int window = p.Window > (1 << 24) ? 1 << 24 : (int)p.Window;
                    _listener.ReceiveBufferSize = window;
                    _listener.SendBufferSize = window;
                }
                if (p.Mss > 0)
                {
                    _listener.MaximumSegmentSize = p.Mss > 65535 ? 65535 : (int)p.Mss;
                }
                _listenerBuffersChanged = true;
            }
            SendControlByte(Iperf3Message.CreateStreams);
            EnterState(Iperf3ServerState.CreateStreams, now);
        }

        private void RestoreListenerBuffers()
        {
            if (_listenerBuffersChanged && _listener != null)
            {
                _listener.ReceiveBufferSize = _listenerReceiveBuffer;
                _listener.ReceiveBufferAutoTune = _listenerAutoTune;
                _listener.SendBufferSize = _listenerSendBuffer;
                _listener.MaximumSegmentSize = _listenerMss;
            }
            _listenerBuffersChanged = false;
        }

        /// <summary>Reads the cookies of accepted data connections and turns them into streams in accept order.</summary>
        private void ServicePending(long now)
        {
            for (int i = 0; i < _pendingCount; i++)
            {
                Socket socket = _pending[i];
                if (socket == null)
                {
                    continue;
                }
                int have = _pendingBytes[i];
                while (have < Iperf3Message.CookieSize)
                {
                    SocketError error;
                    int n = socket.Receive(new Span<byte>(_pendingCookies, i * Iperf3Message.CookieSize + have,
                        Iperf3Message.CookieSize - have), out error);
                    if (n > 0)
                    {
                        have += n;
                        continue;
                    }
                    if (error != SocketError.WouldBlock)
                    {
                        // Closed or reset before its cookie: drop it.
                        socket.Abort();
                        _pending[i] = null;
                    }
                    break;
                }
                _pendingBytes[i] = have;
            }
            while (_pendingCount > 0 && _state == Iperf3ServerState.CreateStreams)
            {
                Socket head = _pending[0];
                if (head != null && _pendingBytes[0] < Iperf3Message.CookieSize)
                {
                    break;
                }
                if (head != null)
                {
                    if (CookieMatches(0) && _streamCount < _expectedStreams)
                    {
                        AddStream(head, false, default);
                    }
                    else
                    {
                        Counters[Iperf3Statistics.BadCookies]++;
                        Deny(head);
                    }
                }
                for (int i = 1; i < _pendingCount; i++)
                {
                    _pending[i - 1] = _pending[i];
                    _pendingBytes[i - 1] = _pendingBytes[i];
                    new ReadOnlySpan<byte>(_pendingCookies, i * Iperf3Message.CookieSize, Iperf3Message.CookieSize)
                        .CopyTo(new Span<byte>(_pendingCookies, (i - 1) * Iperf3Message.CookieSize, Iperf3Message.CookieSize));
                }
                _pendingCount--;
                _pending[_pendingCount] = null;
                if (_streamCount == _expectedStreams)
                {
                    BeginRunning(now);
                }
            }
        }

        /// <summary>strcmp of the pending connection's cookie with the control cookie, as the stock server does.</summary>
        private bool CookieMatches(int pendingIndex)
        {
            int offset = pendingIndex * Iperf3Message.CookieSize;
            for (int i = 0; i < Iperf3Message.CookieSize; i++)
            {
                byte a = _pendingCookies[offset + i];
                if (a != _cookie[i])
                {
                    return false;
                }
                if (a == 0)
                {
                    return true;
                }
            }
            return true;
        }

        /// <summary>UDP stream set-up: a hello from a new client port becomes a stream with its own connected socket.</summary>
        private void ServiceUdpHellos(long now)
        {
            if (_udpHello == null)
            {
                return;
            }
            for (int budget = 0; budget < 64 && _state == Iperf3ServerState.CreateStreams; budget++)
            {
                IPEndPoint from;
                SocketError error;
                int n = _udpHello.ReceiveFrom(new Span<byte>(_hello), out from, out error);
                if (error == SocketError.WouldBlock)
                {
                    return;
                }
                if (error != SocketError.Success && error != SocketError.MessageSize)
                {
                    continue;
                }
                // The reply is the hello's 4 bytes reversed (the client wrote UDP_CONNECT_MSG in host order and
                // compares the reply with UDP_CONNECT_REPLY in host order).
                if (n >= Iperf3Message.UdpHelloSize)
                {
                    _reply[0] = _hello[3];
                    _reply[1] = _hello[2];
                    _reply[2] = _hello[1];
                    _reply[3] = _hello[0];
                }
                else
                {
                    _reply[0] = (byte)'6';
                    _reply[1] = (byte)'7';
                    _reply[2] = (byte)'8';
                    _reply[3] = (byte)'9';
                }
                Iperf3Stream known = null;
                for (int i = 0; i < _streamCount; i++)
                {
                    if (_streams[i].Peer.Equals(from))
                    {
                        known = _streams[i];
                    }
                }
                if (known != null)
                {
                    if (known.Socket != null)
                    {
                        known.Socket.Send(new ReadOnlySpan<byte>(_reply), out error);
                    }
                    continue;
                }
                if (_streamCount >= _expectedStreams)
                {
                    continue;
                }
                Socket socket = _stack.CreateSocket(SocketType.Dgram, ProtocolType.Udp);
                if (socket == null)
                {
                    Counters[Iperf3Statistics.SocketExhausted]++;
                    ServerError(Iperf3Message.ErrorStreamListen, now, "no socket for a UDP stream");
                    return;
                }
                socket.ReuseAddress = true;
                if (_config.UdpStreamReceiveBufferSize > 0)
                {
                    socket.ReceiveBufferSize = _config.UdpStreamReceiveBufferSize;
                }
                if (socket.Bind(new IPEndPoint(_stack.AnyAddress, _config.Port)) != SocketError.Success ||
                    socket.Connect(from) != SocketError.Success)
                {
                    socket.Close();
                    ServerError(Iperf3Message.ErrorStreamListen, now, "cannot bind a UDP stream");
                    return;
                }
                socket.Send(new ReadOnlySpan<byte>(_reply), out error);
                if (error != SocketError.Success)
                {
                    Counters[Iperf3Statistics.UdpSendErrors]++;
                }
                AddStream(socket, true, from);
                if (_streamCount == _expectedStreams)
                {
                    BeginRunning(now);
                }
            }
        }

        private void AddStream(Socket socket, bool udp, IPEndPoint peer)
        {
            Iperf3Stream stream = _streams[_streamCount];
            stream.Reset();
            stream.Socket = socket;
            stream.Udp = udp;
            stream.Peer = peer;
            // Ids 1, 3, 4, 5, …: upstream skips 2 and keeps doing so for compatibility.
            stream.Id = _streamCount == 0 ? 1 : _streamCount + 2;
            stream.Sender = _parameters.Reverse ||
                            (_parameters.Bidirectional && _streamCount >= _parameters.Parallel);
            if (!udp && stream.Sender)
            {
                socket.NoDelay = _parameters.NoDelay;
            }
            if (!udp && _parameters.Mss > 0)
            {
                socket.MaximumSegmentSize = (int)_parameters.Mss; // iperf3 -M
            }
            _streamCount++;
            Counters[Iperf3Statistics.StreamsCreated]++;
        }

        /// <summary>All streams exist: TEST_START and TEST_RUNNING; counting starts now.</summary>
        private void BeginRunning(long now)
        {
            RestoreListenerBuffers();
            _smallMessage[0] = Iperf3Message.TestStart;
            _smallMessage[1] = Iperf3Message.TestRunning;
            QueueControl(_smallMessage, 0, 2);
            _testStart = now;
            _lastData = now;
            _omitEnd = now + _parameters.Omit * NanosecondsPerSecond;
            _omitDone = _parameters.Omit <= 0;
            for (int i = 0; i < _streamCount; i++)
            {
                Iperf3Stream s = _streams[i];
                s.StartNanoseconds = now;
                s.PacingStartNanoseconds = now;
                if (s.Sender && !s.Udp && s.Socket != null)
                {
                    TcpInfo info;
                    s.Socket.GetTcpInfo(out info);
                    s.RetransmitsAtStart = info.TotalRetransmits;
                }
            }
            Counters[Iperf3Statistics.TestsStarted]++;
            EnterState(Iperf3ServerState.Running, now);
        }
    }
}
