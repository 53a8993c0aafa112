// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
namespace ActorTcp.Sessions;

/// <summary>
/// Which TCP listener a client came to; the <c>listener</c> label of the connection metrics. A byte, so that the
/// session ticket that carries it grows by nothing (it fits the ticket's padding).
/// </summary>
internal enum ListenerKind : byte
{
    Text,
    Binary,
    /// <summary>The text framing inside TLS.</summary>
    Tls,
}

internal static class ListenerKinds
{
    public static readonly ListenerKind[] All = Enum.GetValues<ListenerKind>();

    // Lower-case member names, computed once, so a new listener is one enum member and its label follows.
    private static readonly string[] Labels = Array.ConvertAll(All, kind => kind.ToString().ToLowerInvariant());

    /// <summary>The metrics label: <c>text</c>, <c>binary</c>, <c>tls</c>.</summary>
    public static string Label(ListenerKind kind) => Labels[(int)kind];
}
