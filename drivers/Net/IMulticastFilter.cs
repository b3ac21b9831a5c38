namespace Keel.Drivers.Net
{
    /// <summary>
    /// A network card that can limit the multicast frames it receives to a list of addresses (besides its own
    /// address and broadcast). A stack that joins groups (IPv6: all-nodes, solicited-node) hands it the list.
    /// </summary>
    public interface IMulticastFilter
    {
        /// <summary>
        /// Accepts multicast frames to the <paramref name="count"/> addresses packed (6 bytes each) in
        /// <paramref name="addresses"/>, and no others. False when the card cannot filter that list (no filter, too
        /// many addresses, the card refused): it then receives every multicast frame, a superset of the list.
        /// </summary>
        bool SetMulticastFilter(byte[] addresses, int count);
    }
}
