using Keel.Hal;
using Keel.Kernel.Diagnostics.SelfTest;
using Keel.Kernel.Shell;

namespace Keel.Kernel.Diagnostics
{
    /// <summary>
    /// <c>selftest</c>: exercises the runtime features kernel code relies on — interface dispatch over four
    /// implementers (class, subclass override, struct), generics, casts, statics and static constructors,
    /// spans, allocation and explicit free — and prints one line per check and a summary.
    /// </summary>
    public sealed class RuntimeSelfTest : IShellCommand
    {
        private int _passed;
        private int _failed;

        public string Name => "selftest";

        public string Help => "check runtime features (interfaces, generics, casts, statics, spans, heap)";

        public void Execute(ShellArguments arguments, ITextOutput output)
        {
            _passed = 0;
            _failed = 0;
            IShape[] shapes = new IShape[] { new Square(3), new Rectangle(2, 5), new HalfRectangle(4, 4), new Triangle(6, 2) };
            int area = 0;
            int corners = 0;
            for (int round = 0; round < 3; round++)
            {
                for (int i = 0; i < shapes.Length; i++)
                {
                    area += shapes[i].Area();
                    corners += shapes[i].Corners;
                }
            }
            Check(output, "interface dispatch (4 implementers, override, struct)", area == 3 * (9 + 10 + 8 + 6) && corners == 3 * 15);

            Box<int> number = new Box<int>(41);
            Box<string> text = new Box<string>("a");
            Check(output, "generics over struct and class", number.Swap(42) == 41 && number.Value == 42 && text.Swap("b") == "a" && text.Value == "b");

            object shape = shapes[2];
            Rectangle asRectangle = shape as Rectangle;
            Square asSquare = shape as Square;
            Check(output, "casts (is/as, class hierarchy, interface)", (object)asRectangle != null && (object)asSquare == null && shape is IShape && !(shape is Triangle));

            Check(output, "static constructor ran once, preinitialised statics", StaticData.ConstructorRuns == 1 && StaticData.Computed == 45
                && StaticData.Primes.Length == 6 && StaticData.Primes[5] == 13 && StaticData.Greeting == "static string");

            System.Span<byte> span = stackalloc byte[64];
            span.Fill(7);
            span.Slice(8, 8).Clear();
            byte[] copy = new byte[64];
            span.CopyTo(copy);
            Check(output, "spans (stackalloc, fill, slice, clear, copy)", copy[0] == 7 && copy[8] == 0 && copy[15] == 0 && copy[16] == 7);

            long before = Keel.Runtime.RuntimeServices.ObjectsFreed;
            Box<long> temporary = new Box<long>(5);
            Keel.Runtime.RuntimeServices.FreeObject(temporary);
            Check(output, "explicit free returns memory to the heap", Keel.Runtime.RuntimeServices.ObjectsFreed == before + 1);

            double ratio = 22.0 / 7.0;
            Check(output, "floating point", ratio > 3.14 && ratio < 3.15 && (int)(ratio * 1000) == 3142);

            output.Write("selftest: ");
            output.Write(_passed);
            output.Write(" passed, ");
            output.Write(_failed);
            output.Write(" failed\n");
        }

        private void Check(ITextOutput output, string what, bool ok)
        {
            output.Write(ok ? "  ok    " : "  FAIL  ");
            output.Write(what);
            output.WriteLine();
            if (ok)
            {
                _passed++;
            }
            else
            {
                _failed++;
            }
        }
    }
}
