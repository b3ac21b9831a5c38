using System.Runtime;
using System.Runtime.CompilerServices;

namespace Keel.Runtime
{
    /// <summary>
    /// The assembly routines in boot/cpu.asm that managed code calls directly (no transition helpers).
    /// Everything that needs a privileged or special instruction goes through here.
    /// </summary>
    public static unsafe class Native
    {
        [MethodImpl(MethodImplOptions.InternalCall)][RuntimeImport("*", "keel_outb")] public static extern void Out8(ushort port, byte value);
        [MethodImpl(MethodImplOptions.InternalCall)][RuntimeImport("*", "keel_outw")] public static extern void Out16(ushort port, ushort value);
        [MethodImpl(MethodImplOptions.InternalCall)][RuntimeImport("*", "keel_outl")] public static extern void Out32(ushort port, uint value);
        [MethodImpl(MethodImplOptions.InternalCall)][RuntimeImport("*", "keel_inb")] public static extern byte In8(ushort port);
        [MethodImpl(MethodImplOptions.InternalCall)][RuntimeImport("*", "keel_inw")] public static extern ushort In16(ushort port);
        [MethodImpl(MethodImplOptions.InternalCall)][RuntimeImport("*", "keel_inl")] public static extern uint In32(ushort port);
        [MethodImpl(MethodImplOptions.InternalCall)][RuntimeImport("*", "keel_rdtsc")] public static extern ulong ReadTimestampCounter();
        [MethodImpl(MethodImplOptions.InternalCall)][RuntimeImport("*", "keel_rdrand")] public static extern int ReadRandom(ulong* value);
        [MethodImpl(MethodImplOptions.InternalCall)][RuntimeImport("*", "keel_rdmsr")] public static extern ulong ReadMsr(uint msr);
        [MethodImpl(MethodImplOptions.InternalCall)][RuntimeImport("*", "keel_wrmsr")] public static extern void WriteMsr(uint msr, ulong value);
        [MethodImpl(MethodImplOptions.InternalCall)][RuntimeImport("*", "keel_cpuid")] public static extern void Cpuid(uint leaf, uint subleaf, uint* registers);
        [MethodImpl(MethodImplOptions.InternalCall)][RuntimeImport("*", "keel_read_cr2")] public static extern ulong ReadCr2();
        [MethodImpl(MethodImplOptions.InternalCall)][RuntimeImport("*", "keel_read_cr3")] public static extern ulong ReadCr3();
        [MethodImpl(MethodImplOptions.InternalCall)][RuntimeImport("*", "keel_write_cr3")] public static extern void WriteCr3(ulong value);
        [MethodImpl(MethodImplOptions.InternalCall)][RuntimeImport("*", "keel_invlpg")] public static extern void InvalidatePage(ulong address);
        [MethodImpl(MethodImplOptions.InternalCall)][RuntimeImport("*", "keel_lgdt")] public static extern void LoadGdt(void* pointer);
        [MethodImpl(MethodImplOptions.InternalCall)][RuntimeImport("*", "keel_lidt")] public static extern void LoadIdt(void* pointer);
        [MethodImpl(MethodImplOptions.InternalCall)][RuntimeImport("*", "keel_ltr")] public static extern void LoadTaskRegister(ushort selector);
        [MethodImpl(MethodImplOptions.InternalCall)][RuntimeImport("*", "keel_sti")] public static extern void EnableInterrupts();
        [MethodImpl(MethodImplOptions.InternalCall)][RuntimeImport("*", "keel_cli")] public static extern void DisableInterrupts();
        [MethodImpl(MethodImplOptions.InternalCall)][RuntimeImport("*", "keel_save_flags_cli")] public static extern ulong SaveFlagsAndDisableInterrupts();
        [MethodImpl(MethodImplOptions.InternalCall)][RuntimeImport("*", "keel_restore_flags")] public static extern void RestoreFlags(ulong flags);
        [MethodImpl(MethodImplOptions.InternalCall)][RuntimeImport("*", "keel_sti_hlt")] public static extern void EnableInterruptsAndHalt();
        [MethodImpl(MethodImplOptions.InternalCall)][RuntimeImport("*", "keel_pause")] public static extern void Pause();
        [MethodImpl(MethodImplOptions.InternalCall)][RuntimeImport("*", "keel_halt_forever")] public static extern void HaltForever();
        [MethodImpl(MethodImplOptions.InternalCall)][RuntimeImport("*", "keel_read_rsp")] public static extern ulong ReadStackPointer();
        [MethodImpl(MethodImplOptions.InternalCall)][RuntimeImport("*", "keel_image_bounds")] public static extern void ImageBounds(ulong* bounds);
        [MethodImpl(MethodImplOptions.InternalCall)][RuntimeImport("*", "keel_modules_bounds")] public static extern void ModulesBounds(ulong* bounds);
        [MethodImpl(MethodImplOptions.InternalCall)][RuntimeImport("*", "keel_kernel_extent")] public static extern void KernelExtent(ulong* bounds);
        [MethodImpl(MethodImplOptions.InternalCall)][RuntimeImport("*", "keel_stack_top")] public static extern ulong StackTop();
    }
}
