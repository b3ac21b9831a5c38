using System;
using System.IO;

namespace Keel.BootTests
{
    /// <summary>Paths inside the repository the tests run from.</summary>
    public static class Repository
    {
        private static string _root;

        /// <summary>The repository root (the directory holding the Makefile and tools/).</summary>
        public static string Root
        {
            get
            {
                if (_root != null)
                {
                    return _root;
                }
                string directory = AppContext.BaseDirectory;
                while (directory != null && !File.Exists(Path.Combine(directory, "tools", "qemu-launch")))
                {
                    directory = Path.GetDirectoryName(directory);
                }
                _root = directory ?? throw new InvalidOperationException("repository root not found from " + AppContext.BaseDirectory);
                return _root;
            }
        }

        public static string Kernel => Path.Combine(Root, "build", "keel.elf");

        public static string QemuLaunch => Path.Combine(Root, "tools", "qemu-launch");
    }
}
