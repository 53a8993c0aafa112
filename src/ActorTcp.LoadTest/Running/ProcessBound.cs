// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
namespace ActorTcp.LoadTest.Running;

/// <summary>
/// The time a process may live, enforced outside every actor and task of the run: when it passes, the process ends
/// (exit 3) whatever it is waiting for. Re-arming moves the bound (a worker learns its run's bound only when assigned).
/// </summary>
internal static class ProcessBound
{
    public const int ExitCode = 3;

    private static Timer? _timer;

    public static void Arm(TimeSpan fromNow, string who)
    {
        var timer = new Timer(_ =>
        {
            Console.Error.WriteLine($"error: {who} passed its time limit ({fromNow.TotalSeconds:F0} s); exiting");
            Environment.Exit(ExitCode);
        }, null, fromNow, Timeout.InfiniteTimeSpan);
        Interlocked.Exchange(ref _timer, timer)?.Dispose();
    }
}
