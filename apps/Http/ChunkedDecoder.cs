using System;

namespace Keel.Apps.Http
{
    /// <summary>
    /// Reads a chunked request body (RFC 9112 section 7.1) incrementally, for the server to discard: chunk sizes in
    /// hexadecimal, extensions ignored, data, CRLF, the last chunk (size 0), trailer fields, and the final CRLF.
    /// Refuses bodies over a limit, sizes of more than 15 hex digits, and lines that are not CRLF- or LF-terminated.
    /// A struct with no references: one per connection, reset per request.
    /// </summary>
    public struct ChunkedDecoder
    {
        private const int MaxSizeDigits = 15;
        private const int MaxLineBytes = 4096;

        private enum State : byte
        {
            Size,
            Extension,
            SizeLineFeed,
            Data,
            DataCarriageReturn,
            DataLineFeed,
            TrailerLineStart,
            TrailerLine,
            TrailerLineFeed,
            FinalLineFeed,
            Done,
            Failed,
        }

        private State _state;
        private int _digits;
        private int _lineBytes;
        private long _chunkRemaining;
        private long _total;
        private long _limit;

        /// <summary>Starts a body of at most <paramref name="limit"/> data bytes.</summary>
        public void Reset(long limit)
        {
            _state = State.Size;
            _digits = 0;
            _lineBytes = 0;
            _chunkRemaining = 0;
            _total = 0;
            _limit = limit;
            TooLarge = false;
        }

        /// <summary>The whole body, trailers included, has been read.</summary>
        public bool Done => _state == State.Done;

        /// <summary>The body is malformed (<see cref="TooLarge"/> tells whether it was over the limit instead).</summary>
        public bool Failed => _state == State.Failed;

        /// <summary>The body was refused for being over the limit (413 rather than 400).</summary>
        public bool TooLarge { get; private set; }

        /// <summary>Data bytes (chunk contents) read so far.</summary>
        public long DataBytes => _total;

        /// <summary>Reads from <paramref name="input"/> and returns how many bytes belong to the body; stops at its end or at an error.</summary>
        public int Feed(ReadOnlySpan<byte> input)
        {
            int i = 0;
            while (i < input.Length && _state != State.Done && _state != State.Failed)
            {
                byte b = input[i];
                switch (_state)
                {
                    case State.Size:
                        int digit = HexValue(b);
                        if (digit >= 0)
                        {
                            if (++_digits > MaxSizeDigits)
                            {
                                return Fail(i);
                            }
                            _chunkRemaining = _chunkRemaining * 16 + digit;
                            i++;
                        }
                        else if (_digits == 0)
                        {
                            return Fail(i);
                        }
                        else if (b == (byte)';' || b == (byte)' ' || b == (byte)'\t')
                        {
                            _state = State.Extension;
                            _lineBytes = 0;
                        }
                        else if (b == (byte)'\r')
                        {
                            _state = State.SizeLineFeed;
                            i++;
                        }
                        else if (b == (byte)'\n')
                        {
                            i++;
                            EndOfSizeLine();
                        }
                        else
                        {
                            return Fail(i);
                        }
                        break;
                    case State.Extension:
                        // chunk-ext is skipped up to the line end; it cannot contain CR, LF or NUL.
                        if (b == (byte)'\r')
                        {
                            _state = State.SizeLineFeed;
                        }
                        else if (b == (byte)'\n')
                        {
                            EndOfSizeLine();
                        }
                        else if (b == 0 || ++_lineBytes > MaxLineBytes)
                        {
                            return Fail(i);
                        }
                        i++;
                        break;
                    case State.SizeLineFeed:
                        if (b != (byte)'\n')
                        {
                            return Fail(i);
                        }
                        i++;
                        EndOfSizeLine();
                        break;
                    case State.Data:
                        long take = input.Length - i;
                        if (take > _chunkRemaining)
                        {
                            take = _chunkRemaining;
                        }
                        i += (int)take;
                        _chunkRemaining -= take;
                        if (_chunkRemaining == 0)
                        {
                            _state = State.DataCarriageReturn;
                        }
                        break;
                    case State.DataCarriageReturn:
                        if (b == (byte)'\r')
                        {
                            _state = State.DataLineFeed;
                        }
                        else if (b == (byte)'\n')
                        {
                            StartSize();
                        }
                        else
                        {
                            return Fail(i);
                        }
                        i++;
                        break;
                    case State.DataLineFeed:
                        if (b != (byte)'\n')
                        {
                            return Fail(i);
                        }
                        i++;
                        StartSize();
                        break;
                    case State.TrailerLineStart:
                        // An empty line ends the message; anything else is a trailer field, skipped.
                        if (b == (byte)'\r')
                        {
                            _state = State.FinalLineFeed;
                        }
                        else if (b == (byte)'\n')
                        {
                            _state = State.Done;
                        }
                        else if (b == 0)
                        {
                            return Fail(i);
                        }
                        else
                        {
                            _state = State.TrailerLine;
                            _lineBytes = 1;
                        }
                        i++;
                        break;
                    case State.TrailerLine:
                        if (b == (byte)'\r')
                        {
                            _state = State.TrailerLineFeed;
                        }
                        else if (b == (byte)'\n')
                        {
                            _state = State.TrailerLineStart;
                        }
                        else if (b == 0 || ++_lineBytes > MaxLineBytes)
                        {
                            return Fail(i);
                        }
                        i++;
                        break;
                    case State.TrailerLineFeed:
                        if (b != (byte)'\n')
                        {
                            return Fail(i);
                        }
                        _state = State.TrailerLineStart;
                        i++;
                        break;
                    case State.FinalLineFeed:
                        if (b != (byte)'\n')
                        {
                            return Fail(i);
                        }
                        _state = State.Done;
                        i++;
                        break;
                }
            }
            return i;
        }

        private void EndOfSizeLine()
        {
            if (_chunkRemaining == 0)
            {
                _state = State.TrailerLineStart;
                return;
            }
            _total += _chunkRemaining;
            if (_total > _limit)
            {
                TooLarge = true;
                _state = State.Failed;
                return;
            }
            _state = State.Data;
        }

        private void StartSize()
        {
            _state = State.Size;
            _digits = 0;
            _chunkRemaining = 0;
        }

        private int Fail(int consumed)
        {
            _state = State.Failed;
            return consumed;
        }

        private static int HexValue(byte b)
        {
            if (b >= (byte)'0' && b <= (byte)'9')
            {
                return b - '0';
            }
            int lower = b | 0x20;
            return lower >= 'a' && lower <= 'f' ? lower - 'a' + 10 : -1;
        }
    }
}
