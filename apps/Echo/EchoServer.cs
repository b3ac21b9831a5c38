using Keel.Hal;
using Keel.Net;
using Keel.Net.Sockets;

namespace Keel.Apps.Echo
{
    /// <summary>
    /// TCP echo server (RFC 862) on port 7. Non-blocking: the kernel main loop calls <see cref="Poll"/>.
    /// Each connection has a buffer made at start-up; bytes that the send buffer could not take yet are kept
    /// and retried on the next poll, and no more is read until they are gone (back-pressure).
    /// </summary>
    public sealed class EchoServer
    {
        public const int Port = 7;
        private const int BufferSize = 16384;

        private readonly NetStack _stack;
        private readonly Socket[] _connections;
        private readonly byte[][] _buffers;
        private readonly int[] _pendingStart;
        private readonly int[] _pendingEnd;
        private readonly bool[] _peerDone;
        private Socket _listener;

        public EchoServer(NetStack stack, int maxConnections)
        {
            _stack = stack;
            _connections = new Socket[maxConnections];
            _buffers = new byte[maxConnections][];
            _pendingStart = new int[maxConnections];
            _pendingEnd = new int[maxConnections];
            _peerDone = new bool[maxConnections];
            for (int i = 0; i < maxConnections; i++)
            {
                _buffers[i] = new byte[BufferSize];
            }
        }

        /// <summary>Connections accepted so far.</summary>
        public long Accepted { get; private set; }

        /// <summary>Bytes echoed so far.</summary>
        public long BytesEchoed { get; private set; }

        /// <summary>Connections currently open.</summary>
        public int Open
        {
            get
            {
                int n = 0;
                for (int i = 0; i < _connections.Length; i++)
                {
                    if (_connections[i] != null)
                    {
                        n++;
                    }
                }
                return n;
            }
        }

        /// <summary>Creates the listening socket. False when no socket or the port is taken.</summary>
        public bool Start()
        {
            _listener = _stack.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
            if (_listener == null)
            {
                return false;
            }
            if (_listener.Bind(new IPEndPoint(IPv4Address.Any, Port)) != SocketError.Success ||
                _listener.Listen(_connections.Length) != SocketError.Success)
            {
                _listener.Close();
                _listener = null;
                return false;
            }
            return true;
        }

        /// <summary>Closes the listener and every connection.</summary>
        public void Stop()
        {
            for (int i = 0; i < _connections.Length; i++)
            {
                if (_connections[i] != null)
                {
                    _connections[i].Close();
                    _connections[i] = null;
                }
            }
            if (_listener != null)
            {
                _listener.Close();
                _listener = null;
            }
        }

        /// <summary>One round of work: accept, echo, close finished connections.</summary>
        public void Poll()
        {
            if (_listener == null)
            {
                return;
            }
            AcceptAll();
            for (int i = 0; i < _connections.Length; i++)
            {
                if (_connections[i] != null)
                {
                    Service(i);
                }
            }
        }

        private void AcceptAll()
        {
            while (true)
            {
                int slot = -1;
                for (int i = 0; i < _connections.Length; i++)
                {
                    if (_connections[i] == null)
                    {
                        slot = i;
                        break;
                    }
                }
                if (slot < 0)
                {
                    return; // full: connections wait in the listener's backlog
                }
                Socket accepted;
                if (_listener.Accept(out accepted) != SocketError.Success)
                {
                    return;
                }
                accepted.NoDelay = true;
                _connections[slot] = accepted;
                _pendingStart[slot] = 0;
                _pendingEnd[slot] = 0;
                _peerDone[slot] = false;
                Accepted++;
            }
        }

        private void Service(int i)
        {
            Socket socket = _connections[i];
            byte[] buffer = _buffers[i];
            SocketError error;
            while (true)
            {
                if (_pendingStart[i] < _pendingEnd[i])
                {
                    int sent = socket.Send(new System.ReadOnlySpan<byte>(buffer, _pendingStart[i], _pendingEnd[i] - _pendingStart[i]), out error);
                    if (sent > 0)
                    {
                        _pendingStart[i] += sent;
                        BytesEchoed += sent;
                        continue;
                    }
                    if (error != SocketError.WouldBlock)
                    {
                        Drop(i);
                    }
                    return; // send buffer full: try again next poll
                }
                if (_peerDone[i])
                {
                    // Everything echoed and the peer finished: close (FIN follows the buffered data).
                    socket.Close();
                    _connections[i] = null;
                    return;
                }
                int received = socket.Receive(buffer, out error);
                if (received > 0)
                {
                    _pendingStart[i] = 0;
                    _pendingEnd[i] = received;
                    continue;
                }
                if (error == SocketError.Success)
                {
                    _peerDone[i] = true; // end of stream
                    continue;
                }
                if (error != SocketError.WouldBlock)
                {
                    Drop(i);
                }
                return;
            }
        }

        private void Drop(int i)
        {
            _connections[i].Abort();
            _connections[i] = null;
        }

        /// <summary>Prints a one-line status (for a shell command).</summary>
        public void PrintStatus(ITextOutput output)
        {
            output.Write("echo: port 7, ");
            output.Write((long)Open);
            output.Write(" open, ");
            output.Write(Accepted);
            output.Write(" accepted, ");
            output.Write(BytesEchoed);
            output.Write(" bytes echoed");
            output.WriteLine();
        }
    }
}
