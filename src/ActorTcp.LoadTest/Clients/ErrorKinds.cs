// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Net.Sockets;
using ActorTcp.Transport;

namespace ActorTcp.LoadTest.Clients;

/// <summary>The names errors are counted under: stable strings, so reports and JSON can be compared across runs.</summary>
internal static class ErrorKinds
{
    /// <summary>A reply the protocol does not allow at that point, or a stream that cannot be read as replies.</summary>
    public const string WrongReply = "wrong reply";

    /// <summary>Why a connect failed, as the transport classified it.</summary>
    public static string OfConnect(SocketError error) => error switch
    {
        SocketError.ConnectionRefused => "refused",
        SocketError.TimedOut => "timeout: connect",
        SocketError.ConnectionReset => "reset",
        SocketError.AddressNotAvailable or SocketError.AddressAlreadyInUse or SocketError.WouldBlock => "connect: no local address/port left",
        SocketError.TooManyOpenSockets => "connect: out of file descriptors",
        _ => $"connect: {error}",
    };

    /// <summary>A connection the transport found broken (not the server's orderly close).</summary>
    public static string OfClose(CloseKind kind) => kind switch
    {
        CloseKind.Reset => "reset",
        CloseKind.Aborted => "closed: aborted",
        _ => "closed with error",
    };

    public static string Truncate(string text) => text.Length <= 120 ? text : text[..120] + "…";
}
