using Keel.Net.Internal;

namespace Keel.Net.Dhcp
{
    /// <summary>Why a received DHCP message was dropped (or <see cref="Ok"/>).</summary>
    public enum DhcpParseResult
    {
        Ok,
        /// <summary>Shorter than the fixed header plus the magic cookie.</summary>
        Short,
        /// <summary>op is not BOOTREPLY, htype/hlen not Ethernet, or no magic cookie.</summary>
        NotReply,
        /// <summary>xid or chaddr is not ours (another client's reply, or a stale one).</summary>
        NotOurs,
        /// <summary>An option runs past the end, has a wrong length, or option 53 is missing.</summary>
        Malformed,
        /// <summary>Well formed but with values no host may use (address 0, broadcast, loopback, multicast; holes in the netmask).</summary>
        Hostile,
    }

    /// <summary>What the client uses of a received DHCP message (RFC 2131 section 2, RFC 2132 options).</summary>
    public struct DhcpReply
    {
        public int MessageType;
        public uint YourAddress;
        public uint ServerId;
        public uint SubnetMask;
        public uint Router;
        public uint Dns0;
        public uint Dns1;
        public uint Dns2;
        public int DnsCount;
        public uint LeaseSeconds;
        public uint RenewalSeconds;
        public uint RebindingSeconds;
        public int Mtu;
        public int Overload;
    }

    /// <summary>
    /// DHCP messages (RFC 2131 section 2 layout, RFC 2132 options): builds the client's DISCOVER, REQUEST and
    /// DECLINE into a caller's buffer and checks and parses replies. Every length is checked against the
    /// datagram; nothing here allocates.
    /// </summary>
    public static unsafe class DhcpMessage
    {
        public const int ServerPort = 67;
        public const int ClientPort = 68;
        public const int OpRequest = 1;
        public const int OpReply = 2;
        public const int HardwareEthernet = 1;
        public const uint MagicCookie = 0x63825363;

        /// <summary>op..file: the fixed BOOTP header (RFC 2131 figure 1).</summary>
        public const int FixedLength = 236;

        /// <summary>Where options start (after the magic cookie).</summary>
        public const int OptionsOffset = 240;

        /// <summary>BOOTP's minimum message (RFC 1542 section 2.1): shorter requests are padded.</summary>
        public const int MinimumLength = 300;

        public const int FlagBroadcast = 0x8000;

        public const int Discover = 1;
        public const int Offer = 2;
        public const int Request = 3;
        public const int Decline = 4;
        public const int Ack = 5;
        public const int Nak = 6;
        public const int Release = 7;

        public const int OptionPad = 0;
        public const int OptionSubnetMask = 1;
        public const int OptionRouter = 3;
        public const int OptionDnsServer = 6;
        public const int OptionHostName = 12;
        public const int OptionInterfaceMtu = 26;
        public const int OptionRequestedAddress = 50;
        public const int OptionLeaseTime = 51;
        public const int OptionOverload = 52;
        public const int OptionMessageType = 53;
        public const int OptionServerId = 54;
        public const int OptionParameterList = 55;
        public const int OptionMaxMessageSize = 57;
        public const int OptionRenewalTime = 58;
        public const int OptionRebindingTime = 59;
        public const int OptionClientId = 61;
        public const int OptionEnd = 255;

        /// <summary>Options the client asks for (option 55).</summary>
        private static readonly byte[] s_parameters = { OptionSubnetMask, OptionRouter, OptionDnsServer, OptionInterfaceMtu, OptionLeaseTime, OptionServerId, OptionRenewalTime, OptionRebindingTime };

        /// <summary>Host name sent in option 12 (DNS servers such as dnsmasq register it).</summary>
        public const string HostName = "keel";

        /// <summary>
        /// Writes a client message into <paramref name="buffer"/> (at least <see cref="MinimumLength"/> bytes) and
        /// returns its length. <paramref name="clientAddress"/> goes into ciaddr (renewing, rebinding);
        /// <paramref name="requested"/> and <paramref name="server"/>, when not 0, into options 50 and 54.
        /// </summary>
        public static int Build(byte* buffer, int capacity, int type, uint xid, int seconds, bool broadcast, ulong mac,
                                uint clientAddress, uint requested, uint server, int maxMessageSize)
        {
            if (capacity < MinimumLength)
            {
                return 0;
            }
            new System.Span<byte>(buffer, MinimumLength).Clear();
            buffer[0] = OpRequest;
            buffer[1] = HardwareEthernet;
            buffer[2] = 6;
            buffer[3] = 0;
            NetBytes.Write32(buffer + 4, xid);
            NetBytes.Write16(buffer + 8, seconds > 0xFFFF ? 0xFFFF : seconds < 0 ? 0 : seconds);
            NetBytes.Write16(buffer + 10, broadcast ? FlagBroadcast : 0);
            NetBytes.Write32(buffer + 12, clientAddress);
            NetBytes.WriteMac(buffer + 28, mac);
            NetBytes.Write32(buffer + FixedLength, MagicCookie);
            byte* o = buffer + OptionsOffset;
            *o++ = OptionMessageType;
            *o++ = 1;
            *o++ = (byte)type;
            *o++ = OptionClientId;
            *o++ = 7;
            *o++ = HardwareEthernet;
            NetBytes.WriteMac(o, mac);
            o += 6;
            if (requested != 0)
            {
                *o++ = OptionRequestedAddress;
                *o++ = 4;
                NetBytes.Write32(o, requested);
                o += 4;
            }
            if (server != 0)
            {
                *o++ = OptionServerId;
                *o++ = 4;
                NetBytes.Write32(o, server);
                o += 4;
            }
            if (type != Decline && type != Release)
            {
                *o++ = OptionMaxMessageSize;
                *o++ = 2;
                NetBytes.Write16(o, maxMessageSize);
                o += 2;
                *o++ = OptionHostName;
                *o++ = (byte)HostName.Length;
                for (int i = 0; i < HostName.Length; i++)
                {
                    *o++ = (byte)HostName[i];
                }
                *o++ = OptionParameterList;
                *o++ = (byte)s_parameters.Length;
                for (int i = 0; i < s_parameters.Length; i++)
                {
                    *o++ = s_parameters[i];
                }
            }
            *o++ = OptionEnd;
            int length = (int)(o - buffer);
            return length < MinimumLength ? MinimumLength : length;
        }

        /// <summary>
        /// Checks a received datagram is a reply to transaction <paramref name="xid"/> for <paramref name="mac"/>
        /// and reads its fields and options (also those in sname/file when option 52 says so).
        /// </summary>
        public static DhcpParseResult Parse(byte* data, int length, uint xid, ulong mac, out DhcpReply reply)
        {
            reply = default;
            if (length < OptionsOffset)
            {
                return DhcpParseResult.Short;
            }
            if (data[0] != OpReply || data[1] != HardwareEthernet || data[2] != 6 || NetBytes.Read32(data + FixedLength) != MagicCookie)
            {
                return DhcpParseResult.NotReply;
            }
            if (NetBytes.Read32(data + 4) != xid || NetBytes.ReadMac(data + 28) != mac)
            {
                return DhcpParseResult.NotOurs;
            }
            reply.YourAddress = NetBytes.Read32(data + 16);
            reply.Overload = 0;
            if (!ParseOptions(data + OptionsOffset, length - OptionsOffset, ref reply, true))
            {
                return DhcpParseResult.Malformed;
            }
            // RFC 2132 9.3: option 52 moves more options into file (1), sname (2) or both (3).
            if ((reply.Overload & 1) != 0 && !ParseOptions(data + 108, 128, ref reply, false))
            {
                return DhcpParseResult.Malformed;
            }
            if ((reply.Overload & 2) != 0 && !ParseOptions(data + 44, 64, ref reply, false))
            {
                return DhcpParseResult.Malformed;
            }
            if (reply.MessageType < Discover || reply.MessageType > Release)
            {
                return DhcpParseResult.Malformed;
            }
            if (reply.MessageType == Offer || reply.MessageType == Ack)
            {
                if (!UsableAddress(reply.YourAddress) || (reply.SubnetMask != 0 && !ContiguousMask(reply.SubnetMask)) ||
                    (reply.ServerId != 0 && !UsableAddress(reply.ServerId)))
                {
                    return DhcpParseResult.Hostile;
                }
                if (reply.SubnetMask != 0 && (reply.YourAddress & ~reply.SubnetMask) == ~reply.SubnetMask)
                {
                    return DhcpParseResult.Hostile; // the subnet's broadcast address
                }
            }
            return DhcpParseResult.Ok;
        }

        private static bool ParseOptions(byte* p, int length, ref DhcpReply reply, bool main)
        {
            int i = 0;
            while (i < length)
            {
                int code = p[i];
                if (code == OptionPad)
                {
                    i++;
                    continue;
                }
                if (code == OptionEnd)
                {
                    return true;
                }
                if (i + 1 >= length)
                {
                    return false;
                }
                int size = p[i + 1];
                byte* v = p + i + 2;
                if (i + 2 + size > length)
                {
                    return false;
                }
                switch (code)
                {
                    case OptionMessageType:
                        if (size != 1) return false;
                        reply.MessageType = v[0];
                        break;
                    case OptionSubnetMask:
                        if (size != 4) return false;
                        reply.SubnetMask = NetBytes.Read32(v);
                        break;
                    case OptionRouter:
                        if (size < 4 || size % 4 != 0) return false;
                        reply.Router = NetBytes.Read32(v);
                        break;
                    case OptionDnsServer:
                        if (size < 4 || size % 4 != 0) return false;
                        reply.DnsCount = 0;
                        for (int k = 0; k < size / 4 && reply.DnsCount < 3; k++)
                        {
                            uint dns = NetBytes.Read32(v + 4 * k);
                            if (!UsableAddress(dns))
                            {
                                continue; // one bad server in the list is skipped, not fatal
                            }
                            if (reply.DnsCount == 0) reply.Dns0 = dns;
                            else if (reply.DnsCount == 1) reply.Dns1 = dns;
                            else reply.Dns2 = dns;
                            reply.DnsCount++;
                        }
                        break;
                    case OptionInterfaceMtu:
                        if (size != 2) return false;
                        reply.Mtu = NetBytes.Read16(v);
                        break;
                    case OptionLeaseTime:
                        if (size != 4) return false;
                        reply.LeaseSeconds = NetBytes.Read32(v);
                        break;
                    case OptionRenewalTime:
                        if (size != 4) return false;
                        reply.RenewalSeconds = NetBytes.Read32(v);
                        break;
                    case OptionRebindingTime:
                        if (size != 4) return false;
                        reply.RebindingSeconds = NetBytes.Read32(v);
                        break;
                    case OptionServerId:
                        if (size != 4) return false;
                        reply.ServerId = NetBytes.Read32(v);
                        break;
                    case OptionOverload:
                        if (size != 1 || !main || v[0] < 1 || v[0] > 3) return false;
                        reply.Overload = v[0];
                        break;
                }
                i += 2 + size;
            }
            // Options must end with option 255 in the main area; sname/file may simply run to their end.
            return !main;
        }

        /// <summary>A unicast host address: not 0.x, loopback, multicast/reserved or broadcast.</summary>
        public static bool UsableAddress(uint address)
        {
            uint first = address >> 24;
            return first != 0 && first != 127 && first < 224;
        }

        /// <summary>True for masks of the form 1…10…0 (and not 0 or all ones for a host).</summary>
        public static bool ContiguousMask(uint mask)
        {
            uint inverted = ~mask;
            return mask != 0 && mask != 0xFFFFFFFF && (inverted & (inverted + 1)) == 0;
        }

        /// <summary>Prefix length of a contiguous mask.</summary>
        public static int PrefixLength(uint mask)
        {
            int n = 0;
            while (n < 32 && (mask & (0x80000000u >> n)) != 0)
            {
                n++;
            }
            return n;
        }
    }
}
