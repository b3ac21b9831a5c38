using System;
using System.Threading;

namespace Keel.Tests.Fakes
{
    public sealed unsafe partial class SimulatedVirtioNetDevice
    {
        // ---- transmit ----

        private readonly byte[] _txScratch = new byte[CaptureBytes + 64];

        /// <summary>Transmit chains fetched (one per Transmit call; <see cref="TxFrames"/> counts wire frames).</summary>
        public long TxChains;

        /// <summary>Chains that asked for checksum completion (NEEDS_CSUM) / segmentation (GSO_TCPV4).</summary>
        public long TxChecksumRequests;
        public long TxGsoRequests;

        /// <summary>
        /// Reads one transmit chain: header + frame. NEEDS_CSUM (with CSUM negotiated) is completed like a NIC
        /// would; GSO_TCPV4 (with HOST_TSO4) is cut into gso_size segments with their own IP length/id/checksum,
        /// sequence numbers, flags (FIN/PSH only on the last) and TCP checksums. Each wire frame is captured.
        /// </summary>
        private void FetchTx(SimQueue q, int head)
        {
            int total = 0;
            ulong hash = 14695981039346656037UL;
            int hdr = HeaderLength;
            byte[] scratch = _txScratch;
            for (int k = 0; k < q.ChainCount[head]; k++)
            {
                int slot = head * MaxChain + k;
                byte* p = _memory.DeviceAccess(q.ChainAddress[slot], q.ChainLength[slot], "tx buffer");
                if (p == null)
                {
                    continue;
                }
                for (int i = 0; i < q.ChainLength[slot]; i++)
                {
                    byte value = p[i];
                    hash = (hash ^ value) * 1099511628211UL;
                    if (total < scratch.Length)
                    {
                        scratch[total] = value;
                    }
                    total++;
                }
            }
            q.TxHash[head] = hash;
            TxChains++;
            if (total < hdr)
            {
                TxBadHeaders++;
                Capture(scratch, 0, 0);
                return;
            }
            byte flags = scratch[VirtioSpec.HDR_FLAGS];
            byte gso = scratch[VirtioSpec.HDR_GSO_TYPE];
            int hdrLen = scratch[VirtioSpec.HDR_HDR_LEN] | (scratch[VirtioSpec.HDR_HDR_LEN + 1] << 8);
            int gsoSize = scratch[VirtioSpec.HDR_GSO_SIZE] | (scratch[VirtioSpec.HDR_GSO_SIZE + 1] << 8);
            int csumStart = scratch[VirtioSpec.HDR_CSUM_START] | (scratch[VirtioSpec.HDR_CSUM_START + 1] << 8);
            int csumOffset = scratch[VirtioSpec.HDR_CSUM_OFFSET] | (scratch[VirtioSpec.HDR_CSUM_OFFSET + 1] << 8);
            int frameLength = Math.Min(total, scratch.Length) - hdr;
            bool needsCsum = (flags & VirtioSpec.VIRTIO_NET_HDR_F_NEEDS_CSUM) != 0;
            bool badHeader = (flags & ~VirtioSpec.VIRTIO_NET_HDR_F_NEEDS_CSUM) != 0
                || (needsCsum && !Negotiated(VirtioSpec.Bit(VirtioSpec.VIRTIO_NET_F_CSUM)))
                || (gso != VirtioSpec.VIRTIO_NET_HDR_GSO_NONE && (gso != VirtioSpec.VIRTIO_NET_HDR_GSO_TCPV4 || !Negotiated(VirtioSpec.Bit(VirtioSpec.VIRTIO_NET_F_HOST_TSO4)) || !needsCsum))
                || (needsCsum && csumStart + csumOffset + 2 > frameLength);
            if (badHeader)
            {
                TxBadHeaders++;
                Capture(scratch, hdr, frameLength);
                return;
            }
            if (gso == VirtioSpec.VIRTIO_NET_HDR_GSO_TCPV4)
            {
                TxGsoRequests++;
                TxChecksumRequests++;
                Segment(scratch, hdr, frameLength, csumStart, hdrLen, gsoSize);
                return;
            }
            if (needsCsum)
            {
                TxChecksumRequests++;
                CompleteChecksum(scratch, hdr + csumStart, hdr + frameLength, hdr + csumStart + csumOffset);
            }
            Capture(scratch, hdr, frameLength);
        }

        /// <summary>Sums [start, end) of <paramref name="data"/> and stores the complement at <paramref name="field"/> (the shared emulator).</summary>
        private static void CompleteChecksum(byte[] data, int start, int end, int field)
        {
            fixed (byte* p = data)
            {
                OffloadEmulator.CompleteChecksum(p, start, end, field);
            }
        }

        private readonly byte[] _segment = new byte[CaptureBytes];

        /// <summary>TSO: cuts the TCP/IPv4 frame at <paramref name="offset"/> into gso_size segments (the shared emulator) and captures each.</summary>
        private void Segment(byte[] frame, int offset, int length, int csumStart, int hdrLen, int gsoSize)
        {
            int tcpStart = csumStart;
            OffloadEmulator.TsoFrame t;
            fixed (byte* f = &frame[offset])
            {
                t = OffloadEmulator.Parse(f, tcpStart);
            }
            int headers = t.Headers;
            if (hdrLen != headers || gsoSize <= 0 || headers > length)
            {
                TxBadHeaders++;
                Capture(frame, offset, length);
                return;
            }
            int payload = length - headers;
            byte[] seg = _segment;
            int done = 0;
            int index = 0;
            while (done < payload)
            {
                int take = Math.Min(gsoSize, payload - done);
                bool last = done + take == payload;
                Array.Copy(frame, offset, seg, 0, headers);
                Array.Copy(frame, offset + headers + done, seg, headers, take);
                int segmentLength = headers + take;
                fixed (byte* h = seg)
                {
                    OffloadEmulator.FixSegmentHeaders(h, t, tcpStart, index, done, take, last);
                    OffloadEmulator.CompleteChecksum(h, tcpStart, segmentLength, tcpStart + 16);
                }
                Capture(seg, 0, segmentLength);
                done += take;
                index++;
            }
        }

        /// <summary>Records one wire frame in the capture ring.</summary>
        private void Capture(byte[] data, int offset, int length)
        {
            int slotIndex = (int)(TxFrames % CaptureSlots);
            int keep = Math.Min(length, CaptureBytes);
            Array.Copy(data, offset, _capture[slotIndex], 0, keep);
            _captureLength[slotIndex] = keep;
            TxFrames++;
            TxBytes += length;
            if (TxSink != null)
            {
                TxSink.FrameSent(data, offset, length);
            }
        }

        /// <summary>Optional receiver of every transmitted wire frame (after checksum completion and segmentation).</summary>
        public ISimTxSink TxSink;

        private ulong HashChain(SimQueue q, int head)
        {
            ulong hash = 14695981039346656037UL;
            for (int k = 0; k < q.ChainCount[head]; k++)
            {
                int slot = head * MaxChain + k;
                byte* p = _memory.DeviceAccess(q.ChainAddress[slot], q.ChainLength[slot], "tx buffer freed before completion");
                if (p == null)
                {
                    continue;
                }
                for (int i = 0; i < q.ChainLength[slot]; i++)
                {
                    hash = (hash ^ p[i]) * 1099511628211UL;
                }
            }
            return hash;
        }

        /// <summary>Completes up to <paramref name="max"/> fetched transmit chains (in order). Returns how many.</summary>
        public int CompleteTx(int max)
        {
            SimQueue q = _queues[1];
            if (!q.Enabled)
            {
                return 0;
            }
            SyncAvail(q);
            int mask = q.Size - 1;
            int done = 0;
            while (done < max && q.NextAvail != q.OrderTail)
            {
                ushort head = q.Order[q.NextAvail & mask];
                q.NextAvail++;
                VerifyUnchanged(q, head);
                if (HashChain(q, head) != q.TxHash[head])
                {
                    _memory.RecordViolation("driver changed a transmit buffer before the device completed it");
                }
                q.HeadOwned[head] = false;
                q.OwnedHeads--;
                uint* element = (uint*)(q.Used + VirtioSpec.SplitUsedHeader + VirtioSpec.SplitUsedElementSize * ((q.UsedIdx + done) & mask));
                element[0] = NextTxFault == TxFault.BadId && done == 0 ? (uint)(q.Size + 1) : head;
                element[1] = 0;
                done++;
            }
            if (done > 0)
            {
                PublishUsed(q, done, NextTxFault == TxFault.UsedIndexJump);
                NextTxFault = TxFault.None;
            }
            return done;
        }

        /// <summary>Copies the <paramref name="back"/>-th most recent transmitted frame (0 = last) into <paramref name="destination"/>.</summary>
        public int CapturedFrame(int back, Span<byte> destination)
        {
            if (back >= CaptureSlots || back >= TxFrames)
            {
                return -1;
            }
            int slot = (int)((TxFrames - 1 - back) % CaptureSlots);
            int length = Math.Min(_captureLength[slot], destination.Length);
            new ReadOnlySpan<byte>(_capture[slot], 0, length).CopyTo(destination);
            return _captureLength[slot];
        }
    }
}
