using Keel.Apps.Echo;
using Keel.Net;
using Keel.Net.Sockets;
using NUnit.Framework;

namespace Keel.Tests.Net
{
    public class EchoServerTests
    {
        [Test]
        public void EchoesBytesBackAndClosesAfterPeer()
        {
            NetPair pair = new NetPair(NetPair.TestConfig(), NetPair.TestConfig());
            EchoServer echo = new EchoServer(pair.B, 4);
            Assert.That(echo.Start(), Is.True);
            Socket[] clients = new Socket[3];
            for (int c = 0; c < clients.Length; c++)
            {
                clients[c] = pair.A.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
                Assert.That(clients[c].Connect(new IPEndPoint(NetPair.AddressB, EchoServer.Port)), Is.EqualTo(SocketError.InProgress));
            }
            byte[] message = new byte[200_000];
            for (int i = 0; i < message.Length; i++)
            {
                message[i] = (byte)(i * 13);
            }
            int[] sent = new int[clients.Length];
            int[] received = new int[clients.Length];
            bool[] eof = new bool[clients.Length];
            byte[] buffer = new byte[8192];
            for (int step = 0; step < 200_000; step++)
            {
                pair.Step();
                echo.Poll();
                bool all = true;
                for (int c = 0; c < clients.Length; c++)
                {
                    SocketError error;
                    if (clients[c].Connected && sent[c] < message.Length)
                    {
                        int n = clients[c].Send(new System.ReadOnlySpan<byte>(message, sent[c], message.Length - sent[c]), out error);
                        if (n > 0)
                        {
                            sent[c] += n;
                            if (sent[c] == message.Length)
                            {
                                clients[c].Shutdown(SocketShutdown.Send);
                            }
                        }
                    }
                    while (!eof[c])
                    {
                        int n = clients[c].Receive(buffer, out error);
                        if (n > 0)
                        {
                            for (int i = 0; i < n; i++)
                            {
                                Assert.That(buffer[i], Is.EqualTo(message[received[c] + i]));
                            }
                            received[c] += n;
                            continue;
                        }
                        if (error == SocketError.Success)
                        {
                            eof[c] = true;
                        }
                        break;
                    }
                    all &= eof[c];
                }
                if (all)
                {
                    break;
                }
            }
            TextCapture dump = new TextCapture();
            pair.A.PrintStatus(dump);
            pair.B.PrintStatus(dump);
            TestContext.Out.WriteLine(dump.ToString());
            for (int c = 0; c < clients.Length; c++)
            {
                TestContext.Out.WriteLine("client " + c + " sent " + sent[c] + " received " + received[c]);
            }
            for (int c = 0; c < clients.Length; c++)
            {
                Assert.That(received[c], Is.EqualTo(message.Length));
                Assert.That(eof[c], Is.True);
                clients[c].Close();
            }
            Assert.That(echo.Accepted, Is.EqualTo(3));
            Assert.That(echo.BytesEchoed, Is.EqualTo(3L * message.Length));
            pair.Run(100);
            echo.Poll();
            Assert.That(echo.Open, Is.EqualTo(0));
            TextCapture text = new TextCapture();
            echo.PrintStatus(text);
            pair.B.PrintStatus(text);
            TestContext.Out.WriteLine(text.ToString());
            echo.Stop();
            string detail;
            Assert.That(pair.AllReturned(out detail), Is.True, detail);
        }

        /// <summary>Connects <paramref name="count"/> clients to the echo port and steps until they are connected.</summary>
        private static Socket[] ConnectClients(NetPair pair, EchoServer echo, int count)
        {
            Socket[] clients = new Socket[count];
            for (int c = 0; c < count; c++)
            {
                clients[c] = pair.A.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
                clients[c].Connect(new IPEndPoint(NetPair.AddressB, EchoServer.Port));
            }
            for (int step = 0; step < 2000; step++)
            {
                pair.Step();
                echo.Poll();
            }
            return clients;
        }

        [Test]
        public void ClientBeyondTheSlotsIsResetAtOnceNotLeftHanging()
        {
            NetPair pair = new NetPair(NetPair.TestConfig(), NetPair.TestConfig());
            EchoServer echo = new EchoServer(pair.B, 2, pair.Clock);
            Assert.That(echo.Start(), Is.True);
            Socket[] clients = ConnectClients(pair, echo, 3);
            Assert.That(echo.Open, Is.EqualTo(2));
            Assert.That(echo.Refused, Is.EqualTo(1));
            int reset = 0;
            for (int c = 0; c < clients.Length; c++)
            {
                if (clients[c].State == TcpState.Closed && clients[c].PendingError == SocketError.ConnectionReset)
                {
                    reset++;
                }
            }
            Assert.That(reset, Is.EqualTo(1), "the third client learns at once");
        }

        [Test]
        public void IdleConnectionsAreResetAfterTheIdleTimeout()
        {
            NetPair pair = new NetPair(NetPair.TestConfig(), NetPair.TestConfig());
            EchoServer echo = new EchoServer(pair.B, 4, pair.Clock);
            echo.IdleTimeoutNanoseconds = 2_000_000_000;
            Assert.That(echo.Start(), Is.True);
            Socket[] clients = ConnectClients(pair, echo, 2);
            Assert.That(echo.Open, Is.EqualTo(2));
            // Client 0 keeps talking every 500 ms; client 1 says nothing.
            byte[] buffer = new byte[16];
            for (int ms = 0; ms < 3000; ms += 500)
            {
                SocketError error;
                clients[0].Send(new byte[] { 1 }, out error);
                for (int step = 0; step < 5000; step++)
                {
                    pair.Step();
                    echo.Poll();
                }
                clients[0].Receive(buffer, out error);
            }
            Assert.That(echo.IdleClosed, Is.EqualTo(1));
            Assert.That(echo.Open, Is.EqualTo(1));
            Assert.That(clients[1].PendingError, Is.EqualTo(SocketError.ConnectionReset));
            Assert.That(clients[0].State, Is.EqualTo(TcpState.Established));
        }
    }
}
