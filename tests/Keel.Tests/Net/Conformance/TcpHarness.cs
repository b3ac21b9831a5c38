using System;
using System.Collections.Generic;
using Keel.Net;
using Keel.Net.Sockets;
using NUnit.Framework;

namespace Keel.Tests.Net.Conformance
{
    /// <summary>
    /// Segment-level TCP tests: the test plays the peer. <see cref="Send"/> delivers a segment to the stack,
    /// <see cref="ExpectOut"/> takes the next segment the stack sent and compares it with the expected one,
    /// <see cref="Advance"/> moves the clock so timers fire. Ethernet, IP and checksums are built and checked
    /// underneath; the stack is reached only through <see cref="TcpStackAdapter"/>.
    /// </summary>
    public sealed class TcpHarness
    {
        /// <summary>The peer's initial sequence number in every scenario.</summary>
        public const uint PeerIss = 1000;

        public readonly TcpStackAdapter Stack;
        private readonly Queue<Seg> _out = new Queue<Seg>();

        /// <summary>The stack's port and the peer's port of the connection under test.</summary>
        public int LocalPort = 80;
        public int PeerPort = 40001;

        /// <summary>The stack's initial sequence number, read from the SYN or SYN-ACK it sent.</summary>
        public uint Iss;

        /// <summary>The stack's TSval on its SYN or SYN-ACK (when timestamps were offered).</summary>
        public uint IssTsVal;

        public Socket Listener;

        /// <summary>The socket of the connection under test (accepted, or the one that connected).</summary>
        public Socket Socket;

        public TcpHarness(Action<NetConfig> configure = null)
        {
            Stack = new TcpStackAdapter(configure);
        }

        // ------------------------------------------------------------ segments in and out

        /// <summary>The peer sends <paramref name="s"/> (ports filled in unless set with <see cref="Seg.WithPorts"/>).</summary>
        public void Send(Seg s)
        {
            if (!s.ExplicitPorts)
            {
                s.SourcePort = PeerPort;
                s.DestinationPort = LocalPort;
            }
            Stack.Deliver(Frames.Tcp(s));
        }

        /// <summary>The next segment the stack sent (fails when there is none).</summary>
        public Seg Out()
        {
            Collect();
            if (_out.Count == 0)
            {
                Assert.Fail("expected a segment from the stack, it sent nothing");
            }
            return _out.Dequeue();
        }

        /// <summary>Takes the next segment sent and checks it against <paramref name="expected"/>; returns it.</summary>
        public Seg ExpectOut(Seg expected, string because = null)
        {
            Seg actual = Out();
            string why;
            if (!expected.Matches(actual, out why))
            {
                Assert.Fail("segment differs in " + why + (because == null ? "" : " (" + because + ")") + "\n  expected " + expected + "\n  actual   " + actual);
            }
            return actual;
        }

        /// <summary>The stack sent nothing (since the last segment taken).</summary>
        public void ExpectNothing(string because = null)
        {
            Collect();
            if (_out.Count != 0)
            {
                Assert.Fail("expected no segment" + (because == null ? "" : " (" + because + ")") + ", got " + _out.Peek());
            }
        }

        /// <summary>Every segment sent and not yet taken.</summary>
        public List<Seg> OutAll()
        {
            Collect();
            List<Seg> all = new List<Seg>(_out);
            _out.Clear();
            return all;
        }

        /// <summary>Payload bytes of every segment sent and not yet taken (which are taken).</summary>
        public long SentBytes()
        {
            long n = 0;
            foreach (Seg s in OutAll())
            {
                n += s.PayloadLength;
            }
            return n;
        }

        /// <summary>Moves time on by <paramref name="milliseconds"/>, in one step.</summary>
        public void Advance(long milliseconds) => Stack.Advance(milliseconds);

        /// <summary>
        /// Moves time on a millisecond at a time until the stack sends something or <paramref name="limitMs"/>
        /// passes; returns the milliseconds that passed (-1 when nothing was sent).
        /// </summary>
        public long AdvanceUntilOut(long limitMs)
        {
            for (long ms = 1; ms <= limitMs; ms++)
            {
                Stack.Advance(1);
                Collect();
                if (_out.Count != 0)
                {
                    return ms;
                }
            }
            return -1;
        }

        private void Collect()
        {
            foreach (byte[] f in Stack.TakeTransmitted())
            {
                if (!Frames.IsTcp(f))
                {
                    continue; // ARP
                }
                Assert.That(Frames.TcpChecksumValid(f), Is.True, "TCP checksum of a sent segment");
                _out.Enqueue(Frames.ParseTcp(f));
            }
        }

        // ------------------------------------------------------------ state

        /// <summary>The state of the connection under test as the stack holds it.</summary>
        public TcpState State => Stack.ConnectionState(LocalPort, PeerPort);

        public TcpInfo Info => Stack.Info(Socket);

        // ------------------------------------------------------------ openings

        /// <summary>A listener on <see cref="LocalPort"/>.</summary>
        public void Listen(int backlog = 4) => Listener = Stack.Listen(LocalPort, backlog);

        /// <summary>
        /// Passive open up to the SYN-ACK: listen, the peer's <paramref name="syn"/> (a plain SYN with MSS 1460
        /// when null) arrives; returns the SYN-ACK and records <see cref="Iss"/>.
        /// </summary>
        public Seg OpenPassive(Seg syn = null)
        {
            Listen();
            Send(syn ?? Seg.Syn(PeerIss, mss: 1460));
            Seg synAck = ExpectOut(Seg.SynAck(0, PeerIss + 1).WithAnySequence(), "SYN-ACK");
            Iss = synAck.Sequence;
            IssTsVal = synAck.TsVal;
            return synAck;
        }

        /// <summary>
        /// Passive open to ESTABLISHED: the peer's ACK (with timestamps when agreed) comes <paramref name="rttMs"/>
        /// after the SYN-ACK, the connection's first RTT sample. The accepted socket is in <see cref="Socket"/>.
        /// </summary>
        public Seg EstablishPassive(Seg syn = null, uint tsVal = 0, int rttMs = 0)
        {
            Seg synAck = OpenPassive(syn);
            Advance(rttMs);
            Seg ack = Seg.Ack(PeerIss + 1, Iss + 1);
            if (synAck.HasTs)
            {
                ack.WithTs(tsVal != 0 ? tsVal : synAck.TsEcr + 1, synAck.TsVal);
            }
            Send(ack);
            Socket = Stack.Accept(Listener);
            Assert.That(Socket, Is.Not.Null, "accepted");
            ExpectNothing("the handshake's last ACK is not answered");
            return synAck;
        }

        /// <summary>Active open up to the SYN: returns it and records <see cref="Iss"/> and the ephemeral port.</summary>
        public Seg OpenActive()
        {
            PeerPort = 80;
            Socket = Stack.Connect(PeerPort);
            Seg syn = Out();
            Assert.That(syn.Flags, Is.EqualTo(TcpFlags.Syn), "an active open starts with a SYN");
            LocalPort = syn.SourcePort;
            Iss = syn.Sequence;
            IssTsVal = syn.TsVal;
            return syn;
        }

        /// <summary>Active open to ESTABLISHED: the peer answers the SYN with <paramref name="synAck"/> (MSS 1460 when null).</summary>
        public Seg EstablishActive(Seg synAck = null)
        {
            Seg syn = OpenActive();
            Seg answer = synAck ?? Seg.SynAck(PeerIss, Iss + 1, win: 65535, mss: 1460);
            Send(answer);
            ExpectOut(Seg.Ack(Iss + 1, PeerIss + 1), "the handshake's third segment");
            Assert.That(State, Is.EqualTo(TcpState.Established));
            return syn;
        }

        // ------------------------------------------------------------ the application

        /// <summary>The application writes <paramref name="bytes"/> bytes; returns how many the socket took.</summary>
        public int Write(int bytes) => Stack.Write(Socket, new byte[bytes]);

        /// <summary>The application reads everything buffered; returns the byte count (0 at end of stream).</summary>
        public int Read(out SocketError error)
        {
            byte[] buffer = new byte[1 << 20];
            return Stack.Read(Socket, buffer, out error);
        }

        public void ShutdownSend() => Stack.ShutdownSend(Socket);

        public void Close() => Stack.Close(Socket);
    }
}
