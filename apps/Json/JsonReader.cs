using System;

namespace Keel.Apps.Json
{
    /// <summary>
    /// A forward-only JSON reader over bytes already in memory (in the spirit of System.Text.Json's
    /// Utf8JsonReader, as a reusable class): <see cref="Read"/> moves to the next token and the current token's
    /// text is examined in place, so nothing is copied or allocated. The syntax is checked as it goes; on
    /// malformed input Read returns false and <see cref="HasError"/> is set. Nesting is limited to 64 levels.
    /// </summary>
    public sealed class JsonReader
    {
        private const int MaxDepth = 64;

        private enum Expect
        {
            /// <summary>A value (top level, after a colon, or in an array after '[' or ',').</summary>
            Value,

            /// <summary>A property name (in an object after '{' or ',').</summary>
            Name,

            /// <summary>A value has just ended: ',' or the container's close (or the end, at top level).</summary>
            Separator,
        }

        private byte[] _buffer;
        private int _position;
        private int _end;
        private int _depth;
        private ulong _inArray;
        private Expect _expect;
        private bool _justOpened;
        private bool _done;
        private int _tokenStart;
        private int _tokenLength;
        private bool _tokenHasEscapes;

        /// <summary>Starts reading <paramref name="length"/> bytes of <paramref name="buffer"/> from <paramref name="offset"/>.</summary>
        public void Reset(byte[] buffer, int offset, int length)
        {
            _buffer = buffer;
            _position = offset;
            _end = offset + length;
            _depth = 0;
            _inArray = 0;
            _expect = Expect.Value;
            _justOpened = false;
            _done = false;
            HasError = false;
            TokenType = JsonTokenType.None;
            _tokenStart = offset;
            _tokenLength = 0;
            _tokenHasEscapes = false;
        }

        /// <summary>The current token.</summary>
        public JsonTokenType TokenType { get; private set; }

        /// <summary>True after malformed input was found (Read then keeps returning false).</summary>
        public bool HasError { get; private set; }

        /// <summary>Objects and arrays open around the current position (a Start token counts itself).</summary>
        public int CurrentDepth => _depth;

        /// <summary>
        /// Raw text of the current token: a string or property name without its quotes (escapes not decoded),
        /// a number's digits, or a literal.
        /// </summary>
        public ReadOnlySpan<byte> ValueSpan => new ReadOnlySpan<byte>(_buffer, _tokenStart, _tokenLength);

        /// <summary>True when the whole document has been read without error.</summary>
        public bool IsComplete => _done && !HasError;

        /// <summary>Moves to the next token. False at the end of the document or on an error.</summary>
        public bool Read()
        {
            if (HasError || _done || _buffer == null)
            {
                return false;
            }
            SkipWhitespace();
            if (_expect == Expect.Separator)
            {
                if (_depth == 0)
                {
                    // One complete top-level value: only whitespace may follow.
                    _done = true;
                    TokenType = JsonTokenType.None;
                    if (_position != _end)
                    {
                        return Fail();
                    }
                    return false;
                }
                if (_position >= _end)
                {
                    return Fail();
                }
                byte separator = _buffer[_position];
                if (separator == ',')
                {
                    _position++;
                    SkipWhitespace();
                    _expect = InArray ? Expect.Value : Expect.Name;
                    _justOpened = false;
                }
                else if (separator == '}' || separator == ']')
                {
                    return Close(separator);
                }
                else
                {
                    return Fail();
                }
            }
            if (_position >= _end)
            {
                return Fail();
            }
            byte c = _buffer[_position];
            if (_justOpened && (c == '}' || c == ']'))
            {
                return Close(c);
            }
            _justOpened = false;
            if (_expect == Expect.Name)
            {
                if (c != '"' || !ScanString())
                {
                    return Fail();
                }
                SkipWhitespace();
                if (_position >= _end || _buffer[_position] != ':')
                {
                    return Fail();
                }
                _position++;
                _expect = Expect.Value;
                TokenType = JsonTokenType.PropertyName;
                return true;
            }
            switch (c)
            {
                case (byte)'{':
                    return Open(false);
                case (byte)'[':
                    return Open(true);
                case (byte)'"':
                    if (!ScanString())
                    {
                        return Fail();
                    }
                    return ValueDone(JsonTokenType.String);
                case (byte)'t':
                    return Literal("true", JsonTokenType.True);
                case (byte)'f':
                    return Literal("false", JsonTokenType.False);
                case (byte)'n':
                    return Literal("null", JsonTokenType.Null);
            }
            if (c == '-' || (c >= '0' && c <= '9'))
            {
                int start = _position;
                while (_position < _end && IsNumberByte(_buffer[_position]))
                {
                    _position++;
                }
                _tokenStart = start;
                _tokenLength = _position - start;
                _tokenHasEscapes = false;
                bool isInteger;
                if (!JsonNumber.IsValid(ValueSpan, out isInteger))
                {
                    return Fail();
                }
                return ValueDone(JsonTokenType.Number);
            }
            return Fail();
        }

        /// <summary>
        /// Skips the current token's value: after a PropertyName the value that follows; after StartObject or
        /// StartArray everything up to the matching end. Returns false on an error.
        /// </summary>
        public bool Skip()
        {
            if (TokenType == JsonTokenType.PropertyName)
            {
                if (!Read())
                {
                    return false;
                }
            }
            if (TokenType == JsonTokenType.StartObject || TokenType == JsonTokenType.StartArray)
            {
                int depth = _depth;
                while (Read())
                {
                    if ((TokenType == JsonTokenType.EndObject || TokenType == JsonTokenType.EndArray) && _depth == depth - 1)
                    {
                        return true;
                    }
                }
                return false;
            }
            return !HasError;
        }

        /// <summary>
        /// True when the current string or property name equals <paramref name="text"/> (escapes decoded; ASCII
        /// letters compared without case when <paramref name="ignoreCase"/>, as cJSON_GetObjectItem does).
        /// </summary>
        public bool ValueEquals(string text, bool ignoreCase)
        {
            if (TokenType != JsonTokenType.String && TokenType != JsonTokenType.PropertyName)
            {
                return false;
            }
            if (!_tokenHasEscapes)
            {
                if (_tokenLength != text.Length)
                {
                    return false;
                }
                for (int i = 0; i < _tokenLength; i++)
                {
                    if (!SameChar(_buffer[_tokenStart + i], text[i], ignoreCase))
                    {
                        return false;
                    }
                }
                return true;
            }
            int position = _tokenStart;
            int end = _tokenStart + _tokenLength;
            int index = 0;
            while (position < end)
            {
                int c = DecodeChar(ref position, end);
                if (c < 0 || index >= text.Length || !SameChar(c, text[index], ignoreCase))
                {
                    return false;
                }
                index++;
            }
            return index == text.Length;
        }

        /// <summary>ValueEquals with ASCII case ignored.</summary>
        public bool NameIs(string text) => ValueEquals(text, true);

        /// <summary>
        /// The current number as a long. Integers above 2^63−1 (up to 2^64−1) come back as their two's-complement
        /// value, so iperf3's printed −1 (18446744073709551615) reads as −1. Numbers with a fraction or exponent
        /// are truncated toward zero when they fit. False for anything else.
        /// </summary>
        public bool TryGetInt64(out long value)
        {
            value = 0;
            if (TokenType != JsonTokenType.Number)
            {
                return false;
            }
            if (JsonNumber.TryParseInteger(ValueSpan, out value))
            {
                return true;
            }
            double d;
            if (!JsonNumber.TryParseDouble(ValueSpan, out d) || !(d > -9.2e18 && d < 9.2e18))
            {
                value = 0;
                return false;
            }
            value = (long)d;
            return true;
        }

        /// <summary>The current number as a double.</summary>
        public bool TryGetDouble(out double value)
        {
            value = 0;
            if (TokenType != JsonTokenType.Number)
            {
                return false;
            }
            return JsonNumber.TryParseDouble(ValueSpan, out value);
        }

        /// <summary>
        /// The current value read as iperf3 reads a flag: true for <c>true</c> and for a nonzero number, false for
        /// <c>false</c>, <c>null</c>, zero and anything else.
        /// </summary>
        public bool GetFlag()
        {
            if (TokenType == JsonTokenType.True)
            {
                return true;
            }
            long number;
            return TokenType == JsonTokenType.Number && TryGetInt64(out number) && number != 0;
        }

        // ---------------------------------------------------------------- internals

        private bool InArray => _depth > 0 && (_inArray & (1UL << (_depth - 1))) != 0;

        private bool Open(bool array)
        {
            if (_depth == MaxDepth)
            {
                return Fail();
            }
            _tokenStart = _position;
            _tokenLength = 1;
            _position++;
            _depth++;
            ulong bit = 1UL << (_depth - 1);
            if (array)
            {
                _inArray |= bit;
            }
            else
            {
                _inArray &= ~bit;
            }
            _expect = array ? Expect.Value : Expect.Name;
            _justOpened = true;
            TokenType = array ? JsonTokenType.StartArray : JsonTokenType.StartObject;
            return true;
        }

        private bool Close(byte c)
        {
            bool array = InArray;
            if ((c == ']') != array || _depth == 0)
            {
                return Fail();
            }
            _tokenStart = _position;
            _tokenLength = 1;
            _position++;
            _depth--;
            _justOpened = false;
            _expect = Expect.Separator;
            TokenType = array ? JsonTokenType.EndArray : JsonTokenType.EndObject;
            return true;
        }

        private bool ValueDone(JsonTokenType type)
        {
            TokenType = type;
            _expect = Expect.Separator;
            return true;
        }

        private bool Literal(string text, JsonTokenType type)
        {
            if (_end - _position < text.Length)
            {
                return Fail();
            }
            for (int i = 0; i < text.Length; i++)
            {
                if (_buffer[_position + i] != text[i])
                {
                    return Fail();
                }
            }
            _tokenStart = _position;
            _tokenLength = text.Length;
            _tokenHasEscapes = false;
            _position += text.Length;
            return ValueDone(type);
        }

        /// <summary>At a '"': finds the closing quote, checks escapes and control characters.</summary>
        private bool ScanString()
        {
            int position = _position + 1;
            bool escapes = false;
            while (position < _end)
            {
                byte c = _buffer[position];
                if (c == '"')
                {
                    _tokenStart = _position + 1;
                    _tokenLength = position - _position - 1;
                    _tokenHasEscapes = escapes;
                    _position = position + 1;
                    return true;
                }
                if (c < 0x20)
                {
                    return false;
                }
                if (c == '\\')
                {
                    escapes = true;
                    int check = position;
                    if (DecodeChar(ref check, _end) < 0)
                    {
                        return false;
                    }
                    position = check;
                    continue;
                }
                position++;
            }
            return false;
        }

        /// <summary>
        /// Decodes one character (a plain byte or an escape) at <paramref name="position"/>; returns it (UTF-16
        /// code unit for \u) and moves past it, or −1 for a bad escape.
        /// </summary>
        private int DecodeChar(ref int position, int end)
        {
            byte c = _buffer[position];
            if (c != '\\')
            {
                position++;
                return c;
            }
            if (position + 1 >= end)
            {
                return -1;
            }
            byte e = _buffer[position + 1];
            position += 2;
            switch (e)
            {
                case (byte)'"': return '"';
                case (byte)'\\': return '\\';
                case (byte)'/': return '/';
                case (byte)'b': return '\b';
                case (byte)'f': return '\f';
                case (byte)'n': return '\n';
                case (byte)'r': return '\r';
                case (byte)'t': return '\t';
                case (byte)'u':
                    if (position + 4 > end)
                    {
                        return -1;
                    }
                    int value = 0;
                    for (int i = 0; i < 4; i++)
                    {
                        int h = HexValue(_buffer[position + i]);
                        if (h < 0)
                        {
                            return -1;
                        }
                        value = (value << 4) | h;
                    }
                    position += 4;
                    return value;
            }
            return -1;
        }

        private static int HexValue(byte c)
        {
            if (c >= '0' && c <= '9')
            {
                return c - '0';
            }
            if (c >= 'a' && c <= 'f')
            {
                return c - 'a' + 10;
            }
            if (c >= 'A' && c <= 'F')
            {
                return c - 'A' + 10;
            }
            return -1;
        }

        private static bool SameChar(int a, char b, bool ignoreCase)
        {
            if (a == b)
            {
                return true;
            }
            if (!ignoreCase)
            {
                return false;
            }
            return ToLower(a) == ToLower(b);
        }

        private static int ToLower(int c) => c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;

        private static bool IsNumberByte(byte c) =>
            (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';

        private void SkipWhitespace()
        {
            while (_position < _end)
            {
                byte c = _buffer[_position];
                if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
                {
                    return;
                }
                _position++;
            }
        }

        private bool Fail()
        {
            HasError = true;
            TokenType = JsonTokenType.None;
            return false;
        }
    }
}
