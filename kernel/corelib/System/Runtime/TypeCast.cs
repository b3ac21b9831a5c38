using System.Runtime.CompilerServices;
using Internal.Runtime;
using Keel.Runtime;

namespace System.Runtime
{
    /// <summary>
    /// Casting helpers the compiler calls by name (is/as/cast, array element stores). Supports classes,
    /// interfaces and arrays of exactly matching or base element types; no variance.
    /// </summary>
    internal static unsafe class TypeCast
    {
        private static bool IsClassAssignable(MethodTable* type, MethodTable* target)
        {
            while (type != null)
            {
                if (type == target)
                {
                    return true;
                }
                if (type->IsParameterized)
                {
                    return false;
                }
                type = type->RelatedType;
            }
            return false;
        }

        private static bool ImplementsInterface(MethodTable* type, MethodTable* target)
        {
            MethodTable** map = type->InterfaceMap;
            for (int i = 0; i < type->NumInterfaces; i++)
            {
                if (map[i] == target)
                {
                    return true;
                }
            }
            return false;
        }

        internal static bool IsAssignable(MethodTable* type, MethodTable* target)
        {
            if (type == target)
            {
                return true;
            }
            if (target->IsInterface)
            {
                return ImplementsInterface(type, target);
            }
            if (target->IsArray)
            {
                if (!type->IsArray || type->BaseSize != target->BaseSize)
                {
                    return false;
                }
                MethodTable* element = type->RelatedType;
                MethodTable* targetElement = target->RelatedType;
                if (element == targetElement)
                {
                    return true;
                }
                // Reference-type element covariance (string[] as object[]).
                return element->ComponentSize == 0 && element->ElementType >= 0x14 && IsAssignable(element, targetElement);
            }
            return IsClassAssignable(type, target);
        }

        public static object IsInstanceOfClass(MethodTable* target, object obj)
        {
            if ((object)obj == null || IsClassAssignable(obj.GetMethodTable(), target))
            {
                return obj;
            }
            return null;
        }

        public static object IsInstanceOfInterface(MethodTable* target, object obj)
        {
            if ((object)obj == null || ImplementsInterface(obj.GetMethodTable(), target))
            {
                return obj;
            }
            return null;
        }

        public static object IsInstanceOfAny(MethodTable* target, object obj)
        {
            if ((object)obj == null || IsAssignable(obj.GetMethodTable(), target))
            {
                return obj;
            }
            return null;
        }

        public static bool IsInstanceOfException(MethodTable* target, object obj)
        {
            return (object)obj != null && IsClassAssignable(obj.GetMethodTable(), target);
        }

        public static object CheckCastClass(MethodTable* target, object obj)
        {
            if ((object)obj == null || IsClassAssignable(obj.GetMethodTable(), target))
            {
                return obj;
            }
            Panic.Fail("invalid cast to type", (ulong)target);
            return null;
        }

        public static object CheckCastClassSpecial(MethodTable* target, object obj) => CheckCastClass(target, obj);

        public static object CheckCastInterface(MethodTable* target, object obj)
        {
            if ((object)obj == null || ImplementsInterface(obj.GetMethodTable(), target))
            {
                return obj;
            }
            Panic.Fail("invalid cast to interface", (ulong)target);
            return null;
        }

        public static object CheckCastAny(MethodTable* target, object obj)
        {
            if ((object)obj == null || IsAssignable(obj.GetMethodTable(), target))
            {
                return obj;
            }
            Panic.Fail("invalid cast to type", (ulong)target);
            return null;
        }

        public static void StelemRef(object[] array, nint index, object obj)
        {
            if ((nuint)index >= (nuint)array.Length)
            {
                Panic.Fail("index out of range");
            }
            ref object element = ref Unsafe.As<ArrayElement[]>(array)[index].Value;
            if ((object)obj != null)
            {
                MethodTable* elementType = array.GetMethodTable()->RelatedType;
                if (obj.GetMethodTable() != elementType && !IsAssignable(obj.GetMethodTable(), elementType))
                {
                    Panic.Fail("array type mismatch");
                }
            }
            element = obj;
        }

        public static ref object LdelemaRef(object[] array, nint index, MethodTable* elementType)
        {
            if ((nuint)index >= (nuint)array.Length)
            {
                Panic.Fail("index out of range");
            }
            if (array.GetMethodTable()->RelatedType != elementType)
            {
                Panic.Fail("array type mismatch");
            }
            return ref Unsafe.As<ArrayElement[]>(array)[index].Value;
        }

        private struct ArrayElement
        {
#pragma warning disable 649
            public object Value;
#pragma warning restore 649
        }
    }
}
