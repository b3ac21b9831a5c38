using System;
using Keel.Kernel.Entropy;
using NUnit.Framework;

namespace Keel.Tests.Kernel
{
    public class EntropyPoolTests
    {
        private sealed class FixedHardware : IHardwareRandom
        {
            public ulong Value;
            public bool Works = true;
            public int Reads;

            public bool TryRead(out ulong value)
            {
                Reads++;
                value = Value;
                return Works;
            }
        }

        [Test]
        public void SourceFallsBackFromRdrandToTheTscGenerator()
        {
            Assert.That(new EntropyPool(1, null).Source, Is.EqualTo(EntropySourceKind.TscPrng));
            Assert.That(new EntropyPool(1, new FixedHardware { Works = false }).Source, Is.EqualTo(EntropySourceKind.TscPrng));
            FixedHardware hardware = new FixedHardware { Value = 42 };
            EntropyPool pool = new EntropyPool(1, hardware);
            Assert.That(pool.Source, Is.EqualTo(EntropySourceKind.Rdrand));
            pool.NextUInt64();
            Assert.That(hardware.Reads, Is.EqualTo(2), "one at start-up, one per draw");
        }

        [Test]
        public void DifferentSeedsAndDeviceBytesGiveDifferentStreams()
        {
            EntropyPool a = new EntropyPool(1, null);
            EntropyPool b = new EntropyPool(2, null);
            Assert.That(a.NextUInt64(), Is.Not.EqualTo(b.NextUInt64()));
            EntropyPool c = new EntropyPool(1, null);
            EntropyPool d = new EntropyPool(1, null);
            d.AddEntropy(new byte[] { 1, 2, 3 });
            Assert.That(c.NextUInt64(), Is.Not.EqualTo(d.NextUInt64()));
            Assert.That(d.Source, Is.EqualTo(EntropySourceKind.VirtioRng));
            Assert.That(d.DeviceBytes, Is.EqualTo(3));
        }

        [Test]
        public void OutputLooksUniform()
        {
            EntropyPool pool = new EntropyPool(7, null);
            int[] ones = new int[64];
            const int draws = 4096;
            for (int i = 0; i < draws; i++)
            {
                ulong v = pool.NextUInt64();
                for (int bit = 0; bit < 64; bit++)
                {
                    ones[bit] += (int)((v >> bit) & 1);
                }
            }
            for (int bit = 0; bit < 64; bit++)
            {
                Assert.That(Math.Abs(ones[bit] - draws / 2), Is.LessThan(250), "bit " + bit);
            }
        }
    }
}
