using Keel.Hal;

namespace Keel.Drivers.Virtio
{
    /// <summary>
    /// Interrupt routing shared by both PCI transports: MSI-X with one vector for configuration changes
    /// (vector 0) and one per queue (vector 1 + q), or the INTx line demultiplexed through the ISR register
    /// (Linux vp_find_vqs: per-queue vectors first, then INTx).
    /// </summary>
    internal sealed class VirtioPciInterrupts : IInterruptHandler
    {
        private readonly IPciFunction _pci;
        private readonly IInterruptController _controller;
        private readonly IVirtioTransport _transport;
        private IInterruptHandler _config;
        private IInterruptHandler[] _queues;
        private PciMsix _msix;
        private MsiMessage[] _messages;
        private int _messageCount;
        private bool _legacyAttached;

        public VirtioPciInterrupts(IPciFunction pci, IInterruptController controller, IVirtioTransport transport)
        {
            _pci = pci;
            _controller = controller;
            _transport = transport;
        }

        public bool UsesMsix { get; private set; }

        /// <summary>Vector to program for queue <paramref name="queue"/>, or <see cref="VirtioPciIds.NoVector"/>.</summary>
        public ushort QueueVector(int queue) => UsesMsix ? (ushort)(1 + queue) : VirtioPciIds.NoVector;

        /// <summary>Vector for configuration changes, or <see cref="VirtioPciIds.NoVector"/>.</summary>
        public ushort ConfigVector => UsesMsix ? (ushort)0 : VirtioPciIds.NoVector;

        /// <summary>Tries MSI-X; on success the caller still has to write and verify the vectors.</summary>
        public bool TryMsix(IInterruptHandler config, IInterruptHandler[] queues)
        {
            _config = config;
            _queues = queues;
            if (_controller == null)
            {
                return false;
            }
            PciMsix msix = PciMsix.TryOpen(_pci);
            int needed = 1 + queues.Length;
            if (msix == null || msix.TableSize < needed)
            {
                return false;
            }
            _messages = new MsiMessage[needed];
            _messageCount = 0;
            for (int v = 0; v < needed; v++)
            {
                MsiMessage message;
                IInterruptHandler handler = v == 0 ? config : queues[v - 1];
                if (!_controller.TryAllocateMessage(handler, out message))
                {
                    FreeMessages();
                    return false;
                }
                _messages[_messageCount++] = message;
                msix.SetEntry(v, message);
            }
            _msix = msix;
            msix.EnableTable();
            UsesMsix = true;
            return true;
        }

        /// <summary>Gives up MSI-X (device refused a vector) so INTx can be tried.</summary>
        public void AbandonMsix()
        {
            if (_msix != null)
            {
                for (int v = 0; v < _messageCount; v++)
                {
                    _msix.MaskEntry(v);
                }
                _msix.DisableTable();
                _msix = null;
            }
            FreeMessages();
            UsesMsix = false;
        }

        public bool TryLegacy(IInterruptHandler config, IInterruptHandler[] queues)
        {
            _config = config;
            _queues = queues;
            if (_controller == null)
            {
                return false;
            }
            // Clear "Interrupt Disable" (command bit 10) so the function may assert INTx.
            ushort command = _pci.ConfigRead16(4);
            _pci.ConfigWrite16(4, (ushort)(command & ~0x400));
            _legacyAttached = _controller.TryAttachLegacy(_pci, this);
            return _legacyAttached;
        }

        public void Detach()
        {
            AbandonMsix();
            if (_legacyAttached)
            {
                _controller.DetachLegacy(_pci, this);
                _legacyAttached = false;
            }
        }

        private void FreeMessages()
        {
            for (int v = 0; v < _messageCount; v++)
            {
                _controller.FreeMessage(_messages[v]);
            }
            _messageCount = 0;
        }

        /// <summary>INTx: reading ISR acknowledges; bit 0 = some queue, bit 1 = configuration change.</summary>
        public bool HandleInterrupt() => VirtioIsr.Dispatch(_transport.ReadIsr(), _config, _queues);
    }
}
