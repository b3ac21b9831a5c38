using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using NUnit.Framework;

namespace Keel.DocTests
{
    /// <summary>
    /// Compiles every <c>```csharp</c> block of docs/*.md and README.md against the layer assemblies (Keel.Hal,
    /// Keel.Virtio, Keel.VirtioNet, Keel.Net, Keel.Apps, Keel.Kernel.Portable), with every Keel namespace imported.
    ///
    /// A block that declares types or a namespace at its left margin compiles as a file. Any other block is a
    /// list of statements and compiles as the body of a method; the names it uses from outside are declared in an
    /// HTML comment right above the block (invisible when the Markdown is rendered):
    ///   &lt;!-- doc-check: context NetStack stack; IClock clock --&gt;
    /// A block that truly cannot stand alone (a summary of declarations, pseudo-code) is marked, with the reason,
    /// and only counted:
    ///   &lt;!-- doc-check: fragment (why) --&gt;
    /// </summary>
    [TestFixture]
    public sealed class DocExamples
    {
        /// <summary>Most blocks allowed to be fragments (keep it rare).</summary>
        private const int MaxFragments = 3;

        public sealed class Block
        {
            public string File;
            public int Line;
            public string Code;
            public string Context;
            public bool Fragment;

            public override string ToString() => File + ":" + Line;
        }

        internal static string Root
        {
            get
            {
                string directory = AppContext.BaseDirectory;
                while (directory != null && !System.IO.File.Exists(Path.Combine(directory, "Makefile")))
                {
                    directory = Path.GetDirectoryName(directory);
                }
                return directory ?? throw new InvalidOperationException("repository root not found");
            }
        }

        public static IEnumerable<Block> Blocks()
        {
            List<string> files = new List<string>(Directory.GetFiles(Path.Combine(Root, "docs"), "*.md"));
            files.Sort(StringComparer.Ordinal);
            files.Add(Path.Combine(Root, "README.md"));
            List<Block> blocks = new List<Block>();
            Regex directive = new Regex("^<!--\\s*doc-check:\\s*(fragment\\b.*?|context\\s+(.*?))\\s*-->\\s*$");
            foreach (string path in files)
            {
                string[] lines = System.IO.File.ReadAllLines(path);
                string relative = Path.GetRelativePath(Root, path).Replace('\\', '/');
                for (int i = 0; i < lines.Length; i++)
                {
                    if (lines[i].Trim() != "```csharp" && lines[i].Trim() != "```cs" && lines[i].Trim() != "```c#")
                    {
                        continue;
                    }
                    Block block = new Block { File = relative, Line = i + 2 };
                    int above = i - 1;
                    while (above >= 0 && lines[above].Trim().Length == 0)
                    {
                        above--;
                    }
                    if (above >= 0)
                    {
                        Match match = directive.Match(lines[above].Trim());
                        if (match.Success)
                        {
                            block.Fragment = match.Groups[1].Value.StartsWith("fragment", StringComparison.Ordinal);
                            block.Context = match.Groups[2].Success ? match.Groups[2].Value : null;
                        }
                    }
                    StringBuilder code = new StringBuilder();
                    int j = i + 1;
                    while (j < lines.Length && lines[j].Trim() != "```")
                    {
                        code.Append(lines[j]).Append('\n');
                        j++;
                    }
                    block.Code = code.ToString();
                    blocks.Add(block);
                    i = j;
                }
            }
            return blocks;
        }

        [TestCaseSource(nameof(Blocks))]
        public void CompilesAgainstTheLibrary(Block block)
        {
            if (block.Fragment)
            {
                Assert.Ignore("marked as a fragment (doc-check: fragment): not compiled");
            }
            List<Block> siblings = Blocks().Where(b => b.File == block.File && b.Line != block.Line && !b.Fragment && DeclaresTypes(b)).ToList();
            IEnumerable<Diagnostic> errors = Compile(block, siblings);
            string report = string.Join("\n", errors.Select(Describe));
            Assert.That(report, Is.Empty, block + " does not compile:\n" + report + "\n\n" + block.Code);
        }

        [Test]
        public void FragmentsAreRare()
        {
            List<Block> all = Blocks().ToList();
            Assert.That(all.Count, Is.GreaterThan(0), "no ```csharp blocks found");
            List<Block> fragments = all.Where(b => b.Fragment).ToList();
            Assert.That(fragments.Count, Is.LessThanOrEqualTo(MaxFragments), "fragments: " + string.Join(", ", fragments));
        }

        [Test]
        public void CheckerRejectsCodeThatDoesNotCompile()
        {
            Block broken = new Block { File = "self-test.md", Line = 1, Code = "NetStack stack = null;\nstack.NoSuchMethod();\n" };
            Assert.That(Compile(broken, new List<Block>()).Select(d => d.Id), Does.Contain("CS1061"));
            Block fine = new Block { File = "self-test.md", Line = 1, Code = "stack.Poll();\n", Context = "NetStack stack" };
            Assert.That(Compile(fine, new List<Block>()), Is.Empty);
            Block type = new Block { File = "self-test.md", Line = 1, Code = "public sealed class Helper { public int Value => 1; }\n" };
            Block user = new Block { File = "self-test.md", Line = 5, Code = "int v = helper.Value;\n", Context = "Helper helper" };
            Assert.That(Compile(user, new List<Block> { type }), Is.Empty, "a type declared in another block of the same file is visible");
        }

        private static string Describe(Diagnostic diagnostic)
        {
            FileLinePositionSpan span = diagnostic.Location.GetMappedLineSpan();
            return span.Path + ":" + (span.StartLinePosition.Line + 1) + ": " + diagnostic.Id + " " + diagnostic.GetMessage();
        }

        private static readonly Lazy<(List<MetadataReference> References, string Usings)> s_environment = new Lazy<(List<MetadataReference> References, string Usings)>(LoadEnvironment);

        private static (List<MetadataReference>, string) LoadEnvironment()
        {
            List<MetadataReference> references = new List<MetadataReference>();
            string platform = (string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES");
            foreach (string path in platform.Split(Path.PathSeparator))
            {
                references.Add(MetadataReference.CreateFromFile(path));
            }
            SortedSet<string> namespaces = new SortedSet<string>(StringComparer.Ordinal) { "System" };
            foreach (string name in new[] { "Keel.Hal", "Keel.Virtio", "Keel.VirtioNet", "Keel.Net", "Keel.Apps", "Keel.Kernel.Portable" })
            {
                Assembly assembly = Assembly.Load(name);
                if (!platform.Contains(assembly.Location, StringComparison.Ordinal))
                {
                    references.Add(MetadataReference.CreateFromFile(assembly.Location));
                }
                foreach (Type type in assembly.GetExportedTypes())
                {
                    if (type.Namespace != null)
                    {
                        namespaces.Add(type.Namespace);
                    }
                }
            }
            StringBuilder usings = new StringBuilder();
            foreach (string name in namespaces)
            {
                usings.Append("using ").Append(name).Append(";\n");
            }
            return (references, usings.ToString());
        }

        private static readonly Regex TopLevelDeclaration = new Regex(
            "^(namespace|using|(public |internal |static |sealed |abstract |unsafe |partial |readonly )*(class|struct|interface|enum|record))\\b",
            RegexOptions.Multiline);

        private static bool DeclaresTypes(Block block) => TopLevelDeclaration.IsMatch(block.Code);

        /// <summary>
        /// Compiles <paramref name="block"/> together with the type-declaring blocks of the same document (so a later
        /// block can use a class an earlier one declared); returns the errors inside <paramref name="block"/>.
        /// </summary>
        private static IEnumerable<Diagnostic> Compile(Block block, List<Block> siblings)
        {
            SyntaxTree tree = Parse(block);
            List<SyntaxTree> trees = new List<SyntaxTree> { tree };
            trees.AddRange(siblings.Select(Parse));
            CSharpCompilation compilation = CSharpCompilation.Create(
                "DocExample",
                trees,
                s_environment.Value.References,
                new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true, nullableContextOptions: NullableContextOptions.Disable)
                    .WithSpecificDiagnosticOptions(new Dictionary<string, ReportDiagnostic>
                    {
                        // Unused usings, unused locals and unreachable code are fine in an example.
                        ["CS8019"] = ReportDiagnostic.Suppress,
                        ["CS0168"] = ReportDiagnostic.Suppress,
                        ["CS0219"] = ReportDiagnostic.Suppress,
                        ["CS0162"] = ReportDiagnostic.Suppress,
                    }));
            return compilation.GetDiagnostics()
                .Where(d => d.Severity == DiagnosticSeverity.Error && (d.Location.SourceTree == null || d.Location.SourceTree == tree))
                .ToList();
        }

        private static SyntaxTree Parse(Block block)
        {
            string usings = s_environment.Value.Usings;
            StringBuilder source = new StringBuilder(usings);
            string lineDirective = "#line " + block.Line + " \"" + block.File + "\"\n";
            if (DeclaresTypes(block))
            {
                source.Append(lineDirective).Append(block.Code);
            }
            else
            {
                source.Append("internal static unsafe class DocExample_").Append(block.Line).Append("\n{\n    internal static void Run(");
                source.Append(block.Context == null ? "" : string.Join(", ", block.Context.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)));
                source.Append(")\n    {\n").Append(lineDirective).Append(block.Code).Append("#line default\n    }\n}\n");
            }
            return CSharpSyntaxTree.ParseText(source.ToString(), new CSharpParseOptions(LanguageVersion.Latest), path: block.File + ".generated.cs");
        }
    }
}
