using System;
using System.Collections.Generic;
using Keel.Hal;
using Keel.Kernel.Memory;
using NUnit.Framework;

namespace Keel.Tests.Kernel
{
    public unsafe class PhysicalPageAllocatorTests
    {
        private const ulong MiB = 1024 * 1024;
        private const int Page = PhysicalPageAllocator.PageSize;

        private SimulatedPhysicalMemory _memory;

        [SetUp]
        public void SetUp()
        {
            _memory = new SimulatedPhysicalMemory(1 * MiB, 8 * MiB);
        }

        [TearDown]
        public void TearDown()
        {
            _memory.Dispose();
        }

        /// <summary>A QEMU-like map: low RAM, VGA/BIOS hole, RAM from 1 MiB to 9 MiB; kernel image at [1 MiB, 2 MiB).</summary>
        private PhysicalPageAllocator* CreateStandard()
        {
            MemoryRegion[] map =
            {
                new MemoryRegion(0, 0x9FC00, MemoryRegionType.Ram),
                new MemoryRegion(0x9FC00, 0x400, MemoryRegionType.Reserved),
                new MemoryRegion(0xF0000, 0x10000, MemoryRegionType.Reserved),
                new MemoryRegion(1 * MiB, 8 * MiB, MemoryRegionType.Ram),
                new MemoryRegion(0xFFFC0000, 0x40000, MemoryRegionType.Reserved),
            };
            MemoryRegion[] reserved = { new MemoryRegion(1 * MiB, 1 * MiB, 0) };
            return PhysicalPageAllocator.Create(map, reserved, _memory.DirectMapOffset, 0);
        }

        [Test]
        public void MetadataGoesAfterTheKernelAndIsExcluded()
        {
            PhysicalPageAllocator* a = CreateStandard();
            Assert.That(a != null);
            Assert.That(a->IsInitialized);
            Assert.That(a->MetadataAddress, Is.EqualTo(2 * MiB));
            Assert.That(a->LowestAddress, Is.EqualTo(1 * MiB));
            Assert.That(a->HighestAddress, Is.EqualTo(9 * MiB));
            long expected = (long)(7 * MiB / Page) - a->MetadataPages;
            Assert.That(a->TotalPages, Is.EqualTo(expected));
            Assert.That(a->FreePages, Is.EqualTo(expected));
            Assert.That(a->UsedPages, Is.EqualTo(0));
            Assert.That((ulong)a, Is.EqualTo((ulong)_memory.At(2 * MiB)));
        }

        [Test]
        public void ExhaustionHandsOutEveryPageOnceAndOnlyUsableOnes()
        {
            PhysicalPageAllocator* a = CreateStandard();
            ulong metadataEnd = a->MetadataAddress + (ulong)a->MetadataPages * Page;
            var seen = new HashSet<ulong>();
            while (true)
            {
                ulong p = a->AllocatePage(false);
                if (p == PhysicalPageAllocator.NoPage)
                {
                    break;
                }
                Assert.That(p % Page, Is.EqualTo(0));
                Assert.That(p, Is.GreaterThanOrEqualTo(metadataEnd));
                Assert.That(p, Is.LessThan(9 * MiB));
                Assert.That(seen.Add(p), Is.True, "page handed out twice");
            }
            Assert.That(seen.Count, Is.EqualTo(a->TotalPages));
            Assert.That(a->FreePages, Is.EqualTo(0));
            Assert.That(a->MinimumFreePages, Is.EqualTo(0));
            Assert.That(a->Failures, Is.EqualTo(1));
            Assert.That(a->Allocations, Is.EqualTo(seen.Count));
            Assert.That(a->AllocateContiguous(2), Is.EqualTo(PhysicalPageAllocator.NoPage));
            Assert.That(a->Failures, Is.EqualTo(2));

            foreach (ulong p in seen)
            {
                Assert.That(a->Free(p), Is.True);
            }
            Assert.That(a->FreePages, Is.EqualTo(a->TotalPages));
            Assert.That(a->Frees, Is.EqualTo(seen.Count));
            Assert.That(a->BadFrees, Is.EqualTo(0));
        }

        [Test]
        public void PagesAreZeroedUnlessAskedNotTo()
        {
            PhysicalPageAllocator* a = CreateStandard();
            ulong raw = a->AllocatePage(false);
            Assert.That(_memory.At(raw)[0], Is.EqualTo(0xA5));
            Assert.That(_memory.At(raw)[Page - 1], Is.EqualTo(0xA5));
            ulong zeroed = a->AllocatePage();
            Assert.That(new ReadOnlySpan<byte>(_memory.At(zeroed), Page).IndexOfAnyExcept((byte)0), Is.EqualTo(-1));
            ulong run = a->AllocateContiguous(8);
            Assert.That(new ReadOnlySpan<byte>(_memory.At(run), 8 * Page).IndexOfAnyExcept((byte)0), Is.EqualTo(-1));
        }

        [Test]
        public void FreedPageIsReusedFirst()
        {
            PhysicalPageAllocator* a = CreateStandard();
            ulong first = a->AllocatePage();
            ulong second = a->AllocatePage();
            Assert.That(second, Is.EqualTo(first + Page));
            a->Free(first);
            Assert.That(a->AllocatePage(), Is.EqualTo(first));
        }

        [Test]
        public void ContiguousRunsAreContiguousAlignedAndAccounted()
        {
            PhysicalPageAllocator* a = CreateStandard();
            long free = a->FreePages;
            a->AllocatePage();
            ulong run = a->AllocateContiguous(64, 16);
            Assert.That(run, Is.Not.EqualTo(PhysicalPageAllocator.NoPage));
            Assert.That(run % (16 * Page), Is.EqualTo(0));
            Assert.That(a->FreePages, Is.EqualTo(free - 65));
            for (int i = 0; i < 64; i++)
            {
                Assert.That(a->IsAllocated(run + (ulong)i * Page), Is.True);
            }
            Assert.That(a->IsAllocated(run + 64 * Page), Is.False);
            Assert.That(a->Free(run, 64), Is.True);
            Assert.That(a->FreePages, Is.EqualTo(free - 1));
            Assert.That(a->AllocateContiguous(3, 3), Is.EqualTo(PhysicalPageAllocator.NoPage), "alignment must be a power of two");
            Assert.That(a->AllocateContiguous(0), Is.EqualTo(PhysicalPageAllocator.NoPage));
        }

        [Test]
        public void FragmentationDefeatsContiguousUntilARunIsFreed()
        {
            PhysicalPageAllocator* a = CreateStandard();
            var pages = new List<ulong>();
            ulong p;
            while ((p = a->AllocatePage(false)) != PhysicalPageAllocator.NoPage)
            {
                pages.Add(p);
            }
            // Free every other page: half the memory is free, but no two free pages touch.
            for (int i = 0; i < pages.Count; i += 2)
            {
                a->Free(pages[i]);
            }
            Assert.That(a->FreePages, Is.EqualTo((pages.Count + 1) / 2));
            Assert.That(a->AllocateContiguous(2), Is.EqualTo(PhysicalPageAllocator.NoPage));
            Assert.That(a->AllocatePage(false), Is.Not.EqualTo(PhysicalPageAllocator.NoPage));

            // Free the odd pages 101..107: with the even pages 100..108 (still free) that makes a run of 9.
            for (int i = 101; i <= 107; i += 2)
            {
                a->Free(pages[i]);
            }
            ulong run = a->AllocateContiguous(8);
            Assert.That(run, Is.EqualTo(pages[100]));
        }

        [Test]
        public void BadFreesAreCountedAndChangeNothing()
        {
            PhysicalPageAllocator* a = CreateStandard();
            ulong page = a->AllocatePage();
            long free = a->FreePages;
            Assert.That(a->Free(page), Is.True);
            Assert.That(a->Free(page), Is.False, "double free");
            Assert.That(a->Free(1 * MiB), Is.False, "kernel image");
            Assert.That(a->Free(a->MetadataAddress), Is.False, "allocator metadata");
            Assert.That(a->Free(0x1000), Is.False, "low memory");
            Assert.That(a->Free(64 * MiB), Is.False, "outside RAM");
            Assert.That(a->Free(page + 8), Is.False, "misaligned");
            ulong two = a->AllocateContiguous(2);
            Assert.That(a->Free(two, 3), Is.False, "run longer than the allocation");
            Assert.That(a->IsAllocated(two + Page), Is.True);
            Assert.That(a->BadFrees, Is.EqualTo(7));
            Assert.That(a->Frees, Is.EqualTo(1));
            Assert.That(a->FreePages, Is.EqualTo(free + 1 - 2));
        }

        [Test]
        public void NonRamEntriesInsideRamAndLimitAreHonoured()
        {
            MemoryRegion[] map =
            {
                new MemoryRegion(1 * MiB + 0x800, 8 * MiB - 0x800, MemoryRegionType.Ram), // unaligned start
                new MemoryRegion(3 * MiB, 2 * Page, MemoryRegionType.AcpiNvs),
            };
            PhysicalPageAllocator* a = PhysicalPageAllocator.Create(map, ReadOnlySpan<MemoryRegion>.Empty, _memory.DirectMapOffset, 5 * MiB);
            Assert.That(a != null);
            Assert.That(a->LowestAddress, Is.EqualTo(1 * MiB + Page));
            Assert.That(a->HighestAddress, Is.EqualTo(5 * MiB));
            Assert.That(a->MetadataAddress, Is.EqualTo(1 * MiB + Page));
            Assert.That(a->IsManaged(3 * MiB), Is.False);
            Assert.That(a->IsManaged(3 * MiB + Page), Is.False);
            Assert.That(a->IsManaged(3 * MiB + 2 * Page), Is.True);
            long expected = (long)((4 * MiB - Page) / Page) - 2 - a->MetadataPages;
            Assert.That(a->TotalPages, Is.EqualTo(expected));
            ulong p;
            while ((p = a->AllocatePage(false)) != PhysicalPageAllocator.NoPage)
            {
                Assert.That(p < 3 * MiB || p >= 3 * MiB + 2 * Page);
                Assert.That(p, Is.LessThan(5 * MiB));
            }
        }

        [Test]
        public void MetadataSkipsRamTooSmallOrReserved()
        {
            MemoryRegion[] map =
            {
                new MemoryRegion(1 * MiB, 2 * Page, MemoryRegionType.Ram), // entirely reserved below
                new MemoryRegion(2 * MiB, 7 * MiB, MemoryRegionType.Ram),
            };
            MemoryRegion[] reserved = { new MemoryRegion(1 * MiB, 2 * Page, 0), new MemoryRegion(2 * MiB, 0x1234, 0) };
            PhysicalPageAllocator* a = PhysicalPageAllocator.Create(map, reserved, _memory.DirectMapOffset, 0);
            Assert.That(a->MetadataAddress, Is.EqualTo(2 * MiB + 2 * Page));
            Assert.That(a->IsManaged(2 * MiB + Page), Is.False, "partly reserved page is reserved");
        }

        [Test]
        public void NoRamMeansNoAllocator()
        {
            MemoryRegion[] map = { new MemoryRegion(0, 0x9F000, MemoryRegionType.Ram), new MemoryRegion(1 * MiB, 1 * MiB, MemoryRegionType.Reserved) };
            Assert.That(PhysicalPageAllocator.Create(map, ReadOnlySpan<MemoryRegion>.Empty, _memory.DirectMapOffset, 0) == null);
        }

        [Test]
        public void PrintShowsCounters()
        {
            PhysicalPageAllocator* a = CreateStandard();
            a->AllocatePage();
            var output = new TextCapture();
            a->Print(output);
            Assert.That(output.Text, Does.Contain("used 1 "));
            Assert.That(output.Text, Does.Contain("allocations 1 frees 0 failures 0 bad-frees 0"));
        }

        [Test]
        public void HalAdaptersHandOutZeroedPagesAndRegions()
        {
            PhysicalPageAllocator* a = CreateStandard();
            var source = new PhysicalPageSource(a);
            IPageAllocator pages = source;
            IDmaMemory dma = source;
            Assert.That(pages.TryAllocatePage(out DmaPage page), Is.True);
            Assert.That((ulong)page.Virtual, Is.EqualTo((ulong)_memory.At(page.Physical)));
            Assert.That(page.Virtual[100], Is.EqualTo(0));
            Assert.That(dma.TryAllocateContiguous(5, out DmaRegion region), Is.True);
            Assert.That(region.Length, Is.EqualTo(5 * Page));
            Assert.That(region.Virtual[5 * Page - 1], Is.EqualTo(0));
            Assert.That(a->UsedPages, Is.EqualTo(6));
            pages.FreePage(page);
            dma.FreeContiguous(region);
            Assert.That(a->UsedPages, Is.EqualTo(0));
            Assert.That(dma.TryAllocateContiguous(100000, out region), Is.False);
        }
    }
}
