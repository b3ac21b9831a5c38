using Keel.Buffers;
using Keel.Drivers.Virtio;
using Keel.Hal;

namespace Keel.Drivers.VirtioNet
{
    public sealed unsafe partial class VirtioNetDevice
    {
        /// <summary>Bytes reserved per descriptor id in the transmit header area (a 12-byte header, 16-aligned).</summary>
        private const int TxHeaderSlot = 16;

        /// <summary>Entries of each indirect table: header + linear area + every fragment.</summary>
        private const int TxIndirectEntries = 2 + Packet.MaxFragments;

        /// <summary>
        /// Without indirect descriptors the queue is stopped when fewer descriptors than this are free after a
        /// send: room for the largest packet (header + linear + every fragment) plus one (Linux 2 + MAX_SKB_FRAGS).
        /// With indirect descriptors every frame takes one slot, so one free slot is enough.
        /// </summary>
        public const int TxStopThreshold = 2 + Packet.MaxFragments;

        /// <summary>
        /// virtio_net_hdr slot for every transmit descriptor id, in DMA memory, used when the header cannot be
        /// pushed in front of the frame. The device reads the slot of the chain's head id.
        /// </summary>
        private DmaRegion _txHeaders;

        /// <summary>Indirect descriptor tables of the transmit queue (one per descriptor id), when negotiated.</summary>
        private DmaRegion _txIndirect;

        /// <summary>Packet whose chain starts at the index, owned by the driver until the device returns it; else null.</summary>
        private Packet[] _txPacket;

        /// <summary>Frame length (without virtio header) of the packet at the index, counted at completion.</summary>
        private int[] _txFrameLength;

        /// <summary>Scatter list for one frame: header + linear area + every fragment.</summary>
        private ScatterList _txScatter;

        /// <summary>True while the queue is stopped (ring nearly full); <see cref="CanTransmit"/> is false.</summary>
        private bool _txStopped;

        /// <summary>Clock reading when the queue last stopped (transmit watchdog).</summary>
        private long _txStoppedAt;

        /// <summary>Completed packets counted when the queue stopped; unchanged at the watchdog means no progress.</summary>
        private long _txCompletedAtStop;

        /// <summary>Nesting depth of transmit batches: kicks are held back until the outermost batch ends.</summary>
        private int _txBatchDepth;

        /// <summary>Chains added while a batch was open and not yet announced to the device.</summary>
        private bool _txKickPending;

        /// <summary>Header may be pushed into the frame's headroom (VERSION_1 or ANY_LAYOUT, and the option).</summary>
        private bool _txCanPush;

        /// <summary>Free descriptors below which the queue stops (1 with indirect descriptors).</summary>
        private int _txStopThreshold = TxStopThreshold;

        private bool AllocateTransmitResources(int ringSize)
        {
            _txPacket = new Packet[ringSize];
            _txFrameLength = new int[ringSize];
            _txScatter = new ScatterList(TxIndirectEntries);
            int packets = _options.TxPackets > 0 ? _options.TxPackets : 2 * ringSize;
            TransmitPackets = PacketPool.Create(_platform.Pages, packets);
            if (TransmitPackets == null)
            {
                return false;
            }
            if (Has(VirtioFeatures.IndirectDescriptors))
            {
                int pages = (ringSize * TxIndirectEntries * 16 + DmaPage.Size - 1) / DmaPage.Size;
                if (!_platform.Dma.TryAllocateContiguous(pages, out _txIndirect))
                {
                    return false;
                }
                _txQueue.SetIndirectTables(_txIndirect, TxIndirectEntries);
                _txStopThreshold = 1;
            }
            _txCanPush = _options.TxHeaderPush
                && (Has(VirtioFeatures.Version1) || Has(VirtioFeatures.AnyLayout));
            return true;
        }

        public bool CanTransmit => _running && !_txStopped;

        /// <summary>VIRTIO_NET_F_CSUM negotiated: the device completes checksums of NEEDS_CSUM frames.</summary>
        public bool SupportsChecksumOffload => Has(VirtioNetFeatures.Csum);

        /// <summary>HOST_TSO4 negotiated: the device segments TCP/IPv4 packets up to 64 KiB.</summary>
        public int MaxTsoBytes => Has(VirtioNetFeatures.HostTso4) ? MaxTsoPacket : 0;

        /// <summary>Largest IPv4 packet handed to the device for segmentation (the IP total length field's limit).</summary>
        public const int MaxTsoPacket = 65535;

        /// <summary>
        /// Queues one frame (no copy). The virtio header goes into the frame's headroom when it can (Linux
        /// can_push: header and linear area are one descriptor), else into the head id's header slot; a frame of
        /// more than one descriptor takes one ring slot through an indirect table when negotiated. On true the
        /// driver owns the packet and frees it when the device has sent it; on false (stopped, ring full, not
        /// running, empty frame) the caller keeps it, unchanged. Notifies the device at once unless a batch is open.
        /// </summary>
        public bool Transmit(Packet frame)
        {
            if (!_running || _txStopped || frame == null || frame.Length == 0)
            {
                _txBusy++;
                return false;
            }
            // Linux start_xmit: reclaim finished buffers first, so the ring rarely fills.
            ReclaimTx();
            if (!PrepareOffloads(frame))
            {
                // A segmentation request the device cannot honour: dropped (the stack only asks when offered).
                _txOffloadErrors++;
                _txDropped++;
                frame.Free();
                return true;
            }
            int segments = frame.SegmentCount;
            int hdr = HeaderLength;
            int frameLength = frame.Length;
            int linear = frame.LinearLength;
            bool push = _txCanPush && frame.Headroom >= hdr && ((frame.DataPhysical - (ulong)hdr) & 1) == 0;
            // Descriptors: header (own, or pushed in front of the linear part) + separate linear part + fragments.
            int count = 1 + (!push && linear > 0 ? 1 : 0);
            for (int s = 1; s < segments; s++)
            {
                int length;
                frame.Segment(s, out length);
                if (length > 0)
                {
                    count++;
                }
            }
            int slots = count > 1 && _txQueue.IndirectEntries >= count ? 1 : count;
            if (count > _txScatter.Capacity || slots > _txQueue.FreeCount)
            {
                _txBusy++;
                if (slots > _txQueue.FreeCount)
                {
                    StopTxQueue();
                }
                return false;
            }
            int head = _txQueue.NextHead;
            ScatterList list = _txScatter;
            list.Clear();
            if (push)
            {
                // Offsets in the header are relative to the frame: read them before the push moves the data start.
                int csumStart = frame.ChecksumStart;
                int gsoHeader = TsoHeaderLength(frame, csumStart);
                byte* h = frame.Push(hdr);
                WriteTxHeader(h, frame, csumStart, gsoHeader);
                list.Add(frame.DataPhysical, hdr + linear, false);
            }
            else
            {
                byte* h = _txHeaders.Virtual + head * TxHeaderSlot;
                WriteTxHeader(h, frame, frame.ChecksumStart, TsoHeaderLength(frame, frame.ChecksumStart));
                list.Add(_txHeaders.Physical + (ulong)(head * TxHeaderSlot), hdr, false);
                if (linear > 0)
                {
                    list.Add(frame.DataPhysical, linear, false);
                }
            }
            for (int s = 1; s < segments; s++)
            {
                int length;
                frame.Segment(s, out length);
                if (length > 0)
                {
                    list.Add(frame.SegmentPhysical(s), length, false);
                }
            }
            ushort added;
            bool ok = slots == 1 && list.Count > 1
                ? _txQueue.TryAddIndirect(list, out added)
                : _txQueue.TryAdd(list, out added);
            if (!ok)
            {
                if (push)
                {
                    frame.Pull(hdr);
                }
                _txBusy++;
                return false;
            }
            _txPacket[added] = frame;
            _txFrameLength[added] = frameLength;
            if (push)
            {
                _txPushedHeaders++;
            }
            if (slots == 1 && list.Count > 1)
            {
                _txIndirectFrames++;
            }
            if ((frame.Flags & Packet.FlagNeedsChecksum) != 0)
            {
                _txChecksumPartial++;
                if ((frame.Flags & Packet.FlagTcpSegmentation) != 0)
                {
                    _txGsoFrames++;
                }
            }
            if (_txBatchDepth > 0)
            {
                _txKickPending = true;
            }
            else
            {
                KickTx();
                ArmTxCompletion();
            }
            if (_txQueue.FreeCount < _txStopThreshold)
            {
                StopTxQueue();
            }
            return true;
        }

        /// <summary>
        /// Checks the frame's offload requests against what was negotiated. A checksum request the device cannot
        /// take is completed here in software (Linux skb_checksum_help); a segmentation request it cannot take
        /// fails (false).
        /// </summary>
        private bool PrepareOffloads(Packet frame)
        {
            int flags = frame.Flags;
            if ((flags & Packet.FlagTcpSegmentation) != 0)
            {
                if (!Has(VirtioNetFeatures.HostTso4) || frame.GsoSize <= 0 || (flags & Packet.FlagNeedsChecksum) == 0
                    || frame.Length - EthernetHeaderLength > MaxTsoPacket)
                {
                    return false;
                }
            }
            if ((flags & Packet.FlagNeedsChecksum) != 0 && !Has(VirtioNetFeatures.Csum))
            {
                if (!CompleteChecksum(frame, frame.ChecksumStart, frame.ChecksumOffset))
                {
                    return false;
                }
                frame.Flags &= ~Packet.FlagNeedsChecksum;
            }
            return true;
        }

        /// <summary>
        /// hdr_len of a segmentation request: Ethernet + IP + TCP header bytes (the TCP header starts at the
        /// checksum start; its data offset is read from the linear area). 0 when not segmenting.
        /// </summary>
        private static int TsoHeaderLength(Packet frame, int csumStart)
        {
            if ((frame.Flags & Packet.FlagTcpSegmentation) == 0)
            {
                return 0;
            }
            int at = csumStart + 12;
            if (csumStart < 0 || at >= frame.LinearLength)
            {
                return csumStart + 20;
            }
            return csumStart + (frame.Data[at] >> 4) * 4;
        }

        /// <summary>Fills a virtio_net_hdr for <paramref name="frame"/> (offsets relative to the frame start).</summary>
        private void WriteTxHeader(byte* h, Packet frame, int csumStart, int gsoHeaderLength)
        {
            int hdr = HeaderLength;
            for (int i = 0; i < hdr; i++)
            {
                h[i] = 0;
            }
            int flags = frame.Flags;
            if ((flags & Packet.FlagNeedsChecksum) != 0)
            {
                h[VirtioNetHeader.Flags] = VirtioNetHeader.FlagNeedsCsum;
                WriteLe16(h + VirtioNetHeader.CsumStart, csumStart);
                WriteLe16(h + VirtioNetHeader.CsumOffset, frame.ChecksumOffset);
                if ((flags & Packet.FlagTcpSegmentation) != 0)
                {
                    h[VirtioNetHeader.GsoType] = VirtioNetHeader.GsoTcpV4;
                    WriteLe16(h + VirtioNetHeader.HeaderLength, gsoHeaderLength);
                    WriteLe16(h + VirtioNetHeader.GsoSize, frame.GsoSize);
                }
            }
        }

        private static void WriteLe16(byte* p, int value)
        {
            p[0] = (byte)value;
            p[1] = (byte)(value >> 8);
        }

        /// <summary>
        /// Opens a transmit batch: frames queued until the matching <see cref="EndTransmitBatch"/> share one
        /// notification (Linux xmit_more). The poll opens one around packet delivery, so replies sent by the
        /// stack while receiving go out with a single kick.
        /// </summary>
        public void BeginTransmitBatch()
        {
            _txBatchDepth++;
        }

        /// <summary>Closes a batch; the outermost close notifies the device once if anything was queued.</summary>
        public void EndTransmitBatch()
        {
            if (_txBatchDepth > 0)
            {
                _txBatchDepth--;
            }
            if (_txBatchDepth == 0 && _txKickPending)
            {
                _txKickPending = false;
                KickTx();
                ArmTxCompletion();
            }
        }

        private void KickTx()
        {
            if (_running && _txQueue.KickPrepare())
            {
                _transport.NotifyQueue(TxQueueIndex);
                _txKicks++;
            }
        }

        /// <summary>
        /// While packets are outstanding, ask for a completion interrupt after about three quarters of them
        /// (Linux virtqueue_enable_cb_delayed), so their packets are freed even when nothing else runs the poll.
        /// </summary>
        private void ArmTxCompletion()
        {
            if (!_running || _txQueue.InFlight == 0 || !_txQueue.CallbacksDisabled)
            {
                return;
            }
            if (!_txQueue.EnableCallbacksDelayed())
            {
                _txQueue.DisableCallbacks();
                SchedulePoll();
            }
        }

        /// <summary>Stops the queue (Linux check_sq_full_and_disable) and starts the watchdog.</summary>
        private void StopTxQueue()
        {
            if (_txStopped)
            {
                return;
            }
            _txStopped = true;
            _txStops++;
            _txStoppedAt = _platform.Clock.NowNanoseconds;
            _txCompletedAtStop = _txPackets;
            _platform.Timers.Start(_txWatchdogTimer, _options.TxTimeoutNanoseconds);
            if (!_txQueue.EnableCallbacksDelayed())
            {
                // Completions already arrived: reclaim now, maybe restart at once.
                _txQueue.DisableCallbacks();
                ReclaimTx();
            }
        }

        private void WakeTxQueue()
        {
            _txStopped = false;
            _txWakes++;
            _platform.Timers.Cancel(_txWatchdogTimer);
        }

        /// <summary>Frees every packet the device has finished sending (Linux free_old_xmit); wakes a stopped queue.</summary>
        private void ReclaimTx()
        {
            if (_txQueue == null)
            {
                return;
            }
            while (true)
            {
                ushort head;
                int length;
                UsedResult result = _txQueue.TryGetUsed(out head, out length);
                if (result == UsedResult.Empty)
                {
                    break;
                }
                if (result == UsedResult.Broken)
                {
                    RequestReset();
                    break;
                }
                if (result == UsedResult.BadId)
                {
                    _txBadIds++;
                    continue;
                }
                Packet packet = _txPacket[head];
                _txPacket[head] = null;
                if (packet != null)
                {
                    _txPackets++;
                    _txBytes += _txFrameLength[head];
                    packet.Free();
                }
            }
            if (_txStopped && _txQueue.FreeCount >= _txStopThreshold)
            {
                WakeTxQueue();
            }
        }

        /// <summary>
        /// Watchdog (Linux dev_watchdog → ndo_tx_timeout): the queue stayed stopped for the timeout without a
        /// completion. Counted; the device is notified again and the watchdog re-armed.
        /// </summary>
        private void OnTxWatchdog()
        {
            if (!_running || !_txStopped)
            {
                return;
            }
            ReclaimTx();
            if (!_txStopped)
            {
                return;
            }
            long now = _platform.Clock.NowNanoseconds;
            if (_txPackets == _txCompletedAtStop && now - _txStoppedAt >= _options.TxTimeoutNanoseconds)
            {
                _txTimeouts++;
                _transport.NotifyQueue(TxQueueIndex);
                _txKicks++;
            }
            _txStoppedAt = now;
            _txCompletedAtStop = _txPackets;
            _platform.Timers.Start(_txWatchdogTimer, _options.TxTimeoutNanoseconds);
        }
    }
}
