using System.Collections.Generic;
using Keel.Net;
using NUnit.Framework;
using static Keel.Tests.Net.TcpSackTimestampGoldenTests;

namespace Keel.Tests.Net
{
    /// <summary>
    /// The receiver under loss, with hand-built segments from the host: ACKs per receive batch (one per contiguous
    /// run; RFC 2018 section 4: the first SACK block holds the most recently received segment), a window that out-of-order
    /// data does not shrink (RFC 9293 3.8.6, RFC 7323 2.4), and SACK blocks with many more holes than fit in one ACK.
    /// </summary>
    public class TcpReceiveBatchTests
    {
        private const int Scale = 7; // Keel's shift for a 4 MiB maximum buffer (RFC 7323 2.3: 65535 << 7 >= 4 MiB)

        private static byte[] Data(uint seq, uint iss, uint ts, uint tsOurs, int length = SegmentBytes) =>
            Frame(seq, iss + 1, 0x10, Ts(ts, tsOurs), length);

        /// <summary>Frames injected without ending the batch, then the batch end; returns the ACKs sent.</summary>
        private static List<Seg> Batch(SingleStack s, params byte[][] frames)
        {
            s.Capture.Frames.Clear();
            foreach (byte[] f in frames)
            {
                s.Device.Inject(f);
            }
            s.Stack.ReceiveBatchDone();
            List<Seg> acks = new List<Seg>();
            foreach (byte[] f in s.Capture.Frames)
            {
                acks.Add(Parse(f));
            }
            s.Capture.Frames.Clear();
            return acks;
        }

        [Test]
        public void InOrderSegmentsOfOneBatchAreAcknowledgedOnce()
        {
            SingleStack s = Established(out uint iss, out uint ts);
            uint b = ClientIsn + 1;
            s.Capture.Frames.Clear();
            for (int k = 0; k < 4; k++)
            {
                s.Device.Inject(Data(b + (uint)(k * SegmentBytes), iss, (uint)(200 + k), ts));
            }
            Assert.That(s.Capture.Frames, Is.Empty, "no ACK before the batch ends");
            s.Stack.ReceiveBatchDone();
            Assert.That(s.Capture.Frames.Count, Is.EqualTo(1), "one ACK for the batch (RFC 5681 4.2: at least every second segment)");
            Seg a = Parse(s.Capture.Take());
            Assert.That(a.Acknowledgment, Is.EqualTo(b + 4 * SegmentBytes));
            Assert.That(a.Sack, Is.Empty);
        }

        [Test]
        public void ContiguousOutOfOrderSegmentsOfOneBatchGetOneAckWithTheirBlockFirst()
        {
            SingleStack s = Established(out uint iss, out uint ts);
            uint b = ClientIsn + 1;
            // Segment 0 lost; 1..3 arrive in one batch.
            s.Capture.Frames.Clear();
            for (int k = 1; k <= 3; k++)
            {
                s.Device.Inject(Data(b + (uint)(k * SegmentBytes), iss, (uint)(200 + k), ts));
            }
            Assert.That(s.Capture.Frames, Is.Empty, "the ACK waits for the end of the batch");
            List<Seg> acks = Batch(s);
            Assert.That(acks.Count, Is.EqualTo(1));
            Assert.That(acks[0].Acknowledgment, Is.EqualTo(b), "ACK stays at the hole");
            Assert.That(acks[0].Sack.Count, Is.EqualTo(1));
            Assert.That(acks[0].Sack[0], Is.EqualTo((b + SegmentBytes, b + 4 * SegmentBytes)));
        }

        [Test]
        public void ABatchOpeningTwoHolesSendsAnAckPerRunEachReportingItsRunFirst()
        {
            SingleStack s = Established(out uint iss, out uint ts);
            uint b = ClientIsn + 1;
            // Segments 0 and 3 lost: runs [1, 3) and [4, 6) arrive in one batch.
            List<Seg> acks = Batch(s, Data(b + SegmentBytes, iss, 200, ts), Data(b + 2 * SegmentBytes, iss, 201, ts),
                Data(b + 4 * SegmentBytes, iss, 202, ts), Data(b + 5 * SegmentBytes, iss, 203, ts));
            Assert.That(acks.Count, Is.EqualTo(2), "one ACK per contiguous run");
            Assert.That(acks[0].Acknowledgment, Is.EqualTo(b));
            Assert.That(acks[0].Sack[0], Is.EqualTo((b + SegmentBytes, b + 3 * SegmentBytes)), "first run first");
            Assert.That(acks[1].Acknowledgment, Is.EqualTo(b));
            Assert.That(acks[1].Sack.Count, Is.EqualTo(2));
            Assert.That(acks[1].Sack[0], Is.EqualTo((b + 4 * SegmentBytes, b + 6 * SegmentBytes)), "the newest run first (RFC 2018 section 4)");
            Assert.That(acks[1].Sack[1], Is.EqualTo((b + SegmentBytes, b + 3 * SegmentBytes)), "then the block reported before");
            // The holes are filled in one batch: the data becomes in order, one ACK with no blocks.
            acks = Batch(s, Data(b, iss, 204, ts), Data(b + 3 * SegmentBytes, iss, 205, ts));
            Assert.That(acks[acks.Count - 1].Acknowledgment, Is.EqualTo(b + 6 * SegmentBytes));
            Assert.That(acks[acks.Count - 1].Sack, Is.Empty);
        }

        [Test]
        public void OutOfOrderDataDoesNotReduceTheAdvertisedWindow()
        {
            NetConfig config = NetConfig.Create(NetPair.AddressB, 24, IPv4Address.Any);
            long buffer = config.TcpReceiveBufferSize;
            SingleStack s = Established(out uint iss, out uint ts, out _, out Seg synAck, config);
            Assert.That(synAck.WindowScale, Is.EqualTo(Scale));
            uint b = ClientIsn + 1;
            // Out-of-order segments only: nothing unread in order, so the window is the whole buffer, from RCV.NXT.
            uint right = 0;
            for (int k = 1; k <= 5; k++)
            {
                List<Seg> acks = Batch(s, Data(b + (uint)(k * SegmentBytes), iss, (uint)(200 + k), ts));
                Seg a = acks[acks.Count - 1];
                Assert.That(a.Acknowledgment, Is.EqualTo(b));
                Assert.That((long)a.Window << Scale, Is.EqualTo(buffer & ~((1L << Scale) - 1)), "window = buffer - 0 unread bytes, " + k + " out of order");
                right = a.Acknowledgment + (uint)(a.Window << Scale);
            }
            // Segment 0 arrives: six segments in order, unread. The edge RCV.NXT + buffer - unread equals the
            // previous one; the window field is that edge less RCV.NXT, shifted (RFC 7323 2.3).
            Seg full = Batch(s, Data(b, iss, 210, ts))[0];
            Assert.That(full.Acknowledgment, Is.EqualTo(b + 6 * SegmentBytes));
            long unread = 6 * SegmentBytes;
            long expected = System.Math.Max(right - full.Acknowledgment, buffer - unread) >> Scale;
            Assert.That(full.Window, Is.EqualTo(expected), "buffer - unread in-order bytes, never left of the edge advertised before");
            // More out-of-order data after a new hole leaves the window as it is.
            Seg after = Batch(s, Data(b + 7 * SegmentBytes, iss, 211, ts))[0];
            Assert.That(after.Acknowledgment, Is.EqualTo(b + 6 * SegmentBytes));
            Assert.That(after.Window, Is.EqualTo(full.Window), "out-of-order bytes are not subtracted");
        }

        /// <summary>
        /// 40 holes (more than one ACK's blocks, and more than the 16 runs once kept): a retransmission filling part of
        /// a low hole is still reported, as the first block of the next ACK; filling the rest merges the runs.
        /// </summary>
        [Test]
        public void AFillInALowHoleAmongFortyIsTheFirstBlockAndRunsMergeWhenAHoleIsFilled()
        {
            SingleStack s = Established(out uint iss, out uint ts);
            uint b = ClientIsn + 1;
            uint tsVal = 300;
            // Odd segments arrive, even ones are lost: holes at 0, 2, 4, ..., 78.
            for (int k = 0; k < 40; k++)
            {
                Batch(s, Data(b + (uint)((2 * k + 1) * SegmentBytes), iss, tsVal++, ts));
            }
            uint hole = b + 10 * SegmentBytes; // hole 5 of 40: [10, 11) between runs [9, 10) and [11, 12)
            // 200 bytes in the middle of the hole: a new run of its own.
            Seg a = Batch(s, Data(hole + 100, iss, tsVal++, ts, 200))[0];
            Assert.That(a.Acknowledgment, Is.EqualTo(b));
            Assert.That(a.Sack[0], Is.EqualTo((hole + 100, hole + 300)), "the most recent segment's block first");
            // The rest of the hole above it: joins the run [11, 12).
            a = Batch(s, Data(hole + 300, iss, tsVal++, ts, 200))[0];
            Assert.That(a.Sack[0], Is.EqualTo((hole + 100, b + 12 * SegmentBytes)));
            // The 100 bytes left below: the hole is filled exactly, runs [9, 10) and [10, 12) become one.
            a = Batch(s, Data(hole, iss, tsVal++, ts, 100))[0];
            Assert.That(a.Sack[0], Is.EqualTo((b + 9 * SegmentBytes, b + 12 * SegmentBytes)));
            // A block for a high run is still correct, and the next low hole too.
            a = Batch(s, Data(b + 2 * SegmentBytes, iss, tsVal++, ts))[0];
            Assert.That(a.Sack[0], Is.EqualTo((b + SegmentBytes, b + 4 * SegmentBytes)));
            // Hole 0 filled: RCV.NXT moves to the next hole; remaining runs keep being reported.
            a = Batch(s, Data(b, iss, tsVal++, ts))[0];
            Assert.That(a.Acknowledgment, Is.EqualTo(b + 4 * SegmentBytes));
            Assert.That(a.Sack.Count, Is.GreaterThan(0));
            Assert.That(a.Sack.Contains((b + 9 * SegmentBytes, b + 12 * SegmentBytes)), Is.True, "the merged run is still reported");
            Assert.That(s.Idle(out string detail), Is.True, detail);
        }
    }
}
