using System.Collections.Generic;
using System.Text;

namespace Keel.Tests.Fakes
{
    /// <summary>
    /// A TCP segment as a test writes it (sent to the stack by <see cref="Frames.Tcp"/>) or reads it (parsed by
    /// <see cref="Frames.ParseTcp"/>): header fields, the options of RFC 9293 (MSS), RFC 7323 (window scale,
    /// timestamps) and RFC 2018 (SACK-permitted, SACK blocks), and the payload. An option is absent when its
    /// field holds -1 / false / null. As an expectation (<see cref="Matches"/>) the same absent values mean
    /// "not checked".
    /// </summary>
    public sealed class Seg
    {
        public int SourcePort = 40001;
        public int DestinationPort = 80;
        public uint Sequence;
        public uint Acknowledgment;
        public int Flags;

        /// <summary>The raw 16-bit window field; -1: 65535 when sent, not checked when expected.</summary>
        public int Window = -1;

        public int Mss = -1;
        public int WindowScale = -1;
        public bool SackPermitted;
        public bool HasTs;
        public uint TsVal;
        public uint TsEcr;

        /// <summary>SACK blocks (left, right). Sent: none when null. Expected: null is not checked, empty is "no SACK option".</summary>
        public List<(uint Left, uint Right)> Sack;

        /// <summary>Option bytes written as they are instead of the fields above (malformed-option tests, fixed layouts).</summary>
        public byte[] RawOptions;

        /// <summary>Payload: <see cref="Payload"/> when set, else <see cref="PayloadLength"/> bytes of <see cref="Fill"/>.</summary>
        public byte[] Payload;
        public int PayloadLength;
        public byte Fill = 0x55;

        /// <summary>When expected: the TSval is compared too (otherwise only TSecr, since TSval is the stack's own clock).</summary>
        public bool CheckTsVal;

        /// <summary>When expected: any sequence number (a SYN's initial sequence number is the stack's choice).</summary>
        public bool AnySequence;

        /// <summary>The ports were set by <see cref="WithPorts"/> (a harness leaves them as they are).</summary>
        public bool ExplicitPorts;

        public bool Has(int flag) => (Flags & flag) != 0;

        /// <summary>Sequence space the segment occupies (RFC 9293 SEG.LEN: data, SYN and FIN).</summary>
        public uint Length => (uint)(PayloadLength + (Has(TcpFlags.Syn) ? 1 : 0) + (Has(TcpFlags.Fin) ? 1 : 0));

        // ------------------------------------------------------------ the usual segments

        public static Seg Syn(uint seq, int win = 65535, int mss = -1, int ws = -1, bool sackOk = false) =>
            new Seg { Sequence = seq, Flags = TcpFlags.Syn, Window = win, Mss = mss, WindowScale = ws, SackPermitted = sackOk };

        public static Seg SynAck(uint seq, uint ack, int win = -1, int mss = -1, int ws = -1, bool sackOk = false) =>
            new Seg { Sequence = seq, Acknowledgment = ack, Flags = TcpFlags.Syn | TcpFlags.Ack, Window = win, Mss = mss, WindowScale = ws, SackPermitted = sackOk };

        public static Seg Ack(uint seq, uint ack, int win = -1) => new Seg { Sequence = seq, Acknowledgment = ack, Flags = TcpFlags.Ack, Window = win };

        public static Seg Data(uint seq, uint ack, int length, int win = -1) =>
            new Seg { Sequence = seq, Acknowledgment = ack, Flags = TcpFlags.Ack, Window = win, PayloadLength = length };

        public static Seg Data(uint seq, uint ack, byte[] payload, int win = -1) =>
            new Seg { Sequence = seq, Acknowledgment = ack, Flags = TcpFlags.Ack, Window = win, Payload = payload, PayloadLength = payload.Length };

        public static Seg FinAck(uint seq, uint ack, int win = -1) => new Seg { Sequence = seq, Acknowledgment = ack, Flags = TcpFlags.Fin | TcpFlags.Ack, Window = win };

        public static Seg Rst(uint seq) => new Seg { Sequence = seq, Flags = TcpFlags.Rst };

        public static Seg RstAck(uint seq, uint ack) => new Seg { Sequence = seq, Acknowledgment = ack, Flags = TcpFlags.Rst | TcpFlags.Ack };

        // ------------------------------------------------------------ modifiers

        public Seg WithTs(uint val, uint ecr)
        {
            HasTs = true;
            TsVal = val;
            TsEcr = ecr;
            return this;
        }

        public Seg WithSack(params (uint Left, uint Right)[] blocks)
        {
            Sack = new List<(uint, uint)>(blocks);
            return this;
        }

        public Seg WithFlags(int flags)
        {
            Flags = flags;
            return this;
        }

        public Seg WithPorts(int source, int destination)
        {
            SourcePort = source;
            DestinationPort = destination;
            ExplicitPorts = true;
            return this;
        }

        public Seg WithAnySequence()
        {
            AnySequence = true;
            return this;
        }

        // ------------------------------------------------------------ options

        /// <summary>The option bytes: MSS, NOP+WS, SACK-permitted, timestamps, SACK blocks, padded to 4 bytes.</summary>
        public byte[] OptionBytes()
        {
            if (RawOptions != null)
            {
                return RawOptions;
            }
            List<byte> o = new List<byte>();
            if (Mss >= 0)
            {
                o.AddRange(new byte[] { 2, 4, (byte)(Mss >> 8), (byte)Mss });
            }
            if (WindowScale >= 0)
            {
                o.AddRange(new byte[] { 1, 3, 3, (byte)WindowScale });
            }
            if (SackPermitted)
            {
                o.AddRange(new byte[] { 1, 1, 4, 2 });
            }
            if (HasTs)
            {
                byte[] ts = new byte[12];
                ts[0] = 1;
                ts[1] = 1;
                ts[2] = 8;
                ts[3] = 10;
                Frames.Put32(ts, 4, TsVal);
                Frames.Put32(ts, 8, TsEcr);
                o.AddRange(ts);
            }
            if (Sack != null && Sack.Count > 0)
            {
                byte[] s = new byte[4 + 8 * Sack.Count];
                s[0] = 1;
                s[1] = 1;
                s[2] = 5;
                s[3] = (byte)(2 + 8 * Sack.Count);
                for (int b = 0; b < Sack.Count; b++)
                {
                    Frames.Put32(s, 4 + 8 * b, Sack[b].Left);
                    Frames.Put32(s, 8 + 8 * b, Sack[b].Right);
                }
                o.AddRange(s);
            }
            while (o.Count % 4 != 0)
            {
                o.Add(0);
            }
            return o.ToArray();
        }

        // ------------------------------------------------------------ expectations

        /// <summary>
        /// Whether <paramref name="actual"/> is this expected segment: flags (PSH aside, which RFC 9293 leaves to
        /// the sender), sequence number, acknowledgment number when ACK is set, payload length, and every field
        /// given here. <paramref name="why"/> names the first difference.
        /// </summary>
        public bool Matches(Seg actual, out string why)
        {
            why = null;
            if ((actual.Flags & ~TcpFlags.Psh) != (Flags & ~TcpFlags.Psh))
            {
                why = "flags";
            }
            else if (!AnySequence && actual.Sequence != Sequence)
            {
                why = "seq";
            }
            else if (Has(TcpFlags.Ack) && actual.Acknowledgment != Acknowledgment)
            {
                why = "ack";
            }
            else if (actual.PayloadLength != PayloadLength)
            {
                why = "payload length";
            }
            else if (Window >= 0 && actual.Window != Window)
            {
                why = "window";
            }
            else if (Mss >= 0 && actual.Mss != Mss)
            {
                why = "mss";
            }
            else if (WindowScale >= 0 && actual.WindowScale != WindowScale)
            {
                why = "window scale";
            }
            else if (SackPermitted && !actual.SackPermitted)
            {
                why = "sack-permitted";
            }
            else if (HasTs && (!actual.HasTs || actual.TsEcr != TsEcr || (CheckTsVal && actual.TsVal != TsVal)))
            {
                why = "timestamps";
            }
            else if (Sack != null && !SameBlocks(Sack, actual.Sack))
            {
                why = "sack blocks";
            }
            else if (Payload != null && actual.Payload != null && !System.MemoryExtensions.SequenceEqual<byte>(Payload, actual.Payload))
            {
                why = "payload bytes";
            }
            return why == null;
        }

        private static bool SameBlocks(List<(uint, uint)> a, List<(uint, uint)> b)
        {
            int count = b == null ? 0 : b.Count;
            if (a.Count != count)
            {
                return false;
            }
            for (int i = 0; i < count; i++)
            {
                if (a[i] != b[i])
                {
                    return false;
                }
            }
            return true;
        }

        public override string ToString()
        {
            StringBuilder s = new StringBuilder();
            s.Append('[');
            if (Has(TcpFlags.Syn))
            {
                s.Append('S');
            }
            if (Has(TcpFlags.Fin))
            {
                s.Append('F');
            }
            if (Has(TcpFlags.Rst))
            {
                s.Append('R');
            }
            if (Has(TcpFlags.Psh))
            {
                s.Append('P');
            }
            if (Has(TcpFlags.Ack))
            {
                s.Append('.');
            }
            s.Append("] seq ").Append(Sequence);
            if (Has(TcpFlags.Ack))
            {
                s.Append(" ack ").Append(Acknowledgment);
            }
            if (Window >= 0)
            {
                s.Append(" win ").Append(Window);
            }
            if (PayloadLength > 0)
            {
                s.Append(" len ").Append(PayloadLength);
            }
            if (Mss >= 0)
            {
                s.Append(" mss ").Append(Mss);
            }
            if (WindowScale >= 0)
            {
                s.Append(" wscale ").Append(WindowScale);
            }
            if (SackPermitted)
            {
                s.Append(" sackOK");
            }
            if (HasTs)
            {
                s.Append(" TS val ").Append(TsVal).Append(" ecr ").Append(TsEcr);
            }
            if (Sack != null && Sack.Count > 0)
            {
                s.Append(" sack");
                foreach ((uint l, uint r) in Sack)
                {
                    s.Append(' ').Append(l).Append('-').Append(r);
                }
            }
            return s.ToString();
        }
    }

    /// <summary>TCP header flags (RFC 9293 section 3.1).</summary>
    public static class TcpFlags
    {
        public const int Fin = 0x01;
        public const int Syn = 0x02;
        public const int Rst = 0x04;
        public const int Psh = 0x08;
        public const int Ack = 0x10;
        public const int Urg = 0x20;
    }
}
