using System;
using Keel.Buffers;
using Keel.Drivers.Net;

namespace Keel.Tests.Fakes
{
    /// <summary>
    /// Test frames: Ethernet header (to the driver's MAC, ethertype 0x88B5 "local experimental"), a 4-byte
    /// sequence number, then payload bytes derived from the sequence number and position, so a receiver can
    /// check every byte without keeping copies.
    /// </summary>
    public static unsafe class TestFrames
    {
        public const int MinimumLength = 18;

        public static void Fill(Span<byte> frame, uint sequence)
        {
            byte[] dst = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
            for (int i = 0; i < 6; i++)
            {
                frame[i] = 0x52;
                frame[6 + i] = (byte)(0x10 + i);
            }
            frame[12] = 0x88;
            frame[13] = 0xB5;
            frame[14] = (byte)(sequence >> 24);
            frame[15] = (byte)(sequence >> 16);
            frame[16] = (byte)(sequence >> 8);
            frame[17] = (byte)sequence;
            for (int i = MinimumLength; i < frame.Length; i++)
            {
                frame[i] = PayloadByte(sequence, i);
            }
        }

        /// <summary>Fills without allocating (the array version used on measured paths).</summary>
        public static void FillNoAlloc(byte[] buffer, int length, uint sequence)
        {
            for (int i = 0; i < 12; i++)
            {
                buffer[i] = (byte)(i < 6 ? 0x52 : 0x10 + i - 6);
            }
            buffer[12] = 0x88;
            buffer[13] = 0xB5;
            buffer[14] = (byte)(sequence >> 24);
            buffer[15] = (byte)(sequence >> 16);
            buffer[16] = (byte)(sequence >> 8);
            buffer[17] = (byte)sequence;
            for (int i = MinimumLength; i < length; i++)
            {
                buffer[i] = PayloadByte(sequence, i);
            }
        }

        public static byte PayloadByte(uint sequence, int position) => (byte)(sequence * 31 + (uint)position * 7 + (uint)(position >> 8));

        /// <summary>Checks a received packet byte by byte (walking its segments). Returns the sequence or -1.</summary>
        public static long Verify(Packet packet, int expectedLength)
        {
            if (packet.Length != expectedLength || packet.Length < MinimumLength)
            {
                return -1;
            }
            uint sequence = 0;
            int position = 0;
            int segments = packet.SegmentCount;
            for (int s = 0; s < segments; s++)
            {
                int length;
                byte* data = packet.Segment(s, out length);
                for (int i = 0; i < length; i++, position++)
                {
                    byte value = data[i];
                    if (position >= 14 && position < 18)
                    {
                        sequence = (sequence << 8) | value;
                    }
                    else if (position == 12 && value != 0x88)
                    {
                        return -1;
                    }
                    else if (position >= MinimumLength && value != PayloadByte(sequence, position))
                    {
                        return -1;
                    }
                }
            }
            return sequence;
        }
    }

    /// <summary>
    /// The "stack" in tests: counts packets, optionally verifies every byte against <see cref="TestFrames"/>,
    /// and frees packets at once or holds them (to test truesize, pool accounting and recycling safety).
    /// Allocation-free.
    /// </summary>
    public sealed class TestReceiver : IPacketReceiver
    {
        private PacketQueue _held;

        public long Packets;
        public long Bytes;
        public long Batches;
        public long BadPackets;
        public long TrueSize;

        /// <summary>Expected length of every frame (0 = do not verify contents).</summary>
        public int ExpectedLength;

        /// <summary>Next expected sequence number (checked when verifying; -1 = do not check order).</summary>
        public long ExpectedSequence = -1;

        /// <summary>Keep packets instead of freeing them.</summary>
        public bool Hold;

        /// <summary>When set, every received frame is sent back through this device (echo).</summary>
        public INetDevice EchoTo;

        public long EchoFailures;

        public int HeldCount => _held.Count;

        public void Receive(Packet frame)
        {
            Packets++;
            Bytes += frame.Length;
            TrueSize += frame.TrueSize;
            if (ExpectedLength > 0)
            {
                long sequence = TestFrames.Verify(frame, ExpectedLength);
                if (sequence < 0 || (ExpectedSequence >= 0 && sequence != ExpectedSequence))
                {
                    BadPackets++;
                }
                if (ExpectedSequence >= 0)
                {
                    ExpectedSequence = sequence + 1;
                }
            }
            if (EchoTo != null)
            {
                if (!EchoTo.Transmit(frame))
                {
                    EchoFailures++;
                    frame.Free();
                }
                return;
            }
            if (Hold)
            {
                _held.Enqueue(frame);
            }
            else
            {
                frame.Free();
            }
        }

        public void ReceiveBatchDone()
        {
            Batches++;
        }

        public Packet TakeHeld() => _held.Dequeue();

        public void FreeHeld()
        {
            _held.FreeAll();
        }
    }
}
