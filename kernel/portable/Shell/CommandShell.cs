using System;
using Keel.Hal;
using Keel.Kernel.Text;

namespace Keel.Kernel.Shell
{
    /// <summary>
    /// The interactive shell: a line editor fed one input byte at a time (from the serial port) that echoes through
    /// an <see cref="ITextOutput"/>, and a dispatcher that runs the named <see cref="IShellCommand"/>.
    /// <para>
    /// Keys: printable ASCII is inserted at the end of the line; Backspace (0x08) and DEL (0x7F) erase the last
    /// character; Tab is typed as a blank; CR, LF or CR LF run the line; Ctrl-C abandons the line; Ctrl-U erases it. Terminal escape
    /// sequences (arrow keys: ESC [ A, F-keys: ESC O P, ...) and other control or non-ASCII bytes are ignored.
    /// A line longer than <see cref="MaxLineLength"/> stops accepting characters.
    /// </para>
    /// Allocates only in its constructor.
    /// </summary>
    public sealed class CommandShell
    {
        /// <summary>Longest line accepted.</summary>
        public const int MaxLineLength = 256;

        /// <summary>Default prompt.</summary>
        public const string DefaultPrompt = "keel> ";

        /// <summary>Ctrl-C.</summary>
        private const byte CtrlC = 0x03;

        /// <summary>Backspace (Ctrl-H).</summary>
        private const byte Backspace = 0x08;

        /// <summary>Horizontal tab: typed as a blank.</summary>
        private const byte Tab = 0x09;

        /// <summary>Line feed.</summary>
        private const byte LineFeed = 0x0A;

        /// <summary>Carriage return.</summary>
        private const byte CarriageReturn = 0x0D;

        /// <summary>Ctrl-U (erase line).</summary>
        private const byte CtrlU = 0x15;

        /// <summary>Escape: starts a terminal escape sequence.</summary>
        private const byte Escape = 0x1B;

        /// <summary>Delete: what most terminals send for the Backspace key.</summary>
        private const byte Delete = 0x7F;

        /// <summary>First printable ASCII character (space).</summary>
        private const byte FirstPrintable = 0x20;

        /// <summary>Commands known to this shell.</summary>
        private readonly ShellCommandRegistry _registry;

        /// <summary>Where echo, prompts and command output go.</summary>
        private readonly ITextOutput _output;

        /// <summary>Printed before each line.</summary>
        private readonly string _prompt;

        /// <summary>The line being edited.</summary>
        private readonly char[] _line = new char[MaxLineLength];

        /// <summary>Characters in <see cref="_line"/>.</summary>
        private int _length;

        /// <summary>Words of the line being run (reused).</summary>
        private readonly ShellArguments _arguments = new ShellArguments();

        /// <summary>True right after a CR, so that the LF of a CR LF pair does not run an empty line.</summary>
        private bool _afterCarriageReturn;

        /// <summary>Progress through an escape sequence being swallowed.</summary>
        private EscapeState _escape;

        /// <summary>Makes a shell over <paramref name="registry"/> printing to <paramref name="output"/>.</summary>
        public CommandShell(ShellCommandRegistry registry, ITextOutput output, string prompt = DefaultPrompt)
        {
            _registry = registry;
            _output = output;
            _prompt = prompt;
        }

        /// <summary>The command registry.</summary>
        public ShellCommandRegistry Registry => _registry;

        /// <summary>The line typed so far (not yet run).</summary>
        public ReadOnlySpan<char> CurrentLine => new ReadOnlySpan<char>(_line, 0, _length);

        /// <summary>Non-blank lines run.</summary>
        public long LinesExecuted { get; private set; }

        /// <summary>Lines whose command name was not registered.</summary>
        public long UnknownCommands { get; private set; }

        /// <summary>Characters dropped because the line was full.</summary>
        public long CharactersDropped { get; private set; }

        /// <summary>Prints the prompt; call once when the console is ready.</summary>
        public void Start()
        {
            _output.Write(_prompt);
        }

        /// <summary>Feeds every byte of <paramref name="input"/> to <see cref="Feed(byte)"/>.</summary>
        public void Feed(ReadOnlySpan<byte> input)
        {
            for (int i = 0; i < input.Length; i++)
            {
                Feed(input[i]);
            }
        }

        /// <summary>Handles one input byte: edits and echoes, or runs the line.</summary>
        public void Feed(byte input)
        {
            bool afterCarriageReturn = _afterCarriageReturn;
            _afterCarriageReturn = false;

            if (_escape != EscapeState.None)
            {
                SwallowEscape(input);
                return;
            }

            switch (input)
            {
                case CarriageReturn:
                    _afterCarriageReturn = true;
                    EndLine();
                    return;
                case LineFeed:
                    if (!afterCarriageReturn)
                    {
                        EndLine();
                    }
                    return;
                case Backspace:
                case Delete:
                    if (_length > 0)
                    {
                        _length--;
                        _output.Write("\b \b");
                    }
                    return;
                case CtrlC:
                    _length = 0;
                    _output.Write("^C");
                    _output.WriteLine();
                    _output.Write(_prompt);
                    return;
                case CtrlU:
                    while (_length > 0)
                    {
                        _length--;
                        _output.Write("\b \b");
                    }
                    return;
                case Escape:
                    _escape = EscapeState.Escape;
                    return;
                case Tab:
                    input = (byte)' ';
                    break;
            }

            if (input < FirstPrintable || input >= Delete)
            {
                return;
            }
            if (_length == MaxLineLength)
            {
                CharactersDropped++;
                return;
            }
            _line[_length++] = (char)input;
            _output.Write((char)input);
        }

        /// <summary>
        /// Runs one line as if typed (no echo, no prompt): the kernel uses it for commands given at boot, tests too.
        /// Returns false when the line named no registered command.
        /// </summary>
        public bool Execute(ReadOnlySpan<char> line)
        {
            int length = Math.Min(line.Length, MaxLineLength);
            for (int i = 0; i < length; i++)
            {
                _line[i] = line[i];
            }
            _length = length;
            bool known = RunLine();
            _length = 0;
            return known;
        }

        /// <summary>Ends the line being typed: newline, run it, prompt.</summary>
        private void EndLine()
        {
            _output.WriteLine();
            RunLine();
            _length = 0;
            _output.Write(_prompt);
        }

        /// <summary>Splits and dispatches the current line. False when it named no registered command.</summary>
        private bool RunLine()
        {
            _arguments.Parse(_line, _length);
            ReadOnlySpan<char> name = _arguments.CommandName;
            if (name.IsEmpty)
            {
                return true;
            }
            LinesExecuted++;
            IShellCommand command = _registry.Find(name);
            if (command == null)
            {
                UnknownCommands++;
                _output.Write("unknown command '");
                TextWriting.WriteChars(_output, name);
                _output.Write("' (try help)");
                _output.WriteLine();
                return false;
            }
            command.Execute(_arguments, _output);
            return true;
        }

        /// <summary>Consumes one byte of an escape sequence.</summary>
        private void SwallowEscape(byte input)
        {
            switch (_escape)
            {
                case EscapeState.Escape:
                    _escape = input == '[' ? EscapeState.ControlSequence : input == 'O' ? EscapeState.SingleShift : EscapeState.None;
                    return;
                case EscapeState.SingleShift:
                    _escape = EscapeState.None;
                    return;
                case EscapeState.ControlSequence:
                    if (input >= 0x20 && input <= 0x3F)
                    {
                        return;
                    }
                    _escape = EscapeState.None;
                    if (input < 0x40 || input > 0x7E)
                    {
                        // Not a valid sequence: let the byte count as ordinary input (CR still runs the line).
                        Feed(input);
                    }
                    return;
            }
        }
    }
}
