// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Buffers;
using ActorTcp.Files;
using ActorTcp.Protocol;
using Microsoft.Win32.SafeHandles;

namespace ActorTcp.Sessions;

/// <summary>
/// One GET in progress. The file is read one chunk at a time into one pooled buffer, and the next chunk is read only
/// once the connection has taken the last: a slow reader holds the file back, and a transfer costs one chunk of
/// memory whatever the file's size. The listener's reply encoder frames each chunk (raw on the text listener, a data
/// frame on the binary one), in the same buffer, so a chunk is one write.
/// </summary>
internal sealed class Transfer(string path, GetPlan plan, IReplyEncoder encoder, DownloadQuota downloads)
{
    private readonly SafeFileHandle _handle = plan.Handle!;
    private readonly int _header = encoder.DataHeaderBytes;
    private readonly byte[] _buffer = ArrayPool<byte>.Shared.Rent(FileService.ChunkSize + encoder.DataHeaderBytes);
    private long _fileOffset = plan.Offset;
    private bool _ended;

    public string Path { get; } = path;

    public long Length { get; } = plan.Length;

    public long Sent { get; private set; }

    public bool Complete => Sent == Length;

    /// <summary>A read is running; the buffer is the file system's until it completes.</summary>
    public bool Reading { get; private set; }

    /// <summary>Reads the next chunk behind the header's room; completes with the bytes read (0: the file is shorter now).</summary>
    public Task<int> ReadNextAsync()
    {
        Reading = true;
        var count = (int)Math.Min(FileService.ChunkSize, Length - Sent);
        return RandomAccess.ReadAsync(_handle, _buffer.AsMemory(_header, count), _fileOffset).AsTask();
    }

    /// <summary>The chunk just read, framed for the wire. The buffer is read into again only after this write completes.</summary>
    public ReadOnlyMemory<byte> Framed(int bytes)
    {
        Reading = false;
        encoder.WriteDataHeader(_buffer, bytes);
        _fileOffset += bytes;
        Sent += bytes;
        return _buffer.AsMemory(0, _header + bytes);
    }

    public void ReadFailed() => Reading = false;

    /// <summary>
    /// Closes the file and frees the download slot (once). The buffer goes back to the pool only when nothing may
    /// still touch it: no read running and no write of it in flight.
    /// </summary>
    public void End(bool writeInFlight)
    {
        if (_ended) return;
        _ended = true;
        _handle.Dispose();
        downloads.End();
        if (!Reading && !writeInFlight) ArrayPool<byte>.Shared.Return(_buffer);
    }
}
