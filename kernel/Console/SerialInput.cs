using Keel.Hal;
using Keel.Kernel.Shell;

namespace Keel.Kernel.Console
{
    /// <summary>
    /// COM1 receive path: the interrupt drains the UART into a ring and schedules the shell work item,
    /// which feeds the bytes to the <see cref="CommandShell"/> from the main loop.
    /// </summary>
    public sealed class SerialInput : IInterruptHandler, IWorkItem
    {
        private const int RingSize = 256;

        private readonly byte[] _ring = new byte[RingSize];
        private readonly CommandShell _shell;
        private readonly IWorkScheduler _scheduler;
        private int _head;
        private int _tail;
        private int _work;

        /// <summary>Bytes dropped because the ring was full.</summary>
        public long Overruns { get; private set; }

        public SerialInput(CommandShell shell, IWorkScheduler scheduler)
        {
            _shell = shell;
            _scheduler = scheduler;
            _work = scheduler.Register(this);
        }

        public bool HandleInterrupt()
        {
            bool any = false;
            byte value;
            while (SerialPort.TryRead(out value))
            {
                int next = (_head + 1) & (RingSize - 1);
                if (next == _tail)
                {
                    Overruns++;
                    continue;
                }
                _ring[_head] = value;
                _head = next;
                any = true;
            }
            if (any)
            {
                _scheduler.Schedule(_work);
            }
            return any;
        }

        public void Run()
        {
            while (_tail != System.Threading.Volatile.Read(ref _head))
            {
                byte value = _ring[_tail];
                _tail = (_tail + 1) & (RingSize - 1);
                _shell.Feed(value);
            }
        }
    }
}
