using System;
using System.Text;
using System.Text.Json;
using Keel.Apps.Iperf3;
using Keel.Net;
using Keel.Net.Sockets;
using Keel.Tests.Iperf3;
using NUnit.Framework;

namespace Keel.Tests.Fakes
{
    /// <summary>A scripted iperf3 client (one test) on stack A.</summary>
    public sealed class FakeIperf3Client
    {
        private readonly Iperf3TestBed _bed;
        private readonly NetStack _stack;
        private static int _cookieSeed = 1;

        public Socket Control;
        public readonly byte[] Cookie = new byte[37];
        public Socket[] Streams = new Socket[0];

        public FakeIperf3Client(Iperf3TestBed bed)
        {
            _bed = bed;
            _stack = bed.Pair.A;
            Random random = new Random(_cookieSeed++);
            const string alphabet = "abcdefghijklmnopqrstuvwxyz234567";
            for (int i = 0; i < 36; i++)
            {
                Cookie[i] = (byte)alphabet[random.Next(256) % 32];
            }
            Cookie[36] = 0;
        }

        public Socket ConnectTcp(bool noDelay = true)
        {
            Socket s = _stack.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
            Assert.That(s, Is.Not.Null);
            s.NoDelay = noDelay;
            Assert.That(s.Connect(Iperf3TestBed.ServerEndPoint), Is.EqualTo(SocketError.InProgress));
            Assert.That(_bed.RunUntil(() => s.Connected || s.Poll(SelectMode.SelectError)), Is.True, "connect");
            Assert.That(s.Connected, Is.True, "connected");
            return s;
        }

        public void SendAll(Socket s, byte[] data)
        {
            int sent = 0;
            Assert.That(_bed.RunUntil(() =>
            {
                SocketError e;
                int n = s.Send(new ReadOnlySpan<byte>(data, sent, data.Length - sent), out e);
                if (n > 0)
                {
                    sent += n;
                }
                return sent == data.Length;
            }), Is.True, "send");
        }

        public void SendByte(Socket s, byte b) => SendAll(s, new[] { b });

        public byte[] ReadExact(Socket s, int count, int milliseconds = 5000)
        {
            byte[] data = new byte[count];
            int got = 0;
            bool eof = false;
            bool ok = _bed.RunUntil(() =>
            {
                SocketError e;
                int n = s.Receive(new Span<byte>(data, got, count - got), out e);
                if (n > 0)
                {
                    got += n;
                }
                else if (e != SocketError.WouldBlock)
                {
                    eof = true;
                }
                return got == count || eof;
            }, milliseconds);
            Assert.That(ok && got == count, Is.True, "read " + count + " bytes (got " + got + (eof ? ", end of stream" : "") + ")");
            return data;
        }

        public byte ReadByte(Socket s) => ReadExact(s, 1)[0];

        public void ExpectByte(Socket s, byte expected, string what)
        {
            byte b = ReadByte(s);
            Assert.That(b, Is.EqualTo(expected), what);
        }

        /// <summary>True when the peer closed (end of stream or reset) within the time.</summary>
        public bool WaitClosed(Socket s, int milliseconds = 5000)
        {
            byte[] sink = new byte[4096];
            return _bed.RunUntil(() =>
            {
                SocketError e;
                int n = s.Receive(sink, out e);
                return n == 0 && e != SocketError.WouldBlock;
            }, milliseconds);
        }

        public void SendFramed(Socket s, string json)
        {
            byte[] body = Encoding.UTF8.GetBytes(json);
            byte[] length = { (byte)(body.Length >> 24), (byte)(body.Length >> 16), (byte)(body.Length >> 8), (byte)body.Length };
            SendAll(s, length); // two writes, as the stock client does
            SendAll(s, body);
        }

        public string ReadFramed(Socket s)
        {
            byte[] length = ReadExact(s, 4);
            int n = (length[0] << 24) | (length[1] << 16) | (length[2] << 8) | length[3];
            Assert.That(n, Is.GreaterThan(0).And.LessThan(100000));
            return Encoding.UTF8.GetString(ReadExact(s, n));
        }

        /// <summary>Control connection, cookie, PARAM_EXCHANGE, parameters, CREATE_STREAMS.</summary>
        public void Handshake(string parametersJson)
        {
            Control = ConnectTcp();
            SendAll(Control, Cookie);
            ExpectByte(Control, 9, "PARAM_EXCHANGE");
            SendFramed(Control, parametersJson);
            ExpectByte(Control, 10, "CREATE_STREAMS");
        }

        /// <summary>TCP data connections, one after the other, each starting with the cookie.</summary>
        public void ConnectTcpStreams(int count, byte[] cookie = null)
        {
            Streams = new Socket[count];
            for (int i = 0; i < count; i++)
            {
                Streams[i] = ConnectTcp(false);
                SendAll(Streams[i], cookie ?? Cookie);
            }
        }

        /// <summary>UDP streams: connected socket, 4-byte hello "9876" (x86 order of 0x36373839), reply "6789".</summary>
        public void ConnectUdpStreams(int count)
        {
            Streams = new Socket[count];
            for (int i = 0; i < count; i++)
            {
                Socket s = _stack.CreateSocket(SocketType.Dgram, ProtocolType.Udp);
                s.ReceiveBufferSize = 4 << 20;
                Assert.That(s.Connect(Iperf3TestBed.ServerEndPoint), Is.EqualTo(SocketError.Success));
                SocketError e;
                s.Send(new byte[] { 0x39, 0x38, 0x37, 0x36 }, out e);
                Assert.That(e, Is.EqualTo(SocketError.Success));
                byte[] reply = new byte[64];
                int n = 0;
                Assert.That(_bed.RunUntil(() =>
                {
                    n = s.Receive(reply, out e);
                    return n > 0;
                }), Is.True, "UDP reply");
                Assert.That(n, Is.EqualTo(4));
                Assert.That(reply[0] == 0x36 && reply[1] == 0x37 && reply[2] == 0x38 && reply[3] == 0x39, Is.True, "reply bytes 36 37 38 39");
                Streams[i] = s;
            }
        }

        public void ExpectStart()
        {
            ExpectByte(Control, 1, "TEST_START");
            ExpectByte(Control, 2, "TEST_RUNNING");
        }

        /// <summary>TEST_END … IPERF_DONE; returns the server's results JSON.</summary>
        public JsonDocument Finish(long[] clientBytes, Action whileWaiting = null)
        {
            SendByte(Control, 4);
            if (whileWaiting != null)
            {
                whileWaiting();
            }
            ExpectByte(Control, 13, "EXCHANGE_RESULTS");
            StringBuilder json = new StringBuilder("{\"cpu_util_total\":1.5,\"cpu_util_user\":0.5,\"cpu_util_system\":1,\"sender_has_retransmits\":18446744073709551615,\"streams\":[");
            for (int i = 0; i < clientBytes.Length; i++)
            {
                if (i > 0)
                {
                    json.Append(',');
                }
                json.Append("{\"id\":").Append(i == 0 ? 1 : i + 2).Append(",\"bytes\":").Append(clientBytes[i])
                    .Append(",\"retransmits\":0,\"jitter\":0,\"errors\":0,\"packets\":0,\"start_time\":0,\"end_time\":1.0001}");
            }
            json.Append("]}");
            SendFramed(Control, json.ToString());
            string results = ReadFramed(Control);
            TestContext.Out.WriteLine("server results: " + results);
            ExpectByte(Control, 14, "DISPLAY_RESULTS");
            SendByte(Control, 16);
            Assert.That(_bed.RunUntil(() => _bed.Server.State == Iperf3ServerState.Idle), Is.True, "server back to idle");
            Assert.That(WaitClosed(Control), Is.True, "server closes the control connection");
            Control.Close();
            return JsonDocument.Parse(results);
        }

        public void CloseStreams()
        {
            foreach (Socket s in Streams)
            {
                s.Close();
            }
        }
    }
}
