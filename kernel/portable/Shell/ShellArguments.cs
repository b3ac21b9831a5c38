using System;
using Keel.Hal;
using Keel.Kernel.Text;

namespace Keel.Kernel.Shell
{
    /// <summary>
    /// The words of one shell line, split at blanks; a word in double quotes may hold blanks (the quotes are
    /// dropped, there are no escapes). Word 0 is the command name; <see cref="Count"/>, <see cref="Get"/> and the
    /// parse helpers number the arguments after it from 0. Made once by the shell and reused for every line.
    /// </summary>
    public sealed class ShellArguments
    {
        /// <summary>Most words kept per line (command name included); the rest set <see cref="Truncated"/>.</summary>
        public const int MaxWords = 16;

        /// <summary>Start of each word in <see cref="_line"/>.</summary>
        private readonly int[] _start = new int[MaxWords];

        /// <summary>Length of each word.</summary>
        private readonly int[] _length = new int[MaxWords];

        /// <summary>The line the words point into (the line editor's buffer).</summary>
        private char[] _line = new char[0];

        /// <summary>Characters of <see cref="_line"/> in use.</summary>
        private int _lineLength;

        /// <summary>Words found.</summary>
        private int _words;

        /// <summary>Arguments after the command name.</summary>
        public int Count => _words > 0 ? _words - 1 : 0;

        /// <summary>True when the line had more than <see cref="MaxWords"/> words (the rest were dropped).</summary>
        public bool Truncated { get; private set; }

        /// <summary>The command name (empty for a blank line).</summary>
        public ReadOnlySpan<char> CommandName => _words > 0 ? Word(0) : ReadOnlySpan<char>.Empty;

        /// <summary>The whole line as typed.</summary>
        public ReadOnlySpan<char> Line => new ReadOnlySpan<char>(_line, 0, _lineLength);

        /// <summary>Argument <paramref name="index"/> (0 = first after the name); empty when there is no such argument.</summary>
        public ReadOnlySpan<char> Get(int index)
        {
            return index < 0 || index + 1 >= _words ? ReadOnlySpan<char>.Empty : Word(index + 1);
        }

        /// <summary>The raw text from argument <paramref name="index"/> to the end of the line (quotes kept); empty when absent.</summary>
        public ReadOnlySpan<char> Rest(int index)
        {
            if (index < 0 || index + 1 >= _words)
            {
                return ReadOnlySpan<char>.Empty;
            }
            int start = _start[index + 1];
            if (start > 0 && _line[start - 1] == '"')
            {
                start--;
            }
            return new ReadOnlySpan<char>(_line, start, _lineLength - start);
        }

        /// <summary>True when argument <paramref name="index"/> is exactly <paramref name="text"/>.</summary>
        public bool Is(int index, string text)
        {
            return index >= 0 && index + 1 < _words && AsciiText.Matches(Word(index + 1), text);
        }

        /// <summary>Argument <paramref name="index"/> as a signed number (decimal or 0x hex).</summary>
        public bool TryGetInt64(int index, out long value)
        {
            value = 0;
            return index >= 0 && index + 1 < _words && NumberParser.TryParseInt64(Word(index + 1), out value);
        }

        /// <summary>Argument <paramref name="index"/> as an int (decimal or 0x hex).</summary>
        public bool TryGetInt32(int index, out int value)
        {
            value = 0;
            return index >= 0 && index + 1 < _words && NumberParser.TryParseInt32(Word(index + 1), out value);
        }

        /// <summary>Argument <paramref name="index"/> as an unsigned number (decimal or 0x hex).</summary>
        public bool TryGetUInt64(int index, out ulong value)
        {
            value = 0;
            return index >= 0 && index + 1 < _words && NumberParser.TryParseUInt64(Word(index + 1), out value);
        }

        /// <summary>Argument <paramref name="index"/> as hexadecimal, with or without 0x.</summary>
        public bool TryGetHex(int index, out ulong value)
        {
            value = 0;
            if (index < 0 || index + 1 >= _words)
            {
                return false;
            }
            ReadOnlySpan<char> word = Word(index + 1);
            if (word.Length > 2 && word[0] == '0' && (word[1] == 'x' || word[1] == 'X'))
            {
                word = word.Slice(2);
            }
            return NumberParser.TryParseHex(word, out value);
        }

        /// <summary>Splits the first <paramref name="length"/> characters of <paramref name="line"/> into words (no copy).</summary>
        public void Parse(char[] line, int length)
        {
            _line = line;
            _lineLength = length;
            _words = 0;
            Truncated = false;
            int i = 0;
            while (i < length)
            {
                char c = line[i];
                if (c == ' ' || c == '\t')
                {
                    i++;
                    continue;
                }
                int start;
                int end;
                if (c == '"')
                {
                    start = i + 1;
                    end = start;
                    while (end < length && line[end] != '"')
                    {
                        end++;
                    }
                    i = end < length ? end + 1 : end;
                }
                else
                {
                    start = i;
                    end = i;
                    while (end < length && line[end] != ' ' && line[end] != '\t')
                    {
                        end++;
                    }
                    i = end;
                }
                if (_words == MaxWords)
                {
                    Truncated = true;
                    break;
                }
                _start[_words] = start;
                _length[_words] = end - start;
                _words++;
            }
        }

        /// <summary>Word <paramref name="index"/> of the line (0 = command name).</summary>
        private ReadOnlySpan<char> Word(int index) => new ReadOnlySpan<char>(_line, _start[index], _length[index]);
    }
}
