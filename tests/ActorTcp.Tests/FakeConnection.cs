using System.Buffers;
using System.Text;
using ActorTcp.Sessions;
using ActorTcp.Transport;
using Akka.Actor;
using Akka.TestKit;

namespace ActorTcp.Tests;

/// <summary>What a session asked of its connection, or told its listener, as seen by the test.</summary>
public abstract record ConnectionCall;
public sealed record Wrote(byte[] Bytes) : ConnectionCall;
public sealed record HalfClosed : ConnectionCall;
public sealed record ClosedNow : ConnectionCall;
public sealed record Aborted : ConnectionCall;
public sealed record Suspended : ConnectionCall;
public sealed record Resumed : ConnectionCall;
internal sealed record Ended(CloseReason Reason) : ConnectionCall;
internal sealed record Stopped(CloseReason Reason) : ConnectionCall;

/// <summary>
/// A transport behind the session's seam with no socket: every call becomes a message to a probe, writes are
/// taken at once unless the test holds them, and a half-close completes at once when the client has closed too.
/// </summary>
internal sealed class FakeConnection(TestProbe probe) : IConnection
{
    private int _heldWrites;
    private bool _peerClosed;

    public IActorRef Session { get; private set; } = ActorRefs.Nobody;

    /// <summary>When false, writes wait for <see cref="ReleaseWrites"/>, like a client that does not read.</summary>
    public bool AutoAck { get; set; } = true;

    /// <summary>Throws from Write when the bytes contain this text: a fault inside the session's turn.</summary>
    public string? ThrowOnWriteContaining { get; set; }

    /// <summary>True: a write is taken at once. False: it completes by a message, as when the kernel's buffer was full.</summary>
    public bool CompletesWritesAtOnce { get; set; } = true;

    /// <summary>False: a TLS handshake still running.</summary>
    public bool Established { get; set; } = true;

    public void Start(IActorRef session) => Session = session;

    public bool CanSendFile => false;

    private long _unsent;
    private int _unsentReads;

    /// <summary>What the test says the kernel has not taken yet of the write in flight (the client reading slowly).</summary>
    public long Unsent
    {
        get
        {
            Interlocked.Increment(ref _unsentReads);
            return Volatile.Read(ref _unsent);
        }
        set => Volatile.Write(ref _unsent, value);
    }

    /// <summary>How often the session has read <see cref="Unsent"/>: it reads it when it has set its next look.</summary>
    public int UnsentReads => Volatile.Read(ref _unsentReads);

    public bool SendFile(Microsoft.Win32.SafeHandles.SafeFileHandle file, long offset, int count) =>
        throw new NotSupportedException("the fake connection takes file bytes through Write");

    public bool Write(ReadOnlyMemory<byte> data)
    {
        var bytes = data.ToArray();
        if (ThrowOnWriteContaining is { } poison && Encoding.UTF8.GetString(bytes).Contains(poison))
            throw new InvalidOperationException("transport fault injected by the test");
        probe.Ref.Tell(new Wrote(bytes));
        if (!AutoAck)
        {
            Interlocked.Increment(ref _heldWrites);
            return false;
        }
        if (CompletesWritesAtOnce) return true;
        Session.Tell(WriteCompleted.Instance);
        return false;
    }

    public void ReleaseWrites()
    {
        AutoAck = true;
        var n = Interlocked.Exchange(ref _heldWrites, 0);
        for (var i = 0; i < n; i++) Session.Tell(WriteCompleted.Instance);
    }

    // Every ask is news: in pull mode each ResumeReading asks for exactly one read.
    public void SuspendReading() => probe.Ref.Tell(new Suspended());

    public void ResumeReading() => probe.Ref.Tell(new Resumed());

    public void HalfClose()
    {
        probe.Ref.Tell(new HalfClosed());
        if (_peerClosed) Session.Tell(Closed.Graceful);
    }

    public void Close() => probe.Ref.Tell(new ClosedNow());

    public void Abort() => probe.Ref.Tell(new Aborted());

    /// <summary>Sends the session bytes as if they came from the client, in a pooled buffer as the socket does.</summary>
    public void Receive(string text) => Receive(Encoding.UTF8.GetBytes(text));

    public void Receive(byte[] bytes)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(1, bytes.Length));
        bytes.CopyTo(buffer, 0);
        Session.Tell(new Received(buffer, bytes.Length));
    }

    private readonly Queue<byte[]> _offered = new();

    /// <summary>
    /// Bytes from the client that the session reads itself: it is told <see cref="Readable"/> and takes them with
    /// <see cref="Read"/> in its turn, as from a socket on the epoll loops.
    /// </summary>
    public void Offer(string text)
    {
        lock (_offered) _offered.Enqueue(Encoding.UTF8.GetBytes(text));
        Session.Tell(Readable.Instance);
    }

    public int Read(Span<byte> buffer)
    {
        byte[]? bytes;
        lock (_offered) _offered.TryDequeue(out bytes);
        if (bytes is null) return 0;
        bytes.CopyTo(buffer);
        return bytes.Length;
    }

    public void PeerCloses()
    {
        _peerClosed = true;
        Session.Tell(PeerClosed.Instance);
    }

    /// <summary>The client's FIN after ours: the connection is over.</summary>
    public void PeerFinishes() => Session.Tell(Closed.Graceful);

    public void Resets() => Session.Tell(Closed.Reset);
}
