using Keel.Apps.Hosting;
using Keel.Apps.Json;
using Keel.Hal;

namespace Keel.Apps.Http
{
    /// <summary>
    /// The <c>/stats</c> document: <c>{"uptime_seconds":N,"unix_time":T,"SUBSYSTEM":{"counter":value,…},…}</c> with
    /// one object per source of the <see cref="StatisticsRegistry"/> (memory, virtio_net with its page pool,
    /// net with the IP, UDP and TCP counters, …), names as in the shell's <c>stats</c> and <c>net</c>.
    /// </summary>
    public static class StatsWriter
    {
        public const string ContentType = "application/json";

        /// <param name="unixTime">Wall-clock seconds; 0 when unknown (then left out).</param>
        public static void Write(StatisticsRegistry registry, long uptimeSeconds, long unixTime, JsonWriter json)
        {
            json.BeginObject();
            json.Property("uptime_seconds", uptimeSeconds);
            if (unixTime > 0)
            {
                json.Property("unix_time", unixTime);
            }
            for (int s = 0; s < registry.Count; s++)
            {
                IStatisticsSource source = registry.Source(s);
                json.PropertyName(registry.Subsystem(s));
                json.BeginObject();
                for (int i = 0; i < source.StatisticsCount; i++)
                {
                    json.Property(source.StatisticName(i), source.StatisticValue(i));
                }
                json.EndObject();
            }
            json.EndObject();
        }
    }
}
