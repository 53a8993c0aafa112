using Akka.Actor;
using Microsoft.Win32.SafeHandles;

namespace ActorTcp.Transport;

/// <summary>
/// The seam between a session and the bytes of its client (the wire contract is docs/PROTOCOL.md), in ActorTcp's
/// own words: no socket type and no framework event crosses it. These are the verbs a session may use; what the
/// connection tells the session comes back as the messages in ConnectionEvents.cs.
/// </summary>
internal interface IConnection
{
    /// <summary>Makes <paramref name="session"/> the receiver of the connection's events and starts reading.</summary>
    void Start(IActorRef session);

    /// <summary>
    /// False while the connection is still being set up (a TLS handshake): writes made meanwhile wait for it, and a
    /// session that runs out of time then closes without a line, since none could be read.
    /// </summary>
    bool Established { get; }

    /// <summary>
    /// Sends bytes. Returns true when the transport took them all at once; otherwise it holds
    /// <paramref name="data"/> until the session receives <see cref="WriteCompleted"/>, and the session writes
    /// nothing before that.
    /// </summary>
    bool Write(ReadOnlyMemory<byte> data);

    /// <summary>True when <see cref="SendFile"/> can be used: the kernel can send a file's bytes straight to this connection.</summary>
    bool CanSendFile { get; }

    /// <summary>
    /// Sends <paramref name="count"/> bytes of <paramref name="file"/> from <paramref name="offset"/>, unframed and
    /// without passing them through user space (sendfile(2)). Same contract as <see cref="Write"/>: true when the
    /// kernel took them all at once, otherwise <see cref="WriteCompleted"/> follows. When the file turns out to be
    /// shorter than asked, <see cref="FileEnded"/> follows instead, and when the connection fails, <see cref="Closed"/>. Only where <see cref="CanSendFile"/> is true.
    /// </summary>
    bool SendFile(SafeFileHandle file, long offset, int count);

    /// <summary>
    /// Bytes of the write (or file range) in flight that the kernel has not taken yet, or 0 when none is in flight or
    /// the transport cannot tell. Read on the session's turn while the transport works: a smaller figure than at the
    /// last look means the client is taking the bytes, so a slow download counts as moving before its write completes.
    /// </summary>
    long Unsent { get; }

    /// <summary>The session wants no more bytes for now.</summary>
    void SuspendReading();

    /// <summary>
    /// The session wants the next bytes: at most one <see cref="Received"/> (or <see cref="Readable"/>) follows each
    /// call. Repeated calls are cheap.
    /// </summary>
    void ResumeReading();

    /// <summary>
    /// After <see cref="Readable"/>, in the same turn: reads what is waiting into <paramref name="buffer"/> without
    /// blocking, and returns how many bytes came. 0 when there was nothing after all (the ask stands), when the read
    /// found the end (<see cref="PeerClosed"/> or <see cref="Closed"/> follows, as for any end), or when the session
    /// has begun closing since. Only a connection that sends <see cref="Readable"/> implements it.
    /// </summary>
    int Read(Span<byte> buffer) => throw new NotSupportedException("this connection delivers its bytes as Received");

    /// <summary>
    /// Sends a FIN after the writes already made, and keeps reading only to see the client's. The session then
    /// receives <see cref="Closed"/> (graceful) once the client has closed its side too: at once when it already has.
    /// </summary>
    void HalfClose();

    /// <summary>
    /// Closes both directions now, gracefully: unread input is discarded first so that the kernel delivers what it
    /// still holds for the client instead of resetting. No event follows.
    /// </summary>
    void Close();

    /// <summary>Resets the connection at once, dropping anything unsent. No event follows.</summary>
    void Abort();
}
