namespace System
{
    /// <summary>
    /// Exists so the compiler can express throw sites; the kernel has no unwinder, so any throw prints
    /// the message and stops the machine (see Keel.Runtime.Panic).
    /// </summary>
    public class Exception
    {
        internal string _message;

        public Exception() { }

        public Exception(string message) { _message = message; }

        public string Message => _message;
    }
}
