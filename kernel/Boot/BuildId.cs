using System.Runtime;
using System.Runtime.CompilerServices;
using Keel.Kernel.Console;

namespace Keel.Kernel.Boot
{
    /// <summary>
    /// The build id that tools/build-id links into the image (a hash of everything linked). The kernel prints
    /// it at boot ("build id: …"); the boot tests compare it with the id inside the build/keel.elf just built.
    /// </summary>
    public static unsafe class BuildId
    {
        [MethodImpl(MethodImplOptions.InternalCall)]
        [RuntimeImport("*", "keel_build_id")]
        private static extern byte* Text();

        /// <summary>Prints "build id: " and the 16 hex digits, then a newline.</summary>
        public static void Print(SerialConsole console)
        {
            console.Write("build id: ");
            byte* text = Text();
            for (int i = 0; i < 64 && text[i] != 0; i++)
            {
                console.Write((char)text[i]);
            }
            console.Write('\n');
        }
    }
}
