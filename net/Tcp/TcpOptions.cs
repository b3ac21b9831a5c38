using Keel.Net.Internal;

namespace Keel.Net.Tcp
{
    /// <summary>
    /// TCP options: parsing (MSS, window scale, SACK-permitted on SYNs; timestamps and SACK blocks on every
    /// segment) and writing them in Linux's layout, so one drop of a 12-byte timestamp block is the usual case
    /// and parsed on a fast path.
    /// </summary>
    internal static unsafe class TcpOptions
    {
        internal const int End = 0;
        internal const int Nop = 1;
        internal const int Mss = 2;
        internal const int WindowScale = 3;
        internal const int SackPermitted = 4;
        internal const int Sack = 5;
        internal const int Timestamp = 8;
        internal const int MssLength = 4;
        internal const int WindowScaleLength = 3;
        internal const int SackPermittedLength = 2;
        internal const int TimestampLength = 10;

        /// <summary>Bytes a timestamps option takes in a segment (NOP, NOP, kind, length, TSval, TSecr).</summary>
        internal const int AlignedTimestampLength = 12;

        /// <summary>
        /// Parses <paramref name="length"/> option bytes at <paramref name="p"/> into <paramref name="segment"/>.
        /// False when the options are malformed (counted by the caller; the options read so far stay).
        /// </summary>
        internal static bool Parse(byte* p, int length, ref TcpSegment segment, bool syn)
        {
            // Fast path: the aligned timestamps block every Linux data segment carries.
            if (length == AlignedTimestampLength && p[0] == Nop && p[1] == Nop && p[2] == Timestamp && p[3] == TimestampLength)
            {
                segment.HasTimestamp = true;
                segment.TsVal = NetBytes.Read32(p + 4);
                segment.TsEcr = NetBytes.Read32(p + 8);
                return true;
            }
            int i = 0;
            while (i < length)
            {
                int kind = p[i];
                if (kind == End)
                {
                    return true;
                }
                if (kind == Nop)
                {
                    i++;
                    continue;
                }
                if (i + 1 >= length)
                {
                    return false;
                }
                int optionLength = p[i + 1];
                if (optionLength < 2 || i + optionLength > length)
                {
                    return false;
                }
                byte* o = p + i;
                switch (kind)
                {
                    case Mss:
                        if (syn && optionLength == MssLength)
                        {
                            segment.Mss = NetBytes.Read16(o + 2);
                        }
                        break;
                    case WindowScale:
                        if (syn && optionLength == WindowScaleLength)
                        {
                            int shift = o[2];
                            segment.WindowScale = shift > TcpLayer.MaxWindowScale ? TcpLayer.MaxWindowScale : shift;
                        }
                        break;
                    case SackPermitted:
                        if (syn && optionLength == SackPermittedLength)
                        {
                            segment.SackPermitted = true;
                        }
                        break;
                    case Timestamp:
                        if (optionLength == TimestampLength)
                        {
                            segment.HasTimestamp = true;
                            segment.TsVal = NetBytes.Read32(o + 2);
                            segment.TsEcr = NetBytes.Read32(o + 6);
                        }
                        break;
                    case Sack:
                        if (!syn && optionLength >= 10 && (optionLength - 2) % 8 == 0)
                        {
                            int blocks = (optionLength - 2) / 8;
                            if (blocks > TcpSegment.MaxSackBlocks)
                            {
                                blocks = TcpSegment.MaxSackBlocks;
                            }
                            for (int b = 0; b < blocks; b++)
                            {
                                segment.Sack[2 * b] = NetBytes.Read32(o + 2 + 8 * b);
                                segment.Sack[2 * b + 1] = NetBytes.Read32(o + 6 + 8 * b);
                            }
                            segment.SackCount = blocks;
                        }
                        break;
                }
                i += optionLength;
            }
            return true;
        }

        /// <summary>
        /// Length of the options of a SYN or SYN-ACK: MSS, then SACK-permitted and timestamps, then window scale
        /// (Linux's order and padding).
        /// </summary>
        internal static int SynLength(bool sack, bool timestamps, bool windowScale)
        {
            int length = MssLength;
            if (timestamps)
            {
                length += AlignedTimestampLength; // SACK-permitted takes the place of the two NOPs
            }
            else if (sack)
            {
                length += 4;
            }
            if (windowScale)
            {
                length += 4;
            }
            return length;
        }

        internal static void WriteSyn(byte* o, int mss, bool sack, bool timestamps, uint tsVal, uint tsEcr, int windowScale)
        {
            o[0] = Mss;
            o[1] = MssLength;
            NetBytes.Write16(o + 2, mss);
            o += MssLength;
            if (timestamps)
            {
                if (sack)
                {
                    o[0] = SackPermitted;
                    o[1] = SackPermittedLength;
                }
                else
                {
                    o[0] = Nop;
                    o[1] = Nop;
                }
                WriteTimestampOption(o + 2, tsVal, tsEcr);
                o += AlignedTimestampLength;
            }
            else if (sack)
            {
                o[0] = Nop;
                o[1] = Nop;
                o[2] = SackPermitted;
                o[3] = SackPermittedLength;
                o += 4;
            }
            if (windowScale >= 0)
            {
                o[0] = Nop;
                o[1] = WindowScale;
                o[2] = WindowScaleLength;
                o[3] = (byte)windowScale;
            }
        }

        /// <summary>NOP, NOP, timestamps (12 bytes).</summary>
        internal static void WriteTimestamps(byte* o, uint tsVal, uint tsEcr)
        {
            o[0] = Nop;
            o[1] = Nop;
            WriteTimestampOption(o + 2, tsVal, tsEcr);
        }

        private static void WriteTimestampOption(byte* o, uint tsVal, uint tsEcr)
        {
            o[0] = Timestamp;
            o[1] = TimestampLength;
            NetBytes.Write32(o + 2, tsVal);
            NetBytes.Write32(o + 6, tsEcr);
        }

        /// <summary>NOP, NOP, SACK with <paramref name="count"/> blocks from <paramref name="blocks"/> (4 + 8 × count bytes).</summary>
        internal static void WriteSack(byte* o, uint* blocks, int count)
        {
            o[0] = Nop;
            o[1] = Nop;
            o[2] = Sack;
            o[3] = (byte)(2 + 8 * count);
            for (int b = 0; b < count; b++)
            {
                NetBytes.Write32(o + 4 + 8 * b, blocks[2 * b]);
                NetBytes.Write32(o + 8 + 8 * b, blocks[2 * b + 1]);
            }
        }
    }
}
