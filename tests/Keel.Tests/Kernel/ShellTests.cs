using System;
using System.Collections.Generic;
using System.Text;
using Keel.Hal;
using Keel.Kernel.Shell;
using Keel.Kernel.Text;
using NUnit.Framework;

namespace Keel.Tests.Kernel
{
    public class ShellTests
    {
        /// <summary>Records every call with its arguments.</summary>
        private sealed class RecordingCommand : IShellCommand
        {
            public readonly List<string[]> Calls = new List<string[]>();

            public RecordingCommand(string name, string help)
            {
                Name = name;
                Help = help;
            }

            public string Name { get; }

            public string Help { get; }

            public void Execute(ShellArguments arguments, ITextOutput output)
            {
                var words = new string[arguments.Count];
                for (int i = 0; i < arguments.Count; i++)
                {
                    words[i] = arguments.Get(i).ToString();
                }
                Calls.Add(words);
                output.Write("ran ");
                output.Write(Name);
                output.WriteLine();
            }
        }

        /// <summary>Like the kernel's exit: parses a number argument.</summary>
        private sealed class ExitCommand : IShellCommand
        {
            public long Code = -1;

            public string Name => "exit";

            public string Help => "exit [code]: stop the machine";

            public void Execute(ShellArguments arguments, ITextOutput output)
            {
                if (arguments.Count == 0)
                {
                    Code = 0;
                }
                else if (!arguments.TryGetInt64(0, out Code))
                {
                    output.Write("exit: bad number");
                    output.WriteLine();
                }
            }
        }

        private TextCapture _output;
        private ShellCommandRegistry _registry;
        private CommandShell _shell;
        private RecordingCommand _echo;

        [SetUp]
        public void SetUp()
        {
            _output = new TextCapture();
            _registry = new ShellCommandRegistry();
            _echo = new RecordingCommand("echo", "echo words: print nothing useful");
            Assert.That(_registry.Register(_echo), Is.True);
            _shell = new CommandShell(_registry, _output);
        }

        private void Type(string text) => _shell.Feed(Encoding.Latin1.GetBytes(text));

        [Test]
        public void TypedLineIsEchoedAndRun()
        {
            _shell.Start();
            Type("echo a  b\t\"c d\"\r");
            Assert.That(_output.Text, Is.EqualTo("keel> echo a  b \"c d\"\nran echo\nkeel> "), "a tab is typed as a blank");
            Assert.That(_echo.Calls.Count, Is.EqualTo(1));
            Assert.That(_echo.Calls[0], Is.EqualTo(new[] { "a", "b", "c d" }));
            Assert.That(_shell.LinesExecuted, Is.EqualTo(1));
        }

        [Test]
        public void CrLfRunsOnceAndBlankLinesRunNothing()
        {
            Type("echo 1\r\necho 2\n\r\n\n");
            Assert.That(_echo.Calls.Count, Is.EqualTo(2));
            Assert.That(_shell.LinesExecuted, Is.EqualTo(2));
            Assert.That(_output.Text, Does.EndWith("ran echo\nkeel> \nkeel> \nkeel> "));
        }

        [Test]
        public void BackspaceAndDeleteErase()
        {
            Type("echx\bo x\x7F\x7Fyz");
            Assert.That(_shell.CurrentLine.ToString(), Is.EqualTo("echoyz"));
            Assert.That(_output.Text, Is.EqualTo("echx\b \bo x\b \b\b \byz"));
            Type("\b\b\b\b\b\b\b\b");
            Assert.That(_shell.CurrentLine.Length, Is.EqualTo(0));
            Assert.That(_output.Text, Does.EndWith("yz\b \b\b \b\b \b\b \b\b \b\b \b"), "no erase echoed past the start of the line");
        }

        [Test]
        public void CtrlCAbandonsAndCtrlUErases()
        {
            Type("echo lost\x03");
            Assert.That(_output.Text, Is.EqualTo("echo lost^C\nkeel> "));
            Assert.That(_shell.CurrentLine.Length, Is.EqualTo(0));
            Type("abc\u0015echo kept\r");
            Assert.That(_echo.Calls.Count, Is.EqualTo(1));
            Assert.That(_echo.Calls[0], Is.EqualTo(new[] { "kept" }));
        }

        [Test]
        public void EscapeSequencesAndOtherBytesAreIgnored()
        {
            // Up arrow, Right arrow with modifiers, F1 (SS3), Alt-x, a UTF-8 é, a bell.
            Type("ec\x1b[A\x1b[1;5Ch\x1bOP\x1bxo\u00c3\u00a9\a x\r");
            Assert.That(_echo.Calls.Count, Is.EqualTo(1));
            Assert.That(_echo.Calls[0], Is.EqualTo(new[] { "x" }));
            Assert.That(_output.Text, Does.StartWith("echo x\n"));
        }

        [Test]
        public void BrokenEscapeSequenceStillLetsEnterThrough()
        {
            Type("echo y\x1b[1\r");
            Assert.That(_echo.Calls.Count, Is.EqualTo(1));
        }

        [Test]
        public void UnknownCommandIsReported()
        {
            Type("frobnicate now\r");
            Assert.That(_output.Text, Does.Contain("unknown command 'frobnicate' (try help)\n"));
            Assert.That(_shell.UnknownCommands, Is.EqualTo(1));
            Assert.That(_shell.Execute("nope".AsSpan()), Is.False);
            Assert.That(_shell.Execute("echo z".AsSpan()), Is.True);
        }

        [Test]
        public void LongLinesStopAtTheLimit()
        {
            Type("echo ");
            Type(new string('x', CommandShell.MaxLineLength));
            Assert.That(_shell.CurrentLine.Length, Is.EqualTo(CommandShell.MaxLineLength));
            Assert.That(_shell.CharactersDropped, Is.EqualTo(5));
            Type("\r");
            Assert.That(_echo.Calls[0][0].Length, Is.EqualTo(CommandShell.MaxLineLength - 5));
        }

        [Test]
        public void HelpListsCommandsSortedWithTheirHelp()
        {
            Assert.That(_registry.Register(new ExitCommand()), Is.True);
            Assert.That(_registry.Register(new RecordingCommand("echo", "again")), Is.False, "duplicate name");
            Assert.That(_registry.Register(new RecordingCommand("", "empty")), Is.False);
            _shell.Execute("help".AsSpan());
            Assert.That(_output.Text, Is.EqualTo(
                "  echo       echo words: print nothing useful\n" +
                "  exit       exit [code]: stop the machine\n" +
                "  help       help [command]: list commands, or describe one\n"));
            _output.Clear();
            _shell.Execute("help exit".AsSpan());
            Assert.That(_output.Text, Is.EqualTo("  exit       exit [code]: stop the machine\n"));
            _output.Clear();
            _shell.Execute("help what".AsSpan());
            Assert.That(_output.Text, Is.EqualTo("help: no command 'what'\n"));
        }

        [Test]
        public void RegistryFillsUp()
        {
            var small = new ShellCommandRegistry(3);
            Assert.That(small.Register(new RecordingCommand("b", "")), Is.True);
            Assert.That(small.Register(new RecordingCommand("a", "")), Is.True);
            Assert.That(small.Register(new RecordingCommand("c", "")), Is.False);
            Assert.That(small.Get(0).Name, Is.EqualTo("a"));
            Assert.That(small.Get(1).Name, Is.EqualTo("b"));
            Assert.That(small.Get(2).Name, Is.EqualTo("help"));
            Assert.That(small.Find("b".AsSpan()).Name, Is.EqualTo("b"));
            Assert.That(small.Find("bb".AsSpan()), Is.Null);
        }

        [Test]
        public void ArgumentsParseNumbers()
        {
            var exit = new ExitCommand();
            _registry.Register(exit);
            _shell.Execute("exit 3".AsSpan());
            Assert.That(exit.Code, Is.EqualTo(3));
            _shell.Execute("exit -0x10".AsSpan());
            Assert.That(exit.Code, Is.EqualTo(-16));
            _shell.Execute("exit".AsSpan());
            Assert.That(exit.Code, Is.EqualTo(0));
            _shell.Execute("exit 12a".AsSpan());
            Assert.That(_output.Text, Is.EqualTo("exit: bad number\n"));

            var args = new ShellArguments();
            char[] line = "cmd 0x1f ff 42 \"quoted word\" 18446744073709551615 18446744073709551616".ToCharArray();
            args.Parse(line, line.Length);
            Assert.That(args.Count, Is.EqualTo(6));
            Assert.That(args.TryGetUInt64(0, out ulong hex) && hex == 0x1F, Is.True);
            Assert.That(args.TryGetUInt64(1, out _), Is.False);
            Assert.That(args.TryGetHex(1, out ulong ff) && ff == 0xFF, Is.True);
            Assert.That(args.TryGetHex(0, out ulong prefixed) && prefixed == 0x1F, Is.True);
            Assert.That(args.TryGetInt32(2, out int fortyTwo) && fortyTwo == 42, Is.True);
            Assert.That(args.Is(3, "quoted word"), Is.True);
            Assert.That(args.Rest(2).ToString(), Is.EqualTo("42 \"quoted word\" 18446744073709551615 18446744073709551616"));
            Assert.That(args.Rest(3).ToString(), Does.StartWith("\"quoted word\""));
            Assert.That(args.TryGetUInt64(4, out ulong max) && max == ulong.MaxValue, Is.True);
            Assert.That(args.TryGetUInt64(5, out _), Is.False, "overflow");
            Assert.That(args.TryGetInt64(4, out _), Is.False, "too big for long");
            Assert.That(args.Get(6).IsEmpty, Is.True);
            Assert.That(args.TryGetInt64(9, out _), Is.False);
            Assert.That(args.Truncated, Is.False);
        }

        [Test]
        public void TooManyWordsAreDropped()
        {
            var args = new ShellArguments();
            char[] line = "a 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17".ToCharArray();
            args.Parse(line, line.Length);
            Assert.That(args.Count, Is.EqualTo(ShellArguments.MaxWords - 1));
            Assert.That(args.Truncated, Is.True);
        }

        [TestCase("0", true, 0L)]
        [TestCase("-9223372036854775808", true, long.MinValue)]
        [TestCase("9223372036854775807", true, long.MaxValue)]
        [TestCase("9223372036854775808", false, 0L)]
        [TestCase("1_000", true, 1000L)]
        [TestCase("0XfF", true, 255L)]
        [TestCase("0x", false, 0L)]
        [TestCase("-", false, 0L)]
        [TestCase("", false, 0L)]
        [TestCase("_1", false, 0L)]
        [TestCase("1_", false, 0L)]
        [TestCase(" 1", false, 0L)]
        public void NumberParserCases(string text, bool ok, long expected)
        {
            Assert.That(NumberParser.TryParseInt64(text.AsSpan(), out long value), Is.EqualTo(ok));
            Assert.That(NumberParser.TryParseInt64(Encoding.ASCII.GetBytes(text), out long fromBytes), Is.EqualTo(ok));
            if (ok)
            {
                Assert.That(value, Is.EqualTo(expected));
                Assert.That(fromBytes, Is.EqualTo(expected));
            }
        }
    }
}
