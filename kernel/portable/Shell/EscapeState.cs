namespace Keel.Kernel.Shell
{
    /// <summary>Where the line editor is inside a terminal escape sequence (which it swallows).</summary>
    public enum EscapeState
    {
        /// <summary>Not in a sequence.</summary>
        None,

        /// <summary>After ESC.</summary>
        Escape,

        /// <summary>After ESC '[' (CSI): parameters until a final byte 0x40..0x7E.</summary>
        ControlSequence,

        /// <summary>After ESC 'O' (SS3): one more byte.</summary>
        SingleShift,
    }
}
