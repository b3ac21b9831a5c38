using Keel.Hal;
using Keel.Kernel.Boot;
using Keel.Kernel.Config;
using Keel.Kernel.Console;
using Keel.Kernel.Diagnostics;
using Keel.Kernel.Interrupts;
using Keel.Kernel.Memory;
using Keel.Kernel.Pci;
using Keel.Kernel.Scheduling;
using Keel.Kernel.Shell;
using Keel.Kernel.Time;
using Keel.Runtime;

namespace Keel.Kernel
{
    /// <summary>
    /// Brings the machine up after memory and the runtime exist, then runs the main loop forever:
    /// deferred work (NAPI polls, shell input), expired timers, the pollers (every pass), and halt when there is
    /// nothing to do.
    /// </summary>
    public static unsafe class Kernel
    {
        /// <summary>The console every layer prints to.</summary>
        public static SerialConsole Console;

        /// <summary>Options from the kernel command line (QEMU -append).</summary>
        public static KernelCommandLine CommandLine;

        /// <summary>Deferred work run from the main loop.</summary>
        public static WorkScheduler Work;

        /// <summary>One-shot timers.</summary>
        public static TimerService Timers;

        /// <summary>Monotonic clock.</summary>
        public static KernelClock Clock;

        /// <summary>MSI and legacy interrupt routing.</summary>
        public static InterruptController Interrupts;

        /// <summary>Shell commands; any layer may add its own with <c>Commands.Register</c>.</summary>
        public static ShellCommandRegistry Commands;

        /// <summary>The serial shell.</summary>
        public static CommandShell Shell;

        /// <summary>Called by <c>exit</c> before QEMU stops (drivers return their buffers here).</summary>
        public static IWorkItem ShutdownHook;

        private static PollerList s_pollers;

        /// <summary>
        /// Adds an item run after every main-loop pass, whether or not the pass had work (the network stack and
        /// its applications). Start-up only; more than <see cref="PollerList.DefaultCapacity"/> stops the kernel with a panic.
        /// </summary>
        public static void AddPoller(IWorkItem poller)
        {
            if (!s_pollers.Add(poller))
            {
                Panic.Fail("too many pollers");
            }
        }

        public static void Run()
        {
            Console = new SerialConsole();
            Console.Write("Keel kernel (NativeAOT C#) starting\n");
            BuildId.Print(Console);
            BootInfo.Print(Console);
            CommandLine = KernelCommandLine.Parse(BootInfo.CommandLine, BootInfo.CommandLineLength);
            CommandLine.ReportIssues(Console);
            Console.Write("memory: ");
            Console.Write((long)(KernelMemory.TotalRam / 1024));
            Console.Write(" KiB RAM, ");
            Console.Write(KernelMemory.Pages->FreePages * 4);
            Console.Write(" KiB free\n");

            InterruptDispatcher.Initialize();
            LegacyPic.Disable();
            Keel.Kernel.Acpi.AcpiSubsystem.Initialize(Console);
            LocalApic.Initialize(Keel.Kernel.Acpi.AcpiSubsystem.LocalApicAddress);
            IoApic.Initialize(Keel.Kernel.Acpi.AcpiSubsystem.Madt);
            // The APIC timer runs while the TSC is calibrated: its rate is measured over the same time.
            LocalApic.StartFreeRunning();
            uint apicStartCount = LocalApic.TimerCurrentCount;
            ulong apicStartTsc = Native.ReadTimestampCounter();
            Tsc.Calibrate(Console);
            Clock = new KernelClock();
            Interrupts = new InterruptController();
            Work = new WorkScheduler();
            Timers = new TimerService();
            Timers.Initialize(apicStartCount, apicStartTsc);
            Native.EnableInterrupts();
            Tsc.Print(Console);

            FaultTests.Run(CommandLine.Test);

            s_pollers = new PollerList();
            Commands = new ShellCommandRegistry();
            Commands.Register(new ExitCommand());
            Commands.Register(new UptimeCommand());
            Commands.Register(new TimersCommand());
            Commands.Register(new MemCommand());
            Commands.Register(new RuntimeSelfTest());
            PciSubsystem.Initialize(Console);
            Commands.Register(new PciCommand());
            Keel.Kernel.Platform.VirtioMmioDevices.Initialize(CommandLine, Console);

            Keel.Kernel.Entropy.EntropySubsystem.Initialize(Console);
            Keel.Kernel.Net.NetworkSubsystem.Initialize(CommandLine, Console);

            Shell = new CommandShell(Commands, Console);
            SerialInput input = new SerialInput(Shell, Work);
            Interrupts.AttachIsa(SerialPort.Irq, input);
            SerialPort.EnableReceiveInterrupt();

            if (Work.Rejected != 0)
            {
                Panic.Fail("too many work items");
            }
            Console.Write("Keel ready\n");
            if (CommandLine.ShellEnabled)
            {
                AddPoller(new FirstPrompt(Shell, Keel.Kernel.Net.NetworkSubsystem.Dhcp, Console, Instant.Now(Clock)));
            }
            MainLoop();
        }

        /// <summary>Runs the shutdown hook (drivers give their buffers back).</summary>
        public static void Shutdown()
        {
            if ((object)ShutdownHook != null)
            {
                ShutdownHook.Run();
            }
        }

        /// <summary>
        /// Runs work and timers; when idle, polls for new work a little while after the last work
        /// (<see cref="KernelCommandLine.HaltPollMicroseconds"/>), then halts (interrupts on).
        /// </summary>
        public static void MainLoop()
        {
            long pollNanoseconds = (long)CommandLine.HaltPollMicroseconds * 1000;
            long lastWork = 0;
            while (true)
            {
                if (Work.HasPending)
                {
                    Work.RunPending();
                    lastWork = Tsc.NowNanoseconds;
                }
                Timers.RunExpired();
                s_pollers.RunAll();
                if (lastWork != 0 && PollForWork(lastWork + pollNanoseconds))
                {
                    continue;
                }
                Native.DisableInterrupts();
                // PrepareIdle re-arms the APIC if a timer interrupt since the last arming left an active
                // timer without one; interrupts stay off until the halt, so none can be missed.
                if (!Work.HasPending && Timers.PrepareIdle())
                {
                    Native.EnableInterruptsAndHalt();
                }
                else
                {
                    Native.EnableInterrupts();
                }
            }
        }

        /// <summary>Spins (interrupts on) until work or an expired timer comes, true, or until <paramref name="until"/>, false.</summary>
        private static bool PollForWork(long until)
        {
            while (Tsc.NowNanoseconds < until)
            {
                if (Work.HasPending || Timers.AnyExpired())
                {
                    return true;
                }
                Native.Pause();
            }
            return false;
        }
    }
}
