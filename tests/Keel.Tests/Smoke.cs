using NUnit.Framework;

namespace Keel.Tests
{
    public class Smoke
    {
        [Test]
        public void PortableCodeCompiles()
        {
            Assert.That(Keel.Buffers.Packet.LinearCapacity, Is.EqualTo(256));
        }
    }
}
