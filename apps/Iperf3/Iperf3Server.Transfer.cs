using System;
using Keel.Apps.Json;
using Keel.Hal;
using Keel.Net;
using Keel.Net.Sockets;

namespace Keel.Apps.Iperf3
{
    /// <summary>The iperf3 server (see Iperf3Server.cs): the data transfer — receiving, sending, pacing.</summary>
    public sealed unsafe partial class Iperf3Server
    {
        // ---------------------------------------------------------------- data transfer

        private void RunStreams(long now)
        {
            if (!_omitDone && now >= _omitEnd)
            {
                // End of -O: counting restarts (the client does the same on its side).
                _omitDone = true;
                for (int i = 0; i < _streamCount; i++)
                {
                    Iperf3Stream s = _streams[i];
                    s.BytesIgnored += s.Bytes;
                    s.Bytes = 0;
                    s.StartNanoseconds = now;
                }
            }
            for (int i = 0; i < _streamCount; i++)
            {
                Iperf3Stream s = _streams[i];
                if (s.Finished || s.Socket == null)
                {
                    continue;
                }
                if (s.Sender)
                {
                    if (s.Udp)
                    {
                        SendUdp(s, now);
                    }
                    else
                    {
                        SendTcp(s, now);
                    }
                }
                else if (s.Udp)
                {
                    ReceiveUdp(s, now);
                }
                else
                {
                    ReceiveTcp(s, now);
                }
            }
        }

        private void ReceiveTcp(Iperf3Stream s, long now)
        {
            for (int round = 0; round < 8; round++)
            {
                SocketError error;
                int n = s.Socket.Discard(int.MaxValue, out error);
                if (n > 0)
                {
                    s.Bytes += n;
                    Counters[Iperf3Statistics.TcpBytesReceived] += n;
                    _lastData = now;
                    continue;
                }
                if (error != SocketError.WouldBlock)
                {
                    s.Finished = true;
                    s.FinishError = error;
                }
                return;
            }
        }

        private void ReceiveUdp(Iperf3Stream s, long now)
        {
            double nowSeconds = (double)now / 1e9;
            int header = _parameters.UdpCounters64Bit ? UdpHeader64 : UdpHeader32;
            for (int budget = 0; budget < 4096; budget++)
            {
                int length = s.Socket.Available;
                SocketError error;
                int n = s.Socket.Receive(new Span<byte>(_udpHeader), out error);
                if (error == SocketError.WouldBlock)
                {
                    return;
                }
                if (error != SocketError.Success && error != SocketError.MessageSize)
                {
                    continue; // an ICMP error reported by the stack; keep reading
                }
                if (length < n)
                {
                    length = n;
                }
                s.Bytes += length;
                _lastData = now;
                Counters[Iperf3Statistics.UdpDatagramsReceived]++;
                Counters[Iperf3Statistics.UdpBytesReceived] += length;
                if (n < header)
                {
                    continue;
                }
                uint sec = ReadBE32(_udpHeader, 0);
                uint usec = ReadBE32(_udpHeader, 4);
                long sequence = header == UdpHeader64
                    ? (long)(((ulong)ReadBE32(_udpHeader, 8) << 32) | ReadBE32(_udpHeader, 12))
                    : (long)ReadBE32(_udpHeader, 8);
                long lostBefore = s.Lost;
                long outOfOrderBefore = s.OutOfOrder;
                s.AccountDatagram(sequence, (double)sec + (double)usec / 1e6, nowSeconds);
                Counters[Iperf3Statistics.UdpLost] += s.Lost - lostBefore;
                Counters[Iperf3Statistics.UdpOutOfOrder] += s.OutOfOrder - outOfOrderBefore;
            }
        }

        /// <summary>Bytes the stream may still send under its -b rate; long.MaxValue without one.</summary>
        private long PacingAllowance(Iperf3Stream s, long now)
        {
            long bandwidth = _parameters.Bandwidth;
            if (bandwidth <= 0)
            {
                return long.MaxValue;
            }
            double seconds = (double)(now - s.PacingStartNanoseconds) / 1e9;
            double allowed = (double)bandwidth / 8.0 * seconds - (double)s.BytesSentTotal;
            if (allowed <= 0)
            {
                return 0;
            }
            return allowed > 4e18 ? long.MaxValue : (long)allowed;
        }

        private void SendTcp(Iperf3Stream s, long now)
        {
            long allowance = PacingAllowance(s, now);
            long block = _parameters.Length;
            if (block <= 0 || block > _payload.Length)
            {
                block = _payload.Length;
            }
            if (allowance != long.MaxValue)
            {
                // Paced: whole blocks once the average rate is below the target (as iperf_check_throttle), or the
                // allowance when the block is larger than what the rate allows per poll.
                if (allowance == 0)
                {
                    return;
                }
            }
            for (int round = 0; round < 64; round++)
            {
                int chunk = (int)block;
                if (allowance < chunk)
                {
                    chunk = (int)allowance;
                }
                if (chunk <= 0)
                {
                    return;
                }
                SocketError error;
                int n = s.Socket.Send(new ReadOnlySpan<byte>(_payload, 0, chunk), out error);
                if (n > 0)
                {
                    s.Bytes += n;
                    s.BytesSentTotal += n;
                    if (allowance != long.MaxValue)
                    {
                        allowance -= n;
                    }
                    Counters[Iperf3Statistics.TcpBytesSent] += n;
                    if (n < chunk)
                    {
                        return; // send buffer full
                    }
                    continue;
                }
                if (error != SocketError.WouldBlock)
                {
                    s.Finished = true;
                    s.FinishError = error;
                }
                return;
            }
        }

        private void SendUdp(Iperf3Stream s, long now)
        {
            int size = _udpDatagramSize;
            long allowance = PacingAllowance(s, now);
            bool counter64 = _parameters.UdpCounters64Bit;
            for (int budget = 0; budget < _config.UdpSendBurst; budget++)
            {
                if (allowance != long.MaxValue && allowance <= 0)
                {
                    return;
                }
                long stamp = _clock.NowNanoseconds;
                WriteBE32(_payload, 0, (uint)(stamp / NanosecondsPerSecond));
                WriteBE32(_payload, 4, (uint)(stamp % NanosecondsPerSecond / 1000));
                long sequence = s.NextSequence;
                if (counter64)
                {
                    WriteBE32(_payload, 8, (uint)((ulong)sequence >> 32));
                    WriteBE32(_payload, 12, (uint)sequence);
                }
                else
                {
                    WriteBE32(_payload, 8, (uint)sequence);
                }
                SocketError error;
                s.Socket.Send(new ReadOnlySpan<byte>(_payload, 0, size), out error);
                if (error != SocketError.Success)
                {
                    if (error != SocketError.WouldBlock && error != SocketError.NoBufferSpaceAvailable)
                    {
                        Counters[Iperf3Statistics.UdpSendErrors]++;
                    }
                    return;
                }
                s.NextSequence = sequence + 1;
                s.PacketsSent++;
                s.Bytes += size;
                s.BytesSentTotal += size;
                if (allowance != long.MaxValue)
                {
                    allowance -= size;
                }
                Counters[Iperf3Statistics.UdpDatagramsSent]++;
                Counters[Iperf3Statistics.UdpBytesSent] += size;
            }
        }
    }
}
