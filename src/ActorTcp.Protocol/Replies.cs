using System.Text;

namespace ActorTcp.Protocol;

/// <summary>
/// Every reply line of the contract (docs/PROTOCOL.md), written once: the server says them and the client side
/// of this library recognises them, so the two cannot drift apart.
/// </summary>
public static class Replies
{
    public const string Welcome = "Welcome!";
    public const string AskName = "What's your name?";
    public const string Goodbye = "Goodbye!";
    public const string Pong = "PONG";

    /// <summary>The first token of a multi-line or STATS reply.</summary>
    public const string OkPrefix = "OK ";

    /// <summary>The first token of every error line.</summary>
    public const string ErrPrefix = "ERR ";

    public const string ServerFull = "ERR server full";
    public const string TooManyFromAddress = "ERR too many connections from your address";
    public const string ShuttingDown = "ERR server shutting down";
    public const string IdleTimeout = "ERR idle timeout";
    public const string HandshakeTimeout = "ERR handshake timeout";
    public const string BadRange = "ERR bad range";
    public const string Busy = "ERR busy: too many downloads, try again";
    public const string GetUsage = "ERR usage: GET <path> [<offset> [<length>]]";

    public static string Hello(string name) => $"Hello {name}!";

    public static string Ok(long count) => OkPrefix + count;

    /// <summary>The first line of a cluster-wide WHO that lacks the names of a member that did not answer in time.</summary>
    public static string OkPartial(long count) => $"{OkPrefix}{count} partial";

    public static string InvalidName(string reason) => $"ERR invalid name: {reason}";

    public static string LineTooLong(int max) => $"ERR line too long (max {max} bytes)";

    public static string FrameTooLong(int max) => $"ERR frame too long (max {max} bytes)";

    public static string UnknownCommand(string verb) => $"ERR unknown command: {verb} (try HELP)";

    public static string NotFound(string path) => $"ERR not found: {path}";

    public static string Forbidden(string path) => $"ERR forbidden: {path}";

    public static string TooManyFiles(int max) => $"ERR too many files (max {max})";

    public static string ListUsage(string problem) => $"ERR usage: LIST [<folder>] ({problem})";

    /// <summary>True for an <c>ERR ...</c> line, in UTF-8 or any ASCII-compatible encoding.</summary>
    public static bool IsError(ReadOnlySpan<byte> line) => line.StartsWith("ERR "u8);

    /// <summary>
    /// Reads the count of an <c>OK n</c> line (a block's header, or a GET's byte count); false for any other line,
    /// including <c>OK</c> followed by anything but ASCII digits within 63 bits.
    /// </summary>
    public static bool TryParseOk(ReadOnlySpan<byte> line, out long count)
    {
        count = 0;
        if (line.Length <= OkPrefix.Length || !line.StartsWith("OK "u8)) return false;
        foreach (var b in line[OkPrefix.Length..])
        {
            if (b is < (byte)'0' or > (byte)'9' || count > (long.MaxValue - 9) / 10) return false;
            count = count * 10 + (b - '0');
        }
        return true;
    }

    /// <summary>The fixed lines as UTF-8 bytes (binary framing, or a UTF-8 text listener), for a client that compares replies without decoding them.</summary>
    public static class Utf8
    {
        private static readonly byte[] WelcomeBytes = Encoding.UTF8.GetBytes(Replies.Welcome);
        private static readonly byte[] AskNameBytes = Encoding.UTF8.GetBytes(Replies.AskName);
        private static readonly byte[] GoodbyeBytes = Encoding.UTF8.GetBytes(Replies.Goodbye);
        private static readonly byte[] PongBytes = Encoding.UTF8.GetBytes(Replies.Pong);

        public static ReadOnlySpan<byte> Welcome => WelcomeBytes;

        public static ReadOnlySpan<byte> AskName => AskNameBytes;

        public static ReadOnlySpan<byte> Goodbye => GoodbyeBytes;

        public static ReadOnlySpan<byte> Pong => PongBytes;
    }
}
