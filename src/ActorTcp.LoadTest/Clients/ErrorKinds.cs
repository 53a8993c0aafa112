// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Net.Sockets;

namespace ActorTcp.LoadTest.Clients;

/// <summary>The names errors are counted under: stable strings, so reports and JSON can be compared across runs.</summary>
internal static class ErrorKinds
{
    /// <summary>A reply the protocol does not allow at that point, or a stream that cannot be read as replies.</summary>
    public const string WrongReply = "wrong reply";

    public static string OfConnect(Exception? error, string causeText)
    {
        var socketError = error as SocketException ?? error?.InnerException as SocketException;
        return socketError?.SocketErrorCode switch
        {
            SocketError.ConnectionRefused => "refused",
            SocketError.TimedOut => "timeout: connect",
            SocketError.ConnectionReset => "reset",
            SocketError.AddressNotAvailable or SocketError.AddressAlreadyInUse => "connect: no local address/port left",
            SocketError.TooManyOpenSockets => "connect: out of file descriptors",
            { } other => $"connect: {other}",
            null when causeText.Contains("timeout", StringComparison.OrdinalIgnoreCase) || causeText.Contains("timed out", StringComparison.OrdinalIgnoreCase) => "timeout: connect",
            null when causeText.Contains("refused", StringComparison.OrdinalIgnoreCase) => "refused",
            // Akka.IO drops the socket error of a failed asynchronous connect; on loopback that failure is a refusal (RST to the SYN).
            null when causeText.Contains("finishConnect", StringComparison.Ordinal) => "refused",
            null => $"connect: {Truncate(causeText)}",
        };
    }

    public static string OfClose(string cause) =>
        cause.Contains("reset", StringComparison.OrdinalIgnoreCase) ? "reset"
        : cause.Contains("broken pipe", StringComparison.OrdinalIgnoreCase) ? "reset (broken pipe)"
        : $"closed with error: {Truncate(cause)}";

    public static string Truncate(string text) => text.Length <= 120 ? text : text[..120] + "…";
}
