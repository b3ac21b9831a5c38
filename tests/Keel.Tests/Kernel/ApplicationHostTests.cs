using System;
using System.Collections.Generic;
using Keel.Apps;
using Keel.Apps.Echo;
using Keel.Apps.Hosting;
using Keel.Apps.Iperf3;
using Keel.Hal;
using Keel.Kernel.Net;
using Keel.Kernel.Shell;
using Keel.Net;
using Keel.Tests.Net;
using NUnit.Framework;

namespace Keel.Tests.Kernel
{
    /// <summary>How the kernel hosts network applications (kernel/portable/Net/ApplicationHost.cs).</summary>
    public class ApplicationHostTests
    {
        private sealed class ProbeApplication : INetworkApplication, IApplicationCommand
        {
            private readonly List<string> _events;

            public ProbeApplication(string name, List<string> events, bool startResult = true, long wake = long.MaxValue)
            {
                Name = name;
                _events = events;
                StartResult = startResult;
                NextWake = Instant.FromNanoseconds(wake);
            }

            public string Name { get; }

            public bool StartResult;

            public IApplicationHost Host;

            public string LastArguments;

            public string Help => "probe";

            public Instant NextWake { get; set; }

            public bool Start(IApplicationHost host)
            {
                Host = host;
                _events.Add(Name + ".start");
                if (StartResult)
                {
                    host.AddCommand(this);
                }
                return StartResult;
            }

            public void Poll() => _events.Add(Name + ".poll");

            public void Stop() => _events.Add(Name + ".stop");

            public void Execute(ReadOnlySpan<char> arguments, ITextOutput output)
            {
                LastArguments = arguments.ToString();
                output.Write(Name);
                output.Write(" ran");
            }
        }

        private SingleStack _net;
        private TextCapture _log;
        private ShellCommandRegistry _commands;
        private List<string> _events;

        [SetUp]
        public void SetUp()
        {
            _net = new SingleStack();
            _log = new TextCapture();
            _commands = new ShellCommandRegistry();
            _events = new List<string>();
        }

        [Test]
        public void ApplicationsStartWithTheHostsServicesAndArePolledAfterTheStack()
        {
            var host = new ApplicationHost(_net.Stack, _net.Clock, _log, _commands);
            var a = new ProbeApplication("a", _events);
            var b = new ProbeApplication("b", _events);
            Assert.That(host.AddAll(new INetworkApplication[] { a, b }), Is.EqualTo(2));
            Assert.That(a.Host.Stack, Is.SameAs(_net.Stack));
            Assert.That(a.Host.Clock, Is.SameAs(_net.Clock));
            Assert.That(a.Host.Log, Is.SameAs(_log));
            host.Poll();
            host.StopAll();
            Assert.That(_events, Is.EqualTo(new[] { "a.start", "b.start", "a.poll", "b.poll", "b.stop", "a.stop" }));
            Assert.That(host.Count, Is.EqualTo(0));
        }

        [Test]
        public void ApplicationCommandsBecomeShellCommandsWithTheRestOfTheLine()
        {
            var host = new ApplicationHost(_net.Stack, _net.Clock, _log, _commands);
            var probe = new ProbeApplication("probe", _events);
            host.Add(probe);
            var shellOutput = new TextCapture();
            var shell = new CommandShell(_commands, shellOutput);
            shell.Feed(System.Text.Encoding.ASCII.GetBytes("probe one two\r"));
            Assert.That(shellOutput.Text, Does.Contain("probe ran"));
            Assert.That(probe.LastArguments, Is.EqualTo("one two"));
            Assert.That(host.AddCommand(probe), Is.False, "a name can be registered once");
            Assert.That(_log.Text, Does.Contain("apps: probe: shell command not added"));
        }

        [Test]
        public void NinthApplicationIsRefusedAndReportedNotDroppedSilently()
        {
            var host = new ApplicationHost(_net.Stack, _net.Clock, _log, null, capacity: 8);
            for (int i = 0; i < 8; i++)
            {
                Assert.That(host.Add(new ProbeApplication("p" + i, _events)), Is.True);
            }
            var ninth = new ProbeApplication("ninth", _events);
            Assert.That(host.Add(ninth), Is.False);
            Assert.That(host.Count, Is.EqualTo(8));
            Assert.That(host.Failed, Is.EqualTo(1));
            Assert.That(_events, Does.Not.Contain("ninth.start"), "not started when it cannot be polled");
            Assert.That(_log.Text, Does.Contain("apps: ninth: not started, application host full"));
        }

        [Test]
        public void ApplicationThatFailsToStartIsReportedAndNotPolled()
        {
            var host = new ApplicationHost(_net.Stack, _net.Clock, _log, _commands);
            host.Add(new ProbeApplication("bad", _events, startResult: false));
            host.Poll();
            Assert.That(_events, Is.EqualTo(new[] { "bad.start" }));
            Assert.That(host.Failed, Is.EqualTo(1));
            Assert.That(_log.Text, Does.Contain("apps: bad: failed to start"));
        }

        [Test]
        public void NextWakeIsTheEarliestOfStackAndApplications()
        {
            var host = new ApplicationHost(_net.Stack, _net.Clock, _log, _commands);
            var probe = new ProbeApplication("probe", _events, wake: long.MaxValue);
            host.Add(probe);
            Assert.That(host.NextWake, Is.EqualTo(_net.Stack.NextTimer));
            Instant soon = Instant.Now(_net.Clock) + Duration.FromMicroseconds(1);
            probe.NextWake = soon;
            Assert.That(host.NextWake, Is.EqualTo(Instant.Min(soon, _net.Stack.NextTimer)));
            probe.NextWake = Instant.None;
            Assert.That(host.NextWake, Is.EqualTo(Instant.None));
        }

        [Test]
        public void BuiltInApplicationsStartTheirServersAndCommands()
        {
            var host = new ApplicationHost(_net.Stack, _net.Clock, _log, _commands);
            INetworkApplication[] all = Applications.CreateAll();
            Assert.That(host.AddAll(all), Is.EqualTo(all.Length));
            Assert.That(_commands.Find("echo"), Is.Not.Null);
            Assert.That(_commands.Find("iperf3"), Is.Not.Null);
            EchoApplication echo = null;
            Iperf3Application iperf3 = null;
            foreach (INetworkApplication application in all)
            {
                echo ??= application as EchoApplication;
                iperf3 ??= application as Iperf3Application;
            }
            Assert.That(iperf3.Server.State, Is.EqualTo(Iperf3ServerState.Idle));
            var output = new TextCapture();
            _commands.Find("echo").Execute(new ShellArguments(), output);
            Assert.That(output.Text, Does.StartWith("echo: port 7, 0 open"));
            Assert.That(echo.Server, Is.Not.Null);
            Assert.That(_commands.Find("http"), Is.Not.Null);
            // The registry /stats and /metrics read: the stack from the host, the servers from their Start.
            Assert.That(host.Statistics.Find("net"), Is.SameAs(_net.Stack));
            Assert.That(host.Statistics.Find("iperf3"), Is.SameAs(iperf3.Server));
            Assert.That(host.Statistics.Find("http"), Is.Not.Null);
        }
    }
}
