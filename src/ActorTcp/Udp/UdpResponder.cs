// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Text.Unicode;
using ActorTcp.Protocol;
using ActorTcp.Sessions;

namespace ActorTcp.Udp;

/// <summary>
/// One datagram in, at most one answer out, by the rules of docs/PROTOCOL.md ("UDP heartbeats and pings"): PING,
/// ECHO and HEARTBEAT &lt;key&gt;; silence for anything else, for an invalid or oversize request and for a source
/// past its rate. An answer is never longer than its request, so the endpoint cannot amplify a spoofed flood.
/// Pure apart from the sessions it marks alive; used from one thread.
/// </summary>
/// <remarks>
/// In cluster mode a heartbeat whose key another node made goes to <paramref name="forward"/>, which passes it to that
/// node: the key names its node, so only keys of a member travel, once each, and never back.
/// </remarks>
internal sealed class UdpResponder(int maxLineBytes, RateWindows rates, SessionKeys keys, Func<long> nowTicks, Action<byte[]>? forward = null)
{
    /// <summary>No answer.</summary>
    public const int Silence = -1;

    public RateWindows Rates => rates;

    /// <summary>
    /// Handles one datagram from <paramref name="source"/>; returns the length of the answer written into
    /// <paramref name="answer"/> (which must hold as many bytes as the datagram), or <see cref="Silence"/>.
    /// </summary>
    public int Handle(ReadOnlySpan<byte> datagram, UInt128 source, long nowMilliseconds, Span<byte> answer)
    {
        if (!rates.Allow(source, nowMilliseconds)) return Silence;
        var line = WithoutLineEnd(datagram);
        if (line.Length > maxLineBytes || !Utf8.IsValid(line)) return Silence;

        var request = RequestParser.Parse(line);
        var reply = request.Verb switch
        {
            Verb.Ping => Replies.Utf8.Pong,
            Verb.Echo => line[request.ArgsStart..],
            Verb.Heartbeat => Heartbeat(line[request.ArgsStart..]),
            _ => default,
        };
        if (request.Verb is not (Verb.Ping or Verb.Echo) || reply.Length > datagram.Length) return Silence;
        reply.CopyTo(answer);
        return reply.Length;
    }

    /// <summary>Marks the session that owns the key alive, exactly as a byte on its connection would; never answers.</summary>
    private ReadOnlySpan<byte> Heartbeat(ReadOnlySpan<byte> args)
    {
        var start = args.IndexOfAnyExcept((byte)' ', (byte)'\t');
        if (start < 0) return default;
        var key = args[start..];
        var end = key.IndexOfAny((byte)' ', (byte)'\t');
        if (end >= 0) key = key[..end];
        Span<byte> raw = stackalloc byte[SessionKeys.KeyBytes];
        if (!SessionKeys.TryParse(key, raw)) return default;
        if (keys.FindByKey(raw) is { } ticket) ticket.Touch(nowTicks());
        else if (forward is not null && SessionKeys.TagOf(raw) != keys.NodeTag) forward(raw.ToArray());
        return default;
    }

    private static ReadOnlySpan<byte> WithoutLineEnd(ReadOnlySpan<byte> datagram)
    {
        if (datagram.EndsWith("\r\n"u8)) return datagram[..^2];
        return datagram.EndsWith("\n"u8) ? datagram[..^1] : datagram;
    }
}
