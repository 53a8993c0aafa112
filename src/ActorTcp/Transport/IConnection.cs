using Akka.Actor;
using Akka.IO;
using Tcp = Akka.IO.Tcp;

namespace ActorTcp.Transport;

/// <summary>
/// The narrow seam between a session and its transport, outbound half: everything a session may ask of its
/// connection. The inbound half is four messages the session receives: <see cref="Tcp.Received"/> (bytes),
/// <see cref="WriteAcked"/> (the last write was taken by the transport), <see cref="Tcp.PeerClosed"/> (the
/// client shut its sending side) and the other <see cref="Tcp.ConnectionClosed"/> events (the connection is gone).
/// Any transport that speaks these can replace Akka.IO without touching the session.
/// </summary>
public interface IConnection
{
    /// <summary>Makes <paramref name="session"/> the receiver of the connection's events; the first call a session makes.</summary>
    void Register(IActorRef session);

    /// <summary>
    /// Sends bytes. Returns true when the transport took them all at once (no <see cref="WriteAcked"/> follows);
    /// otherwise the session receives <see cref="WriteAcked"/> once they are taken, and writes nothing before.
    /// </summary>
    bool Write(ByteString data);

    /// <summary>The session wants no more bytes for now.</summary>
    void SuspendReading();

    /// <summary>
    /// The session wants (more) bytes. Called after every <see cref="Tcp.Received"/> it has dealt with: a transport
    /// may deliver one read and wait for the next call (pull), or keep pushing until <see cref="SuspendReading"/>.
    /// Repeated calls are cheap.
    /// </summary>
    void ResumeReading();

    /// <summary>
    /// Flushes the writes already made and sends a FIN. If the client has closed its side too
    /// (<paramref name="peerAlreadyClosed"/>, or the session gives up waiting for it), the connection is then closed
    /// gracefully, letting the kernel deliver what it still holds; otherwise it waits for the client's FIN. Either
    /// way the session then receives a close event.
    /// </summary>
    void Close(bool peerAlreadyClosed);

    /// <summary>Resets the connection at once, dropping anything unsent.</summary>
    void Abort();
}

/// <summary>The inbound acknowledgement of a write: one singleton, so an ack costs no allocation.</summary>
public sealed class WriteAcked : Tcp.Event
{
    public static readonly WriteAcked Instance = new();

    private WriteAcked() { }
}

/// <summary>An Akka.IO connection actor behind the seam.</summary>
internal sealed class AkkaIoConnection(IActorRef connection) : IConnection
{
    private IActorRef _session = ActorRefs.Nobody;
    private bool _suspended;

    public void Register(IActorRef session)
    {
        _session = session;
        // keepOpenOnPeerClosed: a client that half-closes still receives every reply it asked for.
        connection.Tell(new Tcp.Register(session, keepOpenOnPeerClosed: true, useResumeWriting: false), session);
    }

    public bool Write(ByteString data)
    {
        connection.Tell(Tcp.Write.Create(data, WriteAcked.Instance), _session);
        return false;
    }

    // Akka.IO pushes reads until told otherwise, so only a change of mind is worth a message.
    public void SuspendReading()
    {
        if (_suspended) return;
        _suspended = true;
        connection.Tell(Tcp.SuspendReading.Instance, _session);
    }

    public void ResumeReading()
    {
        if (!_suspended) return;
        _suspended = false;
        connection.Tell(Tcp.ResumeReading.Instance, _session);
    }

    // ConfirmedClose sends our FIN and waits for the client's, so a client still sending does not turn our
    // close into a reset that could destroy the last line before the client reads it.
    public void Close(bool peerAlreadyClosed) =>
        connection.Tell(peerAlreadyClosed ? Tcp.Close.Instance : Tcp.ConfirmedClose.Instance, _session);

    public void Abort() => connection.Tell(Tcp.Abort.Instance, _session);
}
