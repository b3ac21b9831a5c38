using Keel.Net.Sockets;
using Keel.Net.Tcp;
using NUnit.Framework;

namespace Keel.Tests.Net
{
    /// <summary>
    /// The accept queue alone: a listener's children in arrival order, at most the backlog (POSIX <c>listen</c>),
    /// <c>accept</c> takes the oldest that completed the handshake (RFC 9293 3.10.7.2: a connection leaves LISTEN's
    /// queue once SYN-RECEIVED moves to ESTABLISHED), and a child knows its listener until it is taken.
    /// </summary>
    public class AcceptQueueTests
    {
        private static TcpConnection Connection(SingleStack s) => s.Stack.CreateSocket(SocketType.Stream, ProtocolType.Tcp).Tcp;

        private static TcpConnection Child(SingleStack s, TcpState state)
        {
            TcpConnection c = Connection(s);
            c.SetState(TcpState.SynSent);
            c.SetState(TcpState.SynReceived);
            if (state == TcpState.Established)
            {
                c.SetState(TcpState.Established);
            }
            return c;
        }

        [Test]
        public void ChildrenQueueInArrivalOrderUpToTheBacklog()
        {
            SingleStack s = new SingleStack();
            AcceptQueue q = Connection(s).Children;
            q.Backlog = 2;
            Assert.That(q.IsFull, Is.False);
            TcpConnection first = Child(s, TcpState.Established);
            TcpConnection second = Child(s, TcpState.Established);
            q.Add(first);
            q.Add(second);
            Assert.That(q.Count, Is.EqualTo(2));
            Assert.That(q.IsFull, Is.True, "backlog 2");
            Assert.That(q.Oldest, Is.SameAs(first));
            Assert.That(q.OldestEstablished(), Is.SameAs(first));
            Assert.That(first.Parent, Is.Not.Null);
        }

        [Test]
        public void AcceptTakesTheOldestPastTheHandshake()
        {
            SingleStack s = new SingleStack();
            TcpConnection listener = Connection(s);
            listener.Backlog = 8;
            TcpConnection handshaking = Child(s, TcpState.SynReceived);
            TcpConnection done = Child(s, TcpState.Established);
            listener.Children.Add(handshaking);
            listener.Children.Add(done);
            Assert.That(listener.HasEstablishedChild, Is.True);
            Assert.That(listener.TakeEstablishedChild(), Is.SameAs(done), "SYN-RECEIVED is not ready to accept");
            Assert.That(done.Parent, Is.Null, "taken: no parent any more");
            Assert.That(listener.Children.Count, Is.EqualTo(1));
            Assert.That(listener.HasEstablishedChild, Is.False);
            Assert.That(listener.TakeEstablishedChild(), Is.Null);
            Assert.That(handshaking.Parent, Is.SameAs(listener));
        }

        [Test]
        public void RemovingFromTheMiddleKeepsTheOrder()
        {
            SingleStack s = new SingleStack();
            AcceptQueue q = Connection(s).Children;
            q.Backlog = 8;
            TcpConnection a = Child(s, TcpState.Established);
            TcpConnection b = Child(s, TcpState.Established);
            TcpConnection c = Child(s, TcpState.Established);
            q.Add(a);
            q.Add(b);
            q.Add(c);
            q.Remove(b);
            Assert.That(q.Count, Is.EqualTo(2));
            q.Remove(a);
            Assert.That(q.Oldest, Is.SameAs(c));
            q.Remove(c);
            Assert.That(q.Oldest, Is.Null);
            Assert.That(q.Count, Is.Zero);
        }

        [Test]
        public void TheBacklogIsAtLeastOne()
        {
            SingleStack s = new SingleStack();
            AcceptQueue q = Connection(s).Children;
            q.Backlog = 0;
            Assert.That(q.Backlog, Is.EqualTo(1));
            q.Reset();
            Assert.That(q.IsFull, Is.True, "a connection that is not listening takes no children");
        }
    }
}
