using Keel.Buffers;
using Keel.Hal;
using Keel.Net.Sockets;

namespace Keel.Net.Tcp
{
    /// <summary>Closing (FIN, RST, CLOSED) and the application's reads and writes.</summary>
    internal sealed unsafe partial class TcpConnection
    {
        internal void SendResetSegment()
        {
            Layer.SendBare(Local, Remote, Snd.Nxt, Rcv.Nxt, TcpLayer.FlagRst | TcpLayer.FlagAck, 0);
        }

        /// <summary>Queues our FIN (Shutdown(Send) / Close).</summary>
        internal void QueueFin(Instant now)
        {
            if (FinQueued)
            {
                return;
            }
            switch (State)
            {
                case TcpState.SynReceived:
                case TcpState.Established:
                    FinQueued = true;
                    SetState(TcpState.FinWait1);
                    break;
                case TcpState.CloseWait:
                    FinQueued = true;
                    SetState(TcpState.LastAck);
                    break;
                default:
                    return;
            }
            Output(now);
        }

        /// <summary>Frees the receive queue and the out-of-order queue.</summary>
        internal void FreeReceiveQueues(bool keepInOrder)
        {
            if (!keepInOrder)
            {
                ReceiveQueue.FreeAll();
            }
            Reassembly.Clear();
        }

        /// <summary>
        /// The connection is over: leave the tables, free queued packets and pages, record the error. The socket
        /// goes back to the pool if no application holds it.
        /// </summary>
        internal void EnterClosed(SocketError error)
        {
            Layer.Unhash(this);
            Layer.Deactivate(this);
            Layer.Unschedule(this);
            if (State == TcpState.Listen)
            {
                Layer.RemoveListener(this);
            }
            TcpState previous = State;
            SetState(TcpState.Closed);
            Timers.StopAll();
            Board.Clear();
            if (error != SocketError.Success)
            {
                Error = error;
            }
            // Keep in-order data an application can still read (a reset connection loses it, as in Linux).
            FreeReceiveQueues(error == SocketError.Success && !Orphan);
            Send.Clear();
            Snd.BufferCleared();
            if (Parent != null)
            {
                Parent.Children.Remove(this);
            }
            if (Orphan)
            {
                ReceiveQueue.FreeAll();
                Stack.ReleaseSocket(Socket);
                return;
            }
            SocketEvents events = SocketEvents.Closed | SocketEvents.Readable;
            if (error != SocketError.Success)
            {
                events |= SocketEvents.Error | SocketEvents.Writable;
            }
            if (previous != TcpState.Closed)
            {
                Stack.Notify(Socket, events);
            }
        }

        /// <summary>Application Close: graceful when possible, RST when unread data would be lost.</summary>
        internal void Close(Instant now)
        {
            Orphan = true;
            if (State == TcpState.Closed || State == TcpState.Listen || State == TcpState.SynSent)
            {
                Abort(); // nothing to say to a peer: no RST, a listener's children are aborted, CLOSED
                return;
            }
            if (!ReceiveQueue.IsEmpty || !Reassembly.IsEmpty)
            {
                Abort();
                return;
            }
            // Nobody will read any more: data still in flight is acknowledged and dropped rather than queued on
            // the orphan, where it would hold the driver's receive buffers until the connection ends.
            ReceiveShutdown = true;
            if (State == TcpState.Established || State == TcpState.CloseWait || State == TcpState.SynReceived)
            {
                QueueFin(now);
            }
            else if (State == TcpState.FinWait2)
            {
                Timers.Arm(TcpTimer.FinWait2, now + Layer.FinWait2Timeout);
            }
        }

        /// <summary>Abortive close: RST (when synchronized) and straight to CLOSED.</summary>
        internal void Abort()
        {
            if (State != TcpState.Closed && State != TcpState.Listen && State != TcpState.SynSent && State != TcpState.TimeWait)
            {
                SendResetSegment();
            }
            if (State == TcpState.Listen)
            {
                while (Children.Oldest != null)
                {
                    TcpConnection child = Children.Oldest;
                    Children.Remove(child);
                    child.Orphan = true;
                    child.Abort();
                }
            }
            EnterClosed(SocketError.Success);
        }

        // ============================================================ application data

        /// <summary>Copies (or, with a null destination, drops) received bytes. See Socket.Receive.</summary>
        internal int Read(byte* destination, int size, out SocketError error)
        {
            if (ReceiveQueue.IsEmpty)
            {
                if (Error != SocketError.Success)
                {
                    error = Error;
                    return 0;
                }
                if (FinReceived || State == TcpState.Closed || ReceiveShutdown)
                {
                    error = SocketError.Success;
                    return 0;
                }
                if (State == TcpState.Listen)
                {
                    error = SocketError.NotConnected;
                    return 0;
                }
                error = SocketError.WouldBlock;
                return 0;
            }
            int copied = 0;
            while (copied < size)
            {
                Packet p = ReceiveQueue.Peek();
                if (p == null)
                {
                    break;
                }
                int take = p.Length < size - copied ? p.Length : size - copied;
                if (destination != null)
                {
                    p.CopyTo(0, destination + copied, take);
                }
                copied += take;
                if (take == p.Length)
                {
                    ReceiveQueue.Dequeue();
                    p.Free();
                }
                else
                {
                    p.Pull(take);
                    ReceiveQueue.AdjustBytes(-take);
                }
            }
            error = SocketError.Success;
            int tuned = ReceiveTuning.Read(copied, ReceiveBufferSize, ReceiveMss, Layer.Config.TcpReceiveBufferMax, Stack.Now,
                Layer.Config.TcpReceiveBufferMin);
            if (tuned > ReceiveBufferSize)
            {
                ReceiveBufferSize = tuned;
                Stats.ReceiveBufferGrowth();
            }
            else if (tuned < ReceiveBufferSize)
            {
                // Right-sizing: the right edge already advertised stays (it never moves left), so the buffer keeps
                // room for the unread data and everything up to that edge; the window shrinks as the application
                // drains it.
                long promised = ReceiveQueue.Bytes + Rcv.Window;
                if (tuned < promised)
                {
                    tuned = promised < ReceiveBufferSize ? (int)promised : ReceiveBufferSize;
                }
                if (tuned < ReceiveBufferSize)
                {
                    ReceiveBufferSize = tuned;
                    Stats.ReceiveBufferShrink();
                }
            }
            MaybeWindowUpdate();
            return copied;
        }

        /// <summary>
        /// After the application read: when the window has opened a lot, tell the peer at the end of the batch, or with
        /// the data the application sends back before then (a request answered at once needs no separate update).
        /// </summary>
        private void MaybeWindowUpdate()
        {
            if (State != TcpState.Established && State != TcpState.FinWait1 && State != TcpState.FinWait2)
            {
                return;
            }
            long free = ReceiveBufferSize - ReceiveQueue.Bytes;
            long current = Rcv.Window;
            if (free >= 2 * current && free - current >= 2 * ReceiveMss)
            {
                DelayedAck.AckImmediately();
                Layer.Schedule(this);
            }
        }

        /// <summary>
        /// Appends to the send buffer and sends what may go. With <paramref name="more"/> (Linux MSG_MORE) a last
        /// part-filled segment waits for the next write, a FIN, or the end of the batch at the latest, so a response
        /// written in pieces leaves as one segment.
        /// </summary>
        internal int Write(byte* source, int size, bool more, out SocketError error)
        {
            if (Error != SocketError.Success)
            {
                error = Error;
                return 0;
            }
            if (FinQueued)
            {
                error = SocketError.Shutdown;
                return 0;
            }
            if (State == TcpState.SynSent || State == TcpState.SynReceived)
            {
                error = SocketError.WouldBlock;
                return 0;
            }
            if (State != TcpState.Established && State != TcpState.CloseWait)
            {
                error = SocketError.NotConnected;
                return 0;
            }
            if (size <= 0)
            {
                error = SocketError.Success;
                return 0;
            }
            bool poolEmpty;
            int taken = Send.Append(source, size, SendBufferSize, out poolEmpty);
            if (poolEmpty)
            {
                Counters[NetStatistics.TxPageAllocFailures]++;
            }
            if (taken == 0)
            {
                SendBlocked = true;
                error = SocketError.WouldBlock;
                return 0;
            }
            error = SocketError.Success;
            Corked = more;
            Output(Stack.Now);
            if (Corked && Gt(DataEnd, Snd.Max))
            {
                OutputPending = true;
                Layer.Schedule(this);
            }
            return taken;
        }
    }
}
