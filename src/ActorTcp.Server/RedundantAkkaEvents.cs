using Serilog.Events;

namespace ActorTcp.Server;

/// <summary>
/// Akka events that say again what the server already tells the user, or say it a hundred times a second.
/// </summary>
internal static class RedundantAkkaEvents
{
    private static readonly long RepeatInterval = TimeSpan.FromSeconds(10).Ticks;
    private static long _lastAcceptRetryLogged = long.MinValue;

    public static bool Matches(LogEvent e)
    {
        if (e.Level < LogEventLevel.Warning) return false;
        var text = e.RenderMessage();
        // Akka.IO's listener logs a failed bind (e.g. a port in use) with a stack trace before the failure reaches
        // the listener actor, which turns it into the one `actortcp: cannot listen on ...` line and exit code 2.
        if (text.StartsWith("Bind failed for TCP channel", StringComparison.Ordinal)) return true;
        // Out of descriptors, Akka.IO retries accept every 10 ms and warns each time: one warning per 10 s is news,
        // the rest is noise.
        if (text.StartsWith("Retriable socket error in TcpListener", StringComparison.Ordinal))
        {
            var now = DateTime.UtcNow.Ticks;
            var last = Interlocked.Read(ref _lastAcceptRetryLogged);
            return now - last < RepeatInterval || Interlocked.CompareExchange(ref _lastAcceptRetryLogged, now, last) != last;
        }
        return false;
    }
}
