namespace Keel.Drivers.VirtioNet
{
    /// <summary>
    /// What a receive-stall watchdog compares between two looks at a <see cref="ReceiveQueue"/>: how many NAPI polls
    /// have run, and whether used buffers are waiting for one.
    /// </summary>
    public readonly struct ReceiveProgress
    {
        /// <summary>NAPI polls of the queue so far (rx_queue_N_polls).</summary>
        public readonly long Polls;

        /// <summary>The device has returned buffers the driver has not taken yet.</summary>
        public readonly bool UsedWaiting;

        public ReceiveProgress(long polls, bool usedWaiting)
        {
            Polls = polls;
            UsedWaiting = usedWaiting;
        }

        /// <summary>
        /// True when buffers waited at <paramref name="earlier"/> and still wait now with no poll in between: the
        /// interrupt that should have scheduled one was lost.
        /// </summary>
        public bool StalledSince(ReceiveProgress earlier) => UsedWaiting && earlier.UsedWaiting && Polls == earlier.Polls;
    }
}
