using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Text;
using System.Threading.Tasks;

namespace Keel.DocTests
{
    /// <summary>
    /// A walkthrough of a document run as a reader runs it: its steps are the code blocks marked with an HTML
    /// comment <c>&lt;!-- walkthrough: NAME --&gt;</c> right above them, taken verbatim. Shared by the doc tests
    /// and the boot tests (linked into both projects).
    /// </summary>
    public static class Walkthrough
    {
        /// <summary>The text of the block under <c>&lt;!-- walkthrough: <paramref name="name"/> --&gt;</c>; throws when the doc has none.</summary>
        public static string MarkedBlock(string documentPath, string name)
        {
            string[] lines = File.ReadAllLines(documentPath);
            string marker = "<!-- walkthrough: " + name + " -->";
            for (int i = 0; i < lines.Length; i++)
            {
                if (lines[i].Trim() != marker)
                {
                    continue;
                }
                int open = i + 1;
                while (open < lines.Length && lines[open].Trim().Length == 0)
                {
                    open++;
                }
                if (open >= lines.Length || !lines[open].TrimStart().StartsWith("```", StringComparison.Ordinal))
                {
                    break;
                }
                StringBuilder text = new StringBuilder();
                for (int j = open + 1; j < lines.Length && lines[j].Trim() != "```"; j++)
                {
                    text.Append(lines[j]).Append('\n');
                }
                return text.ToString();
            }
            throw new InvalidOperationException(documentPath + " has no code block marked '" + marker + "'");
        }

        /// <summary>Runs <paramref name="script"/> with bash -e in <paramref name="directory"/>; returns its status and output.</summary>
        public static (int Status, string Output) RunBash(string script, string directory, IDictionary<string, string> environment, int timeoutSeconds)
        {
            ProcessStartInfo start = new ProcessStartInfo("bash") { WorkingDirectory = directory };
            start.ArgumentList.Add("-euo");
            start.ArgumentList.Add("pipefail");
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add(script);
            foreach (KeyValuePair<string, string> variable in environment)
            {
                start.Environment[variable.Key] = variable.Value;
            }
            start.RedirectStandardOutput = true;
            start.RedirectStandardError = true;
            start.RedirectStandardInput = true;
            start.UseShellExecute = false;
            using Process process = Process.Start(start);
            process.StandardInput.Close();
            Task<string> output = process.StandardOutput.ReadToEndAsync();
            Task<string> errors = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeoutSeconds * 1000))
            {
                process.Kill(true);
                process.WaitForExit();
                return (-1, "timed out after " + timeoutSeconds + " s\n" + output.Result + errors.Result);
            }
            process.WaitForExit();
            return (process.ExitCode, output.Result + errors.Result);
        }
    }
}
