using Keel.Net.Sockets;
using Keel.Net.Tcp;
using NUnit.Framework;

namespace Keel.Tests.Net
{
    /// <summary>
    /// The table links alone, on lists of their own (not the layer's): each operation keeps its list and its flag
    /// consistent, a connection is never on a list twice, the batch list is first in, first out.
    /// </summary>
    public class TableLinksTests
    {
        private static TcpConnection[] Connections(int n)
        {
            SingleStack s = new SingleStack();
            TcpConnection[] c = new TcpConnection[n];
            for (int i = 0; i < n; i++)
            {
                c[i] = s.Stack.CreateSocket(SocketType.Stream, ProtocolType.Tcp).Tcp;
            }
            return c;
        }

        private static string Chain(TcpConnection head, TcpConnection[] all, int list)
        {
            string order = "";
            TcpConnection x = head;
            while (x != null)
            {
                order += System.Array.IndexOf(all, x);
                x = list == 0 ? x.Links.HashNext : list == 1 ? x.Links.ActiveNext : list == 2 ? x.Links.BatchNext : x.Links.ListenNext;
            }
            return order;
        }

        [Test]
        public void AHashChainTakesEachConnectionOnce()
        {
            TcpConnection[] c = Connections(3);
            TcpConnection bucket = null;
            TableLinks.Hash(ref bucket, c[0]);
            TableLinks.Hash(ref bucket, c[1]);
            TableLinks.Hash(ref bucket, c[2]);
            TableLinks.Hash(ref bucket, c[1]);
            Assert.That(Chain(bucket, c, 0), Is.EqualTo("210"), "newest first, no duplicate");
            TableLinks.Unhash(ref bucket, c[1]);
            Assert.That(Chain(bucket, c, 0), Is.EqualTo("20"));
            Assert.That(c[1].Links.Hashed, Is.False);
            Assert.That(c[1].Links.HashNext, Is.Null);
            TableLinks.Unhash(ref bucket, c[1]);
            TableLinks.Unhash(ref bucket, c[2]);
            Assert.That(Chain(bucket, c, 0), Is.EqualTo("0"));
        }

        [Test]
        public void TheTimerListDropsAConnectionFromAnyPlace()
        {
            TcpConnection[] c = Connections(4);
            TcpConnection head = null;
            for (int i = 0; i < 4; i++)
            {
                TableLinks.Activate(ref head, c[i]);
            }
            TableLinks.Activate(ref head, c[2]);
            Assert.That(Chain(head, c, 1), Is.EqualTo("3210"));
            TableLinks.Deactivate(ref head, c[2]);
            Assert.That(Chain(head, c, 1), Is.EqualTo("310"), "middle");
            TableLinks.Deactivate(ref head, c[3]);
            Assert.That(Chain(head, c, 1), Is.EqualTo("10"), "head");
            TableLinks.Deactivate(ref head, c[0]);
            Assert.That(Chain(head, c, 1), Is.EqualTo("1"), "tail");
            Assert.That(c[0].Links.Active, Is.False);
            TableLinks.Deactivate(ref head, c[0]);
            TableLinks.Activate(ref head, c[0]);
            Assert.That(Chain(head, c, 1), Is.EqualTo("01"));
        }

        [Test]
        public void TheBatchListIsFirstInFirstOut()
        {
            TcpConnection[] c = Connections(3);
            TcpConnection head = null;
            TcpConnection tail = null;
            TableLinks.Schedule(ref head, ref tail, c[0]);
            TableLinks.Schedule(ref head, ref tail, c[1]);
            TableLinks.Schedule(ref head, ref tail, c[2]);
            TableLinks.Schedule(ref head, ref tail, c[0]);
            Assert.That(Chain(head, c, 2), Is.EqualTo("012"));
            Assert.That(TableLinks.Unlink(ref head, ref tail, c[2]), Is.True);
            Assert.That(tail, Is.SameAs(c[1]), "the tail moves back");
            TableLinks.Unscheduled(c[2]);
            Assert.That(TableLinks.Unlink(ref head, ref tail, c[2]), Is.False, "not there");
            Assert.That(TableLinks.TakeFirst(ref head, ref tail), Is.SameAs(c[0]));
            Assert.That(c[0].Links.OnBatch, Is.False, "taken off: may be scheduled again");
            Assert.That(TableLinks.TakeFirst(ref head, ref tail), Is.SameAs(c[1]));
            Assert.That(TableLinks.TakeFirst(ref head, ref tail), Is.Null);
            Assert.That(tail, Is.Null);
        }

        [Test]
        public void ListenersComeAndGo()
        {
            TcpConnection[] c = Connections(3);
            TcpConnection head = null;
            TableLinks.AddListener(ref head, c[0]);
            TableLinks.AddListener(ref head, c[1]);
            TableLinks.AddListener(ref head, c[2]);
            TableLinks.RemoveListener(ref head, c[1]);
            Assert.That(Chain(head, c, 3), Is.EqualTo("20"));
            Assert.That(c[1].Links.ListenNext, Is.Null);
        }
    }
}
