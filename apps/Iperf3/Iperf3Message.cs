namespace Keel.Apps.Iperf3
{
    /// <summary>
    /// iperf3 control-channel state bytes (iperf_api.h), each sent as one signed byte, and the other wire
    /// constants of the iperf3 3.12 protocol (iperf3 3.12's own source and wire behaviour).
    /// </summary>
    public static class Iperf3Message
    {
        public const byte TestStart = 1;
        public const byte TestRunning = 2;
        public const byte TestEnd = 4;
        public const byte ParamExchange = 9;
        public const byte CreateStreams = 10;
        public const byte ServerTerminate = 11;
        public const byte ClientTerminate = 12;
        public const byte ExchangeResults = 13;
        public const byte DisplayResults = 14;
        public const byte IperfDone = 16;

        /// <summary>ACCESS_DENIED (−1): busy, or a data connection with a wrong cookie.</summary>
        public const byte AccessDenied = 0xFF;

        /// <summary>SERVER_ERROR (−2), followed by int32 BE i_errno and int32 BE errno.</summary>
        public const byte ServerError = 0xFE;

        /// <summary>Cookie length: 36 base32 characters and a NUL.</summary>
        public const int CookieSize = 37;

        /// <summary>Bytes of the UDP stream hello and of its reply.</summary>
        public const int UdpHelloSize = 4;

        /// <summary>Default TCP block size (the client always sends "len" anyway).</summary>
        public const int DefaultTcpBlockSize = 131072;

        /// <summary>UDP block size when the client sends none.</summary>
        public const int DefaultUdpBlockSize = 1460;

        /// <summary>Largest UDP payload iperf3 accepts.</summary>
        public const int MaxUdpBlockSize = 65507;

        /// <summary>i_errno values sent with SERVER_ERROR (iperf_api.h).</summary>
        public const int ErrorNumStreams = 6;
        public const int ErrorUnimplemented = 13;
        public const int ErrorReceiveParameters = 114;
        public const int ErrorProtocol = 131;
        public const int ErrorStreamListen = 202;

        /// <summary>IESTREAMWRITE: the client prints "unable to write to stream socket".</summary>
        public const int ErrorStreamWrite = 205;
    }
}
