using Keel.Hal;
using Keel.Net.Tcp;
using NUnit.Framework;

namespace Keel.Tests.Net
{
    /// <summary>
    /// The agreed options alone: RFC 7323 sections 2.2-2.3 (window scale only when both SYNs carry it; windows shifted),
    /// 3.2 and 4.3 (timestamps, TS.Recent and Last.ACK.sent), 5.3 (PAWS), RFC 2018 section 2 (SACK-permitted),
    /// RFC 9293 section 3.7.1 (536 without an MSS option).
    /// </summary>
    public class NegotiatedOptionsTests
    {
        private static TcpSegment Syn(int mss, int windowScale, bool sack, bool timestamps, uint tsVal = 0)
        {
            TcpSegment s = default;
            s.Mss = mss;
            s.WindowScale = windowScale;
            s.SackPermitted = sack;
            s.HasTimestamp = timestamps;
            s.TsVal = tsVal;
            return s;
        }

        private static NegotiatedOptions Offered()
        {
            NegotiatedOptions o = new NegotiatedOptions();
            o.Offer(1460, 7, 0);
            return o;
        }

        [Test]
        public void EverythingBothSynsCarryIsAgreed()
        {
            NegotiatedOptions o = Offered();
            TcpSegment syn = Syn(1400, 9, true, true, 5000);
            Assert.That(o.AgreeFromSyn(ref syn, true, true), Is.EqualTo(1400), "the peer's MSS, below ours");
            Assert.That(o.WindowScaling, Is.True);
            Assert.That(o.SendWindowScale, Is.EqualTo(9));
            Assert.That(o.ReceiveWindowScale, Is.EqualTo(7));
            Assert.That(o.Sack, Is.True);
            Assert.That(o.Timestamps, Is.True);
            Assert.That(o.TsRecent, Is.EqualTo(5000u), "TS.Recent from the SYN's TSval (RFC 7323 4.3)");
        }

        [Test]
        public void AOneSidedWindowScaleMeansNoShiftEitherWay()
        {
            // RFC 7323 2.2: both shift counts are 0 unless both SYNs carried the option.
            NegotiatedOptions o = Offered();
            TcpSegment syn = Syn(1460, -1, false, false);
            o.AgreeFromSyn(ref syn, true, true);
            Assert.That(o.WindowScaling, Is.False);
            Assert.That(o.SendWindowScale, Is.Zero);
            Assert.That(o.ReceiveWindowScale, Is.Zero);
            Assert.That(o.WindowField(100_000), Is.EqualTo(65535), "unscaled: the field's maximum");
            Assert.That(o.Sack, Is.False, "RFC 2018: only when SACK-permitted came");
            Assert.That(o.Timestamps, Is.False);
        }

        [Test]
        public void WindowsAreShiftedByTheAgreedCounts()
        {
            // RFC 7323 2.3: SND.WND = SEG.WND << Snd.Wind.Shift; the field sent is the window >> Rcv.Wind.Shift.
            NegotiatedOptions o = Offered();
            TcpSegment syn = Syn(1460, 3, false, false);
            o.AgreeFromSyn(ref syn, true, true);
            Assert.That(o.SendWindow(1000), Is.EqualTo(8000));
            Assert.That(o.WindowField(1 << 20), Is.EqualTo((1 << 20) >> 7));
            Assert.That(o.WindowField(1L << 30), Is.EqualTo(65535));
        }

        [Test]
        public void WithoutAnMssOptionThePeerTakes536()
        {
            NegotiatedOptions o = Offered();
            TcpSegment syn = Syn(0, -1, false, false);
            Assert.That(o.AgreeFromSyn(ref syn, true, true), Is.EqualTo(536));
            TcpSegment big = Syn(9000, -1, false, false);
            Assert.That(o.AgreeFromSyn(ref big, true, true), Is.EqualTo(1460), "never above what we announce");
        }

        [Test]
        public void OptionsTurnedOffLocallyAreNotAgreed()
        {
            NegotiatedOptions o = Offered();
            TcpSegment syn = Syn(1460, 7, true, true, 1);
            o.AgreeFromSyn(ref syn, false, false);
            Assert.That(o.Sack, Is.False);
            Assert.That(o.Timestamps, Is.False);
        }

        [Test]
        public void PawsRejectsAnOlderTsValButNotAReset()
        {
            // RFC 7323 5.3 R1: SEG.TSval < TS.Recent (modulo 2^32) is an old duplicate; 5.2: not applied to RST.
            NegotiatedOptions o = Offered();
            TcpSegment syn = Syn(1460, 7, true, true, 5000);
            o.AgreeFromSyn(ref syn, true, true);
            TcpSegment old = Syn(0, -1, false, true, 4999);
            Assert.That(o.IsOldDuplicate(ref old, false), Is.True);
            Assert.That(o.IsOldDuplicate(ref old, true), Is.False, "RST");
            TcpSegment same = Syn(0, -1, false, true, 5000);
            Assert.That(o.IsOldDuplicate(ref same, false), Is.False);
            TcpSegment wrapped = Syn(0, -1, false, true, 5000u + 0x7FFFFFFFu);
            Assert.That(o.IsOldDuplicate(ref wrapped, false), Is.False, "newer modulo 2^32");
        }

        [Test]
        public void TsRecentAdvancesOnlyForSegmentsAtOrBeforeLastAckSent()
        {
            // RFC 7323 4.3 (2): SEG.TSval >= TS.Recent and SEG.SEQ <= Last.ACK.sent.
            NegotiatedOptions o = Offered();
            TcpSegment syn = Syn(1460, 7, true, true, 5000);
            o.AgreeFromSyn(ref syn, true, true);
            o.AckSent(1000);
            TcpSegment later = Syn(0, -1, false, true, 6000);
            o.SegmentAccepted(ref later, 2000);
            Assert.That(o.TsRecent, Is.EqualTo(5000u), "beyond Last.ACK.sent");
            o.SegmentAccepted(ref later, 1000);
            Assert.That(o.TsRecent, Is.EqualTo(6000u));
            TcpSegment older = Syn(0, -1, false, true, 5500);
            o.SegmentAccepted(ref older, 1000);
            Assert.That(o.TsRecent, Is.EqualTo(6000u), "never backwards");
        }

        [Test]
        public void TheClockIsMillisecondsPlusTheOffsetAndEchoesNeedTimestamps()
        {
            NegotiatedOptions o = new NegotiatedOptions();
            o.Offer(1460, 0, 100);
            Assert.That(o.TsNow(Instant.FromNanoseconds(7_000_000)), Is.EqualTo(107u));
            TcpSegment ack = Syn(0, -1, false, true);
            ack.TsEcr = 42;
            Assert.That(o.TryEcho(ref ack, out _), Is.False, "timestamps not agreed");
            TcpSegment syn = Syn(1460, -1, false, true, 1);
            o.AgreeFromSyn(ref syn, true, true);
            Assert.That(o.TryEcho(ref ack, out uint echo), Is.True);
            Assert.That(echo, Is.EqualTo(42u));
            ack.TsEcr = 0;
            Assert.That(o.TryEcho(ref ack, out _), Is.False, "0 echoes nothing");
        }
    }
}
