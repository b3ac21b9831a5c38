using System.Collections.Generic;
using Keel.Kernel.Time;
using NUnit.Framework;

namespace Keel.Tests.Kernel
{
    /// <summary>
    /// TSC frequency from CPUID (Intel SDM vol. 2A, CPUID leaf 15H: TSC = ECX × EBX / EAX, ECX the nominal
    /// core crystal clock; leaf 16H: EAX[15:0] base frequency in MHz; the crystal frequencies are those of the
    /// SDM's table of nominal core crystal clocks: 24 MHz, 25 MHz, 19.2 MHz) and from the hypervisor leaf
    /// 0x40000010 (EAX: TSC in kHz, EBX: APIC bus in kHz). A leaf above the highest one reported answers with
    /// the highest leaf's registers, as the SDM says Intel CPUs do (and QEMU does).
    /// </summary>
    public class CpuidTscFrequencyTests
    {
        private sealed class CpuidTable : ICpuid
        {
            private readonly Dictionary<uint, uint[]> _leaves = new Dictionary<uint, uint[]>();

            public CpuidTable(uint maxBasic, bool hypervisor)
            {
                Set(0, maxBasic, 0x756E6547, 0x6C65746E, 0x49656E69);
                Set(1, 0x000906EA, 0, hypervisor ? CpuidTscFrequency.HypervisorPresentBit : 0, 0);
                // Leaf 0xD (XSAVE) with QEMU's values for -cpu max, the garbage a careless read of 0x15 gets.
                Set(0xD, 543, 576, 2696, 0);
            }

            public CpuidTable Set(uint leaf, uint eax, uint ebx, uint ecx, uint edx)
            {
                _leaves[leaf] = new[] { eax, ebx, ecx, edx };
                return this;
            }

            public void Query(uint leaf, out uint eax, out uint ebx, out uint ecx, out uint edx)
            {
                uint maxBasic = _leaves[0][0];
                if (leaf < CpuidTscFrequency.HypervisorBaseLeaf && leaf > maxBasic)
                {
                    leaf = maxBasic;
                }
                uint[] registers = _leaves.TryGetValue(leaf, out uint[] found) ? found : _leaves.TryGetValue(maxBasic, out found) ? found : new uint[4];
                eax = registers[0];
                ebx = registers[1];
                ecx = registers[2];
                edx = registers[3];
            }
        }

        [TestCase(24_000_000u, 2u, 176u, 2_112_000_000UL)]
        [TestCase(25_000_000u, 2u, 168u, 2_100_000_000UL)]
        [TestCase(19_200_000u, 3u, 500u, 3_200_000_000UL)]
        public void Leaf15GivesCrystalTimesRatio(uint crystal, uint denominator, uint numerator, ulong expected)
        {
            CpuidTable cpu = new CpuidTable(0x16, false).Set(0x15, denominator, numerator, crystal, 0).Set(0x16, 2000, 4000, 100, 0);
            Assert.That(CpuidTscFrequency.Read(cpu, out CpuidFrequencySource source), Is.EqualTo(expected));
            Assert.That(source, Is.EqualTo(CpuidFrequencySource.CrystalRatio));
        }

        [Test]
        public void Leaf15WithoutCrystalFallsBackToLeaf16()
        {
            // The SDM allows ECX = 0 ("not enumerated"); leaf 16H then gives the base frequency.
            CpuidTable cpu = new CpuidTable(0x16, false).Set(0x15, 2, 334, 0, 0).Set(0x16, 4000, 4200, 100, 0);
            Assert.That(CpuidTscFrequency.Read(cpu, out CpuidFrequencySource source), Is.EqualTo(4_000_000_000UL));
            Assert.That(source, Is.EqualTo(CpuidFrequencySource.BaseFrequency));
        }

        [Test]
        public void Leaf15WithoutRatioAndNoLeaf16GivesNothing()
        {
            CpuidTable cpu = new CpuidTable(0x15, false).Set(0x15, 0, 0, 0, 0);
            Assert.That(CpuidTscFrequency.Read(cpu, out CpuidFrequencySource source), Is.EqualTo(0));
            Assert.That(source, Is.EqualTo(CpuidFrequencySource.None));
        }

        [Test]
        public void LeavesAboveTheHighestAreNotRead()
        {
            // QEMU TCG's default and -cpu max: highest basic leaf 0xD; 0x15 and 0x16 would answer with 0xD's.
            CpuidTable cpu = new CpuidTable(0xD, true).Set(CpuidTscFrequency.HypervisorBaseLeaf, 0x40000001, 0x54474354, 0x43544743, 0x47435447);
            Assert.That(CpuidTscFrequency.Read(cpu, out CpuidFrequencySource source), Is.EqualTo(0));
            Assert.That(source, Is.EqualTo(CpuidFrequencySource.None));
        }

        [Test]
        public void HypervisorTimingLeafWinsWhenOffered()
        {
            CpuidTable cpu = new CpuidTable(0x16, true)
                .Set(CpuidTscFrequency.HypervisorBaseLeaf, 0x40000010, 0x4B4D564B, 0x564B4D56, 0x4D)
                .Set(CpuidTscFrequency.HypervisorTimingLeaf, 2_496_000, 1_000_000, 0, 0)
                .Set(0x15, 2, 176, 24_000_000, 0);
            Assert.That(CpuidTscFrequency.Read(cpu, out CpuidFrequencySource source), Is.EqualTo(2_496_000_000UL));
            Assert.That(source, Is.EqualTo(CpuidFrequencySource.HypervisorLeaf));
        }

        [Test]
        public void HypervisorLeavesAreReadOnlyUnderAHypervisor()
        {
            // Without the hypervisor bit, 0x40000000 is not a hypervisor's range (on bare metal it returns the
            // highest basic leaf): leaf 15H is used.
            CpuidTable cpu = new CpuidTable(0x15, false)
                .Set(CpuidTscFrequency.HypervisorBaseLeaf, 0x40000010, 0, 0, 0)
                .Set(CpuidTscFrequency.HypervisorTimingLeaf, 1_000_000, 0, 0, 0)
                .Set(0x15, 2, 176, 24_000_000, 0);
            Assert.That(CpuidTscFrequency.Read(cpu, out CpuidFrequencySource source), Is.EqualTo(2_112_000_000UL));
            Assert.That(source, Is.EqualTo(CpuidFrequencySource.CrystalRatio));
        }

        [Test]
        public void HypervisorTimingLeafWithZeroIsIgnored()
        {
            CpuidTable cpu = new CpuidTable(0xD, true)
                .Set(CpuidTscFrequency.HypervisorBaseLeaf, 0x40000010, 0, 0, 0)
                .Set(CpuidTscFrequency.HypervisorTimingLeaf, 0, 0, 0, 0);
            Assert.That(CpuidTscFrequency.Read(cpu, out CpuidFrequencySource source), Is.EqualTo(0));
            Assert.That(source, Is.EqualTo(CpuidFrequencySource.None));
        }
    }
}
