// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Buffers;
using Akka.Actor;
using ActorTcp.Files;
using ActorTcp.Protocol;
using Microsoft.Win32.SafeHandles;

namespace ActorTcp.Sessions;

/// <summary>
/// One GET in progress, sent one range at a time: the next only once the connection has taken the last, so a slow
/// reader holds the file back. Where the connection can send a file itself and the bytes go unframed (the text
/// listener without TLS), a range goes from the page cache to the socket without passing through the server
/// (<see cref="Direct"/>), and a transfer holds no buffer at all. Otherwise the file is read one chunk at a time into
/// one pooled buffer, and the listener's reply encoder frames each chunk (a data frame on the binary listener) in
/// the same buffer, so a chunk is one write and a transfer costs one chunk of memory whatever the file's size.
/// </summary>
internal sealed class Transfer
{
    /// <summary>
    /// One direct range. A slow client's idle clock does not depend on it (the session looks at the bytes the kernel
    /// takes while a range waits). What it bounds is how long one download may keep its loop: the connection sends
    /// until the kernel says wait or the range is done, so a client that drains as fast as loopback holds the loop for
    /// one range, about 3 ms at 8 MiB, before the other sessions' turns. 8 MiB rather than 1: 100 concurrent 10 MiB
    /// downloads ran about 8 % faster (bench/README.md, "Files"), from fewer turns and fewer short segments.
    /// </summary>
    public const int DirectRange = 8 * 1024 * 1024;

    private readonly SafeFileHandle _handle;
    private readonly IReplyEncoder _encoder;
    private readonly DownloadQuota _downloads;
    private readonly int _header;
    private readonly byte[]? _buffer;
    private long _fileOffset;
    private bool _ended;

    public Transfer(string path, GetPlan plan, IReplyEncoder encoder, DownloadQuota downloads, bool direct)
    {
        Path = path;
        Length = plan.Length;
        Direct = direct && encoder.DataHeaderBytes == 0;
        _handle = plan.Handle!;
        _encoder = encoder;
        _downloads = downloads;
        _header = encoder.DataHeaderBytes;
        _fileOffset = plan.Offset;
        if (!Direct) _buffer = ArrayPool<byte>.Shared.Rent(FileService.ChunkSize + _header);
    }

    public string Path { get; }

    public long Length { get; }

    /// <summary>Ranges go to the connection as file ranges (<see cref="NextRange"/>), not as bytes read here.</summary>
    public bool Direct { get; }

    public SafeFileHandle Handle => _handle;

    public long Sent { get; private set; }

    public bool Complete => Sent == Length;

    /// <summary>A read is running; the buffer is the file system's until it completes.</summary>
    public bool Reading { get; private set; }

    /// <summary>Reads the next chunk behind the header's room; completes with the bytes read (0: the file is shorter now).</summary>
    public Task<int> ReadNextAsync()
    {
        Reading = true;
        var count = (int)Math.Min(FileService.ChunkSize, Length - Sent);
        return RandomAccess.ReadAsync(_handle, _buffer!.AsMemory(_header, count), _fileOffset).AsTask();
    }

    /// <summary>The next range to send directly, counted as sent: the connection takes it whole or says the file ended.</summary>
    public (long Offset, int Count) NextRange()
    {
        var count = (int)Math.Min(DirectRange, Length - Sent);
        var offset = _fileOffset;
        _fileOffset += count;
        Sent += count;
        return (offset, count);
    }

    /// <summary>The chunk just read, framed for the wire. The buffer is read into again only after this write completes.</summary>
    public ReadOnlyMemory<byte> Framed(int bytes)
    {
        Reading = false;
        _encoder.WriteDataHeader(_buffer!, bytes);
        _fileOffset += bytes;
        Sent += bytes;
        return _buffer!.AsMemory(0, _header + bytes);
    }

    public void ReadFailed() => Reading = false;

    /// <summary>The next look at the write in flight, while one is scheduled (see SessionActor.Watch); cancelled at the end.</summary>
    public ICancelable? Watch { get; set; }

    /// <summary>What the transport had not yet taken of the write in flight at the last look.</summary>
    public long UnsentSeen { get; set; }

    /// <summary>
    /// Closes the file and frees the download slot (once). The buffer goes back to the pool only when nothing may
    /// still touch it: no read running and no write of it in flight.
    /// </summary>
    public void End(bool writeInFlight)
    {
        if (_ended) return;
        _ended = true;
        Watch?.Cancel();
        _handle.Dispose();
        _downloads.End();
        if (_buffer is not null && !Reading && !writeInFlight) ArrayPool<byte>.Shared.Return(_buffer);
    }
}
