using System;
using Keel.Drivers.Virtio;
using Keel.Drivers.VirtioNet;
using Keel.Hal;
using Keel.Kernel.Acpi;
using Keel.Kernel.Platform;
using Keel.Tests.Fakes;

namespace Keel.Tests.Fuzz
{
    /// <summary>
    /// Targets for what a VMM without PCI hands the kernel: the DSDT's virtio-mmio devices (AML) and a
    /// virtio-mmio register window whose device lies.
    /// </summary>
    public static unsafe class PlatformTargets
    {
        /// <summary>Where the DSDT target's bytes lie in physical memory.</summary>
        public const ulong DsdtBase = 0x100000;

        /// <summary>
        /// AML bytes walked for LNRO0005 devices and their _CRS: every device found has a window and an interrupt,
        /// no more are returned than there is room for, and nothing outside the bytes is read.
        /// </summary>
        public static void DsdtMmio(ReadOnlySpan<byte> input)
        {
            if (input.Length == 0)
            {
                return;
            }
            using SimulatedPhysicalMemory memory = new SimulatedPhysicalMemory(DsdtBase, (ulong)input.Length);
            input.CopyTo(new Span<byte>(memory.At(DsdtBase), input.Length));
            MmioDevice[] devices = new MmioDevice[4];
            int count = AmlMmioDevices.Find(new BoundedMemory(memory), DsdtBase, (uint)input.Length, devices);
            FuzzInvariantException.Check(count >= 0 && count <= devices.Length, "device count out of range: " + count);
            for (int i = 0; i < count; i++)
            {
                FuzzInvariantException.Check(devices[i].Size != 0 && devices[i].Base + devices[i].Size > devices[i].Base,
                    "a device without a usable window");
                FuzzInvariantException.Check(devices[i].Irq >= 0, "a device with a negative interrupt");
            }
        }

        /// <summary>A runner of <see cref="VirtioMmio"/> that keeps its simulated memory between inputs (as virtio-rx's).</summary>
        public static FuzzAction CreateVirtioMmio()
        {
            SimulatedMemory memory = new SimulatedMemory(VirtioReceiveTarget.Megabytes);
            return input =>
            {
                memory = VirtioReceiveTarget.Reusable(memory, VirtioReceiveTarget.Megabytes);
                VirtioMmio(memory, input);
            };
        }

        /// <summary>
        /// The virtio-net driver brought up over a virtio-mmio window (version 1 or 2, from the first byte) in front
        /// of the simulated device, where each register read may be replaced by a value from the input (a device
        /// that lies about its magic, version, features, queue sizes, readiness, status, interrupt status or
        /// configuration). Whatever it says: no read outside the window, a start that fails leaves no memory
        /// behind, a driver that starts carries frames and gives every page back when stopped.
        /// </summary>
        public static void VirtioMmio(SimulatedMemory memory, ReadOnlySpan<byte> input)
        {
            FuzzReader r = new FuzzReader(input);
            int version = (r.U8() & 1) + 1;
            FakeKernel kernel = new FakeKernel();
            SimulatedVirtioNetDevice device = new SimulatedVirtioNetDevice(memory, captureSlots: 1);
            if (version == 1)
            {
                device.OfferedFeatures &= ~VirtioFeatures.Version1;
            }
            FakeInterruptController interrupts = new FakeInterruptController();
            LyingWindow window = new LyingWindow(new SimulatedVirtioMmio(device, interrupts, version, 5), r.Rest().ToArray());
            VirtioMmioTransport transport = VirtioMmioTransport.TryCreate(window, new InterruptLine(5, true, false), interrupts);
            if (transport == null)
            {
                FuzzInvariantException.Check(memory.AllocatedPages == 0, "pages allocated for a window without a device");
                return;
            }
            TextCapture log = new TextCapture();
            VirtioNetPlatform platform = new VirtioNetPlatform { Pages = memory, Dma = memory, Work = kernel, Timers = kernel, Clock = kernel, Log = log };
            VirtioNetDevice driver = new VirtioNetDevice(transport, platform, new VirtioNetOptions { RxQueueSize = 16, TxQueueSize = 16 });
            TestReceiver receiver = new TestReceiver();
            driver.Receiver = receiver;
            if (driver.Start())
            {
                byte[] frame = new byte[1514];
                for (int i = 0; i < 4; i++)
                {
                    TestFrames.FillNoAlloc(frame, 60 + 400 * i, (uint)i);
                    device.InjectFrame(new ReadOnlySpan<byte>(frame, 0, 60 + 400 * i));
                    kernel.RunPending();
                }
                receiver.FreeHeld();
            }
            bool stopped = driver.Stop();
            FuzzInvariantException.Check(memory.AllocatedPages == 0, "pages still allocated after stop: " + memory.AllocatedPages
                + " (" + memory.ContiguousPages + " of them contiguous; driver " + driver.State + ", stop " + stopped + ", " + receiver.Packets + " packets received; log: " + log.Text.Trim() + ")");
            FuzzInvariantException.Check(memory.Reset(), "the device still owns memory after stop");
        }

        /// <summary>
        /// A register window that answers each read either as the device does or, when the input says so, with
        /// a value of the input's choosing; reads and writes outside the window are a crash.
        /// </summary>
        private sealed class LyingWindow : IRegisterRegion
        {
            private readonly IRegisterRegion _inner;
            private readonly byte[] _lies;
            private int _position;

            public LyingWindow(IRegisterRegion inner, byte[] lies)
            {
                _inner = inner;
                _lies = lies;
            }

            public int Length => _inner.Length;

            public bool IsPortIo => false;

            public byte Read8(int offset) => (byte)Lie(offset, 1, _inner.Read8(offset));

            public ushort Read16(int offset) => (ushort)Lie(offset, 2, _inner.Read16(offset));

            public uint Read32(int offset) => Lie(offset, 4, _inner.Read32(offset));

            public void Write8(int offset, byte value)
            {
                Check(offset, 1);
                _inner.Write8(offset, value);
            }

            public void Write16(int offset, ushort value)
            {
                Check(offset, 2);
                _inner.Write16(offset, value);
            }

            public void Write32(int offset, uint value)
            {
                Check(offset, 4);
                _inner.Write32(offset, value);
            }

            /// <summary>One control byte per read: odd means "lie", and the next four bytes are the value.</summary>
            private uint Lie(int offset, int width, uint truth)
            {
                Check(offset, width);
                if (_position >= _lies.Length || (_lies[_position++] & 1) == 0)
                {
                    return truth;
                }
                uint value = 0;
                for (int i = 0; i < 4; i++)
                {
                    value = (value << 8) | (_position < _lies.Length ? _lies[_position++] : 0u);
                }
                return value;
            }

            private void Check(int offset, int width) =>
                FuzzInvariantException.Check(offset >= 0 && offset + width <= _inner.Length, "register access outside the window at " + offset);
        }
    }
}
