namespace Keel.Kernel.Diagnostics.SelfTest
{
    /// <summary>Statics of every flavour: preinitialised data, a reference static, and a static constructor.</summary>
    public static class StaticData
    {
        public static readonly int[] Primes = { 2, 3, 5, 7, 11, 13 };
        public static readonly string Greeting = "static string";
        public static int ConstructorRuns;
        public static readonly int Computed;

        static StaticData()
        {
            ConstructorRuns++;
            int sum = 0;
            for (int i = 0; i < 10; i++)
            {
                sum += i;
            }
            Computed = sum;
        }
    }
}
