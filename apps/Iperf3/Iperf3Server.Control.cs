using System;
using Keel.Apps.Json;
using Keel.Hal;
using Keel.Net;
using Keel.Net.Sockets;

namespace Keel.Apps.Iperf3
{
    /// <summary>The iperf3 server (see Iperf3Server.cs): the control connection — framed messages in, state bytes and JSON out.</summary>
    public sealed unsafe partial class Iperf3Server
    {
        // ---------------------------------------------------------------- control connection

        private void ServiceControl(long now)
        {
            if (!FlushControl())
            {
                Abort("control connection failed", Iperf3Statistics.TestsAborted);
                return;
            }
            if (_state == Iperf3ServerState.Closing)
            {
                if (_txLength == 0)
                {
                    CloseControl();
                    EnterIdle(now);
                }
                return;
            }
            bool endOfStream = false;
            bool failed = false;
            while (_rxLength < _rx.Length)
            {
                SocketError error;
                int n = _control.Receive(new Span<byte>(_rx, _rxLength, _rx.Length - _rxLength), out error);
                if (n > 0)
                {
                    _rxLength += n;
                    continue;
                }
                if (error == SocketError.Success)
                {
                    endOfStream = true;
                }
                else if (error != SocketError.WouldBlock)
                {
                    failed = true;
                }
                break;
            }
            // Messages already received are handled before the end of stream.
            while (_control != null && _rxLength > 0 && ProcessControl(now))
            {
            }
            if (_control == null)
            {
                return;
            }
            if (endOfStream || failed)
            {
                if (_state == Iperf3ServerState.WaitDone)
                {
                    Finish(now);
                }
                else
                {
                    Abort(failed ? "control connection reset" : "the client closed the control connection",
                        Iperf3Statistics.TestsAborted);
                }
            }
            else if (_rxLength == _rx.Length && _control != null)
            {
                Counters[Iperf3Statistics.ProtocolErrors]++;
                Abort("control message too long", Iperf3Statistics.TestsAborted);
            }
        }

        /// <summary>Handles one complete message at the front of the receive buffer. False when more bytes are needed.</summary>
        private bool ProcessControl(long now)
        {
            switch (_state)
            {
                case Iperf3ServerState.ReadCookie:
                    if (_rxLength < Iperf3Message.CookieSize)
                    {
                        return false;
                    }
                    new ReadOnlySpan<byte>(_rx, 0, Iperf3Message.CookieSize).CopyTo(new Span<byte>(_cookie));
                    Consume(Iperf3Message.CookieSize);
                    SendControlByte(Iperf3Message.ParamExchange);
                    EnterState(Iperf3ServerState.ReadParameters, now);
                    return true;

                case Iperf3ServerState.ReadParameters:
                {
                    int length;
                    int status = FramedMessage(out length);
                    if (status <= 0)
                    {
                        return status == 0 ? false : ProtocolError("bad parameters length");
                    }
                    _reader.Reset(_rx, 4, length);
                    bool parsed = _parameters.Parse(_reader);
                    Consume(4 + length);
                    if (!parsed)
                    {
                        return ProtocolError("unreadable parameters");
                    }
                    StartStreams(now);
                    return true;
                }

                case Iperf3ServerState.CreateStreams:
                case Iperf3ServerState.Running:
                {
                    byte message = _rx[0];
                    Consume(1);
                    if (message == Iperf3Message.TestStart)
                    {
                        return true; // the stock server ignores it too
                    }
                    if (message == Iperf3Message.ClientTerminate)
                    {
                        Abort("the client terminated the test", Iperf3Statistics.ClientTerminated);
                        return false;
                    }
                    if (message == Iperf3Message.TestEnd && _state == Iperf3ServerState.Running)
                    {
                        EndTest(now);
                        return true;
                    }
                    return ProtocolError("unexpected control message");
                }

                case Iperf3ServerState.ReadClientResults:
                {
                    int length;
                    int status = FramedMessage(out length);
                    if (status <= 0)
                    {
                        return status == 0 ? false : ProtocolError("bad results length");
                    }
                    bool valid = CheckClientResults(length);
                    Consume(4 + length);
                    if (!valid)
                    {
                        return ProtocolError("unreadable client results");
                    }
                    SendResults();
                    EnterState(Iperf3ServerState.WaitDone, now);
                    return true;
                }

                case Iperf3ServerState.WaitDone:
                {
                    byte message = _rx[0];
                    Consume(1);
                    if (message == Iperf3Message.ClientTerminate)
                    {
                        Abort("the client terminated the test", Iperf3Statistics.ClientTerminated);
                        return false;
                    }
                    // IPERF_DONE (anything else is treated the same: the test is over).
                    Finish(now);
                    return false;
                }

                default:
                    // Idle/Closing: nothing is expected; drop it.
                    _rxLength = 0;
                    return false;
            }
        }

        /// <summary>1 when a whole 4-byte-length-framed message is buffered, 0 when more is needed, −1 when the length is bad.</summary>
        private int FramedMessage(out int length)
        {
            length = 0;
            if (_rxLength < 4)
            {
                return 0;
            }
            uint raw = ((uint)_rx[0] << 24) | ((uint)_rx[1] << 16) | ((uint)_rx[2] << 8) | _rx[3];
            if (raw == 0 || raw > (uint)(_rx.Length - 4))
            {
                return -1;
            }
            length = (int)raw;
            return _rxLength >= 4 + length ? 1 : 0;
        }

        private bool ProtocolError(string what)
        {
            Counters[Iperf3Statistics.ProtocolErrors]++;
            Abort(what, Iperf3Statistics.TestsAborted);
            return false;
        }

        private void Consume(int count)
        {
            int rest = _rxLength - count;
            if (rest > 0)
            {
                new ReadOnlySpan<byte>(_rx, count, rest).CopyTo(new Span<byte>(_rx, 0, rest));
            }
            _rxLength = rest < 0 ? 0 : rest;
        }

        private void SendControlByte(byte message)
        {
            _smallMessage[0] = message;
            QueueControl(_smallMessage, 0, 1);
        }

        /// <summary>Queues control bytes and sends what the socket takes now (the rest goes on later polls).</summary>
        private void QueueControl(byte[] data, int offset, int count)
        {
            if (_control == null)
            {
                return;
            }
            if (_txStart > 0 && _txStart + _txLength + count > _tx.Length)
            {
                new ReadOnlySpan<byte>(_tx, _txStart, _txLength).CopyTo(new Span<byte>(_tx, 0, _txLength));
                _txStart = 0;
            }
            if (_txStart + _txLength + count > _tx.Length)
            {
                Counters[Iperf3Statistics.ProtocolErrors]++;
                return; // cannot happen with the sizes used; the client will time out
            }
            new ReadOnlySpan<byte>(data, offset, count).CopyTo(new Span<byte>(_tx, _txStart + _txLength, count));
            _txLength += count;
            FlushControl();
        }

        /// <summary>Sends queued control bytes. False when the connection failed.</summary>
        private bool FlushControl()
        {
            while (_txLength > 0 && _control != null)
            {
                SocketError error;
                int n = _control.Send(new ReadOnlySpan<byte>(_tx, _txStart, _txLength), out error);
                if (n > 0)
                {
                    _txStart += n;
                    _txLength -= n;
                    continue;
                }
                if (error == SocketError.WouldBlock)
                {
                    break;
                }
                return false;
            }
            if (_txLength == 0)
            {
                _txStart = 0;
            }
            return true;
        }

        private void CloseControl()
        {
            if (_control == null)
            {
                return;
            }
            SocketError error;
            _control.Discard(int.MaxValue, out error);
            _control.Shutdown(SocketShutdown.Receive);
            _control.Close();
            _control = null;
            _rxLength = 0;
            _txLength = 0;
            _txStart = 0;
        }
    }
}
