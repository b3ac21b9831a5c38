namespace Keel.Net
{
    /// <summary>Told of ICMP echo replies to this host's own echo requests (<see cref="NetStack.SendEchoRequest"/>).</summary>
    public interface IEchoReplyHandler
    {
        /// <summary>
        /// A reply from <paramref name="from"/> with the request's <paramref name="identifier"/> and
        /// <paramref name="sequence"/> and <paramref name="dataLength"/> bytes of data. Called from the receive path:
        /// do little.
        /// </summary>
        void OnEchoReply(IPAddress from, int identifier, int sequence, int dataLength);
    }
}
