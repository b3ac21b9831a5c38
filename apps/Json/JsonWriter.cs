using System;

namespace Keel.Apps.Json
{
    /// <summary>
    /// Writes compact JSON (no whitespace, as cJSON's unformatted print) into a fixed byte array given at
    /// construction. Commas and colons are placed automatically. Nothing is allocated after construction:
    /// reuse one writer with <see cref="Reset"/>. When the array is full the writer stops and sets
    /// <see cref="Overflowed"/>; check it before using the text. Nesting is limited to 64 levels.
    /// </summary>
    public sealed class JsonWriter
    {
        private const int MaxDepth = 64;

        private readonly byte[] _buffer;
        private int _start;
        private int _position;
        private int _depth;

        /// <summary>Bit per open level: a value has been written at that level (the next one needs a comma).</summary>
        private ulong _hasValue;

        /// <summary>A property name was just written; the value that follows needs no comma.</summary>
        private bool _afterName;

        public JsonWriter(byte[] buffer)
        {
            _buffer = buffer;
        }

        /// <summary>The array the text goes into.</summary>
        public byte[] Buffer => _buffer;

        /// <summary>Offset of the first byte of the text in <see cref="Buffer"/>.</summary>
        public int Start => _start;

        /// <summary>Bytes of text written so far.</summary>
        public int Length => _position - _start;

        /// <summary>True when some text did not fit (the output is then incomplete).</summary>
        public bool Overflowed { get; private set; }

        /// <summary>Open objects and arrays.</summary>
        public int Depth => _depth;

        /// <summary>The text written so far.</summary>
        public ReadOnlySpan<byte> Written => new ReadOnlySpan<byte>(_buffer, _start, _position - _start);

        /// <summary>Starts a new document at offset <paramref name="start"/> (e.g. 4, leaving room for a length prefix).</summary>
        public void Reset(int start)
        {
            _start = start;
            _position = start;
            _depth = 0;
            _hasValue = 0;
            _afterName = false;
            Overflowed = start > _buffer.Length;
        }

        /// <summary>Starts a new document at offset 0.</summary>
        public void Reset() => Reset(0);

        public void BeginObject()
        {
            BeforeValue();
            Put((byte)'{');
            Push();
        }

        public void EndObject()
        {
            Pop();
            Put((byte)'}');
        }

        public void BeginArray()
        {
            BeforeValue();
            Put((byte)'[');
            Push();
        }

        public void EndArray()
        {
            Pop();
            Put((byte)']');
        }

        /// <summary>Writes "name": (an ASCII literal; it is escaped like any string).</summary>
        public void PropertyName(string name)
        {
            BeforeValue();
            WriteQuoted(name);
            Put((byte)':');
            _afterName = true;
        }

        public void Int64Value(long value)
        {
            BeforeValue();
            Span<byte> text = stackalloc byte[JsonNumber.MaxLength];
            PutSpan(text.Slice(0, JsonNumber.FormatInt64(value, text)));
        }

        public void UInt64Value(ulong value)
        {
            BeforeValue();
            Span<byte> text = stackalloc byte[JsonNumber.MaxLength];
            PutSpan(text.Slice(0, JsonNumber.FormatUInt64(value, text)));
        }

        /// <summary>A double in "%.15g" style (see <see cref="JsonNumber.FormatDouble"/>).</summary>
        public void DoubleValue(double value)
        {
            BeforeValue();
            Span<byte> text = stackalloc byte[JsonNumber.MaxLength];
            PutSpan(text.Slice(0, JsonNumber.FormatDouble(value, text)));
        }

        public void BooleanValue(bool value)
        {
            BeforeValue();
            if (value)
            {
                PutAscii("true");
            }
            else
            {
                PutAscii("false");
            }
        }

        public void NullValue()
        {
            BeforeValue();
            PutAscii("null");
        }

        /// <summary>A string value from a literal (characters above 0x7F are written as \u escapes).</summary>
        public void StringValue(string value)
        {
            BeforeValue();
            WriteQuoted(value);
        }

        /// <summary>A string value from UTF-8 bytes, escaped as JSON requires.</summary>
        public void StringValue(ReadOnlySpan<byte> utf8)
        {
            BeforeValue();
            Put((byte)'"');
            for (int i = 0; i < utf8.Length; i++)
            {
                PutEscaped(utf8[i]);
            }
            Put((byte)'"');
        }

        public void Property(string name, long value)
        {
            PropertyName(name);
            Int64Value(value);
        }

        public void Property(string name, double value)
        {
            PropertyName(name);
            DoubleValue(value);
        }

        public void Property(string name, bool value)
        {
            PropertyName(name);
            BooleanValue(value);
        }

        public void Property(string name, string value)
        {
            PropertyName(name);
            StringValue(value);
        }

        // ---------------------------------------------------------------- internals

        private void BeforeValue()
        {
            if (_afterName)
            {
                _afterName = false;
                return;
            }
            if (_depth > 0)
            {
                ulong bit = 1UL << (_depth - 1);
                if ((_hasValue & bit) != 0)
                {
                    Put((byte)',');
                }
                _hasValue |= bit;
            }
        }

        private void Push()
        {
            if (_depth == MaxDepth)
            {
                Overflowed = true;
                return;
            }
            _depth++;
            _hasValue &= ~(1UL << (_depth - 1));
        }

        private void Pop()
        {
            _afterName = false;
            if (_depth > 0)
            {
                _depth--;
            }
        }

        private void WriteQuoted(string text)
        {
            Put((byte)'"');
            for (int i = 0; i < text.Length; i++)
            {
                char c = text[i];
                if (c > 0x7F)
                {
                    PutUnicodeEscape(c);
                }
                else
                {
                    PutEscaped((byte)c);
                }
            }
            Put((byte)'"');
        }

        private void PutEscaped(byte c)
        {
            switch (c)
            {
                case (byte)'"':
                    Put((byte)'\\');
                    Put((byte)'"');
                    return;
                case (byte)'\\':
                    Put((byte)'\\');
                    Put((byte)'\\');
                    return;
                case (byte)'\n':
                    Put((byte)'\\');
                    Put((byte)'n');
                    return;
                case (byte)'\r':
                    Put((byte)'\\');
                    Put((byte)'r');
                    return;
                case (byte)'\t':
                    Put((byte)'\\');
                    Put((byte)'t');
                    return;
                case (byte)'\b':
                    Put((byte)'\\');
                    Put((byte)'b');
                    return;
                case (byte)'\f':
                    Put((byte)'\\');
                    Put((byte)'f');
                    return;
            }
            if (c < 0x20)
            {
                PutUnicodeEscape(c);
                return;
            }
            Put(c);
        }

        private void PutUnicodeEscape(int c)
        {
            Put((byte)'\\');
            Put((byte)'u');
            for (int shift = 12; shift >= 0; shift -= 4)
            {
                int nibble = (c >> shift) & 0xF;
                Put((byte)(nibble < 10 ? '0' + nibble : 'a' + nibble - 10));
            }
        }

        private void PutAscii(string text)
        {
            for (int i = 0; i < text.Length; i++)
            {
                Put((byte)text[i]);
            }
        }

        private void PutSpan(ReadOnlySpan<byte> bytes)
        {
            for (int i = 0; i < bytes.Length; i++)
            {
                Put(bytes[i]);
            }
        }

        private void Put(byte c)
        {
            if (_position >= _buffer.Length)
            {
                Overflowed = true;
                return;
            }
            _buffer[_position++] = c;
        }
    }
}
