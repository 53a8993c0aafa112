using System.Text;
using ActorTcp.Sessions;
using ActorTcp.Transport;
using Akka.Actor;
using Akka.IO;
using Akka.TestKit;
using Tcp = Akka.IO.Tcp;

namespace ActorTcp.Tests;

/// <summary>What a session asked of its connection, as seen by the test.</summary>
public abstract record ConnectionCall;
public sealed record Wrote(byte[] Bytes) : ConnectionCall;
public sealed record Closed(bool PeerAlreadyClosed) : ConnectionCall;
public sealed record Aborted : ConnectionCall;
public sealed record Suspended : ConnectionCall;
public sealed record Resumed : ConnectionCall;

/// <summary>
/// A transport behind the session's seam with no socket: every call becomes a message to a probe, writes are
/// acknowledged at once unless the test holds them, and a close is confirmed at once.
/// </summary>
public sealed class FakeConnection(TestProbe probe) : IConnection
{
    private int _heldAcks;

    public IActorRef Session { get; private set; } = ActorRefs.Nobody;

    /// <summary>When false, writes wait for <see cref="ReleaseAcks"/>, like a client that does not read.</summary>
    public bool AutoAck { get; set; } = true;

    /// <summary>Throws from Write when the bytes contain this text: a fault inside the session's turn.</summary>
    public string? ThrowOnWriteContaining { get; set; }

    public void Register(IActorRef session) => Session = session;

    /// <summary>
    /// True: an acknowledged write completes at once, as a transport that sent it synchronously says.
    /// False: it is acknowledged by a message, as Akka.IO does.
    /// </summary>
    public bool CompletesWritesAtOnce { get; set; } = true;

    public bool Write(ByteString data)
    {
        var bytes = data.ToArray();
        if (ThrowOnWriteContaining is { } poison && Encoding.UTF8.GetString(bytes).Contains(poison))
            throw new InvalidOperationException("transport fault injected by the test");
        probe.Ref.Tell(new Wrote(bytes));
        if (!AutoAck)
        {
            Interlocked.Increment(ref _heldAcks);
            return false;
        }
        if (CompletesWritesAtOnce) return true;
        Session.Tell(WriteAcked.Instance);
        return false;
    }

    public void ReleaseAcks()
    {
        AutoAck = true;
        var n = Interlocked.Exchange(ref _heldAcks, 0);
        for (var i = 0; i < n; i++) Session.Tell(WriteAcked.Instance);
    }

    private bool _suspended;

    // Like a real transport, only a change of the reading state is news.
    public void SuspendReading()
    {
        if (_suspended) return;
        _suspended = true;
        probe.Ref.Tell(new Suspended());
    }

    public void ResumeReading()
    {
        if (!_suspended) return;
        _suspended = false;
        probe.Ref.Tell(new Resumed());
    }

    public void Close(bool peerAlreadyClosed)
    {
        probe.Ref.Tell(new Closed(peerAlreadyClosed));
        Session.Tell(peerAlreadyClosed ? Tcp.Closed.Instance : Tcp.ConfirmedClosed.Instance);
    }

    public void Abort()
    {
        probe.Ref.Tell(new Aborted());
        Session.Tell(Tcp.Aborted.Instance);
    }

    /// <summary>Sends the session bytes as if they came from the client.</summary>
    public void Receive(string text) => Session.Tell(new Tcp.Received(ByteString.FromBytes(Encoding.UTF8.GetBytes(text))));

    public void Receive(byte[] bytes) => Session.Tell(new Tcp.Received(ByteString.FromBytes(bytes)));

    public void PeerCloses() => Session.Tell(Tcp.PeerClosed.Instance);
}
