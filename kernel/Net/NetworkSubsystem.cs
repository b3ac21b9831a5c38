using Keel.Apps;
using Keel.Apps.Hosting;
using Keel.Buffers;
using Keel.Drivers.Virtio;
using Keel.Drivers.VirtioNet;
using Keel.Hal;
using Keel.Kernel.Config;
using Keel.Kernel.Entropy;
using Keel.Kernel.Memory;
using Keel.Kernel.Platform;
using Keel.Kernel.Time;
using Keel.Net;
using Keel.Net.Dhcp;
using Keel.Net.Dns;
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

        /// <summary>DHCP client (null with a static <c>ip=</c>).</summary>
        public static DhcpClient Dhcp;

        /// <summary>DNS stub resolver (servers from the DHCP lease or <c>dns=</c>); null with a static ip= and no dns=.</summary>
        public static DnsResolver Resolver;

        /// <summary>Periodic safety poll of the NIC (see <see cref="ReceiveWatchdog"/>).</summary>
        public static ReceiveWatchdog Watchdog;

        /// <summary>Frame counter/echo hook (hook=drop or hook=echo-count).</summary>
        public static FrameHook Hook;

        /// <summary>Free pages (4 KiB) below which networking is not started: a clean message instead of a panic.</summary>
        public const long MinimumFreePages = 450;

        /// <summary>Free pages below which the network starts with its small-memory sizes.</summary>
        public const long SmallMemoryFreePages = 8192;

        /// <summary>
        /// Free pages (128 MiB) from which the receive side gets 2,048 packets and pool pages: room for the larger
        /// TCP windows receive-buffer auto-tuning asks for under loss (net/Tcp/TcpConnection.Tuning.cs).
        /// </summary>
        public const long LargeMemoryFreePages = 32768;

        /// <summary>Free pages the stack's transmit pool leaves for the NIC's receive refill; a quarter
        /// of it with small memory.</summary>
        public const int ReceiveReservePages = 64;

        /// <summary>Pool shrinking and the low-memory warning.</summary>
        public static MemoryPressure Pressure;

        /// <summary>The page source of the stack's transmit pool (refuses the receive reserve).</summary>
        public static ReservePageSource StackPages;

        public static void Initialize(KernelCommandLine commandLine, ITextOutput output)
        {
            bool found;
            IVirtioTransport transport = VirtioTransports.Find(VirtioNetDevice.DeviceType, out found);
            if (!found)
            {
                output.Write("net: no virtio-net device\n");
                return;
            }
            if ((object)transport == null)
            {
                output.Write("net: virtio transport set-up failed\n");
                return;
            }
            long freePages = KernelMemory.Pages->FreePages;
            if (freePages < MinimumFreePages)
            {
                // A `new` that fails stops the kernel: check before building anything.
                output.Write("net: not enough memory for networking (");
                output.Write(freePages * 4);
                output.Write(" KiB free, ");
                output.Write(MinimumFreePages * 4);
                output.Write(" KiB needed); no network\n");
                return;
            }
            bool smallMemory = freePages < SmallMemoryFreePages;
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
            if (!commandLine.TxLazyReclaim)
            {
                options.TxLazyReclaimNanoseconds = 0;
            }
            options.ProcessInInterrupt = !commandLine.NapiEnabled;
            options.ByteQueueLimits = commandLine.ByteQueueLimits;
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
            if (commandLine.RxBufferPages > 0)
            {
                options.RxBufferPagesMax = commandLine.RxBufferPages;
            }
            if (smallMemory)
            {
                // Little RAM: a smaller receive ring, pool and packet tables (docs/network-stack.md, "Memory").
                options.RxQueueSize = 128;
                options.RxPoolPages = 128;
                options.RxPackets = 256;
                options.TxPackets = 256;
            }
            else if (freePages >= LargeMemoryFreePages)
            {
                options.RxPackets = 2048;
                options.RxPoolPages = 2048;
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
            // Sockets: sockets=N, or a quarter of the memory still free over what one costs.
            config.MaxSockets = commandLine.Sockets > 0 ? commandLine.Sockets : NetConfig.SocketsForMemory(freePages * DmaPage.Size);
            if (smallMemory)
            {
                config.TransmitPages = 256;
                config.MaxSockets = commandLine.Sockets > 0 ? commandLine.Sockets : 24;
                config.TcpReceiveBufferSize = 128 * 1024;
                config.TcpReceiveBufferMax = 128 * 1024; // no auto-tuning
                config.TcpSendBufferSize = 64 * 1024;
            }
            // bench-rcvbuf=BYTES: a fixed TCP receive buffer and no tuning, to measure throughput and latency
            // against the window (docs/network-stack.md, "What bounds latency under load").
            long fixedReceive;
            if (commandLine.TryGetInt64("bench-rcvbuf", out fixedReceive) && fixedReceive >= 4096 && fixedReceive <= (1 << 24))
            {
                config.TcpReceiveBufferSize = (int)fixedReceive;
                config.TcpReceiveBufferMax = (int)fixedReceive;
            }
            // ip=dhcp or no ip= at all: start unconfigured (0.0.0.0) and let the DHCP client set the address.
            config.Address = new IPv4Address(commandLine.UseDhcp ? 0 : commandLine.IpAddress);
            config.PrefixLength = commandLine.UseDhcp ? 0 : commandLine.PrefixLength;
            config.TransmitChecksumOffload = checksums;
            config.TcpSegmentationOffload = segmentation;
            config.TcpReceiveRightSizing = commandLine.ReceiveRightSizing;
            config.TcpReceiveMarginPercent = commandLine.ReceiveMarginPercent;
            config.TcpCongestionControl = commandLine.TcpNewReno ? TcpCongestionAlgorithm.NewReno : TcpCongestionAlgorithm.Cubic;
            config.Entropy = EntropySubsystem.Pool;
            config.Ipv6Enabled = commandLine.Ipv6Enabled;
            config.Ipv6Address = commandLine.Ipv6Address;
            config.Ipv6PrefixLength = commandLine.Ipv6PrefixLength;
            config.Ipv6Gateway = commandLine.Ipv6Gateway;
            if (commandLine.HasGateway && !commandLine.UseDhcp)
            {
                config.Gateway = new IPv4Address(commandLine.Gateway);
            }
            int reserve = smallMemory ? ReceiveReservePages / 4 : ReceiveReservePages;
            StackPages = new ReservePageSource(pages, reserve);
            Stack = new NetStack(Device, Kernel.Clock, StackPages, config, Native.ReadTimestampCounter());
            Pressure = new MemoryPressure(2 * reserve, options.ProcessInInterrupt);
            Kernel.Commands.Register(new NetCommand());
            Applications = new ApplicationHost(Stack, Kernel.Clock, output, Kernel.Commands);
            // A resolver only where it can have servers (from DHCP, RDNSS or dns=): a static ip= with ipv6=off and
            // no dns= costs nothing. Small memory: one lookup at a time and a 4-entry cache.
            if (commandLine.UseDhcp || commandLine.HasDnsServer || commandLine.Ipv6Enabled)
            {
                Resolver = smallMemory ? new DnsResolver(Stack, 1, 4) : new DnsResolver(Stack);
            }
            Kernel.Commands.Register(new ResolveCommand(Resolver, output));
            Ping6Command ping6 = new Ping6Command(Stack, Kernel.Clock, output);
            Kernel.Commands.Register(ping6);
            Applications.Add(ping6); // polled: its later requests go one interval apart
            if (commandLine.UseDhcp)
            {
                Dhcp = new DhcpClient(Stack);
                Dhcp.Log = output;
            }
            if ((object)Dhcp != null || (object)Resolver != null)
            {
                // First, so that the address and DNS servers are current when the applications run.
                IPAddress fixedDns = commandLine.DnsServer != 0 ? new IPAddress(new IPv4Address(commandLine.DnsServer))
                                                                 : new IPAddress(commandLine.DnsServer6);
                Applications.Add(new AddressServices(Stack, Dhcp, Resolver, fixedDns));
            }
            RegisterStatistics();
            Applications.AddAll(Keel.Apps.Applications.CreateAll());
            Kernel.AddPoller(new NetworkPoller(Applications));
            Device.Announcer = new StackAnnouncer(Stack);
            if (commandLine.UseDhcp)
            {
                output.Write("net: up, address by DHCP\n");
                return;
            }
            Stack.SendGratuitousArp();
            output.Write("net: ");
            KernelCommandLine.WriteIpv4(output, commandLine.IpAddress);
            output.Write('/');
            output.Write(commandLine.PrefixLength);
            output.Write(" up\n");
        }

        /// <summary>
        /// Every counter source of the kernel in the application host's registry (the HTTP server's /metrics and
        /// /stats), and the wall clock for dates: the RTC read once now, against the monotonic clock.
        /// </summary>
        private static void RegisterStatistics()
        {
            StatisticsRegistry registry = Applications.Statistics;
            registry.Add("virtio_net", Device);
            if ((object)Watchdog != null)
            {
                registry.Add("rx_watchdog", Watchdog);
            }
            if ((object)Dhcp != null)
            {
                registry.Add("dhcp", Dhcp);
            }
            if ((object)Resolver != null)
            {
                registry.Add("dns", Resolver);
            }
            if ((object)EntropySubsystem.Device != null)
            {
                registry.Add("rng", EntropySubsystem.Device);
            }
            registry.Add("memory", new MemoryStatistics());
            registry.Add("timer", new TimerStatistics(Kernel.Timers));
            long unixNow = RtcReference.ReadUnixSeconds();
            if (unixNow != 0)
            {
                Applications.UnixSecondsAtClockZero = unixNow - Kernel.Clock.NowNanoseconds / 1000000000L;
            }
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
