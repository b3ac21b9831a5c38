using Keel.Buffers;
using Keel.Drivers.Virtio;
using Keel.Hal;

namespace Keel.Drivers.VirtioNet
{
    public sealed unsafe partial class VirtioNetDevice
    {
        /// <summary>Bytes reserved per descriptor id in the transmit header area (a 12-byte header, 16-aligned).</summary>
        private const int TxHeaderSlot = 16;

        /// <summary>
        /// The queue is stopped when fewer descriptors than this are free after a send: room for the largest
        /// packet (header + linear + every fragment) plus one (Linux 2 + MAX_SKB_FRAGS).
        /// </summary>
        public const int TxStopThreshold = 2 + Packet.MaxFragments;

        /// <summary>
        /// Zeroed virtio_net_hdr for every transmit descriptor id, in DMA memory (no offloads are asked for, so
        /// the header is always zero). The device reads the slot of the chain's head id.
        /// </summary>
        private DmaRegion _txHeaders;

        /// <summary>Packet whose chain starts at the index, owned by the driver until the device returns it; else null.</summary>
        private Packet[] _txPacket;

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

        private bool AllocateTransmitResources(int ringSize)
        {
            _txPacket = new Packet[ringSize];
            _txScatter = new ScatterList(2 + Packet.MaxFragments);
            int packets = _options.TxPackets > 0 ? _options.TxPackets : 2 * ringSize;
            TransmitPackets = PacketPool.Create(_platform.Pages, packets);
            return TransmitPackets != null;
        }

        public bool CanTransmit => _running && !_txStopped;

        /// <summary>
        /// Queues one frame as header + the packet's segments (scatter-gather, no copy). On true the driver owns
        /// the packet and frees it when the device has sent it; on false (stopped, ring full, not running,
        /// empty frame) the caller keeps it. Notifies the device at once unless a batch is open.
        /// </summary>
        public bool Transmit(Packet frame)
        {
            if (!_running || _txStopped || frame == null)
            {
                _txBusy++;
                return false;
            }
            // Linux start_xmit: reclaim finished buffers first, so the ring rarely fills.
            ReclaimTx();
            ScatterList list = _txScatter;
            list.Clear();
            int head = _txQueue.NextHead;
            list.Add(_txHeaders.Physical + (ulong)(head * TxHeaderSlot), HeaderLength, false);
            int segments = frame.SegmentCount;
            if (segments + 1 > list.Capacity)
            {
                _txBusy++;
                return false;
            }
            for (int s = 0; s < segments; s++)
            {
                int length;
                frame.Segment(s, out length);
                if (length > 0)
                {
                    list.Add(frame.SegmentPhysical(s), length, false);
                }
            }
            if (list.Count == 1 || list.Count > _txQueue.FreeCount)
            {
                _txBusy++;
                if (list.Count > _txQueue.FreeCount)
                {
                    StopTxQueue();
                }
                return false;
            }
            ushort added;
            if (!_txQueue.TryAdd(list, out added))
            {
                _txBusy++;
                return false;
            }
            _txPacket[added] = frame;
            if (_txBatchDepth > 0)
            {
                _txKickPending = true;
            }
            else
            {
                KickTx();
                ArmTxCompletion();
            }
            if (_txQueue.FreeCount < TxStopThreshold)
            {
                StopTxQueue();
            }
            return true;
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
                    _txBytes += packet.Length;
                    packet.Free();
                }
            }
            if (_txStopped && _txQueue.FreeCount >= TxStopThreshold)
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
