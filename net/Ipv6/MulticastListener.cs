using Keel.Buffers;
using Keel.Drivers.Net;
using Keel.Hal;
using Keel.Net.Internal;

namespace Keel.Net.Ipv6
{
    /// <summary>
    /// The groups this host listens to and their MLDv2 reports (RFC 3810, listener part): all-nodes (ff02::1,
    /// never reported) and the solicited-node group of each address. Joining or leaving sends a State Change
    /// Report at once and again [Robustness Variable - 1] times within the Unsolicited Report Interval; a query
    /// is answered with a Current State Report after a random part of its Maximum Response Delay. Reports go to
    /// ff02::16 with hop limit 1 and the router alert option. A card that filters multicast
    /// (<see cref="IMulticastFilter"/>) is given the Ethernet addresses of the groups after every change.
    /// </summary>
    internal sealed unsafe class MulticastListener
    {
        internal const int RecordModeIsExclude = 2;
        internal const int RecordChangeToInclude = 3;
        internal const int RecordChangeToExclude = 4;
        internal const int RecordLength = 20;
        internal const int Robustness = 2;

        internal static Duration UnsolicitedReportInterval => Duration.FromSeconds(1);

        internal static readonly IPv6Address AllMldv2Routers = new IPv6Address(0xFF02000000000000UL, 0x16);

        private readonly Ipv6Layer _ip;
        private readonly long[] _counters;
        private readonly IPv6Address[] _group;
        private readonly int[] _users;

        /// <summary>Per group: state-change reports still to send (joins as CHANGE_TO_EXCLUDE, leaves as CHANGE_TO_INCLUDE).</summary>
        private readonly int[] _changesLeft;
        private readonly bool[] _leaving;
        private readonly IMulticastFilter _filter;
        private readonly byte[] _filterAddresses;
        private bool _filterChanged;
        private Instant _nextChangeReport;
        private Instant _queryResponse;

        public MulticastListener(Ipv6Layer ip, int capacity)
        {
            _ip = ip;
            _counters = ip.Counters;
            _filter = ip.Stack.Device as IMulticastFilter;
            _filterAddresses = new byte[6 * (capacity + 1)];
            _group = new IPv6Address[capacity];
            _users = new int[capacity];
            _changesLeft = new int[capacity];
            _leaving = new bool[capacity];
        }

        private int Find(IPv6Address group)
        {
            for (int i = 0; i < _group.Length; i++)
            {
                if ((_users[i] > 0 || _leaving[i]) && _group[i] == group)
                {
                    return i;
                }
            }
            return -1;
        }

        /// <summary>True for all-nodes and every group joined.</summary>
        public bool IsMember(IPv6Address group)
        {
            if (group == NeighborDiscovery.AllNodes)
            {
                return true;
            }
            int i = Find(group);
            return i >= 0 && _users[i] > 0;
        }

        /// <summary>True when the low 32 bits of a 33:33 MAC are those of all-nodes or of a group joined.</summary>
        public bool AcceptsMac(uint low)
        {
            if (low == 1)
            {
                return true;
            }
            for (int i = 0; i < _group.Length; i++)
            {
                if (_users[i] > 0 && (uint)_group[i].Low == low)
                {
                    return true;
                }
            }
            return false;
        }

        /// <summary>Joins <paramref name="group"/> (counted: two addresses may share a solicited-node group).</summary>
        public void Join(IPv6Address group, Instant now)
        {
            int i = Find(group);
            if (i < 0)
            {
                for (int k = 0; k < _group.Length && i < 0; k++)
                {
                    if (_users[k] == 0 && !_leaving[k])
                    {
                        i = k;
                    }
                }
                if (i < 0)
                {
                    return;
                }
                _group[i] = group;
            }
            if (_users[i]++ == 0)
            {
                _leaving[i] = false;
                ScheduleChange(i, now);
            }
        }

        public void Leave(IPv6Address group, Instant now)
        {
            int i = Find(group);
            if (i < 0 || _users[i] == 0)
            {
                return;
            }
            if (--_users[i] == 0)
            {
                _leaving[i] = true;
                ScheduleChange(i, now);
            }
        }

        private void ScheduleChange(int i, Instant now)
        {
            _changesLeft[i] = Robustness;
            _nextChangeReport = now;
            _filterChanged = true;
        }

        /// <summary>Gives the card the Ethernet addresses of all-nodes and of every group joined (each once).</summary>
        private void UpdateFilter()
        {
            _filterChanged = false;
            if (_filter == null)
            {
                return;
            }
            int count = 0;
            AddFilterAddress(ref count, Ipv6Layer.MulticastMac(NeighborDiscovery.AllNodes));
            for (int i = 0; i < _group.Length; i++)
            {
                if (_users[i] > 0)
                {
                    AddFilterAddress(ref count, Ipv6Layer.MulticastMac(_group[i]));
                }
            }
            _filter.SetMulticastFilter(_filterAddresses, count);
        }

        private void AddFilterAddress(ref int count, ulong mac)
        {
            for (int k = 0; k < count; k++)
            {
                ulong known = 0;
                for (int b = 0; b < 6; b++)
                {
                    known = (known << 8) | _filterAddresses[6 * k + b];
                }
                if (known == mac)
                {
                    return;
                }
            }
            for (int b = 0; b < 6; b++)
            {
                _filterAddresses[6 * count + b] = (byte)(mac >> (40 - 8 * b));
            }
            count++;
        }

        /// <summary>The link-local address is ready: reports sent so far went from ::, so they are sent again from it.</summary>
        public void LinkLocalReady(Instant now)
        {
            for (int i = 0; i < _group.Length; i++)
            {
                if (_users[i] > 0)
                {
                    ScheduleChange(i, now);
                }
            }
        }

        /// <summary>A received MLD message (checksum verified); only queries need an answer. Frees the packet.</summary>
        public void Input(Packet packet, int offset, int length, int type, in Ipv6Inbound info)
        {
            _counters[Ipv6Statistics.MldRx]++;
            if (type != Icmpv6Layer.TypeMldQuery)
            {
                packet.Free();
                return;
            }
            // RFC 3810 section 5.1.14 and 6.2: link-local source, hop limit 1; MLDv1 queries are 24 bytes, MLDv2 at least 28.
            if (!info.Source.IsLinkLocal || info.HopLimit != 1 || (length != 24 && length < 28) || !packet.EnsureLinear(offset + 24))
            {
                _counters[Ipv6Statistics.MldBad]++;
                packet.Free();
                return;
            }
            byte* q = packet.Data + offset;
            int code = NetBytes.Read16(q + 4);
            IPv6Address group = NetBytes.ReadIPv6(q + 8);
            packet.Free();
            if (!group.IsAny && !IsMember(group))
            {
                return;
            }
            // Maximum Response Code (section 5.1.3): milliseconds, in a floating-point form from 32768 on.
            long delay = code < 32768 ? code : (long)((code & 0xFFF) | 0x1000) << (((code >> 12) & 7) + 3);
            Instant now = _ip.Stack.Now;
            Instant at = now + Duration.FromMilliseconds(delay == 0 ? 0 : (long)(_ip.Stack.Random.NextUInt() % (ulong)delay));
            if (!_queryResponse.IsSet || at < _queryResponse)
            {
                _queryResponse = at;
            }
        }

        public void Poll(Instant now)
        {
            if (_filterChanged)
            {
                UpdateFilter();
            }
            if (_queryResponse.IsSet && now >= _queryResponse)
            {
                _queryResponse = Instant.None;
                SendReport(false);
            }
            if (_nextChangeReport.IsSet && now >= _nextChangeReport)
            {
                _nextChangeReport = Instant.None;
                SendReport(true);
                for (int i = 0; i < _group.Length; i++)
                {
                    if (_changesLeft[i] > 0)
                    {
                        _nextChangeReport = now + Duration.FromMilliseconds(_ip.Stack.Random.NextUInt() % (uint)UnsolicitedReportInterval.Milliseconds);
                    }
                }
            }
        }

        /// <summary>One MLDv2 report (section 5.2): the pending state changes, or every group's current state.</summary>
        private void SendReport(bool changes)
        {
            int records = 0;
            for (int i = 0; i < _group.Length; i++)
            {
                if (changes ? _changesLeft[i] > 0 : _users[i] > 0)
                {
                    records++;
                }
            }
            if (records == 0)
            {
                return;
            }
            Packet packet = _ip.Stack.AllocateTransmit();
            if (packet == null)
            {
                return;
            }
            // The report's records must fit the linear area; the group table is small enough that they do.
            int length = 8 + records * RecordLength;
            byte* m = packet.Put(length);
            if (m == null)
            {
                packet.Free();
                return;
            }
            new System.Span<byte>(m, length).Clear();
            m[0] = Icmpv6Layer.TypeMldv2Report;
            NetBytes.Write16(m + 6, records);
            byte* r = m + 8;
            for (int i = 0; i < _group.Length; i++)
            {
                if (changes ? _changesLeft[i] == 0 : _users[i] == 0)
                {
                    continue;
                }
                r[0] = (byte)(!changes ? RecordModeIsExclude : _leaving[i] ? RecordChangeToInclude : RecordChangeToExclude);
                NetBytes.WriteIPv6(r + 4, _group[i]);
                r += RecordLength;
                if (changes && --_changesLeft[i] == 0)
                {
                    _leaving[i] = false;
                }
            }
            _counters[Ipv6Statistics.MldReportsSent]++;
            // Before the link-local address is usable, reports go from :: (RFC 3590 section 4).
            _ip.Icmp.Send(packet, _ip.Addresses.LinkLocal, AllMldv2Routers, 1, true);
        }

        public void Print(ITextOutput output)
        {
            output.Write("ipv6 groups: ff02::1");
            for (int i = 0; i < _group.Length; i++)
            {
                if (_users[i] > 0)
                {
                    output.Write(' ');
                    _group[i].WriteTo(output);
                }
            }
            output.WriteLine();
        }
    }
}
