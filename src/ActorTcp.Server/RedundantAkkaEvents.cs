using Serilog.Events;

namespace ActorTcp.Server;

/// <summary>
/// Akka events that say again, with a stack trace, what the server already tells the user in one line.
/// </summary>
internal static class RedundantAkkaEvents
{
    public static bool Matches(LogEvent e) =>
        // Akka.IO's listener logs a failed bind (e.g. a port in use) before the bind's failure reaches the
        // listener actor, which turns it into the one `actortcp: cannot listen on ...` line and exit code 2.
        e.Level >= LogEventLevel.Error && e.RenderMessage().StartsWith("Bind failed for TCP channel", StringComparison.Ordinal);
}
