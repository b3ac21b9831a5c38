using Keel.Drivers.Virtio;

namespace Keel.Drivers.VirtioNet
{
    public sealed partial class VirtioNetDevice
    {
        /// <summary>The subset of <paramref name="offered"/> this driver understands and was asked to use.</summary>
        private ulong ChooseFeatures(ulong offered)
        {
            ulong wanted = VirtioNetFeatures.Mac | VirtioNetFeatures.Status | VirtioNetFeatures.Mtu;
            if (!_transport.IsLegacy)
            {
                wanted |= VirtioFeatures.Version1;
                if (_options.PackedRing)
                {
                    wanted |= VirtioFeatures.RingPacked;
                }
            }
            if (_options.ControlQueue)
            {
                wanted |= VirtioNetFeatures.ControlQueue;
            }
            if (_options.MergeableRxBuffers)
            {
                wanted |= VirtioNetFeatures.MergeableRxBuffers;
            }
            if (_options.EventIndex)
            {
                wanted |= VirtioFeatures.EventIndex;
            }
            if (_options.IndirectDescriptors)
            {
                wanted |= VirtioFeatures.IndirectDescriptors;
            }
            if (_options.TxHeaderPush && _transport.IsLegacy)
            {
                wanted |= VirtioFeatures.AnyLayout;
            }
            if (_options.GuestChecksum || _options.GuestTso)
            {
                wanted |= VirtioNetFeatures.GuestCsum;
            }
            if (_options.TxChecksum || _options.HostTso)
            {
                wanted |= VirtioNetFeatures.Csum;
            }
            if (_options.HostTso)
            {
                wanted |= VirtioNetFeatures.HostTso4 | VirtioNetFeatures.HostTso6;
            }
            if (_options.GuestTso)
            {
                wanted |= VirtioNetFeatures.GuestTso4 | VirtioNetFeatures.GuestTso6;
            }
            if (_options.ControlQueue)
            {
                wanted |= VirtioNetFeatures.ControlRx | VirtioNetFeatures.GuestAnnounce;
            }
            _askedFeatures = _transport.IsLegacy ? wanted & 0xFFFFFFFFUL : wanted;
            ulong result = wanted & offered;
            // The dependent features are taken below, each only when what it depends on was negotiated.
            result &= ~(VirtioNetFeatures.HostTso4 | VirtioNetFeatures.HostTso6 | VirtioNetFeatures.GuestTso4 | VirtioNetFeatures.GuestTso6 | VirtioNetFeatures.ControlRx | VirtioNetFeatures.GuestAnnounce);
            // HOST_TSO4/6 depend on CSUM.
            if (_options.HostTso && (result & VirtioNetFeatures.Csum) != 0)
            {
                result |= offered & (VirtioNetFeatures.HostTso4 | VirtioNetFeatures.HostTso6);
            }
            // GUEST_TSO4/6 depend on GUEST_CSUM ("Feature bit requirements").
            if (_options.GuestTso && (result & VirtioNetFeatures.GuestCsum) != 0)
            {
                result |= offered & (VirtioNetFeatures.GuestTso4 | VirtioNetFeatures.GuestTso6);
            }
            // CTRL_RX and GUEST_ANNOUNCE depend on CTRL_VQ.
            if ((result & VirtioNetFeatures.ControlQueue) != 0)
            {
                result |= offered & (VirtioNetFeatures.ControlRx | VirtioNetFeatures.GuestAnnounce);
            }
            if (_transport.IsLegacy)
            {
                result &= 0xFFFFFFFFUL;
            }
            return result;
        }

        private bool Has(ulong feature) => _core.Has(feature);

        /// <summary>
        /// Reads MAC, link status and MTU, consistently under config_generation (the core's read_consistent).
        /// The MTU (VIRTIO_NET_F_MTU) is the device's maximum; values below 68 are ignored.
        /// </summary>
        private void ReadConfiguration()
        {
            int mtu = DefaultMtu;
            bool linkUp = true;
            bool announce = false;
            int tries = 0;
            uint generation;
            do
            {
                generation = _core.BeginConfigRead();
                if (Has(VirtioNetFeatures.Mac))
                {
                    for (int i = 0; i < 6; i++)
                    {
                        _mac[i] = _transport.ReadConfig8(VirtioNetConfig.Mac + i);
                    }
                }
                if (Has(VirtioNetFeatures.Status))
                {
                    ushort status = _transport.ReadConfig16(VirtioNetConfig.Status);
                    linkUp = (status & VirtioNetConfig.StatusLinkUp) != 0;
                    announce = (status & VirtioNetConfig.StatusAnnounce) != 0;
                }
                if (Has(VirtioNetFeatures.Mtu))
                {
                    mtu = _transport.ReadConfig16(VirtioNetConfig.Mtu);
                }
            }
            while (!_core.ConfigReadDone(generation, ref tries));
            if (!Has(VirtioNetFeatures.Mac))
            {
                // Locally administered unicast address, stable for this boot.
                long seed = _platform.Clock != null ? _platform.Clock.NowNanoseconds : 0;
                _mac[0] = 0x02;
                _mac[1] = 0x4B;
                _mac[2] = (byte)(seed >> 24);
                _mac[3] = (byte)(seed >> 16);
                _mac[4] = (byte)(seed >> 8);
                _mac[5] = (byte)seed;
            }
            if (mtu < MinMtu)
            {
                mtu = DefaultMtu;
            }
            Mtu = mtu;
            LinkUp = linkUp;
            _announceRequested = announce && Has(VirtioNetFeatures.GuestAnnounce);
        }

        private void ChooseReceiveMode()
        {
            bool guestGso = Has(VirtioNetFeatures.GuestTso4) || Has(VirtioNetFeatures.GuestTso6);
            BigPackets = guestGso || Mtu > DefaultMtu;
            if (Has(VirtioNetFeatures.MergeableRxBuffers))
            {
                Mode = ReceiveMode.Mergeable;
            }
            else if (BigPackets)
            {
                Mode = ReceiveMode.Big;
            }
            else
            {
                Mode = ReceiveMode.Small;
            }
        }
    }
}
