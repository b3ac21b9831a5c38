namespace Keel.Net.Sockets
{
    /// <summary>
    /// Optional readiness callback (instead of, or as well as, polling). Set <see cref="Socket.Handler"/>.
    /// The stack calls it from its own entry points (at the end of a receive batch and from NetStack.Poll),
    /// never from inside a call the application made, so the handler may call any socket method, including
    /// Close. Accepted sockets inherit the listener's handler.
    /// </summary>
    public interface ISocketHandler
    {
        void OnSocketEvent(Socket socket, SocketEvents events);
    }
}
