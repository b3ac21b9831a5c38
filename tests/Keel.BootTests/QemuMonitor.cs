using System;
using System.IO;
using System.Net.Sockets;
using System.Text;
using System.Threading;

namespace Keel.BootTests
{
    /// <summary>
    /// QEMU's human monitor on a Unix socket (<c>-monitor unix:PATH,server,nowait</c>): commands such as
    /// <c>info virtio-status PATH</c>, which lists the features the guest driver accepted, and
    /// <c>announce_self</c>. Pass <see cref="QemuArguments"/> after <c>--</c> to tools/qemu-launch.
    /// </summary>
    public sealed class QemuMonitor : IDisposable
    {
        private Socket _socket;

        public QemuMonitor()
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "keel-mon-" + Guid.NewGuid().ToString("N").Substring(0, 8) + ".sock");
        }

        public string Path { get; }

        public string[] QemuArguments => new[] { "-monitor", "unix:" + Path + ",server,nowait" };

        /// <summary>Sends one command and returns what QEMU printed up to the next prompt (echo and escapes removed).</summary>
        public string Command(string command, int timeoutSeconds = 10)
        {
            if (_socket == null)
            {
                _socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                _socket.Connect(new UnixDomainSocketEndPoint(Path));
                ReadToPrompt(timeoutSeconds);
            }
            _socket.Send(Encoding.ASCII.GetBytes(command + "\n"));
            return ReadToPrompt(timeoutSeconds);
        }

        private string ReadToPrompt(int timeoutSeconds)
        {
            StringBuilder text = new StringBuilder();
            byte[] buffer = new byte[65536];
            DateTime deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
            _socket.ReceiveTimeout = 500;
            while (DateTime.UtcNow < deadline)
            {
                int count;
                try
                {
                    count = _socket.Receive(buffer);
                }
                catch (SocketException)
                {
                    continue;
                }
                if (count <= 0)
                {
                    break;
                }
                text.Append(Encoding.ASCII.GetString(buffer, 0, count));
                if (text.ToString().TrimEnd().EndsWith("(qemu)", StringComparison.Ordinal))
                {
                    break;
                }
            }
            return text.ToString();
        }

        public void Dispose()
        {
            _socket?.Dispose();
            try
            {
                File.Delete(Path);
            }
            catch (IOException)
            {
            }
        }
    }
}
