using System.Text;
using Keel.Apps.Http;
using NUnit.Framework;

namespace Keel.Tests.Http
{
    public class ChunkedDecoderTests
    {
        private static ChunkedDecoder Feed(string body, int piece, long limit, out int used)
        {
            byte[] bytes = Encoding.ASCII.GetBytes(body);
            ChunkedDecoder decoder = default;
            decoder.Reset(limit);
            used = 0;
            while (used < bytes.Length && !decoder.Done && !decoder.Failed)
            {
                int length = piece < bytes.Length - used ? piece : bytes.Length - used;
                used += decoder.Feed(new System.ReadOnlySpan<byte>(bytes, used, length));
            }
            return decoder;
        }

        [TestCase(1)]
        [TestCase(3)]
        [TestCase(1000)]
        public void ReadsChunksExtensionsAndTrailers(int piece)
        {
            // RFC 9112 section 7.1: chunk-size in hex, chunk-ext, CRLF, data, CRLF; last-chunk; trailer section; CRLF.
            string body = "4\r\nWiki\r\n5;name=value\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nExpires: never\r\n\r\n";
            ChunkedDecoder decoder = Feed(body + "NEXT", piece, 1000, out int used);
            Assert.That(decoder.Done, Is.True);
            Assert.That(decoder.DataBytes, Is.EqualTo(4 + 5 + 14));
            Assert.That(used, Is.EqualTo(body.Length), "stops at the end of the body: the next request follows");
        }

        [TestCase("Z\r\n", TestName = "Chunked_NotHex")]
        [TestCase("\r\n", TestName = "Chunked_NoSize")]
        [TestCase("4\r\nWikiXX", TestName = "Chunked_NoCrlfAfterData")]
        [TestCase("4\rWiki\r\n0\r\n\r\n", TestName = "Chunked_CrWithoutLf")]
        [TestCase("1000000000000000\r\n", TestName = "Chunked_SizeOverflow")]
        [TestCase("0\r\nX: \0\r\n\r\n", TestName = "Chunked_NulInTrailer")]
        public void RefusesMalformedBodies(string body)
        {
            ChunkedDecoder decoder = Feed(body, 1000, 1000, out _);
            Assert.That(decoder.Failed, Is.True);
            Assert.That(decoder.TooLarge, Is.False);
        }

        [Test]
        public void RefusesBodiesOverTheLimit()
        {
            ChunkedDecoder decoder = Feed("400\r\n", 1000, 1000, out _);
            Assert.That(decoder.Failed, Is.True);
            Assert.That(decoder.TooLarge, Is.True, "answered 413");
        }
    }
}
