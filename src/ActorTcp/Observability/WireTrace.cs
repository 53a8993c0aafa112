// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Net;
using System.Text;
using ActorTcp.Configuration;
using ActorTcp.Sessions;
using Microsoft.Extensions.Logging;

namespace ActorTcp.Observability;

/// <summary>
/// The byte trace of one connection (settings <c>trace-addresses</c>, <c>trace-max-bytes</c>): every read and write
/// logged at Information as a hexdump with its text beside it, in the manner of Netty's LoggingHandler, until the
/// connection's budget is spent. A session from an address that is not traced has no tracer at all (null), so an
/// untraced session pays one null check per read and per write, and nothing else.
/// </summary>
internal sealed class WireTrace
{
    private const int BytesPerLine = 16;

    private readonly ILogger _logger;
    private readonly SessionTicket _ticket;
    private readonly string _listener;
    private int _budget;

    private WireTrace(ILogger logger, SessionTicket ticket, int budget)
    {
        _logger = logger;
        _ticket = ticket;
        _listener = ListenerKinds.Label(ticket.Listener);
        _budget = budget;
    }

    /// <summary>A tracer when <paramref name="ticket"/>'s address is in <c>trace-addresses</c>; otherwise null.</summary>
    public static WireTrace? For(ServerSettings settings, SessionTicket ticket, ILogger logger)
    {
        var networks = settings.TraceAddresses;
        if (networks.Count == 0) return null;
        var remote = ticket.Remote.IsIPv4MappedToIPv6 ? ticket.Remote.MapToIPv4() : ticket.Remote;
        foreach (var network in networks)
            if (network.Contains(remote))
            {
                logger.LogInformation("Tracing connection {ConnectionId} from {Remote} on the {Listener} listener, up to {TraceMaxBytes} bytes",
                    ticket.Id, ticket.Remote, ListenerKinds.Label(ticket.Listener), settings.TraceMaxBytes);
                return new WireTrace(logger, ticket, settings.TraceMaxBytes);
            }
        return null;
    }

    public void Received(ReadOnlySpan<byte> bytes) => Log("read", bytes);

    public void Sent(ReadOnlySpan<byte> bytes) => Log("write", bytes);

    /// <summary>File bytes the kernel sends itself (sendfile): they never pass through the server, so only their count is shown.</summary>
    public void SentFile(int bytes)
    {
        if (_budget <= 0) return;
        _logger.LogInformation("Trace: connection {ConnectionId} from {Remote} ({Name}) on {Listener}, write {Bytes} file bytes (sent by the kernel, not shown)",
            _ticket.Id, _ticket.Remote, _ticket.Name ?? "unnamed", _listener, bytes);
    }

    private void Log(string direction, ReadOnlySpan<byte> bytes)
    {
        if (_budget <= 0 || bytes.IsEmpty) return;
        var shown = Math.Min(bytes.Length, _budget);
        _budget -= shown;
        var dump = Hexdump(bytes[..shown]);
        _logger.LogInformation(
            "Trace: connection {ConnectionId} from {Remote} ({Name}) on {Listener}, {Direction} {Bytes} bytes{Truncated}\n{Hexdump}",
            _ticket.Id, _ticket.Remote, _ticket.Name ?? "unnamed", _listener, direction, bytes.Length,
            shown < bytes.Length ? $" (first {shown} shown)" : "", dump);
        if (_budget <= 0)
            _logger.LogInformation("Trace: connection {ConnectionId} from {Remote} no longer traced: trace-max-bytes reached",
                _ticket.Id, _ticket.Remote);
    }

    /// <summary>
    /// Sixteen bytes a line: the offset, the bytes in hex, and the same bytes as text (printable ASCII as itself,
    /// anything else as a dot), e.g. <c>00000000  50 49 4e 47 0a  ...  |PING.|</c>.
    /// </summary>
    public static string Hexdump(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder((bytes.Length / BytesPerLine + 1) * 78);
        for (var offset = 0; offset < bytes.Length; offset += BytesPerLine)
        {
            var line = bytes.Slice(offset, Math.Min(BytesPerLine, bytes.Length - offset));
            if (offset > 0) text.Append('\n');
            text.Append(offset.ToString("x8")).Append("  ");
            for (var i = 0; i < BytesPerLine; i++)
            {
                if (i < line.Length) text.Append(line[i].ToString("x2")).Append(' ');
                else text.Append("   ");
                if (i == 7) text.Append(' ');
            }
            text.Append(" |");
            foreach (var b in line) text.Append(b is >= 0x20 and < 0x7f ? (char)b : '.');
            text.Append('|');
        }
        return text.ToString();
    }
}
