using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Text;
using Keel.Kernel.Boot;
using NUnit.Framework;

namespace Keel.Tests.Kernel
{
    /// <summary>
    /// The multiboot2 information walk against structures laid out from the Multiboot2 specification §3.6:
    /// total_size, reserved, then 8-byte aligned tags (type, size, payload) ending with the end tag (0, 8).
    /// Command line = type 1, memory map = type 6 (entry_size, entry_version, entries of base/length/type/reserved),
    /// ACPI old RSDP = type 14, ACPI new RSDP = type 15.
    /// </summary>
    [TestFixture]
    public sealed unsafe class Multiboot2InfoTests
    {
        [Test]
        public void CommandLineMemoryMapAndRsdpAreFound()
        {
            byte[] info = Info(
                Tag(1, Encoding.ASCII.GetBytes("ip=198.18.0.2/24\0")),
                MemoryMapTag((0, 0x9FC00, 1), (0x100000, 0x7EE0000, 1), (0xFEFFC000, 0x4000, 2)),
                Tag(14, Rsdp(0)));
            Multiboot2Tags tags = Parse(info, out bool ok);
            Assert.That(ok, Is.True);
            Assert.That(tags.Truncated, Is.False);
            Assert.That(tags.TagCount, Is.EqualTo(3));
            Assert.That(Encoding.ASCII.GetString(tags.CommandLine, tags.CommandLineLength), Is.EqualTo("ip=198.18.0.2/24"));
            Assert.That(tags.MemoryMapCount, Is.EqualTo(3));
            Assert.That(tags.MemoryMapEntrySize, Is.EqualTo(24u));
            Assert.That(*(ulong*)(tags.MemoryMap + 24), Is.EqualTo(0x100000UL));
            Assert.That(*(ulong*)(tags.MemoryMap + 24 + 8), Is.EqualTo(0x7EE0000UL));
            Assert.That(*(uint*)(tags.MemoryMap + 48 + 16), Is.EqualTo(2u));
            Assert.That(tags.RsdpLength, Is.EqualTo(20));
            Assert.That(tags.RsdpIsAcpi2, Is.False);
            Assert.That(Encoding.ASCII.GetString(tags.Rsdp, 8), Is.EqualTo("RSD PTR "));
        }

        [Test]
        public void NewRsdpWinsWhicheverComesFirst()
        {
            Multiboot2Tags newFirst = Parse(Info(Tag(15, Rsdp(2)), Tag(14, Rsdp(0))), out _);
            Multiboot2Tags oldFirst = Parse(Info(Tag(14, Rsdp(0)), Tag(15, Rsdp(2))), out _);
            Assert.That(newFirst.RsdpIsAcpi2 && oldFirst.RsdpIsAcpi2, Is.True);
            Assert.That(newFirst.RsdpLength, Is.EqualTo(36));
            Assert.That(oldFirst.RsdpLength, Is.EqualTo(36));
            Assert.That(oldFirst.Rsdp[15], Is.EqualTo(2), "revision byte of the ACPI 2.0 RSDP");
        }

        [Test]
        public void UnknownTagsAreSkippedOnEightByteBoundaries()
        {
            // A tag of size 13 (framebuffer-like) is followed by padding to the next multiple of 8.
            Multiboot2Tags tags = Parse(Info(Tag(8, new byte[5]), Tag(1, Encoding.ASCII.GetBytes("a\0"))), out _);
            Assert.That(tags.TagCount, Is.EqualTo(2));
            Assert.That(tags.CommandLineLength, Is.EqualTo(1));
            Assert.That(tags.Truncated, Is.False);
        }

        [Test]
        public void TagRunningPastTotalSizeStopsTheWalk()
        {
            byte[] info = Info(Tag(1, Encoding.ASCII.GetBytes("x=1\0")));
            BitConverter.GetBytes(0x1000u).CopyTo(info, 8 + 4);   // the command line tag claims 4 KiB
            Multiboot2Tags tags = Parse(info, out bool ok);
            Assert.That(ok, Is.True);
            Assert.That(tags.Truncated, Is.True);
            Assert.That(tags.CommandLine == null, Is.True);
        }

        [Test]
        public void CommandLineWithoutNulIsBoundedByItsTag()
        {
            Multiboot2Tags tags = Parse(Info(Tag(1, Encoding.ASCII.GetBytes("shell=off"))), out _);
            Assert.That(tags.CommandLineLength, Is.EqualTo(9));
        }

        [Test]
        public void MemoryMapWithTooSmallEntriesIsIgnored()
        {
            List<byte> payload = new List<byte>();
            payload.AddRange(BitConverter.GetBytes(16u));
            payload.AddRange(BitConverter.GetBytes(0u));
            payload.AddRange(new byte[32]);
            Multiboot2Tags tags = Parse(Info(Tag(6, payload.ToArray())), out _);
            Assert.That(tags.MemoryMap == null, Is.True);
            Assert.That(tags.MemoryMapCount, Is.EqualTo(0));
        }

        [Test]
        public void BadTotalSizeIsRejected()
        {
            byte[] info = Info(Tag(1, Encoding.ASCII.GetBytes("a\0")));
            BitConverter.GetBytes(8u).CopyTo(info, 0);
            Parse(info, out bool small);
            BitConverter.GetBytes((uint)info.Length + 8).CopyTo(info, 0);
            Parse(info, out bool beyond);
            Assert.That(small || beyond, Is.False);
        }

        // ---- builders (layouts from the specification) ----------------------------------------------------------

        private static Multiboot2Tags Parse(byte[] info, out bool ok)
        {
            byte* copy = (byte*)NativeMemory.AlignedAlloc((nuint)info.Length, 8);
            info.CopyTo(new Span<byte>(copy, info.Length));
            ok = Multiboot2Info.Parse(copy, (uint)info.Length, out Multiboot2Tags tags);
            return tags; // the copy stays allocated: the tags point into it (a few bytes per test)
        }

        private static byte[] Tag(uint type, byte[] payload)
        {
            List<byte> tag = new List<byte>();
            tag.AddRange(BitConverter.GetBytes(type));
            tag.AddRange(BitConverter.GetBytes((uint)(8 + payload.Length)));
            tag.AddRange(payload);
            return tag.ToArray();
        }

        private static byte[] MemoryMapTag(params (ulong Base, ulong Length, uint Type)[] entries)
        {
            List<byte> payload = new List<byte>();
            payload.AddRange(BitConverter.GetBytes(24u));
            payload.AddRange(BitConverter.GetBytes(0u));
            foreach ((ulong b, ulong l, uint t) in entries)
            {
                payload.AddRange(BitConverter.GetBytes(b));
                payload.AddRange(BitConverter.GetBytes(l));
                payload.AddRange(BitConverter.GetBytes(t));
                payload.AddRange(BitConverter.GetBytes(0u));
            }
            return Tag(6, payload.ToArray());
        }

        private static byte[] Rsdp(byte revision)
        {
            byte[] rsdp = new byte[revision >= 2 ? 36 : 20];
            Encoding.ASCII.GetBytes("RSD PTR ").CopyTo(rsdp, 0);
            rsdp[15] = revision;
            return rsdp;
        }

        private static byte[] Info(params byte[][] tags)
        {
            List<byte> body = new List<byte>();
            foreach (byte[] tag in tags)
            {
                body.AddRange(tag);
                while (body.Count % 8 != 0)
                {
                    body.Add(0);
                }
            }
            body.AddRange(Tag(0, new byte[0]));
            List<byte> info = new List<byte>();
            info.AddRange(BitConverter.GetBytes((uint)(8 + body.Count)));
            info.AddRange(BitConverter.GetBytes(0u));
            info.AddRange(body);
            return info.ToArray();
        }
    }
}
