using Keel.Buffers;
using Keel.Drivers.Net;
using Keel.Net;

namespace Keel.Kernel.Net
{
    /// <summary>The driver's GUEST_ANNOUNCE callback: the stack sends a gratuitous ARP for its address.</summary>
    public sealed class StackAnnouncer : ILinkAnnouncer
    {
        private readonly NetStack _stack;

        public StackAnnouncer(NetStack stack)
        {
            _stack = stack;
        }

        public void AnnounceLink()
        {
            _stack.SendGratuitousArp();
        }
    }
}
