using Keel.Apps.Echo;
using Keel.Apps.Hosting;
using Keel.Apps.Http;
using Keel.Apps.Iperf3;

namespace Keel.Apps
{
    /// <summary>
    /// The applications the kernel runs on its network stack, in start order. A new application is a class
    /// implementing <see cref="INetworkApplication"/> and one line here; nothing in kernel/ changes.
    /// </summary>
    public static class Applications
    {
        public static INetworkApplication[] CreateAll()
        {
            return new INetworkApplication[]
            {
                new EchoApplication(EchoApplication.DefaultConnections),
                new Iperf3Application(new Iperf3ServerConfig()),
                new HttpApplication(new HttpServerConfig()),
            };
        }
    }
}
