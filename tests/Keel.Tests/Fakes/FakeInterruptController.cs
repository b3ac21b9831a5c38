using System;
using Keel.Drivers.Virtio;
using Keel.Hal;

namespace Keel.Tests.Fakes
{
    /// <summary>
    /// The kernel's interrupt routing for host tests: MSI messages are (0xFEE00000, vector) pairs; a device
    /// "writing" a message calls the bound handler. INTx lines call their attached handlers until one claims.
    /// </summary>
    public sealed class FakeInterruptController : IInterruptController
    {
        private readonly IInterruptHandler[] _vectors = new IInterruptHandler[256];
        private readonly IInterruptHandler[] _line = new IInterruptHandler[4];
        private int _nextVector = 0x30;

        /// <summary>How many more messages may be allocated (-1 = unlimited).</summary>
        public int MessagesAvailable = -1;

        public int MessagesInUse { get; private set; }
        public int LineHandlers { get; private set; }
        public long Delivered { get; private set; }
        public long Unclaimed { get; private set; }
        public string Error;

        public bool TryAllocateMessage(IInterruptHandler handler, out MsiMessage message)
        {
            message = default;
            if (MessagesAvailable == 0)
            {
                return false;
            }
            if (MessagesAvailable > 0)
            {
                MessagesAvailable--;
            }
            int vector = _nextVector++;
            _vectors[vector] = handler;
            message.Address = 0xFEE00000;
            message.Data = (uint)vector;
            message.Handle = vector;
            MessagesInUse++;
            return true;
        }

        public void FreeMessage(MsiMessage message)
        {
            if (_vectors[message.Handle] == null)
            {
                Error = Error ?? "message freed twice";
                return;
            }
            _vectors[message.Handle] = null;
            MessagesInUse--;
        }

        public bool TryAttachLegacy(IPciFunction function, IInterruptHandler handler)
        {
            for (int i = 0; i < _line.Length; i++)
            {
                if (_line[i] == null)
                {
                    _line[i] = handler;
                    LineHandlers++;
                    return true;
                }
            }
            return false;
        }

        public void DetachLegacy(IPciFunction function, IInterruptHandler handler)
        {
            for (int i = 0; i < _line.Length; i++)
            {
                if (_line[i] == handler)
                {
                    _line[i] = null;
                    LineHandlers--;
                }
            }
        }

        /// <summary>Handlers attached to platform lines, with the line each was attached with.</summary>
        private readonly System.Collections.Generic.List<(InterruptLine Line, IInterruptHandler Handler)> _platformLines =
            new System.Collections.Generic.List<(InterruptLine, IInterruptHandler)>();

        /// <summary>Largest GSI <see cref="TryAttachLine"/> accepts (-1 refuses every line).</summary>
        public int MaxGsi = 47;

        /// <summary>The last line attached with <see cref="TryAttachLine"/>.</summary>
        public InterruptLine LastLine { get; private set; }

        /// <summary>Handlers attached to platform lines.</summary>
        public int PlatformLineHandlers => _platformLines.Count;

        public bool TryAttachLine(InterruptLine line, IInterruptHandler handler)
        {
            if (line.Gsi < 0 || line.Gsi > MaxGsi)
            {
                return false;
            }
            _platformLines.Add((line, handler));
            LastLine = line;
            return true;
        }

        public void DetachLine(InterruptLine line, IInterruptHandler handler)
        {
            int index = _platformLines.FindIndex(entry => entry.Line.Gsi == line.Gsi && entry.Handler == handler);
            if (index < 0)
            {
                Error = Error ?? "line detached that was not attached";
                return;
            }
            _platformLines.RemoveAt(index);
        }

        /// <summary>GSI <paramref name="gsi"/> is asserted: its handlers run until one claims it.</summary>
        public void AssertGsi(int gsi)
        {
            foreach ((InterruptLine line, IInterruptHandler handler) in _platformLines.ToArray())
            {
                if (line.Gsi == gsi && handler.HandleInterrupt())
                {
                    Delivered++;
                    return;
                }
            }
            Unclaimed++;
        }

        /// <summary>A device wrote <paramref name="data"/> to <paramref name="address"/>.</summary>
        public void DeliverMessage(ulong address, uint data)
        {
            if ((address & 0xFFF00000) != 0xFEE00000 || data >= 256 || _vectors[data] == null)
            {
                Error = Error ?? "MSI write to an unallocated vector";
                return;
            }
            Delivered++;
            _vectors[data].HandleInterrupt();
        }

        /// <summary>The INTx line is asserted: handlers run until one claims it.</summary>
        public void AssertLine()
        {
            for (int i = 0; i < _line.Length; i++)
            {
                if (_line[i] != null && _line[i].HandleInterrupt())
                {
                    Delivered++;
                    return;
                }
            }
            Unclaimed++;
        }
    }
}
