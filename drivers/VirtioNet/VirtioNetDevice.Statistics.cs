using Keel.Hal;

namespace Keel.Drivers.VirtioNet
{
    public sealed partial class VirtioNetDevice : IStatisticsSource
    {
        /// <summary>Counter names, in index order. String literals only.</summary>
        private static readonly string[] s_statisticNames =
        {
            "rx_queue_0_packets",
            "rx_queue_0_bytes",
            "rx_queue_0_drops",
            "rx_queue_0_xdp_packets",
            "rx_queue_0_xdp_drops",
            "rx_queue_0_kicks",
            "rx_queue_0_interrupts",
            "rx_queue_0_polls",
            "rx_queue_0_rearm_races",
            "rx_queue_0_refill_failures",
            "rx_queue_0_refill_retries",
            "rx_length_errors",
            "rx_frame_errors",
            "rx_queue_0_bad_ids",
            "rx_queue_0_packet_alloc_failures",
            "rx_queue_0_buffers_posted",
            "rx_queue_0_mergeable_buf_len",
            "tx_queue_0_packets",
            "tx_queue_0_bytes",
            "tx_queue_0_kicks",
            "tx_queue_0_stop",
            "tx_queue_0_wake",
            "tx_queue_0_tx_timeouts",
            "tx_queue_0_busy",
            "tx_queue_0_interrupts",
            "tx_queue_0_bad_ids",
            "tx_queue_0_dropped_at_reset",
            "config_interrupts",
            "device_resets",
            "used_idx_errors",
            "page_pool_alloc_fast",
            "page_pool_alloc_slow",
            "page_pool_alloc_failed",
            "page_pool_recycled",
            "page_pool_released",
            "page_pool_in_flight",
            "page_pool_pages_held",
            "tx_queue_0_offload_errors",
            "tx_queue_0_dropped",
            "tx_queue_0_indirect",
            "tx_queue_0_header_pushed",
            "tx_queue_0_csum_partial",
            "tx_queue_0_gso_packets",
            "rx_queue_0_gso_packets",
            "rx_queue_0_csum_valid",
            "rx_queue_0_csum_partial",
            "rx_queue_0_coalesced_frags",
            "rx_queue_0_too_many_frags",
            "ctrl_commands",
            "ctrl_errors",
            "link_announces",
            "config_generation_retries",
            "rx_queue_0_large_buffers",
            "tx_queue_0_lazy_reclaims",
            "tx_queue_0_bql_limit",
            "tx_queue_0_bql_stops",
            "tx_queue_0_bql_growths",
            "tx_queue_0_bql_shrinks",
        };

        /// <summary>One line per counter, in index order (Prometheus # HELP).</summary>
        private static readonly string[] s_statisticHelp =
        {
            "Packets received and passed up",
            "Bytes received in packets passed up",
            "Received frames dropped (no packet, bad header, no receiver)",
            "Frames the raw receive hook consumed",
            "Frames the raw receive hook dropped",
            "Receive queue notifications to the device",
            "Receive interrupts",
            "NAPI polls of the receive queue",
            "Interrupts re-enabled with work already pending",
            "Receive refills that found no page or packet",
            "Receive refills retried later from the work queue",
            "Received buffers whose length the device reported wrongly",
            "Received frames too short or malformed",
            "Used receive descriptors with an id the driver never posted",
            "Received frames dropped for lack of a packet",
            "Receive buffers posted to the device",
            "Mergeable receive buffer length in bytes",
            "Packets transmitted",
            "Bytes transmitted",
            "Transmit queue notifications to the device",
            "Times the transmit queue stopped for lack of descriptors",
            "Times the stopped transmit queue woke",
            "Transmit watchdog timeouts",
            "Sends refused with the transmit ring full",
            "Transmit completion interrupts",
            "Used transmit descriptors with an id the driver never posted",
            "Frames dropped when the device was reset",
            "Configuration change interrupts",
            "Device resets",
            "Used ring indexes that moved by more than the ring holds",
            "Page pool allocations served from the recycle cache",
            "Page pool allocations from the page allocator",
            "Page pool allocations that failed",
            "Pages returned to the page pool's cache",
            "Pages the page pool gave back to the page allocator",
            "Page pool pages handed out and not yet returned",
            "Pages the page pool holds",
            "Frames whose offload request the driver could not express",
            "Frames dropped on transmit",
            "Frames sent with an indirect descriptor table",
            "Frames whose virtio-net header was pushed in front of the data",
            "Frames sent with checksum offload",
            "TSO frames sent",
            "Coalesced (GSO) packets received",
            "Received frames whose checksum the device validated",
            "Received frames with a partial checksum to complete",
            "Received fragments coalesced into one packet",
            "Received frames with more fragments than a packet takes",
            "Control queue commands sent",
            "Control queue commands that failed",
            "Link announcements sent (gratuitous ARP on request)",
            "Configuration reads retried because the generation changed",
            "Receive buffers of more than one page posted",
            "Transmit completions reclaimed lazily on the next send",
            "Byte limit on the transmit ring now (bytes; 0 when byte queue limits are off)",
            "Times bulk senders were held back by the transmit byte limit",
            "Times the transmit byte limit grew after the ring ran dry",
            "Times the transmit byte limit shrank after slack persisted",
        };

        public int StatisticsCount => s_statisticNames.Length;

        public string StatisticName(int index) => s_statisticNames[index];

        public string StatisticHelp(int index) => s_statisticHelp[index];

        /// <summary>Levels (buffers posted, pages held, buffer size) are gauges; everything else counts events.</summary>
        public StatisticKind StatisticKind(int index)
        {
            string name = s_statisticNames[index];
            return name == "page_pool_in_flight" ||
                name == "page_pool_pages_held" ||
                name == "rx_queue_0_buffers_posted" ||
                name == "rx_queue_0_mergeable_buf_len" ||
                name == "tx_queue_0_bql_limit" ? Keel.Hal.StatisticKind.Gauge : Keel.Hal.StatisticKind.Counter;
        }

        public long StatisticValue(int index)
        {
            switch (index)
            {
                case 0: return _rq.Stats.Packets;
                case 1: return _rq.Stats.Bytes;
                case 2: return _rq.Stats.Drops;
                case 3: return _rq.Stats.HookPackets;
                case 4: return _rq.Stats.HookDrops;
                case 5: return _rq.Stats.Kicks;
                case 6: return _rq.Stats.Interrupts;
                case 7: return _rq.Stats.Polls;
                case 8: return _rq.Stats.RearmRaces;
                case 9: return _rq.Stats.RefillFailures;
                case 10: return _rq.Stats.RefillRetries;
                case 11: return _rq.Stats.LengthErrors;
                case 12: return _rq.Stats.FrameErrors;
                case 13: return _rq.Stats.BadIds;
                case 14: return _rq.Stats.PacketAllocFailures;
                case 15: return _rq.BuffersPosted;
                case 16: return MergeableBufferLength;
                case 17: return _sq.Stats.Packets;
                case 18: return _sq.Stats.Bytes;
                case 19: return _sq.Stats.Kicks;
                case 20: return _sq.Stats.Stops;
                case 21: return _sq.Stats.Wakes;
                case 22: return _sq.Stats.Timeouts;
                case 23: return _sq.Stats.Busy;
                case 24: return _sq.Stats.Interrupts;
                case 25: return _sq.Stats.BadIds;
                case 26: return _sq.Stats.DroppedAtReset;
                case 27: return _configInterrupts;
                case 28: return _deviceResets;
                case 29: return (_rq.Ring != null ? _rq.Ring.UsedIndexErrors : 0) + (_sq.Ring != null ? _sq.Ring.UsedIndexErrors : 0);
                case 30: return RxPagePool != null ? RxPagePool.AllocFast : 0;
                case 31: return RxPagePool != null ? RxPagePool.AllocSlow : 0;
                case 32: return RxPagePool != null ? RxPagePool.AllocFailed : 0;
                case 33: return RxPagePool != null ? RxPagePool.Recycled : 0;
                case 34: return RxPagePool != null ? RxPagePool.Released : 0;
                case 35: return RxPagePool != null ? RxPagePool.InFlight : 0;
                case 36: return RxPagePool != null ? RxPagePool.PagesHeld : 0;
                case 37: return _sq.Stats.OffloadErrors;
                case 38: return _sq.Stats.Dropped;
                case 39: return _sq.Stats.IndirectFrames;
                case 40: return _sq.Stats.PushedHeaders;
                case 41: return _sq.Stats.ChecksumPartial;
                case 42: return _sq.Stats.GsoFrames;
                case 43: return _rq.Stats.GsoPackets;
                case 44: return _rq.Stats.ChecksumValid;
                case 45: return _rq.Stats.ChecksumPartial;
                case 46: return _rq.Stats.CoalescedFragments;
                case 47: return _rq.Stats.TooManyFragments;
                case 48: return _controlCommands;
                case 49: return _controlErrors;
                case 50: return _announces;
                case 51: return _core.ConfigRetries;
                case 52: return _rq.Stats.LargeBuffers;
                case 53: return _sq.Stats.LazyReclaims;
                case 54: return _sq.Limit != null ? _sq.Limit.Limit : 0;
                case 55: return _sq.Stats.LimitStops;
                case 56: return _sq.Limit != null ? _sq.Limit.Growths : 0;
                case 57: return _sq.Limit != null ? _sq.Limit.Shrinks : 0;
                default: return 0;
            }
        }

        /// <summary>Value of the counter called <paramref name="name"/>; -1 when there is none (tests, shell).</summary>
        public long Statistic(string name)
        {
            for (int i = 0; i < s_statisticNames.Length; i++)
            {
                if (s_statisticNames[i] == name)
                {
                    return StatisticValue(i);
                }
            }
            return -1;
        }
    }
}
