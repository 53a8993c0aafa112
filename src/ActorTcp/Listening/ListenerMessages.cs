// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Net;

namespace ActorTcp.Listening;

/// <summary>Where the listeners are bound, once all are; null for one that is off.</summary>
internal sealed record BoundEndpoints(IPEndPoint Text, IPEndPoint? Binary, IPEndPoint? Tls, IPEndPoint? Udp);

/// <summary>Refuse new connections from now on (both listeners); answered with <see cref="StoppedAccepting"/>.</summary>
internal sealed class StopAccepting
{
    public static readonly StopAccepting Instance = new();
    private StopAccepting() { }
}

internal sealed class StoppedAccepting
{
    public static readonly StoppedAccepting Instance = new();
    private StoppedAccepting() { }
}

/// <summary>Tell every client the server is stopping and wait for them, up to the timeout; answered with <see cref="Drained"/>.</summary>
internal sealed record Drain(TimeSpan Timeout);

/// <summary>Every session has ended and every lingering socket is closed.</summary>
internal sealed class Drained
{
    public static readonly Drained Instance = new();
    private Drained() { }
}

/// <summary>Asks for the number of connected clients (lingering sockets not included), for tests and diagnostics.</summary>
internal sealed class GetConnectionCount
{
    public static readonly GetConnectionCount Instance = new();
    private GetConnectionCount() { }
}

/// <summary>
/// Completes when the listeners are bound, or fails with a one-line reason (a port in use, a bad address),
/// so the host can print the listening line or exit at once.
/// </summary>
internal sealed class BindingStatus
{
    private readonly TaskCompletionSource<BoundEndpoints> _bound = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<BoundEndpoints> Bound => _bound.Task;

    internal void Succeed(BoundEndpoints endpoints) => _bound.TrySetResult(endpoints);

    internal void Fail(string reason) => _bound.TrySetException(new BindFailedException(reason));
}

internal sealed class BindFailedException(string message) : Exception(message);
