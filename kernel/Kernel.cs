using Keel.Hal;
using Keel.Kernel.Boot;
using Keel.Kernel.Console;
using Keel.Kernel.Interrupts;
using Keel.Kernel.Memory;
using Keel.Kernel.Scheduling;
using Keel.Kernel.Time;
using Keel.Runtime;

namespace Keel.Kernel
{
    /// <summary>
    /// Brings the machine up after memory and the runtime exist, then runs the main loop forever:
    /// deferred work (NAPI polls), expired timers, and halt when there is nothing to do.
    /// </summary>
    public static unsafe class Kernel
    {
        /// <summary>The console every layer prints to.</summary>
        public static SerialConsole Console;

        public static WorkScheduler Work;
        public static TimerService Timers;
        public static KernelClock Clock;
        public static InterruptController Interrupts;

        public static void Run()
        {
            Console = new SerialConsole();
            Console.Write("Keel kernel (NativeAOT C#) starting\n");
            Console.Write("memory: ");
            Console.Write((long)(KernelMemory.TotalRam / 1024));
            Console.Write(" KiB RAM\n");

            InterruptDispatcher.Initialize();
            LegacyPic.Disable();
            LocalApic.Initialize();
            IoApic.Initialize();
            Tsc.Calibrate();
            Clock = new KernelClock();
            Interrupts = new InterruptController();
            Work = new WorkScheduler();
            Timers = new TimerService();
            Timers.Initialize();
            Native.EnableInterrupts();
            Console.Write("clock: ");
            Console.Write((long)Tsc.TicksPerMicrosecond);
            Console.Write(" TSC ticks/us\n");
            Console.Write("Keel ready\n");
            Panic.Exit(0);
            MainLoop();
        }

        /// <summary>Runs work and timers; halts (interrupts on) when idle.</summary>
        public static void MainLoop()
        {
            while (true)
            {
                if (Work.HasPending)
                {
                    Work.RunPending();
                }
                Timers.RunExpired();
                Native.DisableInterrupts();
                if (!Work.HasPending && !Timers.AnyExpired())
                {
                    Native.EnableInterruptsAndHalt();
                }
                else
                {
                    Native.EnableInterrupts();
                }
            }
        }
    }
}
