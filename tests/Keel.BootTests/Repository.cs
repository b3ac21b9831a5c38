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

        /// <summary>The build id tools/build-id embedded in an image ("KEEL-BUILD-ID:" + 16 hex digits), or null.</summary>
        public static string BuildIdOf(string imagePath)
        {
            byte[] image = File.ReadAllBytes(imagePath);
            byte[] marker = System.Text.Encoding.ASCII.GetBytes("KEEL-BUILD-ID:");
            int at = image.AsSpan().IndexOf(marker);
            if (at < 0 || at + marker.Length + 16 > image.Length)
            {
                return null;
            }
            return System.Text.Encoding.ASCII.GetString(image, at + marker.Length, 16);
        }
    }
}
