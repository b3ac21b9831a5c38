using System.Runtime.CompilerServices;

namespace System
{
    /// <summary>Immutable UTF-16 string. Field names are a compiler contract (_stringLength, _firstChar).</summary>
    public sealed class String
    {
#pragma warning disable 169, 649
        private int _stringLength;
        private char _firstChar;
#pragma warning restore 169, 649

        public static readonly string Empty = "";

        public int Length => _stringLength;

        [IndexerName("Chars")]
        public unsafe char this[int index]
        {
            get
            {
                if ((uint)index >= (uint)_stringLength)
                {
                    Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowIndexOutOfRangeException();
                }
                fixed (char* p = &_firstChar)
                {
                    return p[index];
                }
            }
        }

        /// <summary>Pointer to the first character (the string must be pinned: we never move objects).</summary>
        public ref readonly char GetPinnableReference() => ref _firstChar;

        public static bool operator ==(string a, string b) => Equals(a, b);

        public static bool operator !=(string a, string b) => !Equals(a, b);

        public static unsafe bool Equals(string a, string b)
        {
            if ((object)a == (object)b)
            {
                return true;
            }
            if ((object)a == null || (object)b == null || a._stringLength != b._stringLength)
            {
                return false;
            }
            fixed (char* pa = &a._firstChar)
            fixed (char* pb = &b._firstChar)
            {
                for (int i = 0; i < a._stringLength; i++)
                {
                    if (pa[i] != pb[i])
                    {
                        return false;
                    }
                }
            }
            return true;
        }

        public override bool Equals(object obj) => obj is string s && Equals(this, s);

        public override int GetHashCode() => _stringLength;

        public override string ToString() => this;
    }
}
