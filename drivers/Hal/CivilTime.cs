namespace Keel.Hal
{
    /// <summary>
    /// Conversions between a proleptic Gregorian UTC date and time and seconds since 1970-01-01T00:00:00Z (Unix
    /// time, no leap seconds): reading a real-time clock, writing an HTTP date. Integer arithmetic only.
    /// </summary>
    public static class CivilTime
    {
        public const long SecondsPerDay = 86400;

        /// <summary>Days since 1970-01-01 of <paramref name="year"/>-<paramref name="month"/>-<paramref name="day"/> (month 1–12).</summary>
        public static long DaysFromCivil(long year, int month, int day)
        {
            // Years counted from March, so that February's leap day ends the year: eras of 400 years (146,097 days).
            long y = month <= 2 ? year - 1 : year;
            long era = (y >= 0 ? y : y - 399) / 400;
            long yearOfEra = y - era * 400;
            long dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
            long dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear;
            return era * 146097 + dayOfEra - 719468;
        }

        /// <summary>The date of day <paramref name="days"/> since 1970-01-01.</summary>
        public static void CivilFromDays(long days, out long year, out int month, out int day)
        {
            long z = days + 719468;
            long era = (z >= 0 ? z : z - 146096) / 146097;
            long dayOfEra = z - era * 146097;
            long yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146096) / 365;
            long dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100);
            long monthFromMarch = (5 * dayOfYear + 2) / 153;
            day = (int)(dayOfYear - (153 * monthFromMarch + 2) / 5 + 1);
            month = (int)(monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9);
            year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
        }

        /// <summary>Unix seconds of a UTC date and time.</summary>
        public static long ToUnixSeconds(long year, int month, int day, int hour, int minute, int second)
        {
            return DaysFromCivil(year, month, day) * SecondsPerDay + hour * 3600L + minute * 60L + second;
        }

        /// <summary>Day of the week of day <paramref name="days"/> since 1970-01-01: 0 = Sunday … 6 = Saturday.</summary>
        public static int DayOfWeek(long days)
        {
            // 1970-01-01 was a Thursday (4).
            long weekday = (days + 4) % 7;
            return (int)(weekday < 0 ? weekday + 7 : weekday);
        }
    }
}
