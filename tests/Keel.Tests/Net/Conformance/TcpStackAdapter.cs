using System;
using System.Collections.Generic;
using Keel.Net;
using Keel.Net.Sockets;

namespace Keel.Tests.Net.Conformance
{
    /// <summary>
    /// Every place the TCP conformance harness touches the stack: building it, delivering frames, collecting what
    /// it sends, moving time, the socket calls a scenario makes, and reading a connection's state. The harness and
    /// the scenarios go through this class only, so a change of the stack's API is absorbed here.
    /// </summary>
    public sealed class TcpStackAdapter
    {
        private readonly SingleStack _stack;

        public TcpStackAdapter(Action<NetConfig> configure)
        {
            NetConfig config = NetConfig.Create(NetPair.AddressB, 24, new IPv4Address(198, 18, 0, 254));
            configure?.Invoke(config);
            _stack = new SingleStack(config);
            _stack.LearnHost();
        }

        public NetConfig Config => _stack.Stack.Config;

        /// <summary>The stack receives one frame (one driver poll: the batch ends after it).</summary>
        public void Deliver(byte[] frame) => _stack.Inject(frame);

        /// <summary>Frames the stack has transmitted since the last call, oldest first.</summary>
        public List<byte[]> TakeTransmitted()
        {
            List<byte[]> frames = new List<byte[]>(_stack.Capture.Frames);
            _stack.Capture.Frames.Clear();
            return frames;
        }

        /// <summary>Moves the clock and runs the stack's timers.</summary>
        public void Advance(long milliseconds)
        {
            _stack.Clock.AdvanceMilliseconds(milliseconds);
            _stack.Stack.Poll();
        }

        /// <summary>Runs the stack's periodic work without moving the clock (sends what the application queued).</summary>
        public void Poll() => _stack.Stack.Poll();

        public long Counter(int index) => _stack.Counter(index);

        // ------------------------------------------------------------ sockets

        public Socket Listen(int port, int backlog)
        {
            Socket listener = _stack.Stack.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
            Assert(listener.Bind(new IPEndPoint(IPv4Address.Any, port)), "bind");
            Assert(listener.Listen(backlog), "listen");
            return listener;
        }

        public Socket Accept(Socket listener)
        {
            Socket accepted;
            return listener.Accept(out accepted) == SocketError.Success ? accepted : null;
        }

        /// <summary>Starts an active open to the host; the local (ephemeral) port is read back from the SYN.</summary>
        public Socket Connect(int remotePort)
        {
            Socket socket = _stack.Stack.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
            SocketError e = socket.Connect(new IPEndPoint(NetPair.AddressA, remotePort));
            if (e != SocketError.InProgress && e != SocketError.Success)
            {
                throw new InvalidOperationException("connect: " + e);
            }
            return socket;
        }

        public int Write(Socket socket, byte[] data)
        {
            SocketError error;
            int n = socket.Send(data, out error);
            _stack.Stack.Poll();
            return n;
        }

        public int Read(Socket socket, byte[] buffer, out SocketError error) => socket.Receive(buffer, out error);

        public void ShutdownSend(Socket socket)
        {
            socket.Shutdown(SocketShutdown.Send);
            _stack.Stack.Poll();
        }

        public void Close(Socket socket)
        {
            socket.Close();
            _stack.Stack.Poll();
        }

        public void Abort(Socket socket)
        {
            socket.Abort();
            _stack.Stack.Poll();
        }

        public void SetReceiveBuffer(Socket socket, int bytes) => socket.ReceiveBufferSize = bytes;

        // ------------------------------------------------------------ state

        /// <summary>
        /// The state of the connection with this 4-tuple: a half-open passive one (an entry of the SYN queue, no
        /// connection yet) is SynReceived; Closed when there is none.
        /// </summary>
        public TcpState ConnectionState(int localPort, int remotePort)
        {
            IPEndPoint local = new IPEndPoint(NetPair.AddressB, localPort);
            IPEndPoint remote = new IPEndPoint(NetPair.AddressA, remotePort);
            var c = _stack.Stack.Tcp.Lookup(local, remote);
            if (c != null)
            {
                return c.State;
            }
            return _stack.Stack.Tcp.SynQueue.Find(local, remote) != null ? TcpState.SynReceived : TcpState.Closed;
        }

        public TcpInfo Info(Socket socket)
        {
            TcpInfo info;
            socket.GetTcpInfo(out info);
            return info;
        }

        public SocketError PendingError(Socket socket) => socket.PendingError;

        private static void Assert(SocketError e, string what)
        {
            if (e != SocketError.Success)
            {
                throw new InvalidOperationException(what + ": " + e);
            }
        }
    }
}
