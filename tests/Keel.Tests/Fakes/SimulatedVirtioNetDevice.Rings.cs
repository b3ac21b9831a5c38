using System;
using System.Threading;

namespace Keel.Tests.Fakes
{
    public sealed unsafe partial class SimulatedVirtioNetDevice
    {
        // ---- ring processing ----

        /// <summary>Reads newly published chains: validates, snapshots, takes ownership (rx) or fetches (tx).</summary>
        private void SyncAvail(SimQueue q)
        {
            if (!q.Enabled)
            {
                return;
            }
            ushort availIndex = Volatile.Read(ref *(ushort*)(q.Avail + 2));
            int fresh = (ushort)(availIndex - q.SyncedAvail);
            if (fresh + q.OwnedHeads > q.Size)
            {
                _memory.RecordViolation("avail->idx moved past the buffers the driver could have published");
                q.SyncedAvail = availIndex;
                return;
            }
            int mask = q.Size - 1;
            for (int k = 0; k < fresh; k++)
            {
                ushort head = ((ushort*)(q.Avail + 4))[q.SyncedAvail & mask];
                q.SyncedAvail++;
                if (head >= q.Size || q.HeadOwned[head])
                {
                    _memory.RecordViolation("available ring names a bad or already published head");
                    continue;
                }
                if (!Snapshot(q, head))
                {
                    continue;
                }
                q.HeadOwned[head] = true;
                q.OwnedHeads++;
                q.Order[q.OrderTail & mask] = head;
                q.OrderTail++;
                if (q.Index == 0)
                {
                    TakeOwnership(q, head);
                }
                else
                {
                    FetchTx(q, head);
                }
            }
            if (EventIndex)
            {
                // Ask for a kick when the driver publishes past what we have read (QEMU: avail_event = last_avail_idx).
                Volatile.Write(ref *(ushort*)(q.Used + 4 + 8 * q.Size), q.SyncedAvail);
            }
            else
            {
                *(ushort*)q.Used = SuppressNotifications ? VirtioSpec.VIRTQ_USED_F_NO_NOTIFY : (ushort)0;
            }
        }

        private bool Snapshot(SimQueue q, int head)
        {
            int id = head;
            int count = 0;
            int capacity = 0;
            bool sawWritable = false;
            byte* table = q.Descriptors;
            int tableSize = q.Size;
            q.ChainIndirect[head] = 0;
            while (true)
            {
                if (count == MaxChain)
                {
                    _memory.RecordViolation("descriptor chain too long or looping");
                    return false;
                }
                byte* d = table + 16 * id;
                ulong address = *(ulong*)d;
                int length = (int)*(uint*)(d + 8);
                ushort flags = *(ushort*)(d + 12);
                ushort next = *(ushort*)(d + 14);
                if ((flags & VirtioSpec.VIRTQ_DESC_F_INDIRECT) != 0)
                {
                    if (!Negotiated(VirtioSpec.Bit(VirtioSpec.VIRTIO_F_INDIRECT_DESC)))
                    {
                        _memory.RecordViolation("indirect descriptor without VIRTIO_F_INDIRECT_DESC");
                        return false;
                    }
                    if (table != q.Descriptors || count != 0 || (flags & VirtioSpec.VIRTQ_DESC_F_NEXT) != 0)
                    {
                        _memory.RecordViolation("indirect descriptor inside a chain, nested, or with NEXT");
                        return false;
                    }
                    if (length <= 0 || (length & 15) != 0)
                    {
                        _memory.RecordViolation("indirect table length not a multiple of 16");
                        return false;
                    }
                    byte* t = _memory.DeviceAccess(address, length, "indirect table outside allocated DMA memory");
                    if (t == null)
                    {
                        return false;
                    }
                    q.RingDescriptor[head * 2] = address;
                    q.RingDescriptor[head * 2 + 1] = (ulong)length | ((ulong)flags << 32);
                    q.ChainIndirect[head] = address;
                    IndirectChains++;
                    table = t;
                    tableSize = length / 16;
                    id = 0;
                    continue;
                }
                bool writable = (flags & VirtioSpec.VIRTQ_DESC_F_WRITE) != 0;
                if ((q.Index == 0) != writable)
                {
                    _memory.RecordViolation(q.Index == 0 ? "receive descriptor not device-writable" : "transmit descriptor device-writable");
                    return false;
                }
                if (sawWritable && !writable)
                {
                    _memory.RecordViolation("readable descriptor after a writable one");
                    return false;
                }
                sawWritable |= writable;
                if (length <= 0 || _memory.DeviceAccess(address, length, "descriptor points outside allocated DMA memory") == null)
                {
                    if (length <= 0)
                    {
                        _memory.RecordViolation("zero-length descriptor");
                    }
                    return false;
                }
                int slot = head * MaxChain + count;
                q.ChainAddress[slot] = address;
                q.ChainLength[slot] = length;
                q.ChainFlags[slot] = flags;
                q.ChainId[slot] = (ushort)id;
                capacity += length;
                count++;
                if ((flags & VirtioSpec.VIRTQ_DESC_F_NEXT) == 0)
                {
                    break;
                }
                if (next >= tableSize)
                {
                    _memory.RecordViolation("descriptor next out of range");
                    return false;
                }
                id = next;
            }
            q.ChainCount[head] = count;
            q.ChainCapacity[head] = capacity;
            return true;
        }

        /// <summary>Chains published through an indirect table.</summary>
        public long IndirectChains;

        /// <summary>Checks the published chain's descriptors (ring, and indirect table) were not changed by the driver.</summary>
        private void VerifyUnchanged(SimQueue q, int head)
        {
            byte* table = q.Descriptors;
            if (q.ChainIndirect[head] != 0)
            {
                byte* r = q.Descriptors + 16 * head;
                if (*(ulong*)r != q.RingDescriptor[head * 2]
                    || ((ulong)*(uint*)(r + 8) | ((ulong)*(ushort*)(r + 12) << 32)) != q.RingDescriptor[head * 2 + 1])
                {
                    _memory.RecordViolation("driver changed a descriptor the device owns");
                    return;
                }
                table = _memory.DeviceAccess(q.ChainIndirect[head], 16, "indirect table freed while the device owns it");
                if (table == null)
                {
                    return;
                }
            }
            for (int k = 0; k < q.ChainCount[head]; k++)
            {
                int slot = head * MaxChain + k;
                byte* d = table + 16 * q.ChainId[slot];
                if (*(ulong*)d != q.ChainAddress[slot] || (int)*(uint*)(d + 8) != q.ChainLength[slot]
                    || *(ushort*)(d + 12) != q.ChainFlags[slot])
                {
                    _memory.RecordViolation("driver changed a descriptor the device owns");
                    return;
                }
            }
        }

        private void TakeOwnership(SimQueue q, int head)
        {
            for (int k = 0; k < q.ChainCount[head]; k++)
            {
                int slot = head * MaxChain + k;
                if (!_memory.MarkOwned(q.ChainAddress[slot], q.ChainLength[slot], 1))
                {
                    _memory.RecordViolation("receive buffer overlaps memory the device already owns");
                }
                byte* p = _memory.DeviceAccess(q.ChainAddress[slot], q.ChainLength[slot], "rx buffer");
                if (p != null)
                {
                    // The buffer is the device's now: its old contents are gone (bounce-buffer semantics).
                    new Span<byte>(p, q.ChainLength[slot]).Fill(0xA5);
                }
            }
        }

        private void ReleaseOwnership(SimQueue q, int head)
        {
            for (int k = 0; k < q.ChainCount[head]; k++)
            {
                int slot = head * MaxChain + k;
                _memory.ClearOwned(q.ChainAddress[slot], q.ChainLength[slot]);
            }
        }
    }
}
