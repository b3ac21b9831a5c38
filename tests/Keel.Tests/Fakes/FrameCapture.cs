using System.Collections.Generic;
using Keel.Buffers;

namespace Keel.Tests.Fakes
{
    /// <summary>Keeps copies of every transmitted frame (test only; allocates).</summary>
    public sealed class FrameCapture : ITestFrameSink
    {
        public readonly List<byte[]> Frames = new List<byte[]>();

        public void Accept(TestNetDevice from, Packet frame)
        {
            byte[] copy = new byte[frame.Length];
            frame.CopyTo(0, copy);
            Frames.Add(copy);
        }

        public byte[] Take()
        {
            if (Frames.Count == 0)
            {
                return null;
            }
            byte[] f = Frames[0];
            Frames.RemoveAt(0);
            return f;
        }
    }
}
