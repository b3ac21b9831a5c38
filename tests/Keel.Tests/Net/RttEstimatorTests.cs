using Keel.Hal;
using Keel.Net.Tcp;
using NUnit.Framework;

namespace Keel.Tests.Net
{
    /// <summary>RFC 6298 section 2 with K = 4, alpha = 1/8, beta = 1/4, G = 1 ms, RTO in [200 ms, 60 s].</summary>
    public class RttEstimatorTests
    {
        private static readonly Duration MinRto = Duration.FromMilliseconds(200);
        private static readonly Duration MaxRto = Duration.FromSeconds(60);

        private static Duration Ms(long ms) => Duration.FromMilliseconds(ms);

        [Test]
        public void BeforeAnySampleRtoIsTheInitialOne()
        {
            RttEstimator e = default;
            e.Reset(Duration.FromSeconds(1)); // 2.1: RTO <- 1 second
            Assert.That(e.HasSample, Is.False);
            Assert.That(e.Rto, Is.EqualTo(Duration.FromSeconds(1)));
            Assert.That(e.Srtt, Is.EqualTo(Duration.Zero));
        }

        [Test]
        public void FirstSampleSetsSrttToRAndRttvarToHalfR()
        {
            RttEstimator e = default;
            e.Reset(Duration.FromSeconds(1));
            e.Sample(Ms(100), MinRto, MaxRto);
            // 2.2: SRTT <- R, RTTVAR <- R/2, RTO <- SRTT + max(G, K*RTTVAR) = 100 + 200 = 300 ms.
            Assert.That(e.HasSample, Is.True);
            Assert.That(e.Srtt, Is.EqualTo(Ms(100)));
            Assert.That(e.RttVar, Is.EqualTo(Ms(50)));
            Assert.That(e.Rto, Is.EqualTo(Ms(300)));
        }

        [Test]
        public void LaterSamplesSmoothWithAlphaAndBeta()
        {
            RttEstimator e = default;
            e.Reset(Duration.FromSeconds(1));
            e.Sample(Ms(100), MinRto, MaxRto);
            e.Sample(Ms(200), MinRto, MaxRto);
            // 2.3: RTTVAR <- 3/4 * 50 + 1/4 * |100 - 200| = 62.5 ms; SRTT <- 7/8 * 100 + 1/8 * 200 = 112.5 ms.
            Assert.That(e.RttVar, Is.EqualTo(Duration.FromMicroseconds(62_500)));
            Assert.That(e.Srtt, Is.EqualTo(Duration.FromMicroseconds(112_500)));
            Assert.That(e.Rto, Is.EqualTo(Duration.FromMicroseconds(112_500 + 4 * 62_500)));
        }

        [Test]
        public void RtoIsClampedToTheMinimumAndMaximum()
        {
            RttEstimator e = default;
            e.Reset(Duration.FromSeconds(1));
            e.Sample(Ms(1), MinRto, MaxRto); // 1 + max(1 ms, 2 ms) = 3 ms: below the 200 ms floor (2.4)
            Assert.That(e.Rto, Is.EqualTo(MinRto));
            RttEstimator slow = default;
            slow.Reset(Duration.FromSeconds(1));
            slow.Sample(Duration.FromSeconds(50), MinRto, MaxRto); // 50 + 100 s: above the 60 s ceiling (2.5)
            Assert.That(slow.Rto, Is.EqualTo(MaxRto));
        }

        [Test]
        public void ClockGranularityBoundsTheVarianceTerm()
        {
            RttEstimator e = default;
            e.Reset(Duration.FromSeconds(1));
            for (int i = 0; i < 40; i++)
            {
                e.Sample(Ms(300), Duration.Zero, MaxRto); // RTTVAR decays towards 0: G (1 ms) takes over
            }
            Assert.That(e.Rto, Is.EqualTo(Ms(301)));
        }

        [Test]
        public void ASampleUnderAMicrosecondCountsAsOne()
        {
            RttEstimator e = default;
            e.Reset(Duration.FromSeconds(1));
            Duration used = e.Sample(Duration.FromNanoseconds(10), MinRto, MaxRto);
            Assert.That(used, Is.EqualTo(Duration.FromMicroseconds(1)));
        }
    }
}
