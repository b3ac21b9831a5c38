using System;
using NUnit.Framework;

namespace Keel.Tests.Net.Conformance
{
    /// <summary>The RFC and section a conformance scenario checks, e.g. <c>[Rfc("9293 3.10.7.4")]</c> (a test property named RFC).</summary>
    [AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
    public sealed class RfcAttribute : PropertyAttribute
    {
        public RfcAttribute(string section)
            : base("RFC", section)
        {
        }
    }
}
