// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using ActorTcp.LoadTest.Metrics;
using Akka.Streams;

namespace ActorTcp.LoadTest.Cluster;

/// <summary>Every message between a coordinator and its workers; written by <see cref="LoadTestSerializer"/>.</summary>
internal interface ILoadTestMessage;

/// <summary>Worker to coordinator, once its own cluster member is up (repeated until it is given a share).</summary>
internal sealed record WorkerHello(string Name, int Pid, string Machine) : ILoadTestMessage;

/// <summary>Coordinator to worker: no place for it in this run (full, or its name is taken).</summary>
internal sealed record WorkerRefused(string Reason) : ILoadTestMessage;

/// <summary>Coordinator to worker: its share of the run, as the command line a single process would be given.</summary>
internal sealed record Assign(IReadOnlyList<string> Args) : ILoadTestMessage;

/// <summary>Worker to coordinator: its clients are prepared (not started); its progress samples flow through the stream ref.</summary>
internal sealed record WorkerReady(string Name, ISourceRef<ProgressSample> Progress) : ILoadTestMessage;

/// <summary>Worker to coordinator: the share could not be prepared (a bad file path on that machine, ...).</summary>
internal sealed record AssignFailed(string Name, string Reason) : ILoadTestMessage;

/// <summary>Coordinator to every worker at once: start the ramp.</summary>
internal sealed record StartRun : ILoadTestMessage
{
    public static readonly StartRun Instance = new();
}

/// <summary>Coordinator to workers: the measured window opens.</summary>
internal sealed record OpenWindow : ILoadTestMessage
{
    public static readonly OpenWindow Instance = new();
}

/// <summary>Coordinator to workers: the measured window closes; clients finish and say QUIT.</summary>
internal sealed record CloseWindow : ILoadTestMessage
{
    public static readonly CloseWindow Instance = new();
}

/// <summary>Coordinator to workers: wait up to the drain for the clients to finish, then report.</summary>
internal sealed record Finish(TimeSpan Drain) : ILoadTestMessage;

/// <summary>Worker to coordinator: everything the worker measured.</summary>
internal sealed record WorkerResult(string Name, NodeResult Result) : ILoadTestMessage;

/// <summary>Coordinator to workers: the run is over, leave the cluster and exit.</summary>
internal sealed record Dismiss : ILoadTestMessage
{
    public static readonly Dismiss Instance = new();
}
