namespace Keel.Tests.Fakes
{
    /// <summary>
    /// The control virtqueue of the simulated card (virtio "Control Virtqueue", queue 2 without multiqueue):
    /// class/command/data/ack chains read through the spec-written <see cref="DeviceRing"/>, receive mode and
    /// MAC table kept, ANNOUNCE_ACK clears VIRTIO_NET_S_ANNOUNCE. Values from <see cref="VirtioSpec"/>.
    /// </summary>
    public sealed unsafe partial class SimulatedVirtioNetDevice
    {
        public const int ControlQueueIndex = 2;

        private DeviceRing _control;
        private readonly DeviceBuffer[] _controlChain = new DeviceBuffer[DeviceRing.MaxChain];

        /// <summary>Receive filter state as the driver set it (QEMU's defaults: promiscuous on).</summary>
        public bool ControlPromiscuous = true;
        public bool ControlAllMulticast;
        public int ControlUnicastEntries = -1;
        public int ControlMulticastEntries = -1;
        public long ControlCommands;
        public long AnnounceAcks;

        /// <summary>Answer every control command with VIRTIO_NET_ERR.</summary>
        public bool ControlAnswersError;

        /// <summary>Do not answer control commands at all (the driver's bounded wait must give up).</summary>
        public bool ControlSilent;

        private int ControlQueueMaxSize() =>
            (OfferedFeatures & VirtioSpec.Bit(VirtioSpec.VIRTIO_NET_F_CTRL_VQ)) != 0 ? MaxQueueSize : 0;

        private bool SetControlQueue(int size, ulong descriptors, ulong avail, ulong used)
        {
            if (size <= 0 || size > MaxQueueSize || (size & (size - 1)) != 0 || (LegacyInterface && size != MaxQueueSize))
            {
                return false;
            }
            _control = new DeviceRing(_memory, false, (DriverFeatures & VirtioSpec.Bit(VirtioSpec.VIRTIO_F_EVENT_IDX)) != 0,
                size, descriptors, avail, used);
            return true;
        }

        private void ResetControl()
        {
            _control = null;
        }

        /// <summary>Asks the driver to announce itself (VIRTIO_NET_S_ANNOUNCE + configuration interrupt).</summary>
        public void RequestAnnounce()
        {
            ConfigStatus |= VirtioSpec.VIRTIO_NET_S_ANNOUNCE;
            ConfigGeneration++;
            RaiseConfig();
        }

        private void NotifyControl()
        {
            if (_control == null)
            {
                _memory.RecordViolation("notification of the control queue before it is set up");
                return;
            }
            int count;
            int id;
            while ((id = _control.Pop(_controlChain, out count)) >= 0)
            {
                if (ControlSilent)
                {
                    continue;
                }
                ControlCommands++;
                byte ack = Execute(count);
                DeviceBuffer last = _controlChain[count - 1];
                if (count < 2 || !last.Writable || last.Length < 1 || _controlChain[0].Writable || _controlChain[0].Length < 2)
                {
                    _memory.RecordViolation("control command chain malformed");
                    _control.Push(id, 0);
                    continue;
                }
                *_memory.DeviceAccess(last.Address, 1, "ack outside memory") = ControlAnswersError ? VirtioSpec.VIRTIO_NET_ERR : ack;
                _control.Push(id, 1);
            }
        }

        private byte Execute(int count)
        {
            byte* header = _memory.DeviceAccess(_controlChain[0].Address, 2, "control header outside memory");
            if (header == null)
            {
                return VirtioSpec.VIRTIO_NET_ERR;
            }
            byte cls = header[0];
            byte cmd = header[1];
            byte* data = count > 2 ? _memory.DeviceAccess(_controlChain[1].Address, _controlChain[1].Length, "control data outside memory") : null;
            int dataLength = count > 2 ? _controlChain[1].Length : 0;
            bool ctrlRx = (DriverFeatures & VirtioSpec.Bit(VirtioSpec.VIRTIO_NET_F_CTRL_RX)) != 0;
            if (cls == VirtioSpec.VIRTIO_NET_CTRL_RX && ctrlRx && dataLength == 1)
            {
                if (cmd == VirtioSpec.VIRTIO_NET_CTRL_RX_PROMISC)
                {
                    ControlPromiscuous = data[0] != 0;
                    return VirtioSpec.VIRTIO_NET_OK;
                }
                if (cmd == VirtioSpec.VIRTIO_NET_CTRL_RX_ALLMULTI)
                {
                    ControlAllMulticast = data[0] != 0;
                    return VirtioSpec.VIRTIO_NET_OK;
                }
            }
            if (cls == VirtioSpec.VIRTIO_NET_CTRL_MAC && cmd == VirtioSpec.VIRTIO_NET_CTRL_MAC_TABLE_SET && ctrlRx && dataLength >= 8)
            {
                // struct virtio_net_ctrl_mac { le32 entries; u8 macs[entries][6]; } twice: unicast, then multicast.
                uint unicast = *(uint*)data;
                long at = 4 + 6L * unicast;
                if (at + 4 > dataLength)
                {
                    return VirtioSpec.VIRTIO_NET_ERR;
                }
                uint multicast = *(uint*)(data + at);
                if (at + 4 + 6L * multicast != dataLength)
                {
                    return VirtioSpec.VIRTIO_NET_ERR;
                }
                ControlUnicastEntries = (int)unicast;
                ControlMulticastEntries = (int)multicast;
                return VirtioSpec.VIRTIO_NET_OK;
            }
            if (cls == VirtioSpec.VIRTIO_NET_CTRL_ANNOUNCE && cmd == VirtioSpec.VIRTIO_NET_CTRL_ANNOUNCE_ACK
                && (DriverFeatures & VirtioSpec.Bit(VirtioSpec.VIRTIO_NET_F_GUEST_ANNOUNCE)) != 0)
            {
                AnnounceAcks++;
                ConfigStatus = (ushort)(ConfigStatus & ~VirtioSpec.VIRTIO_NET_S_ANNOUNCE);
                ConfigGeneration++;
                return VirtioSpec.VIRTIO_NET_OK;
            }
            return VirtioSpec.VIRTIO_NET_ERR;
        }
    }
}
