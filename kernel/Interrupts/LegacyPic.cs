using Keel.Runtime;

namespace Keel.Kernel.Interrupts
{
    /// <summary>The 8259 PICs: remapped away from the exception vectors and fully masked (the APICs are used).</summary>
    public static class LegacyPic
    {
        private const ushort MasterCommand = 0x20;
        private const ushort MasterData = 0x21;
        private const ushort SlaveCommand = 0xA0;
        private const ushort SlaveData = 0xA1;
        private const byte Icw1Init = 0x11;
        private const byte Icw4Mode8086 = 0x01;
        private const byte RemapBase = 0x20;

        public static void Disable()
        {
            Native.Out8(MasterCommand, Icw1Init);
            Native.Out8(SlaveCommand, Icw1Init);
            Native.Out8(MasterData, RemapBase);
            Native.Out8(SlaveData, RemapBase + 8);
            Native.Out8(MasterData, 4);
            Native.Out8(SlaveData, 2);
            Native.Out8(MasterData, Icw4Mode8086);
            Native.Out8(SlaveData, Icw4Mode8086);
            Native.Out8(MasterData, 0xFF);
            Native.Out8(SlaveData, 0xFF);
        }
    }
}
