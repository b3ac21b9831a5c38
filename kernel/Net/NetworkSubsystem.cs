using Keel.Apps;
using Keel.Buffers;
using Keel.Drivers.Virtio;
using Keel.Drivers.VirtioNet;
using Keel.Hal;
using Keel.Kernel.Config;
using Keel.Kernel.Entropy;
using Keel.Kernel.Memory;
using Keel.Kernel.Pci;
using Keel.Net;
using Keel.Runtime;

namespace Keel.Kernel.Net
{
    /// <summary>
    /// Finds the virtio-net NIC, starts the driver with the command line's options, and (unless a raw
    /// receive hook takes every frame) puts the IPv4 stack on top of it and starts the applications
    /// (apps/Applications.cs) in an <see cref="ApplicationHost"/>.
    /// </summary>
    public static unsafe class NetworkSubsystem
    {
        /// <summary>Pages the echo hook may hold for long frames in flight on the transmit ring.</summary>
        private const int EchoPoolPages = 1024;

        /// <summary>The NIC driver, or null when none was found or it failed to start.</summary>
        public static VirtioNetDevice Device;

        /// <summary>The IPv4 stack (null in hook-only modes).</summary>
        public static NetStack Stack;

        /// <summary>The applications on the stack (apps/Applications.cs lists them).</summary>
        public static ApplicationHost Applications;

        /// <summary>Periodic safety poll of the NIC (see <see cref="ReceiveWatchdog"/>).</summary>
        public static ReceiveWatchdog Watchdog;

        /// <summary>Frame counter/echo hook (hook=drop or hook=echo-count).</summary>
        public static FrameHook Hook;

        public static void Initialize(KernelCommandLine commandLine, ITextOutput output)
        {
            PciDevice pci = EntropySubsystem.FindVirtio(VirtioNetDevice.DeviceType);
            if ((object)pci == null)
            {
                output.Write("net: no virtio-net device\n");
                return;
            }
            IVirtioTransport transport = VirtioPci.TryCreateTransport(pci, Kernel.Interrupts);
            if ((object)transport == null)
            {
                output.Write("net: virtio transport set-up failed\n");
                return;
            }
            PhysicalPageSource pages = new PhysicalPageSource(KernelMemory.Pages);
            VirtioNetPlatform platform = new VirtioNetPlatform();
            platform.Pages = pages;
            platform.Dma = pages;
            platform.Work = Kernel.Work;
            platform.Timers = Kernel.Timers;
            platform.Clock = Kernel.Clock;
            platform.Log = output;
            VirtioNetOptions options = new VirtioNetOptions();
            options.PreallocatePackets = commandLine.Prealloc;
            options.PagePoolRecycling = commandLine.RecycleEnabled;
            options.ProcessInInterrupt = !commandLine.NapiEnabled;
            // offload=on (default) | csum (checksum offload only, no TSO) | off (no checksum offload, no TSO):
            // the benchmark ablation for the offloads on top of the receive design.
            bool checksums = commandLine.Offload != OffloadMode.Off;
            bool segmentation = commandLine.Offload == OffloadMode.On;
            options.GuestChecksum = checksums;
            options.TxChecksum = checksums;
            options.GuestTso = segmentation;
            options.HostTso = segmentation;
            if (commandLine.Budget > 0)
            {
                options.Budget = commandLine.Budget;
            }
            Device = new VirtioNetDevice(transport, platform, options);
            if (!Device.Start())
            {
                output.Write("net: virtio-net failed to start\n");
                Device = null;
                return;
            }
            Kernel.Commands.Register(new StatsCommand(Device));
            Kernel.Commands.Register(new LinkCommand(Device));
            if (commandLine.GetFlag("bench-rxwatchdog", true))
            {
                Watchdog = new ReceiveWatchdog(Device, options.ProcessInInterrupt);
            }
            Kernel.ShutdownHook = new NetworkShutdown();

            if (commandLine.Hook != PacketHookMode.None)
            {
                PagePool echoPages = commandLine.Hook == PacketHookMode.EchoCount ? new PagePool(pages, EchoPoolPages) : null;
                Hook = new FrameHook(Device, echoPages);
                Device.RawReceiveHook = Hook;
                Kernel.Commands.Register(new HookCommand(Hook));
                output.Write("net: raw receive hook active, no IP stack\n");
                return;
            }

            NetConfig config = new NetConfig();
            config.Address = new IPv4Address(commandLine.IpAddress);
            config.PrefixLength = commandLine.PrefixLength;
            config.TransmitChecksumOffload = checksums;
            config.TcpSegmentationOffload = segmentation;
            config.Entropy = EntropySubsystem.Pool;
            if (commandLine.HasGateway)
            {
                config.Gateway = new IPv4Address(commandLine.Gateway);
            }
            Stack = new NetStack(Device, Kernel.Clock, pages, config, Native.ReadTimestampCounter());
            Kernel.Commands.Register(new NetCommand());
            Applications = new ApplicationHost(Stack, Kernel.Clock, output, Kernel.Commands);
            Applications.AddAll(Keel.Apps.Applications.CreateAll());
            Kernel.AddPoller(new NetworkPoller(Applications));
            Device.Announcer = new StackAnnouncer(Stack);
            Stack.SendGratuitousArp();
            output.Write("net: ");
            KernelCommandLine.WriteIpv4(output, commandLine.IpAddress);
            output.Write('/');
            output.Write(commandLine.PrefixLength);
            output.Write(" up\n");
        }

        /// <summary>Stops the device and gives every buffer back; prints the pool balance.</summary>
        public static void Shutdown(ITextOutput output)
        {
            if ((object)Device == null)
            {
                return;
            }
            if ((object)Stack != null)
            {
                Stack.Shutdown();
            }
            Device.Stop();
            Device.ReleaseMemory();
            output.Write("net: stopped, page_pool_in_flight ");
            output.Write(Device.Statistic("page_pool_in_flight"));
            output.WriteLine();
        }
    }
}
