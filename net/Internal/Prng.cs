namespace Keel.Net.Internal
{
    /// <summary>
    /// Random numbers for ISNs, IP ids and ephemeral ports: from the injected entropy source when there is one
    /// (the kernel's pool), else xorshift64* over the seed. Not cryptographic.
    /// </summary>
    internal sealed class Prng
    {
        private readonly Keel.Hal.IEntropySource _entropy;
        private ulong _state;

        public Prng(ulong seed, Keel.Hal.IEntropySource entropy = null)
        {
            _entropy = entropy;
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
            if (_entropy != null)
            {
                return _entropy.NextUInt64();
            }
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
