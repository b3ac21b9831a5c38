namespace System
{
    /// <summary>Root of all classes. The first field is the type's MethodTable pointer (a compiler contract).</summary>
    public unsafe class Object
    {
#pragma warning disable 169, 649
        internal Internal.Runtime.MethodTable* _methodTable;
#pragma warning restore 169, 649

        public Object() { }

        public virtual bool Equals(object obj) => (object)this == obj;

        public virtual int GetHashCode() => 0;

        public virtual string ToString() => null;

        ~Object() { }

        /// <summary>The MethodTable of this object (runtime use).</summary>
        internal Internal.Runtime.MethodTable* GetMethodTable() => _methodTable;
    }
}
