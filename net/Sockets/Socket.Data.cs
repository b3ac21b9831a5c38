using System;
using Keel.Buffers;
using Keel.Hal;
using Keel.Net.Tcp;

namespace Keel.Net.Sockets
{
    /// <summary>A socket (see Socket.cs): sending and receiving, TCP streams and UDP datagrams.</summary>
    public sealed unsafe partial class Socket
    {
        // --- data ------------------------------------------------------------------------------------

        /// <summary>
        /// TCP: copies as much as fits into the send buffer and returns the count (may be less than asked);
        /// WouldBlock when the buffer is full. UDP: sends one datagram to the connected peer.
        /// </summary>
        public int Send(ReadOnlySpan<byte> buffer, out SocketError error) => Send(buffer, false, out error);

        /// <summary>
        /// <see cref="Send(ReadOnlySpan{byte}, out SocketError)"/>, and for TCP with <paramref name="more"/> (Linux
        /// MSG_MORE): more data follows at once, so a last part-filled segment waits for the next Send, Shutdown or
        /// Close (at the latest for the end of the stack's current batch), and a response written in pieces leaves
        /// in one segment. Ignored for UDP.
        /// </summary>
        public int Send(ReadOnlySpan<byte> buffer, bool more, out SocketError error)
        {
            fixed (byte* p = buffer)
            {
                return Send(p, buffer.Length, more, out error);
            }
        }

        /// <summary>Pointer form of <see cref="Send(ReadOnlySpan{byte}, out SocketError)"/>.</summary>
        public int Send(byte* buffer, int size, out SocketError error) => Send(buffer, size, false, out error);

        /// <summary>Pointer form of <see cref="Send(ReadOnlySpan{byte}, bool, out SocketError)"/>.</summary>
        public int Send(byte* buffer, int size, bool more, out SocketError error)
        {
            if (!Usable)
            {
                error = SocketError.NotSocket;
                return 0;
            }
            if (size < 0 || (buffer == null && size > 0))
            {
                error = SocketError.InvalidArgument;
                return 0;
            }
            if (IsTcp)
            {
                if (_tcp.FinQueued)
                {
                    error = SocketError.Shutdown; // after Shutdown(Send)
                    return 0;
                }
                return _tcp.Write(buffer, size, more, out error);
            }
            if (!_udp.Connected)
            {
                error = SocketError.DestinationAddressRequired;
                return 0;
            }
            return UdpSend(buffer, size, _udp.Remote, false, out error);
        }

        /// <summary>
        /// TCP: copies received bytes (one copy, out of the driver's pages) and returns the count; returns 0 with
        /// Success at end of stream (peer sent FIN); WouldBlock when nothing is buffered.
        /// UDP: one datagram (truncated with MessageSize if the buffer is smaller).
        /// </summary>
        public int Receive(Span<byte> buffer, out SocketError error)
        {
            fixed (byte* p = buffer)
            {
                return Receive(p, buffer.Length, out error);
            }
        }

        /// <summary>Pointer form of <see cref="Receive(Span{byte}, out SocketError)"/>.</summary>
        public int Receive(byte* buffer, int size, out SocketError error)
        {
            if (size < 0 || (buffer == null && size > 0))
            {
                error = SocketError.InvalidArgument;
                return 0;
            }
            IPEndPoint ignored;
            return ReceiveCore(buffer, size, false, out ignored, out error);
        }

        /// <summary>
        /// TCP: consumes up to <paramref name="size"/> received bytes without copying them anywhere (a sink such
        /// as an iperf3 receiver). Same results as Receive.
        /// </summary>
        public int Discard(int size, out SocketError error)
        {
            IPEndPoint ignored;
            return ReceiveCore(null, size, true, out ignored, out error);
        }

        private int ReceiveCore(byte* buffer, int size, bool discard, out IPEndPoint from, out SocketError error)
        {
            from = default;
            if (!Usable)
            {
                error = SocketError.NotSocket;
                return 0;
            }
            if (IsTcp)
            {
                if (_tcp.ReceiveShutdown || size == 0)
                {
                    error = SocketError.Success;
                    return 0;
                }
                return _tcp.Read(discard ? null : buffer, size, out error);
            }
            Packet datagram = _udp.Dequeue(out from);
            if (datagram == null)
            {
                error = _udp.TakeError();
                if (error == SocketError.Success)
                {
                    error = SocketError.WouldBlock;
                }
                return 0;
            }
            from = Reported(from);
            int length = datagram.Length;
            int copied = length < size ? length : size;
            if (!discard && copied > 0)
            {
                datagram.CopyTo(0, buffer, copied);
            }
            datagram.Free();
            error = copied < length && !discard ? SocketError.MessageSize : SocketError.Success;
            return discard ? length : copied;
        }

        /// <summary>
        /// UDP: sends one datagram to <paramref name="remoteEP"/> (fragmented above the MTU). MessageSize above 65,507
        /// bytes; AddressFamilyNotSupported for a peer of a family the socket's binding does not take (<see cref="V6Only"/>).
        /// </summary>
        public int SendTo(ReadOnlySpan<byte> buffer, IPEndPoint remoteEP, out SocketError error)
        {
            if (!Usable)
            {
                error = SocketError.NotSocket;
                return 0;
            }
            if (IsTcp)
            {
                error = SocketError.OperationNotSupported;
                return 0;
            }
            bool v6Api = remoteEP.Address.IsIPv6;
            error = Unmapped(ref remoteEP);
            if (error == SocketError.Success)
            {
                error = CheckPeer(remoteEP);
            }
            if (error != SocketError.Success)
            {
                return 0;
            }
            fixed (byte* p = buffer)
            {
                return UdpSend(p, buffer.Length, remoteEP, v6Api, out error);
            }
        }

        /// <summary>Sends a datagram to <paramref name="destination"/> (never IPv4-mapped); an unbound socket binds to ::
        /// when the caller named the peer by an IPv6 address (<paramref name="v6Api"/>), else to the peer's family.</summary>
        private int UdpSend(byte* data, int size, IPEndPoint destination, bool v6Api, out SocketError error)
        {
            if (_udp.SendShutdown)
            {
                error = SocketError.Shutdown;
                return 0;
            }
            error = _udp.TakeError();
            if (error != SocketError.Success)
            {
                return 0;
            }
            if (!IsBound)
            {
                error = Bind(new IPEndPoint(v6Api || destination.Address.IsIPv6 ? IPAddress.IPv6Any : IPAddress.Any, 0));
                if (error != SocketError.Success)
                {
                    return 0;
                }
            }
            error = _stack.Udp.Output(_udp, data, size, destination);
            return error == SocketError.Success ? size : 0;
        }

        /// <summary>UDP: takes one datagram and its sender. WouldBlock when none is queued.</summary>
        public int ReceiveFrom(Span<byte> buffer, out IPEndPoint remoteEP, out SocketError error)
        {
            if (IsTcp)
            {
                remoteEP = default;
                error = Usable ? SocketError.OperationNotSupported : SocketError.NotSocket;
                return 0;
            }
            fixed (byte* p = buffer)
            {
                return ReceiveCore(p, buffer.Length, false, out remoteEP, out error);
            }
        }

        /// <summary>Bytes (TCP) or bytes of the next datagram (UDP) ready to read.</summary>
        public int Available
        {
            get
            {
                if (!Usable)
                {
                    return 0;
                }
                return IsTcp ? _tcp.ReceiveQueue.Bytes : _udp.NextLength;
            }
        }
    }
}
