namespace Keel.Apps.Json
{
    /// <summary>What <see cref="JsonReader.Read"/> found (System.Text.Json.JsonTokenType, the subset we need).</summary>
    public enum JsonTokenType
    {
        /// <summary>Nothing read yet, the end of the document, or an error (see <see cref="JsonReader.HasError"/>).</summary>
        None,
        StartObject,
        EndObject,
        StartArray,
        EndArray,
        PropertyName,
        String,
        Number,
        True,
        False,
        Null,
    }
}
