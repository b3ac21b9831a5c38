using System;

namespace Keel.Kernel.Platform
{
    /// <summary>
    /// The value of <c>virtio_mmio.device=</c>, the convention of Linux's virtio_mmio driver that QEMU microvm
    /// (with <c>acpi=off</c>) and Firecracker write on the kernel command line, one entry per device:
    /// <c>&lt;size&gt;@&lt;base&gt;:&lt;irq&gt;[:&lt;id&gt;]</c>.
    /// <list type="bullet">
    /// <item>size: an integer in C notation (<c>0x</c> hex, leading <c>0</c> octal, else decimal) with an optional
    /// binary suffix K, M, G, T, P or E (either case), e.g. <c>512</c>, <c>0x200</c>, <c>4K</c>;</item>
    /// <item>base: an integer in C notation, e.g. <c>0xfeb00e00</c>;</item>
    /// <item>irq: decimal, not 0;</item>
    /// <item>id: optional, decimal, may be negative (Linux's platform device id).</item>
    /// </list>
    /// Nothing may follow. The key may be spelled with <c>-</c> for <c>_</c> (Linux treats them alike in
    /// parameter names). Stricter than Linux where Linux would build a device that cannot work: a size below
    /// the register block, a window that wraps past 2^64, numbers that overflow.
    /// </summary>
    public static class VirtioMmioCommandLine
    {
        /// <summary>The key, as Linux documents it.</summary>
        public const string Key = "virtio_mmio.device";

        /// <summary>Smallest window accepted: the registers before the device configuration (virtio 1.2 §4.2.2).</summary>
        public const ulong MinimumSize = 0x100;

        /// <summary>True for <c>virtio_mmio.device</c>, also with <c>-</c> in place of <c>_</c>.</summary>
        public static bool IsKey(ReadOnlySpan<byte> key)
        {
            if (key.Length != Key.Length)
            {
                return false;
            }
            for (int i = 0; i < key.Length; i++)
            {
                byte expected = (byte)Key[i];
                byte c = key[i];
                if (c != expected && !(expected == '_' && c == '-'))
                {
                    return false;
                }
            }
            return true;
        }

        /// <summary>
        /// Parses one value. Returns null and the device on success; otherwise a short reason (a literal: no
        /// allocation) and a default device.
        /// </summary>
        public static string TryParse(ReadOnlySpan<byte> value, out MmioDevice device)
        {
            device = default;
            device.Id = -1;
            device.Source = MmioDeviceSource.CommandLine;
            int at = 0;
            ulong size;
            if (!TryParseCNumber(value, ref at, out size))
            {
                return "size: expected a number (decimal, 0x hex or 0 octal)";
            }
            if (at < value.Length && Shift(value[at]) > 0)
            {
                int shift = Shift(value[at]);
                if (size > (ulong.MaxValue >> shift))
                {
                    return "size too large";
                }
                size <<= shift;
                at++;
            }
            if (at >= value.Length || value[at] != '@')
            {
                return "expected '@' after the size";
            }
            at++;
            ulong address;
            if (!TryParseCNumber(value, ref at, out address))
            {
                return "base: expected a number (decimal, 0x hex or 0 octal)";
            }
            if (at >= value.Length || value[at] != ':')
            {
                return "expected ':' after the base";
            }
            at++;
            ulong irq;
            if (!TryParseDecimal(value, ref at, out irq) || irq > int.MaxValue)
            {
                return "irq: expected a decimal number";
            }
            long id = -1;
            if (at < value.Length && value[at] == ':')
            {
                at++;
                bool negative = at < value.Length && value[at] == '-';
                if (negative)
                {
                    at++;
                }
                ulong magnitude;
                if (!TryParseDecimal(value, ref at, out magnitude) || magnitude > int.MaxValue)
                {
                    return "id: expected a decimal number";
                }
                id = negative ? -(long)magnitude : (long)magnitude;
            }
            if (at != value.Length)
            {
                return "unexpected text after the irq (form: <size>@<base>:<irq>[:<id>])";
            }
            if (irq == 0)
            {
                return "irq 0 is not allowed";
            }
            if (size < MinimumSize)
            {
                return "size smaller than the 256 bytes of virtio-mmio registers";
            }
            if (address + size < address)
            {
                return "base + size beyond the address space";
            }
            device.Base = address;
            device.Size = size;
            device.Irq = (int)irq;
            device.Id = id;
            return null;
        }

        /// <summary>The binary shift of a memparse suffix (K 10 … E 60); 0 when <paramref name="c"/> is not one.</summary>
        private static int Shift(byte c)
        {
            switch (c | 0x20)
            {
                case 'k':
                    return 10;
                case 'm':
                    return 20;
                case 'g':
                    return 30;
                case 't':
                    return 40;
                case 'p':
                    return 50;
                case 'e':
                    return 60;
                default:
                    return 0;
            }
        }

        /// <summary>An unsigned integer in C notation (strtoull base 0) at <paramref name="at"/>; false without a digit or on overflow.</summary>
        private static bool TryParseCNumber(ReadOnlySpan<byte> text, ref int at, out ulong value)
        {
            value = 0;
            int radix = 10;
            int start = at;
            if (at < text.Length && text[at] == '0')
            {
                if (at + 2 < text.Length && (text[at + 1] | 0x20) == 'x' && DigitValue(text[at + 2], 16) >= 0)
                {
                    radix = 16;
                    at += 2;
                }
                else
                {
                    radix = 8;
                }
            }
            int digits = 0;
            while (at < text.Length)
            {
                int digit = DigitValue(text[at], radix);
                if (digit < 0)
                {
                    break;
                }
                if (value > (ulong.MaxValue - (ulong)digit) / (ulong)radix)
                {
                    at = start;
                    return false;
                }
                value = value * (ulong)radix + (ulong)digit;
                at++;
                digits++;
            }
            if (digits == 0)
            {
                at = start;
                return false;
            }
            return true;
        }

        private static bool TryParseDecimal(ReadOnlySpan<byte> text, ref int at, out ulong value)
        {
            value = 0;
            int start = at;
            while (at < text.Length && text[at] >= '0' && text[at] <= '9')
            {
                ulong digit = (ulong)(text[at] - '0');
                if (value > (ulong.MaxValue - digit) / 10)
                {
                    at = start;
                    return false;
                }
                value = value * 10 + digit;
                at++;
            }
            return at > start;
        }

        /// <summary>Value of digit <paramref name="c"/> in <paramref name="radix"/> (8, 10 or 16); −1 when it is not one.</summary>
        private static int DigitValue(byte c, int radix)
        {
            int value;
            if (c >= '0' && c <= '9')
            {
                value = c - '0';
            }
            else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
            {
                value = (c | 0x20) - 'a' + 10;
            }
            else
            {
                return -1;
            }
            return value < radix ? value : -1;
        }
    }
}
