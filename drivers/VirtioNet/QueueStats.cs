namespace Keel.Drivers.VirtioNet
{
    /// <summary>Counters of one receive queue (Linux virtnet_rq_stats; ethtool names in <see cref="VirtioNetDevice"/>).</summary>
    public struct ReceiveQueueStats
    {
        public long Packets;
        public long Bytes;
        public long Drops;
        public long HookPackets;
        public long HookDrops;
        public long Kicks;
        public long Interrupts;
        public long Polls;
        public long RearmRaces;
        public long RefillFailures;
        public long RefillRetries;
        public long LengthErrors;
        public long FrameErrors;
        public long BadIds;
        public long PacketAllocFailures;
        public long GsoPackets;
        public long ChecksumValid;
        public long ChecksumPartial;
        public long CoalescedFragments;
        public long TooManyFragments;
        public long LargeBuffers;
    }

    /// <summary>Counters of one send queue (Linux virtnet_sq_stats).</summary>
    public struct SendQueueStats
    {
        public long Packets;
        public long Bytes;
        public long Kicks;
        public long Stops;
        public long Wakes;
        public long Timeouts;
        public long Busy;
        public long Interrupts;
        public long BadIds;
        public long DroppedAtReset;
        public long OffloadErrors;
        public long Dropped;
        public long IndirectFrames;
        public long PushedHeaders;
        public long ChecksumPartial;
        public long GsoFrames;
        public long LazyReclaims;
        public long LimitStops;
    }
}
