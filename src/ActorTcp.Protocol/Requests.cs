// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Globalization;

namespace ActorTcp.Protocol;

/// <summary>
/// Request lines as the contract (PROTOCOL.md "Command mode") spells them, for clients; frame them with
/// <see cref="RequestEncoder"/>.
/// </summary>
public static class Requests
{
    public const string Ping = "PING";
    public const string Quit = "QUIT";
    public const string Heartbeat = "HEARTBEAT";
    public const string Who = "WHO";
    public const string Stats = "STATS";
    public const string Nodes = "NODES";
    public const string Help = "HELP";

    /// <summary><c>ECHO text</c>: the server answers with <paramref name="text"/> unchanged.</summary>
    public static string Echo(string text) => "ECHO " + text;

    /// <summary><c>GET path [offset [length]]</c>, the path quoted when it needs to be; a length needs an offset.</summary>
    public static string Get(string path, long? offset = null, long? length = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (length is not null && offset is null)
        {
            throw new ArgumentException("GET takes a length only after an offset", nameof(length));
        }

        string line = "GET " + Arguments.QuotePath(path);
        if (offset is { } from)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(from, nameof(offset));
            line += " " + from.ToString(CultureInfo.InvariantCulture);
        }

        if (length is { } count)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(count, nameof(length));
            line += " " + count.ToString(CultureInfo.InvariantCulture);
        }

        return line;
    }

    /// <summary><c>LIST [folder]</c>, the folder quoted when it needs to be.</summary>
    public static string List(string? folder = null) => folder is null ? "LIST" : "LIST " + Arguments.QuotePath(folder);
}
