using System;
using System.Collections.Generic;
using Keel.Kernel.Memory;
using NUnit.Framework;

namespace Keel.Tests.Kernel
{
    public unsafe class SlabHeapTests
    {
        private const ulong MiB = 1024 * 1024;
        private const int Page = PhysicalPageAllocator.PageSize;

        private SimulatedPhysicalMemory _memory;
        private PhysicalPageAllocator* _pages;
        private SlabHeap* _heap;

        [SetUp]
        public void SetUp()
        {
            _memory = new SimulatedPhysicalMemory(1 * MiB, 16 * MiB);
            CreateHeap(16 * MiB);
        }

        [TearDown]
        public void TearDown()
        {
            _memory.Dispose();
        }

        private void CreateHeap(ulong ramBytes)
        {
            MemoryRegion[] map = { new MemoryRegion(1 * MiB, ramBytes, MemoryRegionType.Ram) };
            _pages = PhysicalPageAllocator.Create(map, ReadOnlySpan<MemoryRegion>.Empty, _memory.DirectMapOffset, 0);
            _heap = SlabHeap.Create(_pages);
            Assert.That(_heap != null);
        }

        private static bool IsZero(byte* p, int length) => new ReadOnlySpan<byte>(p, length).IndexOfAnyExcept((byte)0) < 0;

        [Test]
        public void SmallAllocationsAreAlignedZeroedAndSizedByClass()
        {
            ulong[] sizes = { 0, 1, 15, 16, 17, 31, 33, 64, 65, 200, 256, 257, 700, 1024, 1025, 2047, 2048 };
            ulong[] classes = { 16, 16, 16, 16, 32, 32, 64, 64, 128, 256, 256, 512, 1024, 1024, 2048, 2048, 2048 };
            for (int i = 0; i < sizes.Length; i++)
            {
                byte* p = (byte*)_heap->Allocate(sizes[i]);
                Assert.That(p != null);
                Assert.That((ulong)p % SlabHeap.Alignment, Is.EqualTo(0));
                Assert.That(_heap->UsableSize(p), Is.EqualTo(classes[i]), "size " + sizes[i]);
                Assert.That(IsZero(p, (int)classes[i]), Is.True);
            }
            Assert.That(_heap->ObjectsInUse, Is.EqualTo(sizes.Length));
            Assert.That(_heap->ClassObjectsInUse(SlabHeap.ClassFor(16)), Is.EqualTo(4));
            Assert.That(_heap->ClassSlabs(0), Is.EqualTo(1));
            Assert.That(_heap->ClassPages(0), Is.EqualTo(SlabHeap.SlabPages));
        }

        [Test]
        public void FreedObjectIsReusedAndZeroedAgain()
        {
            byte* a = (byte*)_heap->Allocate(40);
            byte* b = (byte*)_heap->Allocate(40);
            Assert.That((ulong)b, Is.Not.EqualTo((ulong)a));
            new Span<byte>(a, 64).Fill(0x77);
            Assert.That(_heap->Free(a), Is.True);
            byte* c = (byte*)_heap->Allocate(60);
            Assert.That((ulong)c, Is.EqualTo((ulong)a));
            Assert.That(IsZero(c, 64), Is.True);
            Assert.That(_heap->ClassAllocations(2), Is.EqualTo(3));
            Assert.That(_heap->ClassFrees(2), Is.EqualTo(1));
        }

        [Test]
        public void FullSlabsGrowTheClassAndEmptySlabsGoBack()
        {
            int classIndex = SlabHeap.ClassFor(2048);
            int perSlab = (SlabHeap.SlabSize - SlabHeap.SlabHeaderSize) / 2048;
            long pagesBefore = _pages->UsedPages;
            var objects = new List<ulong>();
            for (int i = 0; i < perSlab * 3; i++)
            {
                objects.Add((ulong)_heap->Allocate(2048));
            }
            Assert.That(_heap->ClassSlabs(classIndex), Is.EqualTo(3));
            Assert.That(_pages->UsedPages - pagesBefore, Is.EqualTo(3 * SlabHeap.SlabPages));
            var distinct = new HashSet<ulong>(objects);
            Assert.That(distinct.Count, Is.EqualTo(objects.Count));

            foreach (ulong p in objects)
            {
                Assert.That(_heap->Free((void*)p), Is.True);
            }
            Assert.That(_heap->ClassObjectsInUse(classIndex), Is.EqualTo(0));
            Assert.That(_heap->ClassSlabs(classIndex), Is.EqualTo(SlabHeap.MaxEmptySlabsPerClass));
            Assert.That(_heap->ClassEmptySlabs(classIndex), Is.EqualTo(SlabHeap.MaxEmptySlabsPerClass));
            Assert.That(_heap->Trim(), Is.EqualTo(SlabHeap.SlabPages));
            Assert.That(_heap->ClassSlabs(classIndex), Is.EqualTo(0));
            Assert.That(_pages->UsedPages, Is.EqualTo(pagesBefore));
        }

        [Test]
        public void SixteenByteSlabHoldsItsWholeCapacity()
        {
            int perSlab = (SlabHeap.SlabSize - SlabHeap.SlabHeaderSize) / 16;
            Assert.That(perSlab, Is.LessThanOrEqualTo(SlabHeader.MaxObjects));
            Assert.That(sizeof(SlabHeader), Is.LessThanOrEqualTo(SlabHeap.SlabHeaderSize));
            for (int i = 0; i < perSlab; i++)
            {
                _heap->Allocate(16);
            }
            Assert.That(_heap->ClassSlabs(0), Is.EqualTo(1));
            _heap->Allocate(16);
            Assert.That(_heap->ClassSlabs(0), Is.EqualTo(2));
        }

        [Test]
        public void LargeAllocationsTakeWholePages()
        {
            long pagesBefore = _pages->UsedPages;
            byte* p = (byte*)_heap->Allocate(5000);
            Assert.That(p != null);
            Assert.That((ulong)p % SlabHeap.Alignment, Is.EqualTo(0));
            Assert.That(_heap->UsableSize(p), Is.EqualTo((ulong)(2 * Page - SlabHeap.LargeHeaderSize)));
            Assert.That(IsZero(p, 5000), Is.True);
            new Span<byte>(p, 5000).Fill(1);
            Assert.That(_heap->LargePages, Is.EqualTo(2));
            Assert.That(_heap->BytesInUse, Is.EqualTo(5000));

            byte* big = (byte*)_heap->Allocate(300000);
            Assert.That(big != null);
            Assert.That(_heap->LargePages, Is.EqualTo(2 + 74));
            new Span<byte>(big, 300000).Fill(2);
            Assert.That(_pages->UsedPages - pagesBefore, Is.EqualTo(76));

            Assert.That(_heap->Free(p), Is.True);
            Assert.That(_heap->Free(big), Is.True);
            Assert.That(_heap->LargeBlocksInUse, Is.EqualTo(0));
            Assert.That(_heap->LargeFrees, Is.EqualTo(2));
            Assert.That(_pages->UsedPages, Is.EqualTo(pagesBefore));
            Assert.That(_heap->Free(p), Is.False, "double free of a large block");
            Assert.That(_heap->BadFrees, Is.EqualTo(1));
        }

        [Test]
        public void BadFreesAreCountedNotObeyed()
        {
            byte* a = (byte*)_heap->Allocate(32);
            byte* b = (byte*)_heap->Allocate(32);
            byte* large = (byte*)_heap->Allocate(3000);
            ulong foreignPage = _pages->AllocatePage();
            byte stackByte = 0;

            Assert.That(_heap->Free(null), Is.True);
            Assert.That(_heap->Free(a + 8), Is.False, "misaligned");
            Assert.That(_heap->Free(a + 16), Is.False, "interior of an object");
            Assert.That(_heap->Free(a + 64), Is.False, "slot never handed out");
            Assert.That(_heap->Free(large + 16), Is.False, "interior of a large block");
            Assert.That(_heap->Free(_pages->ToVirtual(foreignPage)), Is.False, "page not from the heap");
            Assert.That(_heap->Free(_pages->ToVirtual(foreignPage) + 2 * Page), Is.False, "free page");
            Assert.That(_heap->Free(&stackByte), Is.False, "outside physical memory");
            Assert.That(_heap->Free(_heap), Is.False, "the heap's own state");
            Assert.That(_heap->BadFrees, Is.EqualTo(8));

            Assert.That(_heap->Free(a), Is.True);
            Assert.That(_heap->Free(a), Is.False);
            Assert.That(_heap->DoubleFrees, Is.EqualTo(1));
            Assert.That(_heap->ClassObjectsInUse(1), Is.EqualTo(1));

            // The free list is intact: the next two allocations are a (reused) then a fresh slot, never a twice.
            byte* c = (byte*)_heap->Allocate(32);
            byte* d = (byte*)_heap->Allocate(32);
            Assert.That((ulong)c, Is.EqualTo((ulong)a));
            Assert.That((ulong)d, Is.Not.EqualTo((ulong)a));
            Assert.That((ulong)d, Is.Not.EqualTo((ulong)b));
            Assert.That(_heap->UsableSize(a + 16), Is.EqualTo(0));
        }

        [Test]
        public void ExhaustionFailsCleanlyAndRecovers()
        {
            _memory.Dispose();
            _memory = new SimulatedPhysicalMemory(1 * MiB, 1 * MiB);
            CreateHeap(1 * MiB);
            var objects = new List<ulong>();
            void* p;
            while ((p = _heap->Allocate(1000)) != null)
            {
                objects.Add((ulong)p);
            }
            Assert.That(_heap->Failures, Is.EqualTo(1));
            Assert.That(objects.Count, Is.GreaterThan(100));
            Assert.That(_heap->Allocate(100000) == null);
            Assert.That(_heap->Failures, Is.EqualTo(2));
            foreach (ulong o in objects)
            {
                Assert.That(_heap->Free((void*)o), Is.True);
            }
            _heap->Trim();
            Assert.That(_heap->PagesHeld, Is.EqualTo(1));
            Assert.That(_pages->UsedPages, Is.EqualTo(1));
            Assert.That(_heap->Allocate(100000) != null);
        }

        [Test]
        public void RandomAllocFreeKeepsContentsAndCounters()
        {
            var random = new Random(1234);
            var live = new List<(ulong Pointer, int Size, byte Tag)>();
            for (int step = 0; step < 20000; step++)
            {
                if (live.Count > 0 && random.Next(100) < 45)
                {
                    int index = random.Next(live.Count);
                    var item = live[index];
                    byte* q = (byte*)item.Pointer;
                    for (int i = 0; i < item.Size; i++)
                    {
                        if (q[i] != item.Tag)
                        {
                            Assert.Fail("object overwritten");
                        }
                    }
                    Assert.That(_heap->Free(q), Is.True);
                    live[index] = live[live.Count - 1];
                    live.RemoveAt(live.Count - 1);
                }
                else
                {
                    int size = random.Next(100) < 95 ? random.Next(1, 2049) : random.Next(2049, 20000);
                    byte* p = (byte*)_heap->Allocate((ulong)size);
                    Assert.That(p != null);
                    Assert.That(IsZero(p, size), Is.True);
                    byte tag = (byte)random.Next(1, 256);
                    new Span<byte>(p, size).Fill(tag);
                    live.Add(((ulong)p, size, tag));
                }
            }
            Assert.That(_heap->ObjectsInUse, Is.EqualTo(live.Count));
            foreach (var item in live)
            {
                Assert.That(_heap->Free((void*)item.Pointer), Is.True);
            }
            Assert.That(_heap->ObjectsInUse, Is.EqualTo(0));
            Assert.That(_heap->BytesInUse, Is.EqualTo(0));
            Assert.That(_heap->BadFrees + _heap->DoubleFrees, Is.EqualTo(0));
            _heap->Trim();
            Assert.That(_pages->UsedPages, Is.EqualTo(1));
        }

        [Test]
        public void PrintListsClassesAndTotals()
        {
            _heap->Allocate(100);
            _heap->Allocate(10000);
            var output = new TextCapture();
            _heap->Print(output);
            string text = output.Text;
            Assert.That(text, Does.Contain("heap:    128        1        1        4        1        0"));
            Assert.That(text, Does.Contain("heap:  large        1        0        3        1        0"));
            Assert.That(text, Does.Contain("objects 2 bytes 10128 pages 8 "));
        }
    }
}
