namespace Keel.Apps.Iperf3
{
    /// <summary>Where the server is in a test (one control connection at a time).</summary>
    public enum Iperf3ServerState
    {
        /// <summary>Not started, or the listener could not be made.</summary>
        Stopped,

        /// <summary>Waiting for a control connection.</summary>
        Idle,

        /// <summary>Control connection accepted; reading its 37-byte cookie.</summary>
        ReadCookie,

        /// <summary>PARAM_EXCHANGE sent; reading the length-framed parameters JSON.</summary>
        ReadParameters,

        /// <summary>CREATE_STREAMS sent; accepting data connections (TCP) or hellos (UDP).</summary>
        CreateStreams,

        /// <summary>TEST_START and TEST_RUNNING sent; moving data until the client's TEST_END.</summary>
        Running,

        /// <summary>EXCHANGE_RESULTS sent; reading the client's results JSON.</summary>
        ReadClientResults,

        /// <summary>Results and DISPLAY_RESULTS sent; waiting for IPERF_DONE or end of stream.</summary>
        WaitDone,

        /// <summary>Sending the last control bytes (SERVER_ERROR) before closing the control connection.</summary>
        Closing,
    }
}
