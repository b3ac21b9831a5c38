using System;
using Keel.Drivers.VirtioNet;

namespace Keel.Tests.Simulation
{
    /// <summary>
    /// A complete simulated machine for one test: memory, kernel services, device, transport, driver, receiver.
    /// </summary>
    public sealed class Bench : IDisposable
    {
        public readonly SimulatedMemory Memory;
        public readonly FakeKernel Kernel;
        public readonly SimulatedVirtioNetDevice Device;
        public readonly SimulatedTransport Transport;
        public readonly VirtioNetDevice Driver;
        public readonly TestReceiver Receiver;
        public readonly byte[] Frame = new byte[80000];
        private readonly bool _ownsMemory;
        private uint _sequence;

        /// <summary>
        /// <paramref name="memory"/>: simulated memory to use (with no page allocated), kept by the caller for the
        /// next bench; null: <paramref name="megabytes"/> of its own, freed by <see cref="Dispose"/>.
        /// <paramref name="captureSlots"/>: transmitted frames the device keeps.
        /// </summary>
        public Bench(VirtioNetOptions options = null, bool legacy = false, bool msix = true, int queueSize = 256,
            ulong removeFeatures = 0, int megabytes = 64, SimulatedMemory memory = null, int captureSlots = 64)
        {
            _ownsMemory = memory == null;
            Memory = memory ?? new SimulatedMemory(megabytes);
            Kernel = new FakeKernel();
            Device = new SimulatedVirtioNetDevice(Memory, captureSlots);
            Device.MaxQueueSize = queueSize;
            Device.OfferedFeatures &= ~removeFeatures;
            Transport = new SimulatedTransport(Device, legacy, msix);
            VirtioNetPlatform platform = new VirtioNetPlatform
            {
                Pages = Memory,
                Dma = Memory,
                Work = Kernel,
                Timers = Kernel,
                Clock = Kernel,
            };
            Driver = new VirtioNetDevice(Transport, platform, options ?? new VirtioNetOptions());
            Receiver = new TestReceiver();
            Driver.Receiver = Receiver;
        }

        /// <summary>Next sequence number the bench will send.</summary>
        public uint Sequence => _sequence;

        /// <summary>Starts the driver and runs the first poll.</summary>
        public bool Start()
        {
            bool ok = Driver.Start();
            Kernel.RunPending();
            return ok;
        }

        /// <summary>Injects one verified test frame of <paramref name="length"/> bytes. Does not run the poll.</summary>
        public bool Inject(int length)
        {
            TestFrames.FillNoAlloc(Frame, length, _sequence);
            bool ok = Device.InjectFrame(new ReadOnlySpan<byte>(Frame, 0, length));
            if (ok)
            {
                _sequence++;
            }
            return ok;
        }

        /// <summary>Injects <paramref name="count"/> frames, running the main loop every <paramref name="pollEvery"/> frames.</summary>
        public int InjectMany(int count, int length, int pollEvery = 16)
        {
            int delivered = 0;
            for (int i = 0; i < count; i++)
            {
                if (Inject(length))
                {
                    delivered++;
                }
                if ((i + 1) % pollEvery == 0)
                {
                    Kernel.RunPending();
                }
            }
            Kernel.RunPending();
            return delivered;
        }

        public long Stat(string name)
        {
            long value = Driver.Statistic(name);
            if (value < 0)
            {
                throw new ArgumentException("no statistic " + name);
            }
            return value;
        }

        public void Dispose()
        {
            if (_ownsMemory)
            {
                Memory.Dispose();
            }
        }
    }
}
