namespace Keel.Net.Internal
{
    /// <summary>xorshift64* pseudo-random numbers (ISNs, IP ids, ephemeral ports). Not cryptographic.</summary>
    internal sealed class Prng
    {
        private ulong _state;

        public Prng(ulong seed)
        {
            _state = seed ^ 0x9E3779B97F4A7C15UL;
            if (_state == 0)
            {
                _state = 0x2545F4914F6CDD1DUL;
            }
            Next();
            Next();
        }

        public ulong Next()
        {
            ulong x = _state;
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            _state = x;
            return x * 0x2545F4914F6CDD1DUL;
        }

        public uint NextUInt() => (uint)(Next() >> 32);
    }
}
