namespace Keel.Net.Sockets
{
    /// <summary>
    /// Result of a socket call. Names and values follow System.Net.Sockets.SocketError (the subset a kernel
    /// without threads needs). Calls never throw: they return this, or an int and this as an out parameter.
    /// </summary>
    public enum SocketError
    {
        Success = 0,
        Fault = 10014,
        InvalidArgument = 10022,
        TooManyOpenSockets = 10024,
        /// <summary>Nothing can be done now; try again after Poll says ready (EAGAIN).</summary>
        WouldBlock = 10035,
        /// <summary>A non-blocking Connect started; Poll(SelectWrite) turns true when it completes.</summary>
        InProgress = 10036,
        AlreadyInProgress = 10037,
        /// <summary>The socket was closed (or never opened) and may not be used any more.</summary>
        NotSocket = 10038,
        DestinationAddressRequired = 10039,
        /// <summary>UDP: the datagram is larger than the buffer (receive: truncated) or the link (send).</summary>
        MessageSize = 10040,
        ProtocolType = 10041,
        ProtocolNotSupported = 10043,
        SocketNotSupported = 10044,
        OperationNotSupported = 10045,
        AddressFamilyNotSupported = 10047,
        AddressAlreadyInUse = 10048,
        AddressNotAvailable = 10049,
        NetworkDown = 10050,
        NetworkUnreachable = 10051,
        ConnectionAborted = 10053,
        ConnectionReset = 10054,
        NoBufferSpaceAvailable = 10055,
        IsConnected = 10056,
        NotConnected = 10057,
        /// <summary>Send after Shutdown(Send) or Close.</summary>
        Shutdown = 10058,
        TimedOut = 10060,
        ConnectionRefused = 10061,
        HostUnreachable = 10065,
    }
}
