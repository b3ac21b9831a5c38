using System;

namespace Keel.Tests.Fuzz
{
    /// <summary>
    /// Reads a structured input (records of numbers and byte runs) out of the fuzzer's bytes. Past the end every
    /// read returns zero or an empty run, so every byte string is a valid input.
    /// </summary>
    public ref struct FuzzReader
    {
        private readonly ReadOnlySpan<byte> _data;
        private int _position;

        public FuzzReader(ReadOnlySpan<byte> data)
        {
            _data = data;
            _position = 0;
        }

        public bool AtEnd => _position >= _data.Length;

        public int Remaining => Math.Max(0, _data.Length - _position);

        public byte U8() => _position < _data.Length ? _data[_position++] : (byte)0;

        public ushort U16() => (ushort)((U8() << 8) | U8());

        public uint U32() => ((uint)U16() << 16) | U16();

        /// <summary>The next <paramref name="count"/> bytes (fewer at the end).</summary>
        public ReadOnlySpan<byte> Bytes(int count)
        {
            int take = Math.Min(Math.Max(count, 0), Remaining);
            ReadOnlySpan<byte> run = _data.Slice(Math.Min(_position, _data.Length), take);
            _position += take;
            return run;
        }

        /// <summary>A run whose length is the next 16-bit number.</summary>
        public ReadOnlySpan<byte> Chunk() => Bytes(U16());

        /// <summary>Everything left.</summary>
        public ReadOnlySpan<byte> Rest() => Bytes(Remaining);
    }
}
