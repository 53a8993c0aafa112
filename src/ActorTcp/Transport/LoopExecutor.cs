// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using Akka.Configuration;
using Akka.Dispatch;

namespace ActorTcp.Transport;

/// <summary>
/// The sessions' executor: their turns run on the <see cref="EpollLoops"/>' threads, next to the reads that
/// cause them, instead of on .NET's thread pool. Named by hocon.conf's <c>actor-tcp-session-dispatcher</c>;
/// sessions use it only where the loops run (see <see cref="EpollLoops.Supported"/>).
/// </summary>
public sealed class LoopExecutorConfigurator(Config config, IDispatcherPrerequisites prerequisites)
    : ExecutorServiceConfigurator(config, prerequisites)
{
    /// <summary>Where hocon.conf defines the dispatcher that uses this executor.</summary>
    public const string DispatcherPath = "actor-tcp-session-dispatcher";

    public override ExecutorService Produce(string id) => new LoopExecutor(id);

    private sealed class LoopExecutor(string id) : ExecutorService(id)
    {
        public override void Execute(IRunnable run) => EpollLoops.Instance.Execute(run);

        // The loops belong to the process, not to one dispatcher: Akka shuts an idle dispatcher's executor down and
        // makes a new one when actors come back, and both share the same threads.
        public override void Shutdown()
        {
        }
    }
}
