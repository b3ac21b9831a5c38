using System;
using Keel.Apps.Json;
using Keel.Hal;

namespace Keel.Apps.Text
{
    /// <summary>
    /// ASCII text built in a fixed byte array (no string formatting exists in the kernel): iperf3's per-test log
    /// line, HTTP response heads, the Prometheus exposition. Text that does not fit is cut off and
    /// <see cref="Overflowed"/> set.
    /// As an <see cref="ITextOutput"/> it takes what the network types write about themselves (addresses, endpoints).
    /// </summary>
    public sealed class TextBuffer : ITextOutput
    {
        private readonly byte[] _bytes;

        public TextBuffer(int capacity)
        {
            _bytes = new byte[capacity];
        }

        /// <summary>Text written into <paramref name="bytes"/> (shared with other writers that use it in turn).</summary>
        public TextBuffer(byte[] bytes)
        {
            _bytes = bytes;
        }

        public int Length { get; private set; }

        /// <summary>The array the text is in, from offset 0.</summary>
        public byte[] Buffer => _bytes;

        /// <summary>True when some text did not fit since the last <see cref="Clear"/>.</summary>
        public bool Overflowed { get; private set; }

        public ReadOnlySpan<byte> Text => new ReadOnlySpan<byte>(_bytes, 0, Length);

        public void Clear()
        {
            Length = 0;
            Overflowed = false;
        }

        public void Append(char c)
        {
            if (Length < _bytes.Length)
            {
                _bytes[Length++] = (byte)c;
            }
            else
            {
                Overflowed = true;
            }
        }

        /// <summary>Bytes as they are (ASCII or UTF-8 text).</summary>
        public void Append(ReadOnlySpan<byte> bytes)
        {
            int room = _bytes.Length - Length;
            int count = bytes.Length <= room ? bytes.Length : room;
            bytes.Slice(0, count).CopyTo(new Span<byte>(_bytes, Length, count));
            Length += count;
            if (count < bytes.Length)
            {
                Overflowed = true;
            }
        }

        /// <summary>A number in lower-case hexadecimal, no leading zeros (HTTP chunk sizes).</summary>
        public void AppendHex(long value)
        {
            int shift = 60;
            while (shift > 0 && ((value >> shift) & 0xF) == 0)
            {
                shift -= 4;
            }
            for (; shift >= 0; shift -= 4)
            {
                int digit = (int)((value >> shift) & 0xF);
                Append((char)(digit < 10 ? '0' + digit : 'a' + digit - 10));
            }
        }

        public void Append(string text)
        {
            for (int i = 0; i < text.Length; i++)
            {
                Append(text[i]);
            }
        }

        public void Append(long value)
        {
            Span<byte> digits = stackalloc byte[JsonNumber.MaxLength];
            Append((ReadOnlySpan<byte>)digits.Slice(0, JsonNumber.FormatInt64(value, digits)));
        }

        /// <summary>A double with a fixed number of decimals ("3.00").</summary>
        public void AppendFixed(double value, int decimals)
        {
            Span<byte> digits = stackalloc byte[JsonNumber.MaxLength];
            Append((ReadOnlySpan<byte>)digits.Slice(0, JsonNumber.FormatFixed(value, decimals, digits)));
        }

        /// <summary>A rate in bits per second with a unit: "941.23 Mbit/s".</summary>
        public void AppendBitRate(double bitsPerSecond)
        {
            if (bitsPerSecond >= 1e9)
            {
                AppendFixed(bitsPerSecond / 1e9, 2);
                Append(" Gbit/s");
            }
            else if (bitsPerSecond >= 1e6)
            {
                AppendFixed(bitsPerSecond / 1e6, 2);
                Append(" Mbit/s");
            }
            else if (bitsPerSecond >= 1e3)
            {
                AppendFixed(bitsPerSecond / 1e3, 2);
                Append(" Kbit/s");
            }
            else
            {
                AppendFixed(bitsPerSecond, 0);
                Append(" bit/s");
            }
        }

        /// <summary>An address and port: "a.b.c.d:port" or "[v6 address]:port".</summary>
        public void Append(Keel.Net.IPEndPoint endPoint) => endPoint.WriteTo(this);

        void ITextOutput.Write(string text) => Append(text);

        void ITextOutput.Write(char character) => Append(character);

        void ITextOutput.Write(long value) => Append(value);

        void ITextOutput.WriteHex(ulong value)
        {
            int shift = 60;
            while (shift > 0 && (value >> shift) == 0)
            {
                shift -= 4;
            }
            for (; shift >= 0; shift -= 4)
            {
                int digit = (int)(value >> shift) & 0xF;
                Append((char)(digit < 10 ? '0' + digit : 'a' + digit - 10));
            }
        }

        void ITextOutput.WriteLine() => Append('\n');

        /// <summary>Writes the text and a line end to <paramref name="output"/>.</summary>
        public void WriteLineTo(ITextOutput output)
        {
            if (output == null)
            {
                return;
            }
            for (int i = 0; i < Length; i++)
            {
                output.Write((char)_bytes[i]);
            }
            output.WriteLine();
        }
    }
}
