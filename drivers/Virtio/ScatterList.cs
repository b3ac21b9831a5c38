namespace Keel.Drivers.Virtio
{
    /// <summary>
    /// A reusable list of (device address, length, direction) elements describing one buffer chain for
    /// <see cref="SplitVirtqueue.TryAdd"/>. Made once at start-up with a fixed capacity; filling it never allocates.
    /// Device-readable elements must come before device-writable ones (virtio rule).
    /// </summary>
    public sealed class ScatterList
    {
        /// <summary>Device (bus) address of each element.</summary>
        public readonly ulong[] Address;

        /// <summary>Length in bytes of each element (at least 1).</summary>
        public readonly int[] Length;

        /// <summary>True when the device writes the element (receive), false when it reads it (transmit).</summary>
        public readonly bool[] DeviceWritable;

        /// <summary>Elements in use.</summary>
        public int Count;

        public ScatterList(int capacity)
        {
            Address = new ulong[capacity];
            Length = new int[capacity];
            DeviceWritable = new bool[capacity];
        }

        public int Capacity => Address.Length;

        public void Clear()
        {
            Count = 0;
        }

        /// <summary>Appends one element; false when the list is full or the length is not positive.</summary>
        public bool Add(ulong address, int length, bool deviceWritable)
        {
            if (Count == Address.Length || length <= 0)
            {
                return false;
            }
            Address[Count] = address;
            Length[Count] = length;
            DeviceWritable[Count] = deviceWritable;
            Count++;
            return true;
        }
    }
}
