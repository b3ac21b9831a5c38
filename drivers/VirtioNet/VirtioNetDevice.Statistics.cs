using Keel.Hal;

namespace Keel.Drivers.VirtioNet
{
    public sealed partial class VirtioNetDevice : IStatisticsSource
    {
        // Counters. Names follow Linux ethtool -S for virtio_net where one exists (see StatisticNames).
        private long _rxPackets;
        private long _rxBytes;
        private long _rxDrops;
        private long _rxHookPackets;
        private long _rxHookDrops;
        private long _rxKicks;
        private long _rxInterrupts;
        private long _polls;
        private long _rearmRaces;
        private long _refillFailures;
        private long _refillTimerRuns;
        private long _rxLengthErrors;
        private long _rxFrameErrors;
        private long _rxBadIds;
        private long _rxPacketAllocFailures;
        private long _txPackets;
        private long _txBytes;
        private long _txKicks;
        private long _txStops;
        private long _txWakes;
        private long _txTimeouts;
        private long _txBusy;
        private long _txInterrupts;
        private long _txBadIds;
        private long _txDroppedAtReset;
        private long _configInterrupts;
        private long _deviceResets;
        private long _txOffloadErrors;
        private long _txDropped;
        private long _txIndirectFrames;
        private long _txPushedHeaders;
        private long _txChecksumPartial;
        private long _txGsoFrames;
        private long _rxGsoFrames;
        private long _rxChecksumValid;
        private long _rxChecksumPartial;
        private long _rxCoalescedFragments;
        private long _rxTooManyFragments;

        /// <summary>Counter names, in index order. String literals only.</summary>
        private static readonly string[] StatisticNames =
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
        };

        public int StatisticsCount => StatisticNames.Length;

        public string StatisticName(int index) => StatisticNames[index];

        public long StatisticValue(int index)
        {
            switch (index)
            {
                case 0: return _rxPackets;
                case 1: return _rxBytes;
                case 2: return _rxDrops;
                case 3: return _rxHookPackets;
                case 4: return _rxHookDrops;
                case 5: return _rxKicks;
                case 6: return _rxInterrupts;
                case 7: return _polls;
                case 8: return _rearmRaces;
                case 9: return _refillFailures;
                case 10: return _refillTimerRuns;
                case 11: return _rxLengthErrors;
                case 12: return _rxFrameErrors;
                case 13: return _rxBadIds;
                case 14: return _rxPacketAllocFailures;
                case 15: return _rxPosted;
                case 16: return MergeableBufferLength;
                case 17: return _txPackets;
                case 18: return _txBytes;
                case 19: return _txKicks;
                case 20: return _txStops;
                case 21: return _txWakes;
                case 22: return _txTimeouts;
                case 23: return _txBusy;
                case 24: return _txInterrupts;
                case 25: return _txBadIds;
                case 26: return _txDroppedAtReset;
                case 27: return _configInterrupts;
                case 28: return _deviceResets;
                case 29: return (_rxQueue != null ? _rxQueue.UsedIndexErrors : 0) + (_txQueue != null ? _txQueue.UsedIndexErrors : 0);
                case 30: return RxPagePool != null ? RxPagePool.AllocFast : 0;
                case 31: return RxPagePool != null ? RxPagePool.AllocSlow : 0;
                case 32: return RxPagePool != null ? RxPagePool.AllocFailed : 0;
                case 33: return RxPagePool != null ? RxPagePool.Recycled : 0;
                case 34: return RxPagePool != null ? RxPagePool.Released : 0;
                case 35: return RxPagePool != null ? RxPagePool.InFlight : 0;
                case 36: return RxPagePool != null ? RxPagePool.PagesHeld : 0;
                case 37: return _txOffloadErrors;
                case 38: return _txDropped;
                case 39: return _txIndirectFrames;
                case 40: return _txPushedHeaders;
                case 41: return _txChecksumPartial;
                case 42: return _txGsoFrames;
                case 43: return _rxGsoFrames;
                case 44: return _rxChecksumValid;
                case 45: return _rxChecksumPartial;
                case 46: return _rxCoalescedFragments;
                case 47: return _rxTooManyFragments;
                default: return 0;
            }
        }

        /// <summary>Value of the counter called <paramref name="name"/>; -1 when there is none (tests, shell).</summary>
        public long Statistic(string name)
        {
            for (int i = 0; i < StatisticNames.Length; i++)
            {
                if (StatisticNames[i] == name)
                {
                    return StatisticValue(i);
                }
            }
            return -1;
        }
    }
}
