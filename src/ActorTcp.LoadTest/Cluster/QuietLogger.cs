// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using Akka.Actor;
using Akka.Event;

namespace ActorTcp.LoadTest.Cluster;

/// <summary>
/// Akka's errors and warnings on standard error, one line each, without the remoting layer's own account of a
/// connection that dropped: a lost member is reported by the run itself, by name, with what it had done.
/// </summary>
internal sealed class QuietLogger : ReceiveActor
{
    public QuietLogger()
    {
        Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
        Receive<LogEvent>(e =>
        {
            if (e.LogLevel() < LogLevel.WarningLevel || IsConnectionNoise(e))
            {
                return;
            }
            var cause = e is Error { Cause: { } c } ? $" ({c.GetType().Name}: {c.Message})" : "";
            Console.Error.WriteLine($"akka {e.LogLevel().ToString().Replace("Level", "").ToLowerInvariant()}: {e.LogSource}: {e.Message}{cause}");
        });
    }

    private static bool IsConnectionNoise(LogEvent e) =>
        // Akka.Remote's endpoint exceptions are internal types: they are known by name.
        (e is Error { Cause: { } cause } && (cause.GetType().Name.Contains("Association", StringComparison.Ordinal) || cause.GetType().Name.Contains("Disassociated", StringComparison.Ordinal)))
        || e.LogSource.StartsWith("remoting", StringComparison.Ordinal)
        // A failed bind: the run says so itself, naming the endpoint.
        || e.LogSource.StartsWith("TcpTransport", StringComparison.Ordinal)
        || e.LogSource.Contains("endpointWriter", StringComparison.Ordinal)
        || e.LogSource.Contains("endpointManager", StringComparison.Ordinal)
        || e.Message?.ToString()?.Contains("Association", StringComparison.Ordinal) == true;
}
