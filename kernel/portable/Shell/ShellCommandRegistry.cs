using System;
using Keel.Hal;
using Keel.Kernel.Text;

namespace Keel.Kernel.Shell
{
    /// <summary>
    /// The set of shell commands, kept sorted by name. Any layer registers its commands at start-up; the built-in
    /// <c>help</c> command is registered by the constructor. Registration never fails silently: it returns false
    /// for a full registry, an empty name or a name already taken.
    /// </summary>
    public sealed class ShellCommandRegistry
    {
        /// <summary>Default capacity.</summary>
        public const int DefaultCapacity = 64;

        /// <summary>Registered commands, sorted by name; [0, <see cref="_count"/>) are in use.</summary>
        private readonly IShellCommand[] _commands;

        /// <summary>Commands registered.</summary>
        private int _count;

        /// <summary>Makes a registry holding up to <paramref name="capacity"/> commands, with <c>help</c> registered.</summary>
        public ShellCommandRegistry(int capacity = DefaultCapacity)
        {
            _commands = new IShellCommand[capacity];
            Register(new HelpCommand(this));
        }

        /// <summary>Commands registered.</summary>
        public int Count => _count;

        /// <summary>Command <paramref name="index"/> in name order.</summary>
        public IShellCommand Get(int index) => _commands[index];

        /// <summary>Adds a command; false when the registry is full, the name is empty or already registered.</summary>
        public bool Register(IShellCommand command)
        {
            string name = command.Name;
            if (_count == _commands.Length || name.Length == 0)
            {
                return false;
            }
            int position = _count;
            for (int i = 0; i < _count; i++)
            {
                int order = Compare(name, _commands[i].Name);
                if (order == 0)
                {
                    return false;
                }
                if (order < 0)
                {
                    position = i;
                    break;
                }
            }
            for (int i = _count; i > position; i--)
            {
                _commands[i] = _commands[i - 1];
            }
            _commands[position] = command;
            _count++;
            return true;
        }

        /// <summary>The command called <paramref name="name"/>, or null.</summary>
        public IShellCommand Find(ReadOnlySpan<char> name)
        {
            for (int i = 0; i < _count; i++)
            {
                if (AsciiText.Matches(name, _commands[i].Name))
                {
                    return _commands[i];
                }
            }
            return null;
        }

        /// <summary>Ordinal comparison of two strings (negative, zero, positive).</summary>
        private static int Compare(string a, string b)
        {
            int common = Math.Min(a.Length, b.Length);
            for (int i = 0; i < common; i++)
            {
                if (a[i] != b[i])
                {
                    return a[i] - b[i];
                }
            }
            return a.Length - b.Length;
        }
    }
}
