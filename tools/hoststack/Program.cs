using System;
using System.Globalization;
using System.Runtime.InteropServices;
using Keel.Apps.Echo;
using Keel.Hal;
using Keel.Apps.Iperf3;
using Keel.Net;

namespace Keel.HostStack
{
    /// <summary>
    /// Runs Keel's NetStack with the iperf3 server (port 5201) and the echo app (port 7) on a Linux tap, in one
    /// poll loop, as the kernel main loop would: device receive batch → NetStack.Poll → applications.
    /// </summary>
    public static class Program
    {
        private static volatile bool _stop;

        private static void Usage()
        {
            Console.Error.WriteLine("usage: hoststack --tap NAME [--ip 198.18.0.2] [--prefix 24] [--gateway IP] [--mtu 1500]");
            Console.Error.WriteLine("                 [--mac 02:00:00:00:00:02] [--seconds N] [--max-streams 16] [--quiet]");
        }

        private static bool ParseAddress(string text, out IPv4Address address)
        {
            address = default;
            string[] parts = text.Split('.');
            if (parts.Length != 4)
            {
                return false;
            }
            byte[] b = new byte[4];
            for (int i = 0; i < 4; i++)
            {
                if (!byte.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out b[i]))
                {
                    return false;
                }
            }
            address = new IPv4Address(b[0], b[1], b[2], b[3]);
            return true;
        }

        public static int Main(string[] args)
        {
            string tap = null;
            IPv4Address ip = new IPv4Address(198, 18, 0, 2);
            IPv4Address gateway = IPv4Address.Any;
            int prefix = 24;
            int mtu = 1500;
            double seconds = 0;
            int maxStreams = 16;
            byte[] mac = { 0x02, 0x4b, 0x65, 0x65, 0x6c, 0x02 };
            for (int i = 0; i < args.Length; i++)
            {
                string a = args[i];
                string v = i + 1 < args.Length ? args[i + 1] : null;
                bool ok = true;
                switch (a)
                {
                    case "--tap": tap = v; i++; break;
                    case "--ip": ok = v != null && ParseAddress(v, out ip); i++; break;
                    case "--gateway": ok = v != null && ParseAddress(v, out gateway); i++; break;
                    case "--prefix": ok = int.TryParse(v, out prefix); i++; break;
                    case "--mtu": ok = int.TryParse(v, out mtu); i++; break;
                    case "--seconds": ok = double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out seconds); i++; break;
                    case "--max-streams": ok = int.TryParse(v, out maxStreams); i++; break;
                    case "--mac":
                        string[] m = v == null ? new string[0] : v.Split(':');
                        ok = m.Length == 6;
                        for (int k = 0; ok && k < 6; k++)
                        {
                            ok = byte.TryParse(m[k], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out mac[k]);
                        }
                        i++;
                        break;
                    case "-h":
                    case "--help":
                        Usage();
                        return 0;
                    default:
                        ok = false;
                        break;
                }
                if (!ok)
                {
                    Console.Error.WriteLine("hoststack: bad argument " + a);
                    Usage();
                    return 2;
                }
            }
            if (tap == null)
            {
                Usage();
                return 2;
            }

            HostClock clock = new HostClock();
            ConsoleTextOutput output = new ConsoleTextOutput(clock);
            NativePageAllocator allocator = new NativePageAllocator(1 << 20);
            string error;
            TapDevice device = TapDevice.Open(tap, mac, mtu, allocator, 8192, 16384, out error);
            if (device == null)
            {
                Console.Error.WriteLine("hoststack: " + error);
                return 1;
            }
            NetConfig config = NetConfig.Create(ip, prefix, gateway);
            config.MaxSockets = 128;
            config.TransmitPages = 8192;
            NetStack stack = new NetStack(device, clock, allocator, config, (ulong)DateTime.UtcNow.Ticks);
            Iperf3ServerConfig iperfConfig = new Iperf3ServerConfig();
            iperfConfig.MaxStreams = maxStreams;
            Iperf3Server iperf = new Iperf3Server(stack, clock, output, iperfConfig);
            EchoServer echo = new EchoServer(stack, 16);
            if (!iperf.Start() || !echo.Start())
            {
                Console.Error.WriteLine("hoststack: cannot start the applications");
                return 1;
            }
            output.Write("hoststack: ");
            ip.WriteTo(output);
            output.Write('/');
            output.Write((long)prefix);
            output.Write(" on ");
            output.Write(tap);
            output.Write(" mtu ");
            output.Write((long)mtu);
            output.Write(", iperf3 on 5201, echo on 7");
            output.WriteLine();

            using PosixSignalRegistration term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; _stop = true; });
            using PosixSignalRegistration interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; _stop = true; });

            long end = seconds > 0 ? clock.NowNanoseconds + (long)(seconds * 1e9) : long.MaxValue;
            while (!_stop && clock.NowNanoseconds < end)
            {
                long now = clock.NowNanoseconds;
                long wake = Instant.Min(iperf.NextWake, stack.NextTimer).Nanoseconds;
                int timeout = wake <= now ? 0 : (int)Math.Min(1, (wake - now + 999_999) / 1_000_000);
                device.WaitReadable(timeout);
                device.PollReceive(256);
                // Timers (retransmission, delayed ACK, ARP), transmit retries and socket callbacks.
                stack.Poll();
                iperf.Poll();
                echo.Poll();
            }

            iperf.Stop();
            echo.Stop();
            output.Write("hoststack: stopping; tap rx ");
            output.Write(device.FramesReceived);
            output.Write(" frames, tx ");
            output.Write(device.FramesSent);
            output.Write(" frames, rx drops ");
            output.Write(device.ReceiveDrops);
            output.Write(", tx errors ");
            output.Write(device.TransmitErrors);
            output.WriteLine();
            iperf.PrintStatistics(output);
            stack.PrintStatus(output);
            device.Close();
            return 0;
        }
    }
}
