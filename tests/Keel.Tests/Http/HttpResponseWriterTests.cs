using System.Text;
using Keel.Apps.Http;
using Keel.Apps.Text;
using Keel.Hal;
using NUnit.Framework;

namespace Keel.Tests.Http
{
    public class HttpResponseWriterTests
    {
        private static string Head(int status, string type, long length, bool close, bool keepAlive10, long date)
        {
            TextBuffer text = new TextBuffer(1024);
            HttpResponseWriter.WriteHead(text, status, type, length, close, keepAlive10, date);
            return Encoding.ASCII.GetString(text.Text.ToArray());
        }

        [Test]
        public void ImfFixdateOfTheRfcExample()
        {
            // RFC 9110 section 5.6.7: "Sun, 06 Nov 1994 08:49:37 GMT".
            long seconds = CivilTime.ToUnixSeconds(1994, 11, 6, 8, 49, 37);
            Assert.That(seconds, Is.EqualTo(784111777));
            TextBuffer text = new TextBuffer(64);
            HttpResponseWriter.AppendImfFixdate(text, seconds);
            Assert.That(Encoding.ASCII.GetString(text.Text.ToArray()), Is.EqualTo("Sun, 06 Nov 1994 08:49:37 GMT"));
        }

        [Test]
        public void CivilTimeRoundTripsAcrossLeapDays()
        {
            Assert.That(CivilTime.DaysFromCivil(1970, 1, 1), Is.EqualTo(0));
            Assert.That(CivilTime.DaysFromCivil(2000, 3, 1) - CivilTime.DaysFromCivil(2000, 2, 28), Is.EqualTo(2), "2000 is a leap year");
            Assert.That(CivilTime.DaysFromCivil(2100, 3, 1) - CivilTime.DaysFromCivil(2100, 2, 28), Is.EqualTo(1), "2100 is not");
            for (long day = -800; day < 80000; day += 37)
            {
                CivilTime.CivilFromDays(day, out long y, out int m, out int d);
                Assert.That(CivilTime.DaysFromCivil(y, m, d), Is.EqualTo(day));
            }
            Assert.That(CivilTime.DayOfWeek(CivilTime.DaysFromCivil(2026, 12, 7)), Is.EqualTo(1), "7 December 2026 is a Monday");
        }

        [Test]
        public void OkWithContentLengthAndDate()
        {
            string head = Head(200, "text/html", 612, false, false, 784111777);
            Assert.That(head, Is.EqualTo(
                "HTTP/1.1 200 OK\r\n" +
                "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n" +
                "Server: Keel\r\n" +
                "Content-Type: text/html\r\n" +
                "Content-Length: 612\r\n" +
                "\r\n"));
        }

        [Test]
        public void ChunkedCloseAndNoDateWithoutAClock()
        {
            string head = Head(200, "application/json", HttpResponseWriter.Chunked, true, false, 0);
            Assert.That(head, Does.Not.Contain("Date:"), "RFC 9110 section 6.6.1: no clock, no Date");
            Assert.That(head, Does.Contain("Transfer-Encoding: chunked\r\n"));
            Assert.That(head, Does.Not.Contain("Content-Length"), "RFC 9112 section 6.2: not both");
            Assert.That(head, Does.Contain("Connection: close\r\n"));
            Assert.That(Head(200, null, 0, false, true, 0), Does.Contain("Connection: keep-alive\r\n"), "an HTTP/1.0 client that asked to persist");
        }

        [Test]
        public void ErrorStatusesHaveTheirReasonPhrasesAndHeaders()
        {
            Assert.That(Head(405, null, 0, false, false, 0), Does.StartWith("HTTP/1.1 405 Method Not Allowed\r\n").And.Contain("Allow: GET, HEAD\r\n"),
                "RFC 9110 section 15.5.6: 405 MUST carry Allow");
            Assert.That(Head(503, null, 0, true, false, 0), Does.Contain("Retry-After: 1\r\n"));
            Assert.That(HttpResponseWriter.ReasonPhrase(400), Is.EqualTo("Bad Request"));
            Assert.That(HttpResponseWriter.ReasonPhrase(404), Is.EqualTo("Not Found"));
            Assert.That(HttpResponseWriter.ReasonPhrase(408), Is.EqualTo("Request Timeout"));
            Assert.That(HttpResponseWriter.ReasonPhrase(413), Is.EqualTo("Content Too Large"));
            Assert.That(HttpResponseWriter.ReasonPhrase(414), Is.EqualTo("URI Too Long"));
            Assert.That(HttpResponseWriter.ReasonPhrase(431), Is.EqualTo("Request Header Fields Too Large"));
            Assert.That(HttpResponseWriter.ReasonPhrase(503), Is.EqualTo("Service Unavailable"));
            Assert.That(HttpResponseWriter.ReasonPhrase(505), Is.EqualTo("HTTP Version Not Supported"));
        }
    }
}
