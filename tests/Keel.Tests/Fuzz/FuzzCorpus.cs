using System;
using System.Collections.Generic;
using System.IO;

namespace Keel.Tests.Fuzz
{
    /// <summary>The stored corpora: tests/Keel.Fuzz/corpus/TARGET/*, one input a file.</summary>
    public static class FuzzCorpus
    {
        /// <summary>The repository's root (the folder holding Keel.slnx), found upwards from the test binaries.</summary>
        public static string RepositoryRoot()
        {
            string dir = AppContext.BaseDirectory;
            while (dir != null && !File.Exists(Path.Combine(dir, "Keel.slnx")))
            {
                dir = Path.GetDirectoryName(dir);
            }
            return dir ?? throw new DirectoryNotFoundException("Keel.slnx not found above " + AppContext.BaseDirectory);
        }

        public static string Directory(string target) => Path.Combine(RepositoryRoot(), "tests", "Keel.Fuzz", "corpus", target);

        /// <summary>Every stored input of <paramref name="target"/>, sorted by file name.</summary>
        public static IEnumerable<string> Files(string target)
        {
            string dir = Directory(target);
            if (!System.IO.Directory.Exists(dir))
            {
                return Array.Empty<string>();
            }
            string[] files = System.IO.Directory.GetFiles(dir);
            Array.Sort(files, StringComparer.Ordinal);
            return files;
        }
    }
}
