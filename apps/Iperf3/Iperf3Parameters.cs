using Keel.Apps.Json;

namespace Keel.Apps.Iperf3
{
    /// <summary>
    /// One test's parameters, from the client's PARAM_EXCHANGE JSON (protocol notes §3). Reset to the stock
    /// defaults before every test; nothing carries over. Keys are matched without case, as cJSON does.
    /// </summary>
    public sealed class Iperf3Parameters
    {
        public bool Tcp;
        public bool Udp;
        public bool Sctp;

        /// <summary>-O seconds.</summary>
        public long Omit;

        /// <summary>-t seconds (0 with -n/-k).</summary>
        public long Time;

        /// <summary>-n bytes (0 = unset). The client ends the test; kept for the log.</summary>
        public long Bytes;

        /// <summary>-k blocks (0 = unset).</summary>
        public long BlockCount;

        /// <summary>-P streams.</summary>
        public long Parallel;

        public bool Reverse;
        public bool Bidirectional;

        /// <summary>-w bytes (0 = unset).</summary>
        public long Window;

        /// <summary>-l: TCP write size / UDP datagram size.</summary>
        public long Length;

        /// <summary>-b bits per second per stream (0 = unlimited).</summary>
        public long Bandwidth;

        /// <summary>Pacing check interval, microseconds.</summary>
        public long PacingTimer;

        public bool NoDelay;

        /// <summary>-M (0 = unset): the data connections' MSS (TCP_MAXSEG), announced in their SYN-ACK and used to send.</summary>
        public long Mss;

        public bool UdpCounters64Bit;
        public bool GetServerOutput;
        public bool RepeatingPayload;

        /// <summary>True when "len" was present (otherwise the protocol default applies).</summary>
        public bool LengthGiven;

        /// <summary>Number of keys not recognised (ignored, as the stock server does).</summary>
        public int UnknownKeys;

        /// <summary>Stock server defaults (iperf_defaults + reset before each test).</summary>
        public void Reset()
        {
            Tcp = false;
            Udp = false;
            Sctp = false;
            Omit = 0;
            Time = 10;
            Bytes = 0;
            BlockCount = 0;
            Parallel = 1;
            Reverse = false;
            Bidirectional = false;
            Window = 0;
            Length = Iperf3Message.DefaultTcpBlockSize;
            Bandwidth = 0;
            PacingTimer = 1000;
            NoDelay = false;
            Mss = 0;
            UdpCounters64Bit = false;
            GetServerOutput = false;
            RepeatingPayload = false;
            LengthGiven = false;
            UnknownKeys = 0;
        }

        /// <summary>
        /// Reads the parameters object. Returns false when the text is not a JSON object (the server then drops
        /// the test, as the stock server does on IERECVPARAMS).
        /// </summary>
        public bool Parse(JsonReader reader)
        {
            Reset();
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.EndObject)
                {
                    // Only whitespace may follow the object.
                    reader.Read();
                    break;
                }
                if (reader.TokenType != JsonTokenType.PropertyName)
                {
                    return false;
                }
                if (reader.NameIs("tcp")) { Tcp = ReadFlag(reader); }
                else if (reader.NameIs("udp")) { Udp = ReadFlag(reader); }
                else if (reader.NameIs("sctp")) { Sctp = ReadFlag(reader); }
                else if (reader.NameIs("omit")) { Omit = ReadInt(reader, Omit); }
                else if (reader.NameIs("time")) { Time = ReadInt(reader, Time); }
                else if (reader.NameIs("num")) { Bytes = ReadInt(reader, Bytes); }
                else if (reader.NameIs("blockcount")) { BlockCount = ReadInt(reader, BlockCount); }
                else if (reader.NameIs("parallel")) { Parallel = ReadInt(reader, Parallel); }
                else if (reader.NameIs("reverse")) { Reverse = ReadFlag(reader); }
                else if (reader.NameIs("bidirectional")) { Bidirectional = ReadFlag(reader); }
                else if (reader.NameIs("window")) { Window = ReadInt(reader, Window); }
                else if (reader.NameIs("len")) { Length = ReadInt(reader, Length); LengthGiven = true; }
                else if (reader.NameIs("bandwidth")) { Bandwidth = ReadInt(reader, Bandwidth); }
                else if (reader.NameIs("pacing_timer")) { PacingTimer = ReadInt(reader, PacingTimer); }
                else if (reader.NameIs("nodelay")) { NoDelay = ReadFlag(reader); }
                else if (reader.NameIs("MSS")) { Mss = ReadInt(reader, Mss); }
                else if (reader.NameIs("udp_counters_64bit")) { UdpCounters64Bit = ReadFlag(reader); }
                else if (reader.NameIs("get_server_output")) { GetServerOutput = ReadFlag(reader); }
                else if (reader.NameIs("repeating_payload")) { RepeatingPayload = ReadFlag(reader); }
                else
                {
                    UnknownKeys++;
                    if (!reader.Skip())
                    {
                        return false;
                    }
                }
                if (reader.HasError)
                {
                    return false;
                }
            }
            if (!reader.IsComplete)
            {
                return false;
            }
            if (Udp && !LengthGiven)
            {
                Length = Iperf3Message.DefaultUdpBlockSize;
            }
            if (Parallel < 1)
            {
                Parallel = 1;
            }
            return true;
        }

        /// <summary>Streams the client will open: -P, doubled with --bidir.</summary>
        public long StreamCount => Bidirectional ? Parallel * 2 : Parallel;

        /// <summary>True when only one protocol key was present and it is TCP or UDP.</summary>
        public bool ProtocolSupported => (Tcp ^ Udp) && !Sctp;

        /// <summary>
        /// iperf3 tests the presence of these keys, not their value ("tcp":true); a value of false or 0 is read as
        /// absent, which is what a client that writes them would mean.
        /// </summary>
        private static bool ReadFlag(JsonReader reader)
        {
            if (!reader.Read())
            {
                return false;
            }
            if (reader.TokenType == JsonTokenType.StartObject || reader.TokenType == JsonTokenType.StartArray)
            {
                reader.Skip();
                return false;
            }
            return reader.GetFlag();
        }

        private static long ReadInt(JsonReader reader, long fallback)
        {
            if (!reader.Read())
            {
                return fallback;
            }
            if (reader.TokenType == JsonTokenType.StartObject || reader.TokenType == JsonTokenType.StartArray)
            {
                reader.Skip();
                return fallback;
            }
            long value;
            return reader.TryGetInt64(out value) ? value : fallback;
        }
    }
}
