using Keel.Buffers;
using Keel.Drivers.Net;
using Keel.Drivers.Virtio;
using Keel.Hal;

namespace Keel.Drivers.VirtioNet
{
    /// <summary>
    /// The control virtqueue (VIRTIO_NET_F_CTRL_VQ, virtio "Control Virtqueue"): receive mode (promiscuous,
    /// all-multicast), the MAC filter table, and the acknowledgement of a GUEST_ANNOUNCE request. Commands are
    /// synchronous, as in Linux virtnet_send_command: one chain (class + command, data, ack byte) is posted,
    /// the device is notified and the used ring polled a bounded number of times. Start-up and shell only.
    /// </summary>
    public sealed unsafe partial class VirtioNetDevice
    {
        /// <summary>Bounded wait for the device to answer a command (polls of the used ring).</summary>
        private const int ControlPolls = 1000000;

        /// <summary>Most entries in each half of the MAC filter table we send.</summary>
        public const int MaxMacFilterEntries = 16;

        // Layout of the command page: header at 0, data at 16, ack byte at 4064.
        private const int ControlDataOffset = 16;
        private const int ControlAckOffset = 4064;

        private Virtqueue _controlRing;
        private DmaRegion _controlPage;
        private ScatterList _controlScatter;
        private ControlInterrupt _controlInterrupt;
        private bool _announceRequested;

        private long _controlCommands;
        private long _controlErrors;
        private long _announces;

        /// <summary>Called (from the main loop) when the device asks for a link announcement (gratuitous ARP).</summary>
        public ILinkAnnouncer Announcer { get; set; }

        /// <summary>True when VIRTIO_NET_F_CTRL_VQ was negotiated.</summary>
        public bool HasControlQueue => Has(VirtioNetFeatures.ControlQueue);

        /// <summary>Receive-mode commands are available (VIRTIO_NET_F_CTRL_RX).</summary>
        public bool HasReceiveModeControl => Has(VirtioNetFeatures.ControlRx);

        /// <summary>Promiscuous mode as last set through the control queue (the device's default is on).</summary>
        public bool Promiscuous { get; private set; } = true;

        /// <summary>All-multicast mode as last set through the control queue.</summary>
        public bool AllMulticast { get; private set; }

        /// <summary>Unicast and multicast entries of the MAC filter table last accepted by the device.</summary>
        public int UnicastFilterEntries { get; private set; }
        public int MulticastFilterEntries { get; private set; }

        /// <summary>Control commands sent; commands the device answered with an error or not at all.</summary>
        public long ControlCommands => _controlCommands;
        public long ControlErrors => _controlErrors;

        /// <summary>Link announcements done at the device's request.</summary>
        public long Announces => _announces;

        private void CreateControl()
        {
            _controlInterrupt = new ControlInterrupt();
            _controlScatter = new ScatterList(3);
        }

        private bool AllocateControl()
        {
            if (!HasControlQueue)
            {
                return true;
            }
            int index = 2 * QueuePairs;
            int size = _core.ChooseQueueSize(index, 0);
            if (size == 0)
            {
                return false;
            }
            if (!_platform.Dma.TryAllocateContiguous(1, out _controlPage))
            {
                return false;
            }
            _controlRing = _core.AllocateQueue(index, _core.ChooseQueueSize(index, 64));
            return _controlRing != null;
        }

        private void ReleaseControl()
        {
            if (_controlRing != null)
            {
                _core.FreeQueue(_controlRing);
                _controlRing = null;
            }
            if (_controlPage.IsValid)
            {
                _platform.Dma.FreeContiguous(_controlPage);
                _controlPage = default;
            }
        }

        private void TakeBackControl()
        {
            ushort head;
            while (_controlRing != null && _controlRing.DetachUnused(out head))
            {
            }
        }

        private void ReinitializeControl()
        {
            if (_controlRing != null)
            {
                _controlRing.Reinitialize();
            }
        }

        /// <summary>
        /// After DRIVER_OK (Linux virtnet_set_rx_mode at open): the card's receive filter as the options ask
        /// (promiscuous off, all-multicast, empty MAC table), then a pending announcement.
        /// </summary>
        private void StartControl()
        {
            if (!HasControlQueue)
            {
                return;
            }
            _controlRing.DisableCallbacks();
            if (HasReceiveModeControl)
            {
                SetPromiscuous(_options.Promiscuous);
                SetAllMulticast(_options.AllMulticast);
                SetMacFilter(null, 0, null, 0);
            }
            HandleAnnounce();
        }

        /// <summary>Poll hook: nothing is asynchronous on the control queue today.</summary>
        private void PollControl()
        {
        }

        /// <summary>VIRTIO_NET_CTRL_RX_PROMISC. False when the device lacks CTRL_RX or refused.</summary>
        public bool SetPromiscuous(bool on)
        {
            if (!HasReceiveModeControl || !SendReceiveMode(VirtioNetControl.RxPromiscuous, on))
            {
                return false;
            }
            Promiscuous = on;
            return true;
        }

        /// <summary>VIRTIO_NET_CTRL_RX_ALLMULTI. False when the device lacks CTRL_RX or refused.</summary>
        public bool SetAllMulticast(bool on)
        {
            if (!HasReceiveModeControl || !SendReceiveMode(VirtioNetControl.RxAllMulticast, on))
            {
                return false;
            }
            AllMulticast = on;
            return true;
        }

        private bool SendReceiveMode(byte command, bool on)
        {
            _controlPage.Virtual[ControlDataOffset] = on ? (byte)1 : (byte)0;
            return SendCommand(VirtioNetControl.ClassRx, command, 1);
        }

        /// <summary>
        /// VIRTIO_NET_CTRL_MAC_TABLE_SET: the unicast and multicast addresses the card accepts besides its own
        /// (6 bytes each, packed in the arrays). At most <see cref="MaxMacFilterEntries"/> of each.
        /// </summary>
        public bool SetMacFilter(byte[] unicast, int unicastCount, byte[] multicast, int multicastCount)
        {
            if (!HasReceiveModeControl || unicastCount < 0 || multicastCount < 0
                || unicastCount > MaxMacFilterEntries || multicastCount > MaxMacFilterEntries
                || (unicastCount > 0 && (unicast == null || unicast.Length < 6 * unicastCount))
                || (multicastCount > 0 && (multicast == null || multicast.Length < 6 * multicastCount)))
            {
                return false;
            }
            byte* data = _controlPage.Virtual + ControlDataOffset;
            int at = WriteMacTable(data, 0, unicast, unicastCount);
            at = WriteMacTable(data, at, multicast, multicastCount);
            if (!SendCommand(VirtioNetControl.ClassMac, VirtioNetControl.MacTableSet, at))
            {
                return false;
            }
            UnicastFilterEntries = unicastCount;
            MulticastFilterEntries = multicastCount;
            return true;
        }

        /// <summary>
        /// <see cref="IMulticastFilter"/>: the addresses go in the multicast half of the MAC table and all-multicast is
        /// turned off (Linux virtnet_set_rx_mode). More than <see cref="MaxMacFilterEntries"/>, a refused table or a
        /// card without CTRL_RX leave all-multicast on (false): every multicast frame still arrives.
        /// </summary>
        public bool SetMulticastFilter(byte[] addresses, int count)
        {
            if (!HasReceiveModeControl)
            {
                return false;
            }
            if (count > MaxMacFilterEntries || !SetMacFilter(null, 0, addresses, count))
            {
                SetAllMulticast(true);
                return false;
            }
            return SetAllMulticast(false);
        }

        /// <summary>struct virtio_net_ctrl_mac: le32 entries, then 6 bytes per entry.</summary>
        private static int WriteMacTable(byte* data, int at, byte[] table, int count)
        {
            data[at] = (byte)count;
            data[at + 1] = 0;
            data[at + 2] = 0;
            data[at + 3] = 0;
            at += 4;
            for (int i = 0; i < 6 * count; i++)
            {
                data[at + i] = table[i];
            }
            return at + 6 * count;
        }

        /// <summary>
        /// A GUEST_ANNOUNCE request (status bit VIRTIO_NET_S_ANNOUNCE): the stack sends a gratuitous ARP through
        /// <see cref="Announcer"/>, then VIRTIO_NET_CTRL_ANNOUNCE_ACK clears the bit.
        /// </summary>
        private void HandleAnnounce()
        {
            if (!_announceRequested || !_running)
            {
                return;
            }
            _announceRequested = false;
            _announces++;
            if (Announcer != null)
            {
                Announcer.AnnounceLink();
            }
            SendCommand(VirtioNetControl.ClassAnnounce, VirtioNetControl.AnnounceAck, 0);
        }

        /// <summary>
        /// Posts class + command (device-readable), <paramref name="dataLength"/> bytes of data (device-readable)
        /// and the ack byte (device-writable), notifies, and polls for the answer. True on VIRTIO_NET_OK.
        /// </summary>
        private bool SendCommand(byte commandClass, byte command, int dataLength)
        {
            if (_controlRing == null || !_running)
            {
                return false;
            }
            _controlCommands++;
            byte* page = _controlPage.Virtual;
            page[0] = commandClass;
            page[1] = command;
            page[ControlAckOffset] = 0xFF;
            ScatterList list = _controlScatter;
            list.Clear();
            list.Add(_controlPage.Physical, 2, false);
            if (dataLength > 0)
            {
                list.Add(_controlPage.Physical + ControlDataOffset, dataLength, false);
            }
            list.Add(_controlPage.Physical + ControlAckOffset, 1, true);
            ushort head;
            if (!_controlRing.TryAdd(list, out head))
            {
                _controlErrors++;
                return false;
            }
            if (_controlRing.KickPrepare())
            {
                _transport.NotifyQueue(_controlRing.QueueIndex);
            }
            for (int i = 0; i < ControlPolls; i++)
            {
                ushort used;
                int length;
                UsedResult result = _controlRing.TryGetUsed(out used, out length);
                if (result == UsedResult.Empty)
                {
                    continue;
                }
                if (result != UsedResult.Buffer || used != head)
                {
                    _controlErrors++;
                    RequestReset();
                    return false;
                }
                bool ok = page[ControlAckOffset] == VirtioNetControl.Ok;
                if (!ok)
                {
                    _controlErrors++;
                }
                return ok;
            }
            // No answer: the chain stays with the device until the next reset takes it back.
            _controlErrors++;
            return false;
        }

        /// <summary>The control queue needs no interrupt (commands are polled); spurious ones are ignored.</summary>
        private sealed class ControlInterrupt : IInterruptHandler
        {
            public bool HandleInterrupt() => true;
        }
    }
}
