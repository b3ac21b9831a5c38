using System;
using Keel.Drivers.Virtio;
using Keel.Hal;

namespace Keel.Tests.Fakes
{
    public sealed partial class SimulatedPciFunction
    {
        private sealed class LegacyRegisters : IRegisterRegion
        {
            private readonly SimulatedPciFunction _pci;
            private readonly SimulatedVirtioNetDevice _device;

            public LegacyRegisters(SimulatedPciFunction pci, SimulatedVirtioNetDevice device)
            {
                _pci = pci;
                _device = device;
                pci.ResetTransportState();
            }

            public int Length => 0x40;
            public bool IsPortIo => true;

            private int ConfigBase => _pci.MsixEnabled ? 24 : 20;
            private int Q => _pci.QueueSelect < Queues && _device.QueueMaxSize(_pci.QueueSelect) > 0 ? _pci.QueueSelect : -1;

            public byte Read8(int offset)
            {
                if (offset == 18)
                {
                    return _device.ReadStatus();
                }
                if (offset == 19)
                {
                    return _device.ReadIsr();
                }
                if (offset >= ConfigBase)
                {
                    return _device.ReadConfig8(offset - ConfigBase);
                }
                _pci.WidthErrors++;
                return 0;
            }

            public ushort Read16(int offset)
            {
                int q = Q;
                if (offset >= ConfigBase)
                {
                    return (ushort)(Read8(offset) | (Read8(offset + 1) << 8));
                }
                switch (offset)
                {
                    case 12: return (ushort)(q < 0 ? 0 : _device.QueueMaxSize(q));
                    case 14: return _pci.QueueSelect;
                    case 20: return _pci.MsixConfigVector;
                    case 22: return q < 0 ? VirtioSpec.VIRTIO_MSI_NO_VECTOR : _pci.QueueVector[q];
                }
                _pci.WidthErrors++;
                return 0;
            }

            public uint Read32(int offset)
            {
                if (offset == 0)
                {
                    return (uint)_device.ReadDeviceFeatures();
                }
                if (offset == 8)
                {
                    int q = Q;
                    return q < 0 || !_pci.QueueEnabled[q] ? 0u : (uint)(_pci.QueueDesc[q] >> 12);
                }
                if (offset >= ConfigBase)
                {
                    return (uint)(Read16(offset) | (Read16(offset + 2) << 16));
                }
                _pci.WidthErrors++;
                return 0;
            }

            public void Write8(int offset, byte value)
            {
                if (offset == 18)
                {
                    _pci.WriteDeviceStatus(value);
                    return;
                }
                _pci.WidthErrors++;
            }

            public void Write16(int offset, ushort value)
            {
                int q = Q;
                switch (offset)
                {
                    case 14:
                        _pci.QueueSelect = value;
                        return;
                    case 16:
                        _device.Notify(value);
                        return;
                    case 20:
                        _pci.MsixConfigVector = _pci.AcceptVector(value);
                        return;
                    case 22:
                        if (q >= 0)
                        {
                            _pci.QueueVector[q] = _pci.AcceptVector(value);
                        }
                        return;
                }
                _pci.WidthErrors++;
            }

            public void Write32(int offset, uint value)
            {
                int q = Q;
                if (offset == 4)
                {
                    _device.WriteDriverFeatures(value);
                    return;
                }
                if (offset == 8 && q >= 0)
                {
                    if (value == 0)
                    {
                        _pci.QueueEnabled[q] = false;
                        return;
                    }
                    int size = _device.MaxQueueSize;
                    ulong desc = (ulong)value << 12;
                    ulong avail = desc + (ulong)(16 * size);
                    ulong used = (avail + (ulong)(6 + 2 * size) + 4095) & ~4095UL;
                    _pci.QueueDesc[q] = desc;
                    _pci.QueueEnabled[q] = _device.SetQueue(q, size, desc, avail, used);
                    return;
                }
                _pci.WidthErrors++;
            }
        }

        /// <summary>BAR 1: the MSI-X table (3 entries) and pending-bit array.</summary>
        private sealed class MsixRegisters : IRegisterRegion
        {
            private readonly SimulatedPciFunction _pci;

            public MsixRegisters(SimulatedPciFunction pci)
            {
                _pci = pci;
                for (int v = 0; v < MsixEntries; v++)
                {
                    pci.MsixTable[v * 4 + 3] = 1;
                }
            }

            public int Length => 0x1000;
            public bool IsPortIo => false;
            public byte Read8(int offset) => 0;
            public ushort Read16(int offset) => 0;

            public uint Read32(int offset) => offset < MsixEntries * 16 ? _pci.MsixTable[offset / 4] : 0u;

            public void Write8(int offset, byte value) => _pci.WidthErrors++;

            public void Write16(int offset, ushort value) => _pci.WidthErrors++;

            public void Write32(int offset, uint value)
            {
                if (offset < MsixEntries * 16 && (offset & 3) == 0)
                {
                    _pci.MsixTable[offset / 4] = value;
                }
            }
        }
    }
}
