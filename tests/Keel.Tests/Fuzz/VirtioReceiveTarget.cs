using System;
using Keel.Drivers.VirtioNet;
using Keel.Tests.Fakes;
using Keel.Tests.Simulation;

namespace Keel.Tests.Fuzz
{
    /// <summary>
    /// The virtio-net driver's receive path (used ring, header, num_buffers, mergeable buffers) fed by the
    /// simulated device (written from the virtio 1.2 specification) told to lie: used ids, used lengths,
    /// num_buffers, header flags, GSO type and checksum fields, used-index jumps. The driver must count and drop
    /// what is wrong, keep running, and on stop have every page back.
    /// </summary>
    public static class VirtioReceiveTarget
    {
        /// <summary>Megabytes of simulated memory behind the driver.</summary>
        public const int Megabytes = 2;

        /// <summary>
        /// A runner that keeps its simulated memory between inputs: after each input every page is free and
        /// nothing is owned by the device (checked), so the memory is reset rather than mapped and poisoned again.
        /// </summary>
        public static FuzzAction Create()
        {
            SimulatedMemory memory = new SimulatedMemory(Megabytes);
            return input =>
            {
                memory = Reusable(memory, Megabytes);
                Run(memory, input);
            };
        }

        /// <summary>
        /// <paramref name="memory"/> reset for the next input; a fresh one (the old freed) when the last input
        /// ended in a crash that left pages allocated.
        /// </summary>
        internal static SimulatedMemory Reusable(SimulatedMemory memory, int megabytes)
        {
            if (memory.Reset())
            {
                return memory;
            }
            memory.Dispose();
            return new SimulatedMemory(megabytes);
        }

        /// <summary>
        /// Each record: control (bit 0 lie about the id, bit 1 about the length, bit 2 about num_buffers, bit 3 jump
        /// the used index, bits 4-7 which buffer of the frame lies), id (32), length (32), num_buffers (16), header
        /// flags (8), GSO type (8), csum_start (16), csum_offset (16), frame length (16), then a poll.
        /// </summary>
        public static void Run(SimulatedMemory memory, ReadOnlySpan<byte> input)
        {
            using Bench bench = new Bench(queueSize: 16, memory: memory, captureSlots: 1);
            FuzzInvariantException.Check(bench.Start(), "the driver did not start");
            FuzzReader r = new FuzzReader(input);
            int frames = 0;
            while (!r.AtEnd && frames < 64)
            {
                int control = r.U8();
                uint id = r.U32();
                uint length = r.U32();
                ushort numBuffers = r.U16();
                SimulatedVirtioNetDevice device = bench.Device;
                device.RxHeaderFlags = r.U8();
                device.RxGsoType = r.U8();
                device.RxCsumStart = r.U16();
                device.RxCsumOffset = r.U16();
                int frameLength = Math.Max(60, r.U16() % 9000);
                device.NextRxLie = new SimulatedVirtioNetDevice.RxLie
                {
                    Buffer = control >> 4,
                    Id = (control & 1) != 0 ? id : null,
                    Length = (control & 2) != 0 ? length : null,
                    NumBuffers = (control & 4) != 0 ? numBuffers : null,
                };
                device.NextRxFault = (control & 8) != 0 ? RxFault.UsedIndexJump : RxFault.None;
                bench.Inject(frameLength);
                bench.Kernel.RunPending();
                frames++;
            }
            bench.Receiver.FreeHeld();
            FuzzInvariantException.Check(bench.Driver.State == VirtioNetState.Running, "the driver stopped running: " + bench.Driver.State);
            FuzzInvariantException.Check(bench.Driver.Stop(), "the driver's stop did not get all memory back");
            FuzzInvariantException.Check(bench.Driver.RxPagePool.InFlight == 0, "receive pages still in flight after stop");
            FuzzInvariantException.Check(bench.Memory.AllocatedPages == 0, "pages still allocated after stop: " + bench.Memory.AllocatedPages);
            FuzzInvariantException.Check(bench.Memory.Reset(), "the device still owns memory after stop");
        }
    }
}
