using System;
using Keel.Hal;

namespace Keel.Kernel.Entropy
{
    /// <summary>Where the pool's randomness comes from (shown by the <c>rng</c> command).</summary>
    public enum EntropySourceKind
    {
        /// <summary>Only the TSC at boot: a pseudo-random generator, predictable to anyone who can guess the boot time.</summary>
        TscPrng,

        /// <summary>The CPU's RDRAND instruction (QEMU <c>-cpu max</c> and most real CPUs).</summary>
        Rdrand,

        /// <summary>A virtio entropy device (QEMU <c>-device virtio-rng-pci</c>), reseeded from it.</summary>
        VirtioRng,
    }

    /// <summary>The CPU's random-number instruction, when it has one.</summary>
    public interface IHardwareRandom
    {
        /// <summary>One 64-bit value from RDRAND; false when the CPU has none or it failed (retries exhausted).</summary>
        bool TryRead(out ulong value);
    }

    /// <summary>
    /// The kernel entropy pool: a 256-bit state that device bytes (virtio-rng), RDRAND values and the boot TSC
    /// are mixed into, and an output generator (xoshiro256** over the state, with every output also folded
    /// with RDRAND when that is the source). With a virtio-rng device the pool asks it for fresh bytes at
    /// start-up and after every <see cref="ReseedInterval"/> draws. Not a cryptographic DRBG: it makes TCP
    /// initial sequence numbers, ephemeral ports and payload seeds unpredictable from outside, which a fixed
    /// or TSC-only seed does not.
    /// </summary>
    public sealed class EntropyPool : IEntropySource, IEntropySink
    {
        /// <summary>Draws between reseed requests to the entropy device.</summary>
        public const int ReseedInterval = 1024;

        /// <summary>Bytes from the device the pool wants before it stops asking.</summary>
        public const int WantedBytes = 64;

        private readonly ulong[] _state = new ulong[4];
        private readonly IHardwareRandom _hardware;
        private IEntropyDevice _device;
        private int _pendingBytes;
        private int _sinceReseed;
        private ulong _counter;

        public EntropyPool(ulong bootTimestamp, IHardwareRandom hardware)
        {
            _hardware = hardware;
            Source = EntropySourceKind.TscPrng;
            MixWord(bootTimestamp);
            ulong value;
            if (hardware != null && hardware.TryRead(out value))
            {
                Source = EntropySourceKind.Rdrand;
                MixWord(value);
                HardwareDraws++;
            }
        }

        /// <summary>The best source in use.</summary>
        public EntropySourceKind Source { get; private set; }

        /// <summary>Bytes mixed in from the entropy device.</summary>
        public long DeviceBytes { get; private set; }

        /// <summary>Values drawn by the stack and applications.</summary>
        public long Draws { get; private set; }

        /// <summary>RDRAND values used.</summary>
        public long HardwareDraws { get; private set; }

        /// <summary>Requests sent to the entropy device.</summary>
        public long DeviceRequests { get; private set; }

        /// <summary>
        /// Attaches the entropy device and asks it for the first bytes. The source becomes
        /// <see cref="EntropySourceKind.VirtioRng"/> when the first bytes arrive.
        /// </summary>
        public void AttachDevice(IEntropyDevice device)
        {
            _device = device;
            RequestFromDevice();
        }

        private void RequestFromDevice()
        {
            if (_device == null)
            {
                return;
            }
            _pendingBytes = WantedBytes;
            DeviceRequests++;
            _device.RequestEntropy();
        }

        public bool AddEntropy(ReadOnlySpan<byte> data)
        {
            for (int i = 0; i + 8 <= data.Length; i += 8)
            {
                ulong word = 0;
                for (int k = 0; k < 8; k++)
                {
                    word |= (ulong)data[i + k] << (8 * k);
                }
                MixWord(word);
            }
            ulong tail = 0;
            int rest = data.Length & 7;
            for (int k = 0; k < rest; k++)
            {
                tail |= (ulong)data[data.Length - rest + k] << (8 * k);
            }
            if (rest > 0)
            {
                MixWord(tail);
            }
            DeviceBytes += data.Length;
            Source = EntropySourceKind.VirtioRng;
            _pendingBytes -= data.Length;
            return _pendingBytes > 0;
        }

        public ulong NextUInt64()
        {
            Draws++;
            ulong result = Rotl(_state[1] * 5, 7) * 9;
            ulong t = _state[1] << 17;
            _state[2] ^= _state[0];
            _state[3] ^= _state[1];
            _state[1] ^= _state[2];
            _state[0] ^= _state[3];
            _state[2] ^= t;
            _state[3] = Rotl(_state[3], 45);
            ulong hardware;
            if (Source == EntropySourceKind.Rdrand && _hardware != null && _hardware.TryRead(out hardware))
            {
                HardwareDraws++;
                result ^= hardware;
            }
            if (++_sinceReseed >= ReseedInterval)
            {
                _sinceReseed = 0;
                RequestFromDevice();
            }
            return result;
        }

        /// <summary>Folds one word into all four state words (SplitMix64 finaliser per word).</summary>
        private void MixWord(ulong word)
        {
            for (int i = 0; i < 4; i++)
            {
                _counter += 0x9E3779B97F4A7C15UL;
                _state[i] ^= SplitMix(word ^ _counter);
            }
            if ((_state[0] | _state[1] | _state[2] | _state[3]) == 0)
            {
                _state[0] = 1;
            }
        }

        private static ulong SplitMix(ulong z)
        {
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        private static ulong Rotl(ulong x, int k) => (x << k) | (x >> (64 - k));

        /// <summary>Name of <see cref="Source"/> for the console.</summary>
        public static string SourceName(EntropySourceKind kind)
        {
            switch (kind)
            {
                case EntropySourceKind.VirtioRng: return "virtio-rng";
                case EntropySourceKind.Rdrand: return "rdrand";
                default: return "tsc-prng";
            }
        }
    }
}
