using Keel.Hal;
using Keel.Net.Internal;

namespace Keel.Net.Tcp
{
    /// <summary>
    /// SYN cookies (RFC 4987 §3.6) laid out as Linux's net/ipv4/syncookies.c: when a listener's SYN queue is
    /// full the SYN-ACK's initial sequence number carries the connection's state instead of a queue entry.
    /// <code>
    /// cookie = H(key0; saddr, daddr, sport:dport, 0) + client ISN + (minute &lt;&lt; 24)
    ///        + ((H(key1; saddr, daddr, sport:dport, minute) + mss index) mod 2^24)
    /// </code>
    /// H is SipHash-2-4 truncated to 32 bits: over IPv4 of four 32-bit words (Linux: siphash_4u32), over IPv6 of
    /// both whole addresses, the ports and the count (Linux cookie_v6 hashes the same fields). The minute counter
    /// counts 60 s periods of the stack clock, a cookie is accepted for 2 minutes (Linux MAX_SYNCOOKIE_AGE),
    /// and the MSS is one of Linux's four table values, rounded down: {536, 1300, 1440, 1460} over IPv4,
    /// {1220, 1420, 1440, 8940} (MTU 1280, 1480, 1500, 9000 less 60) over IPv6. Window scale and
    /// SACK-permitted do not fit in the ISN: when the SYN carried RFC 7323 timestamps they go into the low
    /// <see cref="TsBits"/> bits of the SYN-ACK's TSval (Linux cookie_init_timestamp) and come back in the
    /// completing ACK's TSecr (cookie_timestamp_decode):
    /// <code>
    /// TSval = ((clock ms &gt;&gt; 6) &lt;&lt; 6 | options) (64 ms earlier if that is ahead of the clock) + offset
    /// options: bits 0-3 the client's window scale (15: none), bit 4 SACK-permitted, bit 5 ECN (never set here)
    /// </code>
    /// A client without timestamps gets a cookie connection without window scaling and SACK, as in Linux.
    /// </summary>
    internal sealed class SynCookies
    {
        /// <summary>Bits of the cookie below the minute counter (Linux COOKIEBITS).</summary>
        public const int CookieBits = 24;

        /// <summary>Mask of those bits (Linux COOKIEMASK).</summary>
        public const uint CookieMask = (1u << CookieBits) - 1;

        /// <summary>A cookie is valid in the minute it was made and the next one (Linux MAX_SYNCOOKIE_AGE).</summary>
        public const uint MaxAgeMinutes = 2;

        /// <summary>Length of a cookie "minute" (Linux: 60 * HZ jiffies).</summary>
        public static Duration CookieMinute => Duration.FromSeconds(60);

        private readonly ulong _key0a;
        private readonly ulong _key0b;
        private readonly ulong _key1a;
        private readonly ulong _key1b;

        /// <param name="k0a">First secret, low half.</param> <param name="k0b">First secret, high half.</param>
        /// <param name="k1a">Second secret, low half.</param> <param name="k1b">Second secret, high half.</param>
        public SynCookies(ulong k0a, ulong k0b, ulong k1a, ulong k1b)
        {
            _key0a = k0a;
            _key0b = k0b;
            _key1a = k1a;
            _key1b = k1b;
        }

        /// <summary>The MSS a cookie can carry for a peer MSS: the largest table value not above it (the first at least).</summary>
        public static int EncodableMss(int mss, bool ipv6, out int index)
        {
            index = MssTableLength - 1;
            while (index > 0 && mss < MssTable(index, ipv6))
            {
                index--;
            }
            return MssTable(index, ipv6);
        }

        /// <summary>
        /// Linux msstab: 536, 1300, 1440 (PPPoE/VPN), 1460 (Ethernet); over IPv6 (Linux msstab in syncookies.c of
        /// ipv6) 1220 (the minimum MTU), 1420, 1440 (Ethernet), 8940 (jumbo frames).
        /// </summary>
        public static int MssTable(int index, bool ipv6)
        {
            switch (index)
            {
                case 0: return ipv6 ? 1280 - 60 : 536;
                case 1: return ipv6 ? 1480 - 60 : 1300;
                case 2: return ipv6 ? 1500 - 60 : 1440;
                default: return ipv6 ? 9000 - 60 : 1460;
            }
        }

        public const int MssTableLength = 4;

        /// <summary>Minute counter for a clock time.</summary>
        public static uint Minute(Instant now) => (uint)(now.SinceOrigin / CookieMinute);

        /// <summary>The cookie (our ISN) for a SYN from saddr:sport to daddr:dport with ISN <paramref name="clientIsn"/>.</summary>
        public uint Make(IPAddress saddr, IPAddress daddr, int sport, int dport, uint clientIsn, int mssIndex, uint minute)
        {
            uint ports = ((uint)sport << 16) | (uint)dport;
            return Hash(_key0a, _key0b, saddr, daddr, ports, 0) + clientIsn + (minute << CookieBits) +
                   ((Hash(_key1a, _key1b, saddr, daddr, ports, minute) + (uint)mssIndex) & CookieMask);
        }

        /// <summary>
        /// Checks the cookie in an ACK: <paramref name="cookie"/> is the ACK number minus one, <paramref name="clientIsn"/>
        /// the ACK's sequence number minus one. The MSS index, or -1 when the cookie is forged or too old.
        /// </summary>
        public int Check(IPAddress saddr, IPAddress daddr, int sport, int dport, uint clientIsn, uint cookie, uint minute)
        {
            uint ports = ((uint)sport << 16) | (uint)dport;
            cookie -= Hash(_key0a, _key0b, saddr, daddr, ports, 0) + clientIsn;
            uint age = (minute - (cookie >> CookieBits)) & (0xFFFFFFFFu >> CookieBits);
            if (age >= MaxAgeMinutes)
            {
                return -1;
            }
            uint made = minute - age;
            uint index = (cookie - Hash(_key1a, _key1b, saddr, daddr, ports, made)) & CookieMask;
            return index < MssTableLength ? (int)index : -1;
        }

        /// <summary>Bits of a cookie TSval that carry options (Linux TSBITS).</summary>
        public const int TsBits = 6;

        /// <summary>TSval bits 0-3: the client's window scale, all ones when it offered none (Linux TS_OPT_WSCALE_MASK).</summary>
        public const uint TsWindowScaleMask = 0xF;

        /// <summary>TSval bit 4: the client offered SACK-permitted (Linux TS_OPT_SACK).</summary>
        public const uint TsSack = 1u << 4;

        /// <summary>TSval bit 5: ECN agreed (Linux TS_OPT_ECN); this stack has no ECN and never sets it.</summary>
        public const uint TsEcn = 1u << 5;

        /// <summary>
        /// The TSval (before the stack's timestamp offset) of a cookie SYN-ACK at clock value <paramref name="tsNow"/>:
        /// the clock with its low <see cref="TsBits"/> bits replaced by the options, moved back one step when that
        /// would be ahead of the clock, so the connection's later TSvals never go backwards (Linux cookie_init_timestamp).
        /// <paramref name="peerWindowScale"/>: the shift the SYN offered, or -1 for none.
        /// </summary>
        public static uint EncodeTimestamp(uint tsNow, int peerWindowScale, bool sackPermitted)
        {
            uint options = peerWindowScale >= 0 ? (uint)peerWindowScale & TsWindowScaleMask : TsWindowScaleMask;
            if (sackPermitted)
            {
                options |= TsSack;
            }
            uint ts = ((tsNow >> TsBits) << TsBits) | options;
            if ((int)(ts - tsNow) > 0)
            {
                ts -= 1u << TsBits;
            }
            return ts;
        }

        /// <summary>
        /// The options of an echoed cookie TSval (the completing ACK's TSecr minus the stack's offset), as Linux
        /// cookie_timestamp_decode: window scale (-1: none) and SACK-permitted. False when the ECN bit is set
        /// (this stack never offers ECN, so the value is not one it sent).
        /// </summary>
        public static bool DecodeTimestamp(uint tsEcr, out int peerWindowScale, out bool sackPermitted)
        {
            sackPermitted = (tsEcr & TsSack) != 0;
            uint scale = tsEcr & TsWindowScaleMask;
            peerWindowScale = scale == TsWindowScaleMask ? -1 : (int)scale;
            return (tsEcr & TsEcn) == 0;
        }

        private static unsafe uint Hash(ulong k0, ulong k1, IPAddress saddr, IPAddress daddr, uint ports, uint count)
        {
            if (saddr.IsIPv4)
            {
                return (uint)SipHash.Hash4(k0, k1, saddr.V4.Value, daddr.V4.Value, ports, count);
            }
            byte* words = stackalloc byte[40];
            NetBytes.WriteIPv6(words, saddr.V6);
            NetBytes.WriteIPv6(words + 16, daddr.V6);
            NetBytes.Write32(words + 32, ports);
            NetBytes.Write32(words + 36, count);
            return (uint)SipHash.Hash(k0, k1, words, 40);
        }
    }
}
