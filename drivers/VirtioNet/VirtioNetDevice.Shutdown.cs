namespace Keel.Drivers.VirtioNet
{
    public sealed partial class VirtioNetDevice
    {
        // ---- shutdown and recovery ----

        /// <summary>
        /// Shuts the device down: reset (the device stops touching memory), take back every buffer still in the
        /// rings (receive pages to the pool, transmit packets freed), release interrupts, rings and free pool
        /// pages. Returns true when every page and packet went back to the allocator; false when the stack still
        /// holds received packets (call <see cref="ReleaseMemory"/> again after freeing them).
        /// </summary>
        public bool Stop()
        {
            if (State == VirtioNetState.Stopped)
            {
                return ReleaseMemory();
            }
            _running = false;
            CancelTimers();
            _core.Reset();
            if (_resourcesReady)
            {
                TakeBackAllBuffers();
            }
            _core.Teardown();
            if (_resourcesReady)
            {
                ReleaseRingMemory();
            }
            State = VirtioNetState.Stopped;
            return ReleaseMemory();
        }

        /// <summary>
        /// Gives free pool pages and packet pools back to the page allocator. True when nothing is left
        /// (receive page pools <c>InFlight == 0</c>, packet pools destroyed).
        /// </summary>
        public bool ReleaseMemory()
        {
            return !_resourcesReady || ReleasePools();
        }

        /// <summary>
        /// Destroys the packet pools and gives the receive pools' free pages back, whichever of them exist (also
        /// after a start-up that made only some). True when nothing is left.
        /// </summary>
        private bool ReleasePools()
        {
            bool done = true;
            for (int p = 0; p < QueuePairs; p++)
            {
                ReceiveQueue rq = _receiveQueues[p];
                if (rq.Pages != null && rq.Pages.ReleaseFreePages() != 0)
                {
                    done = false;
                }
                if (rq.Packets != null && !rq.Packets.Destroy())
                {
                    done = false;
                }
                if (_sendQueues[p].Packets != null && !_sendQueues[p].Packets.Destroy())
                {
                    done = false;
                }
            }
            return done;
        }

        private void CancelTimers()
        {
            for (int p = 0; p < QueuePairs; p++)
            {
                _receiveQueues[p].CancelTimers();
                _sendQueues[p].CancelTimers();
            }
        }

        /// <summary>After a device reset: every descriptor chain still in a ring comes back to the driver.</summary>
        private void TakeBackAllBuffers()
        {
            for (int p = 0; p < QueuePairs; p++)
            {
                _receiveQueues[p].TakeBackAll();
                _sendQueues[p].TakeBackAll();
            }
            TakeBackControl();
        }

        /// <summary>
        /// The device broke a rule we cannot recover from in place (used index jumped, unknown packed id, or it
        /// set DEVICE_NEEDS_RESET): reset it, take every buffer back, and initialise again with the same features.
        /// </summary>
        private void Recover()
        {
            _resetPending = false;
            _deviceResets++;
            _running = false;
            CancelTimers();
            _core.Reset();
            TakeBackAllBuffers();
            for (int p = 0; p < QueuePairs; p++)
            {
                _receiveQueues[p].Ring.Reinitialize();
                _sendQueues[p].Ring.Reinitialize();
            }
            ReinitializeControl();
            if (!Initialize(true))
            {
                State = VirtioNetState.Failed;
            }
        }

        internal void RequestReset()
        {
            if (!_resetPending)
            {
                _resetPending = true;
                _running = false;
                SchedulePoll();
            }
        }
    }
}
