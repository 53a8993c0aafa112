// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Text;

namespace ActorTcp.Protocol;

/// <summary>Finds the verb of a request line (PROTOCOL.md "Command mode"), on the raw bytes.</summary>
public static class RequestParser
{
    /// <summary>
    /// Skips leading spaces and tabs, takes the next run of other bytes as the verb (ASCII, any case), and puts
    /// <see cref="ParsedRequest.ArgsStart"/> right after the first space or tab that follows it, so that ECHO gets
    /// the rest of the line unchanged.
    /// </summary>
    public static ParsedRequest Parse(ReadOnlySpan<byte> line)
    {
        int start = line.IndexOfAnyExcept((byte)' ', (byte)'\t');
        if (start < 0)
        {
            return new ParsedRequest(Verb.Blank, line.Length, 0, line.Length);
        }

        int length = line[start..].IndexOfAny((byte)' ', (byte)'\t');
        int argsStart;
        if (length < 0)
        {
            length = line.Length - start;
            argsStart = line.Length;
        }
        else
        {
            argsStart = start + length + 1;
        }

        return new ParsedRequest(Match(line.Slice(start, length)), start, length, argsStart);
    }

    private static Verb Match(ReadOnlySpan<byte> verb) => verb.Length switch
    {
        3 when Ascii.EqualsIgnoreCase(verb, "WHO"u8) => Verb.Who,
        3 when Ascii.EqualsIgnoreCase(verb, "GET"u8) => Verb.Get,
        3 when Ascii.EqualsIgnoreCase(verb, "KEY"u8) => Verb.Key,
        4 when Ascii.EqualsIgnoreCase(verb, "PING"u8) => Verb.Ping,
        4 when Ascii.EqualsIgnoreCase(verb, "ECHO"u8) => Verb.Echo,
        4 when Ascii.EqualsIgnoreCase(verb, "LIST"u8) => Verb.List,
        4 when Ascii.EqualsIgnoreCase(verb, "HELP"u8) => Verb.Help,
        4 when Ascii.EqualsIgnoreCase(verb, "QUIT"u8) => Verb.Quit,
        4 when Ascii.EqualsIgnoreCase(verb, "EXIT"u8) => Verb.Quit,
        5 when Ascii.EqualsIgnoreCase(verb, "STATS"u8) => Verb.Stats,
        5 when Ascii.EqualsIgnoreCase(verb, "NODES"u8) => Verb.Nodes,
        9 when Ascii.EqualsIgnoreCase(verb, "HEARTBEAT"u8) => Verb.Heartbeat,
        _ => Verb.Unknown,
    };
}
