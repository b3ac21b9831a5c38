using System.Text;
using Keel.Apps.Http;
using NUnit.Framework;

namespace Keel.Tests.Http
{
    public class HttpRequestParserTests
    {
        private static readonly HttpServerConfig s_limits = new HttpServerConfig();

        private static HttpParseResult Parse(string text, out HttpRequest request)
        {
            return HttpRequestParser.Parse(Encoding.Latin1.GetBytes(text), s_limits, out request);
        }

        private static string Path(string text, HttpRequest request)
        {
            return text.Substring(request.PathStart, request.PathLength);
        }

        [Test]
        public void ParsesAGetWithHostAsPersistent()
        {
            // RFC 9112 section 3.2's example request, with the CRLFs of section 2.1.
            string text = "GET /pub/WWW/TheProject.html HTTP/1.1\r\nHost: www.example.org\r\n\r\n";
            Assert.That(Parse(text, out HttpRequest request), Is.EqualTo(HttpParseResult.Complete));
            Assert.That(request.Method, Is.EqualTo(HttpMethod.Get));
            Assert.That(request.VersionMinor, Is.EqualTo(1));
            Assert.That(Path(text, request), Is.EqualTo("/pub/WWW/TheProject.html"));
            Assert.That(request.KeepAlive, Is.True, "HTTP/1.1 persists by default (RFC 9112 section 9.3)");
            Assert.That(request.HeadLength, Is.EqualTo(text.Length));
            Assert.That(request.HeaderCount, Is.EqualTo(1));
        }

        [Test]
        public void AbsoluteFormTargetGivesItsPath()
        {
            // RFC 9112 section 3.2.2: a server MUST accept the absolute-form.
            string text = "GET http://www.example.org/pub/WWW/TheProject.html HTTP/1.1\r\nHost: www.example.org\r\n\r\n";
            Assert.That(Parse(text, out HttpRequest request), Is.EqualTo(HttpParseResult.Complete));
            Assert.That(Path(text, request), Is.EqualTo("/pub/WWW/TheProject.html"));
            text = "HEAD http://example.org HTTP/1.1\r\nHost: example.org\r\n\r\n";
            Assert.That(Parse(text, out request), Is.EqualTo(HttpParseResult.Complete));
            Assert.That(request.PathLength, Is.EqualTo(0), "no path: the server answers for \"/\"");
            Assert.That(request.Method, Is.EqualTo(HttpMethod.Head));
        }

        [Test]
        public void Http10PersistsOnlyWithKeepAliveAndNeedsNoHost()
        {
            Assert.That(Parse("GET / HTTP/1.0\r\n\r\n", out HttpRequest request), Is.EqualTo(HttpParseResult.Complete));
            Assert.That(request.VersionMinor, Is.EqualTo(0));
            Assert.That(request.KeepAlive, Is.False);
            Assert.That(Parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", out request), Is.EqualTo(HttpParseResult.Complete));
            Assert.That(request.KeepAlive, Is.True);
            Assert.That(Parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, close\r\n\r\n", out request), Is.EqualTo(HttpParseResult.Complete));
            Assert.That(request.KeepAlive, Is.False, "the close option in a list (RFC 9110 section 7.6.1)");
        }

        [Test]
        public void IncompleteUntilTheEmptyLineAndSkipsLeadingEmptyLines()
        {
            Assert.That(Parse("GET / HTTP/1.1\r\nHost: a\r\n", out _), Is.EqualTo(HttpParseResult.Incomplete));
            Assert.That(Parse("GET / HT", out _), Is.EqualTo(HttpParseResult.Incomplete));
            string text = "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
            Assert.That(Parse(text, out HttpRequest request), Is.EqualTo(HttpParseResult.Complete), "RFC 9112 section 2.2");
            Assert.That(request.HeadLength, Is.EqualTo(text.Length));
            Assert.That(Parse("GET / HTTP/1.1\nHost: a\n\n", out request), Is.EqualTo(HttpParseResult.Complete), "a bare LF ends a line (section 2.2)");
        }

        [Test]
        public void PipelinedRequestsAreParsedOneAtATime()
        {
            string first = "GET /a HTTP/1.1\r\nHost: a\r\n\r\n";
            string text = first + "GET /b HTTP/1.1\r\nHost: a\r\n\r\n";
            Assert.That(Parse(text, out HttpRequest request), Is.EqualTo(HttpParseResult.Complete));
            Assert.That(request.HeadLength, Is.EqualTo(first.Length));
            Assert.That(Path(text, request), Is.EqualTo("/a"));
        }

        [Test]
        public void BodyFramingFromContentLengthOrChunked()
        {
            Assert.That(Parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 42\r\n\r\n", out HttpRequest request), Is.EqualTo(HttpParseResult.Complete));
            Assert.That(request.ContentLength, Is.EqualTo(42));
            Assert.That(Parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 42\r\nContent-Length: 42\r\n\r\n", out request), Is.EqualTo(HttpParseResult.Complete),
                "repeated identical values are one value (RFC 9110 section 8.6)");
            Assert.That(Parse("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", out request), Is.EqualTo(HttpParseResult.Complete));
            Assert.That(request.Chunked, Is.True);
        }

        [Test]
        public void OtherMethodsParseAsOther()
        {
            Assert.That(Parse("POST / HTTP/1.1\r\nHost: a\r\n\r\n", out HttpRequest request), Is.EqualTo(HttpParseResult.Complete));
            Assert.That(request.Method, Is.EqualTo(HttpMethod.Other), "answered 405");
            Assert.That(Parse("get / HTTP/1.1\r\nHost: a\r\n\r\n", out request), Is.EqualTo(HttpParseResult.Complete));
            Assert.That(request.Method, Is.EqualTo(HttpMethod.Other), "method names are case-sensitive (RFC 9110 section 9.1)");
        }

        // The malformed-request corpus: each with the status RFC 9110/9112 call for.
        [TestCase("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400, TestName = "Malformed_DoubleSpace")]
        [TestCase("G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400, TestName = "Malformed_MethodNotAToken")]
        [TestCase(" / HTTP/1.1\r\nHost: a\r\n\r\n", 400, TestName = "Malformed_NoMethod")]
        [TestCase("GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400, TestName = "Malformed_TrailingSpace")]
        [TestCase("GET / http/1.1\r\nHost: a\r\n\r\n", 400, TestName = "Malformed_LowerCaseVersion")]
        [TestCase("GET / HTTP/1.11\r\nHost: a\r\n\r\n", 400, TestName = "Malformed_VersionThreeDigits")]
        [TestCase("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505, TestName = "Malformed_Version2")]
        [TestCase("GET / HTTP/0.9\r\nHost: a\r\n\r\n", 505, TestName = "Malformed_Version09")]
        [TestCase("GET /\r\n\r\n", 400, TestName = "Malformed_NoVersion")]
        [TestCase("GET / HTTP/1.1\rHost: a\r\n\r\n", 400, TestName = "Malformed_BareCR")]
        [TestCase("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", 400, TestName = "Malformed_BareCRInField")]
        [TestCase("GET /\0 HTTP/1.1\r\nHost: a\r\n\r\n", 400, TestName = "Malformed_NulInTarget")]
        [TestCase("GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n", 400, TestName = "Malformed_NulInValue")]
        [TestCase("GET / HTTP/1.1\r\nHo\0st: a\r\n\r\n", 400, TestName = "Malformed_NulInName")]
        [TestCase("GET / HTTP/1.1\r\n\0", 400, TestName = "Malformed_NulBeforeLineEnd")]
        [TestCase("GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400, TestName = "Malformed_SpaceBeforeColon")]
        [TestCase("GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n", 400, TestName = "Malformed_ObsFold")]
        [TestCase("GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400, TestName = "Malformed_FieldWithoutColon")]
        [TestCase("GET / HTTP/1.1\r\n: a\r\n\r\n", 400, TestName = "Malformed_EmptyFieldName")]
        [TestCase("GET / HTTP/1.1\r\n\r\n", 400, TestName = "Malformed_Http11WithoutHost")]
        [TestCase("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, TestName = "Malformed_TwoHosts")]
        [TestCase("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400, TestName = "Malformed_ContentLengthAndTransferEncoding")]
        [TestCase("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 400, TestName = "Malformed_TransferEncodingAndContentLength")]
        [TestCase("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400, TestName = "Malformed_TwoContentLengths")]
        [TestCase("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400, TestName = "Malformed_NegativeContentLength")]
        [TestCase("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1e3\r\n\r\n", 400, TestName = "Malformed_ContentLengthNotDigits")]
        [TestCase("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n", 400, TestName = "Malformed_ContentLengthOverflow")]
        [TestCase("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n", 413, TestName = "Malformed_BodyTooLarge")]
        [TestCase("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 501, TestName = "Malformed_UnknownTransferCoding")]
        [TestCase("GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400, TestName = "Malformed_Http10Chunked")]
        [TestCase("GET /a/../b HTTP/1.1\r\nHost: a\r\n\r\n", 400, TestName = "Malformed_DotDot")]
        [TestCase("GET /.. HTTP/1.1\r\nHost: a\r\n\r\n", 400, TestName = "Malformed_DotDotAtEnd")]
        [TestCase("GET /%2e%2E/etc HTTP/1.1\r\nHost: a\r\n\r\n", 400, TestName = "Malformed_EncodedDotDot")]
        [TestCase("GET /./x HTTP/1.1\r\nHost: a\r\n\r\n", 400, TestName = "Malformed_Dot")]
        [TestCase("GET http://a/../x HTTP/1.1\r\nHost: a\r\n\r\n", 400, TestName = "Malformed_AbsoluteDotDot")]
        [TestCase("GET ftp://a/x HTTP/1.1\r\nHost: a\r\n\r\n", 400, TestName = "Malformed_OtherScheme")]
        [TestCase("GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n", 400, TestName = "Malformed_AbsoluteWithoutHost")]
        [TestCase("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", 400, TestName = "Malformed_AsteriskForm")]
        [TestCase("CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n", 400, TestName = "Malformed_AuthorityForm")]
        public void MalformedRequestsGetTheirStatus(string text, int status)
        {
            Assert.That(Parse(text, out HttpRequest request), Is.EqualTo(HttpParseResult.Error));
            Assert.That(request.ErrorStatus, Is.EqualTo(status));
        }

        [Test]
        public void LimitsGive414And431()
        {
            string longTarget = "GET /" + new string('a', s_limits.MaxRequestLine) + " HTTP/1.1\r\nHost: a\r\n\r\n";
            Assert.That(Parse(longTarget, out HttpRequest request), Is.EqualTo(HttpParseResult.Error));
            Assert.That(request.ErrorStatus, Is.EqualTo(414));
            // Without a line end yet: refused as soon as the line is over the limit.
            Assert.That(Parse("GET /" + new string('a', s_limits.MaxRequestLine), out request), Is.EqualTo(HttpParseResult.Error));
            Assert.That(request.ErrorStatus, Is.EqualTo(414));

            StringBuilder many = new StringBuilder("GET / HTTP/1.1\r\nHost: a\r\n");
            for (int i = 0; i < s_limits.MaxHeaders; i++)
            {
                many.Append("X-").Append(i).Append(": 1\r\n");
            }
            Assert.That(Parse(many + "\r\n", out request), Is.EqualTo(HttpParseResult.Error));
            Assert.That(request.ErrorStatus, Is.EqualTo(431), "one field over the count limit (RFC 6585 section 5)");

            string big = "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + new string('b', s_limits.MaxHeaderBytes) + "\r\n\r\n";
            Assert.That(Parse(big, out request), Is.EqualTo(HttpParseResult.Error));
            Assert.That(request.ErrorStatus, Is.EqualTo(431));
            Assert.That(Parse("GET / HTTP/1.1\r\nX-Big: " + new string('b', s_limits.MaxHeaderBytes + 10), out request), Is.EqualTo(HttpParseResult.Error),
                "an unfinished header section over the limit");
            Assert.That(request.ErrorStatus, Is.EqualTo(431));
        }
    }
}
