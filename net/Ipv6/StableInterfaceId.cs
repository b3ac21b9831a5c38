using Keel.Net.Internal;

namespace Keel.Net.Ipv6
{
    /// <summary>
    /// Stable, semantically opaque interface identifiers (RFC 7217): RID = F(Prefix, Net_Iface, DAD_Counter,
    /// secret_key) with SipHash-2-4 as F, the MAC address as Net_Iface (no Network_ID). The same prefix on the same
    /// card gives the same identifier across boots only if the secret is kept; Keel draws it from the entropy
    /// pool at start-up, so identifiers are stable for the life of the stack and never reveal the MAC.
    /// </summary>
    internal static unsafe class StableInterfaceId
    {
        /// <summary>The 64-bit interface identifier for <paramref name="prefixHigh"/> (the /64 prefix).</summary>
        public static ulong Generate(ulong key0, ulong key1, ulong prefixHigh, ulong mac, int dadCounter)
        {
            byte* input = stackalloc byte[16];
            for (int attempt = 0; ; attempt++)
            {
                for (int i = 0; i < 8; i++)
                {
                    input[i] = (byte)(prefixHigh >> (56 - 8 * i));
                }
                NetBytes.WriteMac(input + 8, mac);
                input[14] = (byte)dadCounter;
                input[15] = (byte)attempt;
                ulong id = SipHash.Hash(key0, key1, input, 16);
                if (!Reserved(id))
                {
                    return id;
                }
            }
        }

        /// <summary>
        /// Identifiers that must not be used (RFC 5453): all zeros (the subnet-router anycast) and the reserved subnet
        /// anycast range fdff:ffff:ffff:ff80 to fdff:ffff:ffff:ffff.
        /// </summary>
        public static bool Reserved(ulong id) => id == 0 || (id >= 0xFDFFFFFFFFFFFF80UL && id <= 0xFDFFFFFFFFFFFFFFUL);
    }
}
