namespace Keel.Kernel.Config
{
    /// <summary>What is wrong with a part of the kernel command line.</summary>
    public enum CommandLineIssueKind
    {
        /// <summary>A key the kernel does not know (kept; <see cref="KernelCommandLine.TryGetValue"/> still finds it).</summary>
        UnknownKey,

        /// <summary>A known key whose value could not be parsed (the default stays in effect).</summary>
        MalformedValue,

        /// <summary>An entry with an empty key, such as "=5".</summary>
        MalformedEntry,

        /// <summary>More entries than <see cref="KernelCommandLine.MaxEntries"/>; the rest were dropped.</summary>
        TooManyEntries,

        /// <summary>A <c>virtio_mmio.device=</c> value that is not <c>&lt;size&gt;@&lt;base&gt;:&lt;irq&gt;[:&lt;id&gt;]</c> (the device is ignored).</summary>
        RefusedDevice,

        /// <summary>More <c>virtio_mmio.device=</c> entries than <see cref="KernelCommandLine.MaxMmioDevices"/>; the rest were ignored.</summary>
        TooManyDevices,

        /// <summary>The command line was longer than <see cref="KernelCommandLine.MaxLength"/>; the rest was dropped.</summary>
        Truncated,
    }
}
