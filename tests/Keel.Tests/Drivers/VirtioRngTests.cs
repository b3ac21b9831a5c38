using System;
using Keel.Drivers.Virtio;
using Keel.Drivers.VirtioRng;
using Keel.Hal;
using Keel.Kernel.Entropy;
using Keel.Tests.Simulation;
using NUnit.Framework;

namespace Keel.Tests.Drivers
{
    /// <summary>
    /// virtio-rng on the virtio core against the simulated entropy device, split and packed: bytes reach the
    /// pool only on request, and bad ids, oversized and empty lengths are counted and dropped with every
    /// buffer coming back.
    /// </summary>
    [TestFixture(false)]
    [TestFixture(true)]
    public class VirtioRngTests
    {
        private readonly bool _packed;
        private SimulatedMemory _memory;
        private FakeKernel _kernel;
        private SimulatedEntropyDevice _device;
        private RecordingSink _sink;
        private VirtioRngDevice _driver;

        public VirtioRngTests(bool packed)
        {
            _packed = packed;
        }

        private sealed class RecordingSink : IEntropySink
        {
            public int Bytes;
            public int Calls;
            public int WantMoreUntil;
            public byte First;

            public bool AddEntropy(ReadOnlySpan<byte> data)
            {
                if (Bytes == 0 && data.Length > 0)
                {
                    First = data[0];
                }
                Bytes += data.Length;
                Calls++;
                return Bytes < WantMoreUntil;
            }
        }

        [SetUp]
        public void SetUp()
        {
            _memory = new SimulatedMemory(4);
            _kernel = new FakeKernel();
            _device = new SimulatedEntropyDevice(_memory, _packed);
            _sink = new RecordingSink();
            _driver = new VirtioRngDevice(_device, _memory, _kernel, null, _sink);
        }

        [TearDown]
        public void TearDown()
        {
            Assert.That(_memory.Violations, Is.Zero, _memory.FirstViolation);
            _memory.Dispose();
        }

        private long Stat(string name)
        {
            for (int i = 0; i < _driver.StatisticsCount; i++)
            {
                if (_driver.StatisticName(i) == name)
                {
                    return _driver.StatisticValue(i);
                }
            }
            throw new ArgumentException(name);
        }

        [Test]
        public void DeliversBytesOnRequestOnly()
        {
            Assert.That(_driver.Start(), Is.True);
            Assert.That(_driver.Core.Has(VirtioFeatures.RingPacked), Is.EqualTo(_packed));
            Assert.That(_device.Status & VirtioSpec.DRIVER_OK, Is.Not.Zero);
            _kernel.RunPending();
            Assert.That(_sink.Bytes, Is.EqualTo(VirtioRngDevice.Buffers * VirtioRngDevice.BufferBytes));
            Assert.That(_sink.First, Is.EqualTo(1), "the device's first byte");
            long notifications = _device.Notifications;
            _kernel.RunPending();
            Assert.That(_device.Notifications, Is.EqualTo(notifications), "idle: nothing posted while the sink is satisfied");
            _driver.RequestEntropy();
            _kernel.RunPending();
            Assert.That(_sink.Bytes, Is.EqualTo(2 * VirtioRngDevice.Buffers * VirtioRngDevice.BufferBytes));
            Assert.That(Stat("rng_bytes"), Is.EqualTo(_sink.Bytes));
            Assert.That(_driver.Stop(), Is.True);
        }

        [Test]
        public void SinkThatWantsMoreKeepsRequestsPosted()
        {
            _sink.WantMoreUntil = 1000;
            Assert.That(_driver.Start(), Is.True);
            _kernel.RunPending();
            Assert.That(_sink.Bytes, Is.GreaterThanOrEqualTo(1000));
            Assert.That(_driver.Stop(), Is.True);
        }

        [TestCase(RngFault.LengthTooLong, "rng_length_errors")]
        [TestCase(RngFault.ZeroLength, "rng_empty_reads")]
        [TestCase(RngFault.BadId, "rng_bad_ids")]
        public void FaultsAreCountedDroppedAndBuffersComeBack(RngFault fault, string counter)
        {
            _device.NextFault = fault;
            Assert.That(_driver.Start(), Is.True);
            _kernel.RunPending();
            Assert.That(Stat(counter), Is.EqualTo(1));
            if (!(fault == RngFault.BadId && _packed))
            {
                // The faulty buffer's bytes never reach the pool.
                Assert.That(_sink.Bytes, Is.LessThanOrEqualTo((VirtioRngDevice.Buffers - 1) * VirtioRngDevice.BufferBytes));
            }
            else
            {
                // A packed ring cannot step over an unknown id: the driver resets the device and starts again.
                Assert.That(Stat("rng_device_resets"), Is.EqualTo(1));
                Assert.That(_driver.Running, Is.True);
            }
            // Later requests still work.
            _driver.RequestEntropy();
            _kernel.RunPending();
            Assert.That(_sink.Bytes, Is.GreaterThan(0));
            Assert.That(_driver.Stop(), Is.True, "every buffer back after reset");
            Assert.That(_memory.AllocatedPages, Is.Zero, "ring and buffer page freed");
        }

        [Test]
        public void PoolUsesTheDeviceAndNamesTheSource()
        {
            EntropyPool pool = new EntropyPool(12345, null);
            Assert.That(pool.Source, Is.EqualTo(EntropySourceKind.TscPrng));
            VirtioRngDevice driver = new VirtioRngDevice(new SimulatedEntropyDevice(_memory, _packed), _memory, _kernel, null, pool);
            Assert.That(driver.Start(), Is.True);
            pool.AttachDevice(driver);
            _kernel.RunPending();
            Assert.That(pool.Source, Is.EqualTo(EntropySourceKind.VirtioRng));
            Assert.That(pool.DeviceBytes, Is.GreaterThanOrEqualTo(EntropyPool.WantedBytes));
            long requests = pool.DeviceRequests;
            for (int i = 0; i < EntropyPool.ReseedInterval; i++)
            {
                pool.NextUInt64();
            }
            Assert.That(pool.DeviceRequests, Is.EqualTo(requests + 1), "reseed after ReseedInterval draws");
            Assert.That(driver.Stop(), Is.True);
        }
    }
}
