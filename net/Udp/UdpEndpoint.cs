using Keel.Buffers;
using Keel.Hal;
using Keel.Net.Internal;
using Keel.Net.Sockets;

namespace Keel.Net.Udp
{
    /// <summary>
    /// One UDP socket's state: the local endpoint it is bound to, the peer it is connected to (if any), the
    /// datagrams received for it, the error reported by the next call, shutdown flags and its counters. Endpoints
    /// are made at start-up by <see cref="UdpLayer"/>; a datagram <see cref="Socket"/> holds one while it is open.
    /// </summary>
    internal sealed unsafe class UdpEndpoint
    {
        /// <summary>The socket that holds this endpoint (readiness events go there).</summary>
        internal Socket Socket;

        /// <summary>Bound address and port (port 0 until bound).</summary>
        internal IPEndPoint Local;

        /// <summary>The connected peer: the default destination and the only accepted source (port 0: not connected).</summary>
        internal IPEndPoint Remote { get; private set; }

        /// <summary>Where the last datagram went (an ARP failure for it is reported as HostUnreachable).</summary>
        internal IPAddress LastDestination;

        /// <summary>Error the next receive or send returns once (ICMP port unreachable, ARP failure).</summary>
        internal SocketError Error;

        /// <summary>Most bytes (packets' TrueSize) the receive queue may hold.</summary>
        internal int ReceiveBufferSize { get; private set; }

        internal bool SendShutdown { get; private set; }

        internal bool ReceiveShutdown { get; private set; }

        /// <summary>Datagrams queued for the application; each packet's sender is kept with it (see <see cref="Enqueue"/>).</summary>
        private PacketQueue _queue;

        // counters
        internal long DatagramsReceived;
        internal long DatagramsSent;
        internal long ReceiveDrops;

        // the layer's list of bound endpoints
        internal UdpEndpoint BoundNext;
        internal bool OnBoundList;

        internal bool Connected => Remote.Port != 0;

        internal bool HasDatagram => !_queue.IsEmpty;

        /// <summary>Length of the next datagram; 0 when none is queued.</summary>
        internal int NextLength
        {
            get
            {
                Packet head = _queue.Peek();
                return head == null ? 0 : head.Length;
            }
        }

        /// <summary>Starts a fresh use for <paramref name="socket"/>.</summary>
        internal void Open(Socket socket, NetConfig config)
        {
            Socket = socket;
            Local = default;
            Remote = default;
            LastDestination = default;
            Error = SocketError.Success;
            ReceiveBufferSize = config.UdpReceiveBufferSize;
            SendShutdown = false;
            ReceiveShutdown = false;
            DatagramsReceived = 0;
            DatagramsSent = 0;
            ReceiveDrops = 0;
        }

        /// <summary>Sets the default destination; from now on only datagrams from <paramref name="peer"/> are taken.</summary>
        internal void Connect(IPEndPoint peer) => Remote = peer;

        /// <summary>Receive: queued datagrams are freed and later ones dropped. Send: further sends fail with Shutdown.</summary>
        internal void Shutdown(bool receive, bool send)
        {
            if (send)
            {
                SendShutdown = true;
            }
            if (receive)
            {
                ReceiveShutdown = true;
                _queue.FreeAll();
            }
        }

        /// <summary>SO_RCVBUF: the queue limit, 4 KiB to 16 MiB.</summary>
        internal void SetReceiveBufferSize(int bytes) => ReceiveBufferSize = bytes < 4096 ? 4096 : bytes > (1 << 24) ? 1 << 24 : bytes;

        /// <summary>
        /// True when this endpoint is bound to <paramref name="destination"/>: its port, and its address or the
        /// unspecified address of the same family, or :: without V6Only for IPv4 (Socket.BoundMatches). An IPv6
        /// datagram never matches an endpoint bound for IPv4.
        /// </summary>
        internal bool IsBoundTo(IPEndPoint destination)
        {
            if (Local.Port != destination.Port)
            {
                return false;
            }
            return Socket.BoundMatches(Local.Address, Socket.V6Only, destination.Address);
        }

        /// <summary>
        /// Queues a received datagram (data at its payload) from <paramref name="from"/>; false, with the packet
        /// still the caller's, when receiving is shut down or the queue is full. <paramref name="sourceDistance"/>: for
        /// an IPv6 sender, how many bytes in front of the payload its address lies in the packet's linear area
        /// (0 for IPv4).
        /// </summary>
        internal bool Enqueue(Packet datagram, IPEndPoint from, int sourceDistance)
        {
            if (ReceiveShutdown || _queue.TrueSize + datagram.TrueSize > ReceiveBufferSize)
            {
                ReceiveDrops++;
                return false;
            }
            // The sender rides in the packet's spare fields: the port, and the tag holding an IPv4 address. An IPv6
            // address does not fit; it stays where it came, in the IPv6 header in front of the payload (pulled, not
            // overwritten: nothing is pushed in front of a queued datagram), and the timestamp keeps its distance.
            datagram.Tag = from.Address.IsIPv4 ? from.Address.V4.Value : 0;
            datagram.Timestamp = (long)from.Port | ((long)sourceDistance << 16);
            _queue.Enqueue(datagram);
            DatagramsReceived++;
            return true;
        }

        /// <summary>The oldest queued datagram and its sender (the caller frees it); null when none.</summary>
        internal Packet Dequeue(out IPEndPoint from)
        {
            Packet datagram = _queue.Dequeue();
            if (datagram == null)
            {
                from = default;
                return null;
            }
            int port = (int)(datagram.Timestamp & 0xFFFF);
            int distance = (int)(datagram.Timestamp >> 16);
            from = distance == 0 ? new IPEndPoint(new IPv4Address(datagram.Tag), port)
                : new IPEndPoint(NetBytes.ReadIPv6(datagram.Data - distance), port);
            return datagram;
        }

        /// <summary>Returns the pending error once (Success when there is none).</summary>
        internal SocketError TakeError()
        {
            SocketError error = Error;
            Error = SocketError.Success;
            return error;
        }

        /// <summary>Frees every queued datagram.</summary>
        internal void DropQueued() => _queue.FreeAll();

        internal void Print(ITextOutput output)
        {
            output.Write(" rxq ");
            output.Write((long)_queue.Count);
            output.Write(" datagrams, in ");
            output.Write(DatagramsReceived);
            output.Write(" out ");
            output.Write(DatagramsSent);
            output.Write(" dropped ");
            output.Write(ReceiveDrops);
        }
    }
}
