namespace Keel.Drivers.Net
{
    /// <summary>
    /// The stack's side of a link announcement (virtio VIRTIO_NET_F_GUEST_ANNOUNCE: the device, e.g. after a
    /// live migration, asks the guest to announce itself). The driver calls it from the main loop; the stack
    /// sends a gratuitous ARP for its address.
    /// </summary>
    public interface ILinkAnnouncer
    {
        void AnnounceLink();
    }
}
