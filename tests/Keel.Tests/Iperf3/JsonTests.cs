using System;
using System.Globalization;
using System.Text;
using Keel.Apps.Iperf3;
using Keel.Apps.Json;
using NUnit.Framework;

namespace Keel.Tests.Iperf3
{
    /// <summary>JSON reader/writer and number text, against the exact messages of the iperf3 protocol notes.</summary>
    public class JsonTests
    {
        // Protocol notes §2.5 (145 bytes, framed as 00 00 00 91).
        public const string ParamsTcp =
            "{\"tcp\":true,\"omit\":0,\"time\":1,\"num\":0,\"blockcount\":0,\"parallel\":1,\"len\":131072,\"bandwidth\":100000000,\"pacing_timer\":1000,\"client_version\":\"3.12\"}";

        // Protocol notes §3, "observed with many options".
        public const string ParamsMany =
            "{\"tcp\":true,\"omit\":0,\"time\":1,\"num\":0,\"blockcount\":0,\"MSS\":1000,\"nodelay\":true,\"parallel\":1,\"bidirectional\":true,\"window\":262144,\"len\":131072,\"bandwidth\":1000000,\"pacing_timer\":1000,\"title\":\"mytitle\",\"extra_data\":\"xyz\",\"congestion\":\"cubic\",\"repeating_payload\":1,\"client_version\":\"3.12\"}";

        // Protocol notes §8 (0x8c = 140 bytes).
        public const string ParamsUdp =
            "{\"udp\":true,\"omit\":0,\"time\":1,\"num\":0,\"blockcount\":0,\"parallel\":1,\"len\":100,\"bandwidth\":1000000,\"pacing_timer\":1000,\"client_version\":\"3.12\"}";

        // Protocol notes §5.2, observed stock server results for a normal UDP test.
        public const string StockUdpResults =
            "{\"cpu_util_total\":2.11,\"cpu_util_user\":0.31,\"cpu_util_system\":1.80,\"sender_has_retransmits\":18446744073709551615,\"streams\":[{\"id\":1,\"bytes\":124900,\"retransmits\":18446744073709551615,\"jitter\":2.1961746049397023e-05,\"errors\":0,\"packets\":1249,\"start_time\":0,\"end_time\":1.000419}]}";

        private static JsonReader Reader(string text)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(text);
            JsonReader reader = new JsonReader();
            reader.Reset(bytes, 0, bytes.Length);
            return reader;
        }

        private static string Format(double value)
        {
            byte[] b = new byte[JsonNumber.MaxLength];
            int n = JsonNumber.FormatDouble(value, b);
            return Encoding.ASCII.GetString(b, 0, n);
        }

        private static string Fixed(double value, int decimals)
        {
            byte[] b = new byte[JsonNumber.MaxLength];
            int n = JsonNumber.FormatFixed(value, decimals, b);
            return Encoding.ASCII.GetString(b, 0, n);
        }

        /// <summary>C's "%.15g" computed independently from .NET's exact "E14" digits.</summary>
        private static string PrintfG15(double value)
        {
            if (value == 0)
            {
                return "0";
            }
            string e = value.ToString("E14", CultureInfo.InvariantCulture); // -d.ddddddddddddddE+xxx
            bool negative = e[0] == '-';
            if (negative)
            {
                e = e.Substring(1);
            }
            string digits = e.Substring(0, 1) + e.Substring(2, 14);
            int exponent = int.Parse(e.Substring(17), CultureInfo.InvariantCulture);
            digits = digits.TrimEnd('0');
            if (digits.Length == 0)
            {
                digits = "0";
            }
            string body;
            if (exponent < -4 || exponent >= 15)
            {
                body = digits.Substring(0, 1) + (digits.Length > 1 ? "." + digits.Substring(1) : "") +
                       "e" + (exponent < 0 ? "-" : "+") + Math.Abs(exponent).ToString("00", CultureInfo.InvariantCulture);
            }
            else if (exponent < 0)
            {
                body = "0." + new string('0', -exponent - 1) + digits;
            }
            else
            {
                string whole = digits.Length > exponent + 1 ? digits.Substring(0, exponent + 1) : digits.PadRight(exponent + 1, '0');
                string fraction = digits.Length > exponent + 1 ? digits.Substring(exponent + 1) : "";
                body = whole + (fraction.Length > 0 ? "." + fraction : "");
            }
            return negative ? "-" + body : body;
        }

        [Test]
        public void ParsesTheTcpParameterMessage()
        {
            Assert.That(Encoding.ASCII.GetByteCount(ParamsTcp), Is.EqualTo(0x91));
            Iperf3Parameters p = new Iperf3Parameters();
            Assert.That(p.Parse(Reader(ParamsTcp)), Is.True);
            Assert.That(p.Tcp, Is.True);
            Assert.That(p.Udp, Is.False);
            Assert.That(p.ProtocolSupported, Is.True);
            Assert.That(p.Time, Is.EqualTo(1));
            Assert.That(p.Omit, Is.EqualTo(0));
            Assert.That(p.Parallel, Is.EqualTo(1));
            Assert.That(p.Length, Is.EqualTo(131072));
            Assert.That(p.Bandwidth, Is.EqualTo(100000000));
            Assert.That(p.PacingTimer, Is.EqualTo(1000));
            Assert.That(p.Reverse, Is.False);
            Assert.That(p.UnknownKeys, Is.EqualTo(1)); // client_version
        }

        [Test]
        public void ParsesTheManyOptionsMessage()
        {
            Iperf3Parameters p = new Iperf3Parameters();
            Assert.That(p.Parse(Reader(ParamsMany)), Is.True);
            Assert.That(p.Mss, Is.EqualTo(1000));
            Assert.That(p.NoDelay, Is.True);
            Assert.That(p.Bidirectional, Is.True);
            Assert.That(p.StreamCount, Is.EqualTo(2));
            Assert.That(p.Window, Is.EqualTo(262144));
            Assert.That(p.Bandwidth, Is.EqualTo(1000000));
            Assert.That(p.RepeatingPayload, Is.True);
            Assert.That(p.UnknownKeys, Is.EqualTo(4)); // title, extra_data, congestion, client_version
        }

        [Test]
        public void ParsesTheUdpParameterMessageAndResetsBetweenMessages()
        {
            Assert.That(Encoding.ASCII.GetByteCount(ParamsUdp), Is.EqualTo(0x8c));
            Iperf3Parameters p = new Iperf3Parameters();
            Assert.That(p.Parse(Reader(ParamsMany)), Is.True);
            Assert.That(p.Parse(Reader(ParamsUdp)), Is.True);
            Assert.That(p.Udp, Is.True);
            Assert.That(p.Tcp, Is.False);
            Assert.That(p.Length, Is.EqualTo(100));
            Assert.That(p.Bidirectional, Is.False, "nothing carries over");
            Assert.That(p.NoDelay, Is.False);
            Assert.That(p.Window, Is.EqualTo(0));
            Assert.That(p.UdpCounters64Bit, Is.False);
        }

        [Test]
        public void ParametersKeysIgnoreCaseAndFlagsAcceptIntegers()
        {
            Iperf3Parameters p = new Iperf3Parameters();
            Assert.That(p.Parse(Reader("{\"UDP\":true,\"Parallel\":4,\"reverse\":true,\"udp_counters_64bit\":1,\"get_server_output\":1,\"len\":1448,\"x\":{\"a\":[1,2,{\"b\":null}]}}")), Is.True);
            Assert.That(p.Udp, Is.True);
            Assert.That(p.Parallel, Is.EqualTo(4));
            Assert.That(p.Reverse, Is.True);
            Assert.That(p.UdpCounters64Bit, Is.True);
            Assert.That(p.GetServerOutput, Is.True);
            Assert.That(p.Length, Is.EqualTo(1448));
            Assert.That(p.UnknownKeys, Is.EqualTo(1));
        }

        [Test]
        public void UdpWithoutLenGetsTheDatagramDefault()
        {
            Iperf3Parameters p = new Iperf3Parameters();
            Assert.That(p.Parse(Reader("{\"udp\":true,\"time\":1}")), Is.True);
            Assert.That(p.Length, Is.EqualTo(Iperf3Message.DefaultUdpBlockSize));
        }

        [TestCase("")]
        [TestCase("{")]
        [TestCase("{\"tcp\":true,}")]
        [TestCase("{\"tcp\" true}")]
        [TestCase("{\"tcp\":tru}")]
        [TestCase("{\"time\":01}")]
        [TestCase("{\"time\":1.}")]
        [TestCase("{\"time\":-}")]
        [TestCase("{\"a\":\"unterminated}")]
        [TestCase("{\"a\":\"bad\\q\"}")]
        [TestCase("{\"a\":[1,2}")]
        [TestCase("{\"a\":1}}")]
        [TestCase("{\"a\":1} x")]
        [TestCase("[1,2]")]
        [TestCase("{\"a\":\"tab\there\"}")]
        public void RejectsMalformedParameters(string text)
        {
            Iperf3Parameters p = new Iperf3Parameters();
            Assert.That(p.Parse(Reader(text)), Is.False);
        }

        [Test]
        public void ReadsTheStockServerResults()
        {
            JsonReader r = Reader(StockUdpResults);
            Assert.That(r.Read() && r.TokenType == JsonTokenType.StartObject);
            long shr = 0;
            double cpu = 0;
            long id = 0, bytes = 0, retransmits = 0, packets = 0;
            double jitter = 0, endTime = 0;
            while (r.Read() && r.TokenType != JsonTokenType.EndObject)
            {
                Assert.That(r.TokenType, Is.EqualTo(JsonTokenType.PropertyName));
                if (r.NameIs("sender_has_retransmits"))
                {
                    r.Read();
                    Assert.That(r.TryGetInt64(out shr), Is.True);
                }
                else if (r.NameIs("cpu_util_system"))
                {
                    r.Read();
                    Assert.That(r.TryGetDouble(out cpu), Is.True);
                }
                else if (r.NameIs("streams"))
                {
                    Assert.That(r.Read() && r.TokenType == JsonTokenType.StartArray);
                    Assert.That(r.Read() && r.TokenType == JsonTokenType.StartObject);
                    while (r.Read() && r.TokenType != JsonTokenType.EndObject)
                    {
                        if (r.NameIs("id")) { r.Read(); r.TryGetInt64(out id); }
                        else if (r.NameIs("bytes")) { r.Read(); r.TryGetInt64(out bytes); }
                        else if (r.NameIs("retransmits")) { r.Read(); r.TryGetInt64(out retransmits); }
                        else if (r.NameIs("jitter")) { r.Read(); r.TryGetDouble(out jitter); }
                        else if (r.NameIs("packets")) { r.Read(); r.TryGetInt64(out packets); }
                        else if (r.NameIs("end_time")) { r.Read(); r.TryGetDouble(out endTime); }
                        else { Assert.That(r.Skip(), Is.True); }
                    }
                    Assert.That(r.Read() && r.TokenType == JsonTokenType.EndArray);
                }
                else
                {
                    Assert.That(r.Skip(), Is.True);
                }
            }
            Assert.That(r.Read(), Is.False);
            Assert.That(r.IsComplete, Is.True);
            Assert.That(shr, Is.EqualTo(-1), "18446744073709551615 is iperf3's -1");
            Assert.That(retransmits, Is.EqualTo(-1));
            Assert.That(cpu, Is.EqualTo(1.8));
            Assert.That(id, Is.EqualTo(1));
            Assert.That(bytes, Is.EqualTo(124900));
            Assert.That(packets, Is.EqualTo(1249));
            Assert.That(jitter, Is.EqualTo(2.1961746049397023e-05).Within(1e-19));
            Assert.That(endTime, Is.EqualTo(1.000419));
        }

        [Test]
        public void WritesTheServerResultsShape()
        {
            JsonWriter w = new JsonWriter(new byte[1024]);
            w.Reset(4);
            w.BeginObject();
            w.Property("cpu_util_total", 2.11);
            w.Property("cpu_util_user", 0.31);
            w.Property("cpu_util_system", 1.80);
            w.Property("sender_has_retransmits", -1L);
            w.PropertyName("streams");
            w.BeginArray();
            w.BeginObject();
            w.Property("id", 1L);
            w.Property("bytes", 124900L);
            w.Property("retransmits", -1L);
            w.Property("jitter", 2.1961746049397023e-05);
            w.Property("errors", 0L);
            w.Property("packets", 1249L);
            w.Property("start_time", 0L);
            w.Property("end_time", 1.000419);
            w.EndObject();
            w.EndArray();
            w.EndObject();
            Assert.That(w.Overflowed, Is.False);
            Assert.That(w.Start, Is.EqualTo(4));
            Assert.That(Encoding.ASCII.GetString(w.Written.ToArray()), Is.EqualTo(
                "{\"cpu_util_total\":2.11,\"cpu_util_user\":0.31,\"cpu_util_system\":1.8,\"sender_has_retransmits\":-1," +
                "\"streams\":[{\"id\":1,\"bytes\":124900,\"retransmits\":-1,\"jitter\":2.1961746049397e-05,\"errors\":0," +
                "\"packets\":1249,\"start_time\":0,\"end_time\":1.000419}]}"));
            // And it is valid JSON to a real parser.
            using (System.Text.Json.JsonDocument doc = System.Text.Json.JsonDocument.Parse(w.Written.ToArray()))
            {
                Assert.That(doc.RootElement.GetProperty("streams")[0].GetProperty("jitter").GetDouble(), Is.EqualTo(2.1961746049397e-05));
            }
        }

        [Test]
        public void WriterEscapesStringsAndNests()
        {
            JsonWriter w = new JsonWriter(new byte[256]);
            w.Reset();
            w.BeginObject();
            w.Property("text", "a\"b\\c\nd\te\u0001");
            w.PropertyName("list");
            w.BeginArray();
            w.Int64Value(long.MinValue);
            w.UInt64Value(ulong.MaxValue);
            w.BooleanValue(true);
            w.BooleanValue(false);
            w.NullValue();
            w.BeginArray();
            w.EndArray();
            w.BeginObject();
            w.EndObject();
            w.EndArray();
            w.PropertyName("utf8");
            w.StringValue(new byte[] { (byte)'x', 0x1f, (byte)'"' });
            w.EndObject();
            Assert.That(Encoding.ASCII.GetString(w.Written.ToArray()), Is.EqualTo(
                "{\"text\":\"a\\\"b\\\\c\\nd\\te\\u0001\",\"list\":[-9223372036854775808,18446744073709551615,true,false,null,[],{}],\"utf8\":\"x\\u001f\\\"\"}"));
            using (System.Text.Json.JsonDocument doc = System.Text.Json.JsonDocument.Parse(w.Written.ToArray()))
            {
                Assert.That(doc.RootElement.GetProperty("text").GetString(), Is.EqualTo("a\"b\\c\nd\te\u0001"));
            }
        }

        [Test]
        public void WriterReportsOverflow()
        {
            JsonWriter w = new JsonWriter(new byte[10]);
            w.Reset();
            w.BeginObject();
            w.Property("a_long_name", 1L);
            w.EndObject();
            Assert.That(w.Overflowed, Is.True);
            w.Reset();
            w.BeginArray();
            w.EndArray();
            Assert.That(w.Overflowed, Is.False);
            Assert.That(Encoding.ASCII.GetString(w.Written.ToArray()), Is.EqualTo("[]"));
        }

        [Test]
        public void ReaderDecodesEscapesInComparisons()
        {
            JsonReader r = Reader("{\"t\\u0063p\":\"a\\/b\\n\",\"TCP\":1}");
            Assert.That(r.Read());
            Assert.That(r.Read() && r.TokenType == JsonTokenType.PropertyName);
            Assert.That(r.ValueEquals("tcp", false), Is.True);
            Assert.That(r.Read() && r.TokenType == JsonTokenType.String);
            Assert.That(r.ValueEquals("a/b\n", false), Is.True);
            Assert.That(r.ValueEquals("a/b", false), Is.False);
            Assert.That(r.Read() && r.TokenType == JsonTokenType.PropertyName);
            Assert.That(r.ValueEquals("tcp", false), Is.False);
            Assert.That(r.ValueEquals("tcp", true), Is.True);
        }

        [Test]
        public void ReaderNumbers()
        {
            JsonReader r = Reader("[0,-1,9223372036854775807,-9223372036854775808,18446744073709551615,18446744073709551616,1.5e3,2.9,-2.9,1e400,1E-2]");
            Assert.That(r.Read());
            long v;
            double d;
            r.Read(); Assert.That(r.TryGetInt64(out v) && v == 0);
            r.Read(); Assert.That(r.TryGetInt64(out v) && v == -1);
            r.Read(); Assert.That(r.TryGetInt64(out v) && v == long.MaxValue);
            r.Read(); Assert.That(r.TryGetInt64(out v) && v == long.MinValue);
            r.Read(); Assert.That(r.TryGetInt64(out v) && v == -1);
            r.Read(); Assert.That(r.TryGetInt64(out v), Is.False, "beyond 64 bits");
            r.Read(); Assert.That(r.TryGetInt64(out v) && v == 1500);
            r.Read(); Assert.That(r.TryGetInt64(out v) && v == 2);
            r.Read(); Assert.That(r.TryGetInt64(out v) && v == -2);
            r.Read(); Assert.That(r.TryGetInt64(out v), Is.False);
            r.Read(); Assert.That(r.TryGetDouble(out d) && d == 0.01);
            Assert.That(r.Read() && r.TokenType == JsonTokenType.EndArray);
            Assert.That(r.Read(), Is.False);
            Assert.That(r.IsComplete);
        }

        [TestCase(0.0, "0")]
        [TestCase(1.0, "1")]
        [TestCase(-3.0, "-3")]
        [TestCase(1.000419, "1.000419")]
        [TestCase(0.1, "0.1")]
        [TestCase(2.11, "2.11")]
        [TestCase(1e15, "1e+15")]
        [TestCase(123456789012345.0, "123456789012345")]
        [TestCase(0.0001, "0.0001")]
        [TestCase(0.00001, "1e-05")]
        [TestCase(2.1961746049397023e-05, "2.1961746049397e-05")]
        [TestCase(1.7976931348623157e308, "1.79769313486232e+308")]
        [TestCase(5e-324, "4.94065645841247e-324")]
        [TestCase(double.NaN, "0")]
        [TestCase(double.PositiveInfinity, "0")]
        public void FormatsDoublesLikePrintfG15(double value, string expected)
        {
            Assert.That(Format(value), Is.EqualTo(expected));
        }

        [Test]
        public void FormatsRandomDoublesLikePrintfG15AndParsesThemBack()
        {
            Random random = new Random(1234);
            int mismatches = 0;
            const int count = 20000;
            for (int i = 0; i < count; i++)
            {
                double value = (random.NextDouble() - 0.3) * Math.Pow(10, random.Next(-40, 40));
                string mine = Format(value);
                string expected = PrintfG15(value);
                double back;
                Assert.That(JsonNumber.TryParseDouble(Encoding.ASCII.GetBytes(mine), out back), Is.True);
                Assert.That(back, Is.EqualTo(value).Within(Math.Abs(value) * 1e-14));
                Assert.That(double.Parse(mine, CultureInfo.InvariantCulture), Is.EqualTo(value).Within(Math.Abs(value) * 1e-14));
                if (mine != expected)
                {
                    // Far outside iperf3's range (scale factor beyond 10^22) the digits come from two rounded
                    // multiplications: near a half-way point the last digit may differ by one.
                    mismatches++;
                    double magnitude = Math.Abs(value);
                    Assert.That(magnitude < 1e-8 || magnitude >= 1e36, Is.True,
                        "exact digits expected for scale factors within 10^22: " + value.ToString("R", CultureInfo.InvariantCulture) + " -> " + mine + " expected " + expected);
                    double a = double.Parse(mine, CultureInfo.InvariantCulture);
                    double b = double.Parse(expected, CultureInfo.InvariantCulture);
                    Assert.That(Math.Abs(a - b), Is.LessThanOrEqualTo(Math.Abs(value) * 1.01e-14), value.ToString("R", CultureInfo.InvariantCulture) + " -> " + mine + " expected " + expected);
                }
            }
            TestContext.Out.WriteLine(mismatches + " of " + count + " differ from %.15g in the last digit");
            Assert.That(mismatches, Is.LessThan(count / 50));
        }

        [Test]
        public void ParsesDoublesLikeDotNet()
        {
            string[] samples = { "0", "-0.5", "3.14159", "1e10", "1.5E-7", "123456789012345678901234567890", "0.000000000000000000000000001234", "2.2250738585072014e-308", "1.7976931348623157e308", "12.5e+2" };
            foreach (string s in samples)
            {
                double mine;
                Assert.That(JsonNumber.TryParseDouble(Encoding.ASCII.GetBytes(s), out mine), Is.True, s);
                double expected = double.Parse(s, CultureInfo.InvariantCulture);
                Assert.That(mine, Is.EqualTo(expected).Within(Math.Abs(expected) * 4e-16), s);
            }
        }

        [TestCase(3.0, 2, "3.00")]
        [TestCase(941.2349, 2, "941.23")]
        [TestCase(941.235, 2, "941.24")]
        [TestCase(0.0004, 3, "0.000")]
        [TestCase(-1.5, 1, "-1.5")]
        [TestCase(-0.001, 1, "0.0")]
        [TestCase(12.0, 0, "12")]
        public void FormatsFixed(double value, int decimals, string expected)
        {
            Assert.That(Fixed(value, decimals), Is.EqualTo(expected));
        }

        [Test]
        public void FormatsIntegers()
        {
            byte[] b = new byte[JsonNumber.MaxLength];
            Assert.That(Encoding.ASCII.GetString(b, 0, JsonNumber.FormatInt64(0, b)), Is.EqualTo("0"));
            Assert.That(Encoding.ASCII.GetString(b, 0, JsonNumber.FormatInt64(-42, b)), Is.EqualTo("-42"));
            Assert.That(Encoding.ASCII.GetString(b, 0, JsonNumber.FormatInt64(long.MinValue, b)), Is.EqualTo("-9223372036854775808"));
            Assert.That(Encoding.ASCII.GetString(b, 0, JsonNumber.FormatUInt64(ulong.MaxValue, b)), Is.EqualTo("18446744073709551615"));
        }
    }
}
