namespace Keel.Net.Dhcp
{
    /// <summary>The client's state (RFC 2131 figure 5, plus the RFC 5227 probe between REQUESTING and BOUND).</summary>
    public enum DhcpState
    {
        /// <summary>Not started, or stopped.</summary>
        Stopped,
        /// <summary>About to send a DISCOVER (at the deadline).</summary>
        Init,
        /// <summary>DISCOVER sent, waiting for an OFFER.</summary>
        Selecting,
        /// <summary>REQUEST for an offer sent, waiting for the ACK.</summary>
        Requesting,
        /// <summary>ACK taken; ARP probes for the address are out (RFC 5227 section 2.1).</summary>
        Probing,
        /// <summary>Address in use until T1.</summary>
        Bound,
        /// <summary>After T1: REQUEST unicast to the server that gave the lease.</summary>
        Renewing,
        /// <summary>After T2: REQUEST broadcast to any server.</summary>
        Rebinding,
    }
}
