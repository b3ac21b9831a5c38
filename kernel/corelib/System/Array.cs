namespace System
{
    /// <summary>Base of all arrays. The length field layout is a compiler contract.</summary>
    public abstract class Array
    {
#pragma warning disable 169, 649
        private int _numComponents;
#pragma warning restore 169, 649

        public int Length => _numComponents;
    }

    /// <summary>Generic view of single-dimension arrays the compiler expects to exist.</summary>
    public class Array<T> : Array { }
}
