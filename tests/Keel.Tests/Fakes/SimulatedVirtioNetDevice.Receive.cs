using System;
using System.Threading;

namespace Keel.Tests.Fakes
{
    public sealed unsafe partial class SimulatedVirtioNetDevice
    {
        /// <summary>
        /// Delivers one frame from the wire: picks buffers (several with MRG_RXBUF), writes header and data,
        /// returns them in the used ring, maybe interrupts. False (frame dropped, nothing consumed) when the
        /// driver has not published enough buffer space or the device is not running.
        /// </summary>
        public bool InjectFrame(ReadOnlySpan<byte> frame)
        {
            SimQueue q = _queues[0];
            if (!DriverOk || !q.Enabled)
            {
                RxDroppedNoBuffers++;
                return false;
            }
            SyncAvail(q);
            int hdr = HeaderLength;
            int total = hdr + frame.Length;
            if (total > _stream.Length)
            {
                RxDroppedTooBig++;
                return false;
            }
            int mask = q.Size - 1;
            int pending = (ushort)(q.OrderTail - q.NextAvail);
            int needed = 0;
            int capacity = 0;
            if (Mergeable)
            {
                while (capacity < total)
                {
                    if (needed == pending)
                    {
                        RxDroppedNoBuffers++;
                        return false;
                    }
                    capacity += q.ChainCapacity[q.Order[(q.NextAvail + needed) & mask]];
                    needed++;
                }
            }
            else
            {
                if (pending == 0)
                {
                    RxDroppedNoBuffers++;
                    return false;
                }
                if (q.ChainCapacity[q.Order[q.NextAvail & mask]] < total)
                {
                    RxDroppedTooBig++;
                    return false;
                }
                needed = 1;
            }
            Span<byte> stream = new Span<byte>(_stream, 0, total);
            stream.Slice(0, hdr).Clear();
            _stream[VirtioSpec.HDR_FLAGS] = RxHeaderFlags;
            _stream[VirtioSpec.HDR_GSO_TYPE] = RxGsoType;
            _stream[VirtioSpec.HDR_CSUM_START] = (byte)RxCsumStart;
            _stream[VirtioSpec.HDR_CSUM_START + 1] = (byte)(RxCsumStart >> 8);
            _stream[VirtioSpec.HDR_CSUM_OFFSET] = (byte)RxCsumOffset;
            _stream[VirtioSpec.HDR_CSUM_OFFSET + 1] = (byte)(RxCsumOffset >> 8);
            if (hdr == 12)
            {
                int announced = needed;
                if (NextRxFault == RxFault.NumBuffersZero)
                {
                    announced = 0;
                }
                else if (NextRxFault == RxFault.NumBuffersTooMany)
                {
                    announced = needed + 3;
                }
                announced = NextRxLie.NumBuffers ?? announced;
                _stream[VirtioSpec.HDR_NUM_BUFFERS] = (byte)announced;
                _stream[VirtioSpec.HDR_NUM_BUFFERS + 1] = (byte)(announced >> 8);
            }
            frame.CopyTo(stream.Slice(hdr));

            int position = 0;
            for (int b = 0; b < needed; b++)
            {
                ushort head = q.Order[q.NextAvail & mask];
                q.NextAvail++;
                VerifyUnchanged(q, head);
                int written = Scatter(q, head, stream.Slice(position));
                position += written;
                ReleaseOwnership(q, head);
                q.HeadOwned[head] = false;
                q.OwnedHeads--;
                uint id = head;
                uint length = (uint)written;
                if (b == 0 && NextRxFault == RxFault.ShortLength)
                {
                    length = (uint)(hdr + 5);
                }
                else if (b == 0 && NextRxFault == RxFault.LengthOverCapacity)
                {
                    length = (uint)(q.ChainCapacity[head] + 64);
                }
                else if (b == needed - 1 && b > 0 && NextRxFault == RxFault.LengthOverCapacityLastBuffer)
                {
                    length = (uint)(q.ChainCapacity[head] + 1);
                }
                if (b == 0 && NextRxFault == RxFault.BadIdOutOfRange)
                {
                    id = (uint)(q.Size + 7);
                }
                else if (b == 0 && NextRxFault == RxFault.BadIdNotInFlight)
                {
                    id = FindIdNotInFlight(q, head);
                }
                if (b == NextRxLie.Buffer)
                {
                    id = NextRxLie.Id ?? id;
                    length = NextRxLie.Length ?? length;
                }
                // struct virtq_used_elem { le32 id; le32 len; } after used->flags and used->idx.
                uint* element = (uint*)(q.Used + VirtioSpec.SplitUsedHeader + VirtioSpec.SplitUsedElementSize * ((q.UsedIdx + b) & mask));
                element[0] = id;
                element[1] = length;
            }
            PublishUsed(q, needed, NextRxFault == RxFault.UsedIndexJump);
            NextRxFault = RxFault.None;
            NextRxLie = default;
            RxFrames++;
            return true;
        }

        private uint FindIdNotInFlight(SimQueue q, int except)
        {
            for (int i = 0; i < q.Size; i++)
            {
                if (i != except && !q.HeadOwned[i])
                {
                    return (uint)i;
                }
            }
            return (uint)q.Size;
        }

        private int Scatter(SimQueue q, int head, Span<byte> source)
        {
            int written = 0;
            for (int k = 0; k < q.ChainCount[head] && written < source.Length; k++)
            {
                int slot = head * MaxChain + k;
                ulong address = q.ChainAddress[slot];
                int length = q.ChainLength[slot];
                if (!_memory.IsOwned(address, length, 1))
                {
                    _memory.RecordViolation("device writing a receive buffer it does not own");
                }
                byte* p = _memory.DeviceAccess(address, length, "receive buffer freed while the device owns it");
                int take = Math.Min(length, source.Length - written);
                if (p != null)
                {
                    source.Slice(written, take).CopyTo(new Span<byte>(p, take));
                }
                written += take;
            }
            return written;
        }

        private void PublishUsed(SimQueue q, int count, bool jump)
        {
            q.UsedIdx = (ushort)(q.UsedIdx + count);
            ushort published = jump ? (ushort)(q.UsedIdx + q.Size + 3) : q.UsedIdx;
            Volatile.Write(ref *(ushort*)(q.Used + 2), published);
            Interlocked.MemoryBarrier();
            bool need;
            if (EventIndex)
            {
                ushort usedEvent = Volatile.Read(ref *(ushort*)(q.Avail + 4 + 2 * q.Size));
                bool valid = q.SignalledValid;
                ushort old = q.SignalledUsed;
                q.SignalledValid = true;
                q.SignalledUsed = q.UsedIdx;
                need = !valid || VirtioSpec.vring_need_event(usedEvent, q.UsedIdx, old);
            }
            else
            {
                need = (Volatile.Read(ref *(ushort*)q.Avail) & VirtioSpec.VIRTQ_AVAIL_F_NO_INTERRUPT) == 0;
            }
            if (need)
            {
                InterruptsRaised[q.Index]++;
                _isr |= 1;
                if (Interrupts != null)
                {
                    Interrupts.RaiseQueueInterrupt(q.Index);
                }
            }
        }
    }
}
