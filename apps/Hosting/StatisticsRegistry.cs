using Keel.Hal;

namespace Keel.Apps.Hosting
{
    /// <summary>
    /// Every counter source of a running system, each under a subsystem name ("virtio_net", "net", "dhcp",
    /// "memory", an application's name): what the HTTP server's <c>/metrics</c> and <c>/stats</c> export. The
    /// host adds the kernel's and the stack's sources, an application its own in Start. Fixed capacity; nothing
    /// is allocated after construction.
    /// </summary>
    public sealed class StatisticsRegistry
    {
        /// <summary>Sources a registry holds unless told otherwise.</summary>
        public const int DefaultCapacity = 16;

        private readonly string[] _subsystems;
        private readonly IStatisticsSource[] _sources;
        private int _count;

        public StatisticsRegistry(int capacity = DefaultCapacity)
        {
            if (capacity < 1)
            {
                capacity = 1;
            }
            _subsystems = new string[capacity];
            _sources = new IStatisticsSource[capacity];
        }

        /// <summary>Sources registered.</summary>
        public int Count => _count;

        /// <summary>
        /// Adds <paramref name="source"/> under <paramref name="subsystem"/> (a lower-case literal of letters, digits
        /// and '_' that starts with a letter; it prefixes the source's counter names in <c>/metrics</c>). False
        /// when the registry is full, the name is not such a word or is already taken, or the source is null.
        /// </summary>
        public bool Add(string subsystem, IStatisticsSource source)
        {
            if ((object)source == null || _count == _sources.Length || !IsName(subsystem))
            {
                return false;
            }
            for (int i = 0; i < _count; i++)
            {
                if (_subsystems[i] == subsystem)
                {
                    return false;
                }
            }
            _subsystems[_count] = subsystem;
            _sources[_count] = source;
            _count++;
            return true;
        }

        /// <summary>Subsystem name of source <paramref name="index"/> (0 ≤ index &lt; Count), in the order added.</summary>
        public string Subsystem(int index) => _subsystems[index];

        /// <summary>Source <paramref name="index"/> (0 ≤ index &lt; Count).</summary>
        public IStatisticsSource Source(int index) => _sources[index];

        /// <summary>The source registered as <paramref name="subsystem"/>; null when none is.</summary>
        public IStatisticsSource Find(string subsystem)
        {
            for (int i = 0; i < _count; i++)
            {
                if (_subsystems[i] == subsystem)
                {
                    return _sources[i];
                }
            }
            return null;
        }

        private static bool IsName(string name)
        {
            if ((object)name == null || name.Length == 0 || name[0] < 'a' || name[0] > 'z')
            {
                return false;
            }
            for (int i = 1; i < name.Length; i++)
            {
                char c = name[i];
                if (!(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9') && c != '_')
                {
                    return false;
                }
            }
            return true;
        }
    }
}
