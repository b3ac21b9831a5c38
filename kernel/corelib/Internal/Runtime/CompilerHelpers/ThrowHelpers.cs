using Keel.Runtime;

namespace Internal.Runtime.CompilerHelpers
{
    /// <summary>Targets of the compiler's failed-check paths. Each prints its reason and stops the machine.</summary>
    internal static class ThrowHelpers
    {
        public static void ThrowIndexOutOfRangeException() => Panic.Fail("index out of range");
        public static void ThrowNullReferenceException() => Panic.Fail("null reference");
        public static void ThrowDivideByZeroException() => Panic.Fail("divide by zero");
        public static void ThrowOverflowException() => Panic.Fail("arithmetic overflow");
        public static void ThrowInvalidCastException() => Panic.Fail("invalid cast");
        public static void ThrowArrayTypeMismatchException() => Panic.Fail("array type mismatch");
        public static void ThrowArgumentException() => Panic.Fail("invalid argument");
        public static void ThrowArgumentOutOfRangeException() => Panic.Fail("argument out of range");
        public static void ThrowPlatformNotSupportedException() => Panic.Fail("platform not supported");
        public static void ThrowTypeLoadException() => Panic.Fail("type load");
        public static void ThrowTypeLoadExceptionWithArgument() => Panic.Fail("type load");
        public static void ThrowInvalidProgramException() => Panic.Fail("invalid program");
        public static void ThrowInvalidProgramExceptionWithArgument() => Panic.Fail("invalid program");
        public static void ThrowMissingMethodException() => Panic.Fail("missing method");
        public static void ThrowMissingFieldException() => Panic.Fail("missing field");
        public static void ThrowFileNotFoundException() => Panic.Fail("file not found");
        public static void ThrowBadImageFormatException() => Panic.Fail("bad image format");
        public static void ThrowNotSupportedException() => Panic.Fail("not supported");
        public static void ThrowNotImplementedException() => Panic.Fail("not implemented");
        public static void ThrowAmbiguousMatchException() => Panic.Fail("ambiguous match");
        public static void ThrowFeatureBodyRemoved() => Panic.Fail("feature removed");
        public static void ThrowUnavailableType() => Panic.Fail("unavailable type");
    }
}
