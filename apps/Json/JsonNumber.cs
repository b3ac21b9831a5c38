using System;

namespace Keel.Apps.Json
{
    /// <summary>
    /// Number text for JSON and logs without the runtime's formatting: integers (64-bit, signed and unsigned),
    /// doubles as the shortest of up to 15 significant digits in C "%.15g" style (what cJSON tries first),
    /// fixed-point doubles for human-readable lines, and parsing of JSON number text. Formatting writes into a
    /// caller's span of at least <see cref="MaxLength"/> bytes and returns the byte count. Never allocates.
    /// </summary>
    public static class JsonNumber
    {
        /// <summary>Longest text any Format method writes.</summary>
        public const int MaxLength = 32;

        /// <summary>Significant digits written for a double.</summary>
        public const int DoubleDigits = 15;

        private const long TenPow14 = 100000000000000L;
        private const long TenPow15 = 1000000000000000L;

        /// <summary>10^0 .. 10^22: every one is exact in a double.</summary>
        private static readonly double[] s_powersOfTen;

        /// <summary>10^0 .. 10^18 as integers.</summary>
        private static readonly long[] s_integerPowersOfTen;

        static JsonNumber()
        {
            s_powersOfTen = new double[23];
            double p = 1.0;
            for (int i = 0; i < s_powersOfTen.Length; i++)
            {
                s_powersOfTen[i] = p;
                p *= 10.0;
            }
            s_integerPowersOfTen = new long[19];
            long q = 1;
            for (int i = 0; i < s_integerPowersOfTen.Length; i++)
            {
                s_integerPowersOfTen[i] = q;
                q *= 10;
            }
        }

        // ---------------------------------------------------------------- formatting

        /// <summary>Writes <paramref name="value"/> in decimal; returns the byte count.</summary>
        public static int FormatInt64(long value, Span<byte> destination)
        {
            if (value < 0)
            {
                destination[0] = (byte)'-';
                // Two's complement negation in unsigned arithmetic also covers long.MinValue.
                return 1 + FormatUInt64(0UL - (ulong)value, destination.Slice(1));
            }
            return FormatUInt64((ulong)value, destination);
        }

        /// <summary>Writes <paramref name="value"/> in decimal; returns the byte count.</summary>
        public static int FormatUInt64(ulong value, Span<byte> destination)
        {
            int digits = 1;
            ulong rest = value / 10;
            while (rest != 0)
            {
                digits++;
                rest /= 10;
            }
            for (int i = digits - 1; i >= 0; i--)
            {
                destination[i] = (byte)('0' + (int)(value % 10));
                value /= 10;
            }
            return digits;
        }

        /// <summary>
        /// Writes a double like C's "%.15g": fixed notation for exponents -4..14, otherwise d.ddde±XX; trailing
        /// zeros dropped; NaN and infinities (which JSON cannot carry) are written as 0. Returns the byte count.
        /// </summary>
        public static int FormatDouble(double value, Span<byte> destination)
        {
            if (!IsFinite(value) || value == 0.0)
            {
                destination[0] = (byte)'0';
                return 1;
            }
            int length = 0;
            if (value < 0)
            {
                destination[length++] = (byte)'-';
                value = -value;
            }
            int exponent = DecimalExponent(value);
            long mantissa = ScaledMantissa(value, exponent);
            if (mantissa >= TenPow15)
            {
                mantissa = (mantissa + 5) / 10;
                exponent++;
                if (mantissa >= TenPow15)
                {
                    mantissa /= 10;
                }
            }
            else if (mantissa < TenPow14)
            {
                exponent--;
                mantissa = ScaledMantissa(value, exponent);
                if (mantissa >= TenPow15)
                {
                    mantissa = (mantissa + 5) / 10;
                    exponent++;
                }
            }
            // 15 digits, most significant first, trailing zeros dropped.
            Span<byte> digits = stackalloc byte[DoubleDigits];
            for (int i = DoubleDigits - 1; i >= 0; i--)
            {
                digits[i] = (byte)('0' + (int)(mantissa % 10));
                mantissa /= 10;
            }
            int count = DoubleDigits;
            while (count > 1 && digits[count - 1] == '0')
            {
                count--;
            }
            if (exponent < -4 || exponent >= DoubleDigits)
            {
                destination[length++] = digits[0];
                if (count > 1)
                {
                    destination[length++] = (byte)'.';
                    for (int i = 1; i < count; i++)
                    {
                        destination[length++] = digits[i];
                    }
                }
                destination[length++] = (byte)'e';
                int e = exponent;
                if (e < 0)
                {
                    destination[length++] = (byte)'-';
                    e = -e;
                }
                else
                {
                    destination[length++] = (byte)'+';
                }
                if (e < 10)
                {
                    destination[length++] = (byte)'0';
                }
                length += FormatUInt64((ulong)e, destination.Slice(length));
                return length;
            }
            if (exponent < 0)
            {
                destination[length++] = (byte)'0';
                destination[length++] = (byte)'.';
                for (int i = -1; i > exponent; i--)
                {
                    destination[length++] = (byte)'0';
                }
                for (int i = 0; i < count; i++)
                {
                    destination[length++] = digits[i];
                }
                return length;
            }
            for (int i = 0; i <= exponent; i++)
            {
                destination[length++] = i < count ? digits[i] : (byte)'0';
            }
            if (count > exponent + 1)
            {
                destination[length++] = (byte)'.';
                for (int i = exponent + 1; i < count; i++)
                {
                    destination[length++] = digits[i];
                }
            }
            return length;
        }

        /// <summary>
        /// Writes a double with exactly <paramref name="decimals"/> (0..9) digits after the point, rounded half up
        /// ("3.00", "941.23"). Values too large for that fall back to <see cref="FormatDouble"/>.
        /// </summary>
        public static int FormatFixed(double value, int decimals, Span<byte> destination)
        {
            if (decimals < 0)
            {
                decimals = 0;
            }
            if (decimals > 9)
            {
                decimals = 9;
            }
            if (!IsFinite(value))
            {
                value = 0;
            }
            int length = 0;
            bool negative = value < 0;
            if (negative)
            {
                value = -value;
            }
            double scaled = value * s_powersOfTen[decimals] + 0.5;
            if (scaled >= 9.0e18)
            {
                if (negative)
                {
                    destination[length++] = (byte)'-';
                }
                return length + FormatDouble(value, destination.Slice(length));
            }
            long whole = (long)scaled;
            if (negative && whole != 0)
            {
                destination[length++] = (byte)'-';
            }
            long unit = s_integerPowersOfTen[decimals];
            length += FormatInt64(whole / unit, destination.Slice(length));
            if (decimals > 0)
            {
                destination[length++] = (byte)'.';
                long fraction = whole % unit;
                for (int i = decimals - 1; i >= 0; i--)
                {
                    destination[length + i] = (byte)('0' + (int)(fraction % 10));
                    fraction /= 10;
                }
                length += decimals;
            }
            return length;
        }

        /// <summary>floor(log10(value)) for a finite value &gt; 0 (may be off by one; the caller corrects).</summary>
        private static int DecimalExponent(double value)
        {
            int exponent = 0;
            if (value >= 1.0)
            {
                while (value >= 1e22)
                {
                    value /= 1e22;
                    exponent += 22;
                }
                while (exponent < 400 && value >= 10.0)
                {
                    int step = 1;
                    while (step < 22 && value >= s_powersOfTen[step + 1])
                    {
                        step++;
                    }
                    value /= s_powersOfTen[step];
                    exponent += step;
                }
                return exponent;
            }
            while (value < 1e-22)
            {
                value *= 1e22;
                exponent -= 22;
            }
            while (value < 1.0)
            {
                value *= 10.0;
                exponent--;
            }
            return exponent;
        }

        /// <summary>
        /// round(value · 10^(14 − exponent)): the 15 leading digits as an integer. For scale factors up to 10^±22
        /// (every value iperf3 sends) the rounding error of the scaling is recovered exactly (Dekker's product), so
        /// the digits are those of the exact decimal expansion, rounded half to even, as printf gives.
        /// </summary>
        private static long ScaledMantissa(double value, int exponent)
        {
            int shift = DoubleDigits - 1 - exponent;
            if (shift >= 0 && shift <= 22)
            {
                double p = s_powersOfTen[shift];
                double high = value * p;
                return RoundHalfEven(high, ProductError(value, p, high));
            }
            if (shift < 0 && shift >= -22)
            {
                double p = s_powersOfTen[-shift];
                double quotient = value / p;
                double product = quotient * p;
                double remainder = (value - product) - ProductError(quotient, p, product);
                return RoundHalfEven(quotient, remainder / p);
            }
            double scaled = value;
            while (shift > 22)
            {
                scaled *= 1e22;
                shift -= 22;
            }
            while (shift < -22)
            {
                scaled /= 1e22;
                shift += 22;
            }
            if (shift >= 0)
            {
                scaled *= s_powersOfTen[shift];
            }
            else
            {
                scaled /= s_powersOfTen[-shift];
            }
            return (long)(scaled + 0.5);
        }

        /// <summary>a·b − product exactly (Dekker/Veltkamp, plain double arithmetic, no FMA needed).</summary>
        private static double ProductError(double a, double b, double product)
        {
            double ca = 134217729.0 * a;
            double aHigh = ca - (ca - a);
            double aLow = a - aHigh;
            double cb = 134217729.0 * b;
            double bHigh = cb - (cb - b);
            double bLow = b - bHigh;
            return ((aHigh * bHigh - product) + aHigh * bLow + aLow * bHigh) + aLow * bLow;
        }

        /// <summary>Rounds high + low (|low| tiny, high &lt; 2^53) to an integer, ties to even.</summary>
        private static long RoundHalfEven(double high, double low)
        {
            long whole = (long)high;
            double fraction = (high - whole) + low;
            if (fraction < 0)
            {
                whole--;
                fraction += 1.0;
            }
            else if (fraction >= 1.0)
            {
                whole++;
                fraction -= 1.0;
            }
            if (fraction > 0.5 || (fraction == 0.5 && (whole & 1) != 0))
            {
                whole++;
            }
            return whole;
        }

        // ---------------------------------------------------------------- parsing

        /// <summary>
        /// Checks JSON number syntax (-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?) and says whether it has a fraction
        /// or an exponent.
        /// </summary>
        public static bool IsValid(ReadOnlySpan<byte> text, out bool isInteger)
        {
            isInteger = true;
            int i = 0;
            int n = text.Length;
            if (i < n && text[i] == '-')
            {
                i++;
            }
            if (i >= n)
            {
                return false;
            }
            if (text[i] == '0')
            {
                i++;
            }
            else if (text[i] >= '1' && text[i] <= '9')
            {
                while (i < n && IsDigit(text[i]))
                {
                    i++;
                }
            }
            else
            {
                return false;
            }
            if (i < n && text[i] == '.')
            {
                isInteger = false;
                i++;
                int start = i;
                while (i < n && IsDigit(text[i]))
                {
                    i++;
                }
                if (i == start)
                {
                    return false;
                }
            }
            if (i < n && (text[i] == 'e' || text[i] == 'E'))
            {
                isInteger = false;
                i++;
                if (i < n && (text[i] == '+' || text[i] == '-'))
                {
                    i++;
                }
                int start = i;
                while (i < n && IsDigit(text[i]))
                {
                    i++;
                }
                if (i == start)
                {
                    return false;
                }
            }
            return i == n;
        }

        /// <summary>
        /// Parses an integer (no fraction or exponent) in 0..2^64−1 or −2^63..−1. Values above 2^63−1 come back as
        /// their two's-complement long (18446744073709551615 → −1), which is how iperf3's cJSON prints −1.
        /// </summary>
        public static bool TryParseInteger(ReadOnlySpan<byte> text, out long value)
        {
            value = 0;
            bool isInteger;
            if (!IsValid(text, out isInteger) || !isInteger)
            {
                return false;
            }
            bool negative = text[0] == '-';
            ulong magnitude = 0;
            for (int i = negative ? 1 : 0; i < text.Length; i++)
            {
                uint digit = (uint)(text[i] - '0');
                if (magnitude > (ulong.MaxValue - digit) / 10)
                {
                    return false;
                }
                magnitude = magnitude * 10 + digit;
            }
            if (negative)
            {
                if (magnitude > 9223372036854775808UL)
                {
                    return false;
                }
                value = (long)(0UL - magnitude);
                return true;
            }
            value = (long)magnitude;
            return true;
        }

        /// <summary>Parses any JSON number into a double (within a unit or two in the last place).</summary>
        public static bool TryParseDouble(ReadOnlySpan<byte> text, out double value)
        {
            value = 0;
            bool isInteger;
            if (!IsValid(text, out isInteger))
            {
                return false;
            }
            int i = 0;
            bool negative = false;
            if (text[0] == '-')
            {
                negative = true;
                i++;
            }
            long mantissa = 0;
            int significant = 0;
            int exponent = 0;
            bool fraction = false;
            for (; i < text.Length; i++)
            {
                byte c = text[i];
                if (c == '.')
                {
                    fraction = true;
                    continue;
                }
                if (c == 'e' || c == 'E')
                {
                    break;
                }
                int digit = c - '0';
                if (significant < 18)
                {
                    if (mantissa != 0 || digit != 0)
                    {
                        significant++;
                    }
                    mantissa = mantissa * 10 + digit;
                    if (fraction)
                    {
                        exponent--;
                    }
                }
                else if (!fraction)
                {
                    exponent++;
                }
            }
            if (i < text.Length)
            {
                i++;
                bool negativeExponent = false;
                if (text[i] == '+' || text[i] == '-')
                {
                    negativeExponent = text[i] == '-';
                    i++;
                }
                int e = 0;
                for (; i < text.Length; i++)
                {
                    if (e < 100000)
                    {
                        e = e * 10 + (text[i] - '0');
                    }
                }
                exponent += negativeExponent ? -e : e;
            }
            double result = mantissa;
            if (mantissa != 0)
            {
                while (exponent > 22 && result <= MaxDouble)
                {
                    result *= 1e22;
                    exponent -= 22;
                }
                while (exponent < -22 && result > 0)
                {
                    result /= 1e22;
                    exponent += 22;
                }
                if (exponent >= 0)
                {
                    result *= s_powersOfTen[exponent > 22 ? 22 : exponent];
                }
                else
                {
                    result /= s_powersOfTen[-exponent > 22 ? 22 : -exponent];
                }
            }
            value = negative ? -result : result;
            return true;
        }

        private static bool IsDigit(byte c) => c >= '0' && c <= '9';

        /// <summary>Largest finite double (the kernel corelib has no double.MaxValue).</summary>
        private const double MaxDouble = 1.7976931348623157e308;

        /// <summary>False for NaN and the infinities.</summary>
        public static bool IsFinite(double value)
        {
            double copy = value;
            return value == copy && value <= MaxDouble && value >= -MaxDouble;
        }
    }
}
