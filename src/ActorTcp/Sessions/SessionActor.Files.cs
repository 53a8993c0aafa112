using System.Buffers;
using System.Buffers.Binary;
using ActorTcp.Transport;
using ActorTcp.Files;
using ActorTcp.Protocol;
using Akka.Actor;
using Akka.IO;
using Microsoft.Win32.SafeHandles;
using Microsoft.Extensions.Logging;

namespace ActorTcp.Sessions;

public sealed partial class SessionActor
{
    private const string GetUsage = "ERR usage: GET <path> [<offset> [<length>]]";

    /// <summary>The one transfer a session may run; allocated only while it runs, so idle sessions stay small.</summary>
    private Transfer? _transfer;

    /// <summary>
    /// A GET in progress. The file is read one chunk at a time into one pooled buffer, and the next chunk is read
    /// only once the connection has taken the last: a slow reader holds the file back, and a transfer costs one
    /// chunk of memory whatever the file's size.
    /// </summary>
    private sealed class Transfer(string path, long length, long offset, SafeFileHandle handle, bool binary)
    {
        // The binary listener's frame header goes in front of the chunk, in the same buffer, so a chunk is one write.
        public readonly int HeaderBytes = binary ? 4 : 0;
        public string Path { get; } = path;
        public long Length { get; } = length;
        public long Sent { get; set; }
        public long FileOffset { get; set; } = offset;
        public SafeFileHandle Handle { get; } = handle;
        public byte[] Buffer { get; } = ArrayPool<byte>.Shared.Rent(FileService.ChunkSize + 4);
        public bool ReadPending { get; set; }
    }

    private sealed record ChunkRead(int Bytes);

    private sealed record ChunkFailed(Exception Cause);

    private sealed record ListDone(string Folder, ListResult Result);

    private void StartList(string args)
    {
        var tokens = new List<string>(2);
        if (!Arguments.TrySplit(args, tokens, out var error))
        {
            Reply($"ERR usage: LIST [<folder>] ({error})");
            return;
        }
        var folder = tokens.Count > 0 ? tokens[0] : "";
        var store = _ctx.Files.Store;
        var max = _ctx.Settings.MaxListEntries;
        _phase = Phase.Waiting;
        // Walking a large tree blocks on the file system: it runs on the thread pool and the answer comes back
        // as a message, while this client's later requests wait their turn.
        Task.Run(() => new ListDone(folder, store.List(folder, max))).PipeTo(Self, failure: e => new ListDone(folder,
            new ListResult(LookupStatus.NotFound, [], false)));
    }

    private void OnListDone(ListDone done)
    {
        if (_phase != Phase.Waiting) return;
        var result = done.Result;
        if (result.TooMany) Reply($"ERR too many files (max {_ctx.Settings.MaxListEntries})");
        else if (result.Status == LookupStatus.NotFound) Reply($"ERR not found: {done.Folder}");
        else if (result.Status == LookupStatus.Forbidden) Reply($"ERR forbidden: {done.Folder}");
        else
        {
            Reply($"OK {result.Entries.Count}");
            foreach (var entry in result.Entries) Reply($"{entry.Size} {Arguments.QuotePath(entry.Path)}");
        }
        _phase = Phase.Command;
        Continue();
    }

    private void StartGet(string args)
    {
        var tokens = new List<string>(3);
        if (!Arguments.TrySplit(args, tokens, out _) || tokens.Count is 0 or > 3)
        {
            Reply(GetUsage);
            return;
        }

        var path = tokens[0];
        var (status, file) = _ctx.Files.Store.Lookup(path);
        switch (status)
        {
            case LookupStatus.NotFound:
                Reply($"ERR not found: {path}");
                return;
            case LookupStatus.Forbidden:
                Reply($"ERR forbidden: {path}");
                return;
        }

        long offset = 0;
        var length = file!.Size;
        if (tokens.Count > 1 && (!Arguments.TryParseNumber(tokens[1], out offset) || offset > file.Size))
        {
            Reply("ERR bad range");
            return;
        }
        length = file.Size - offset;
        if (tokens.Count > 2 && (!Arguments.TryParseNumber(tokens[2], out length) || length > file.Size - offset))
        {
            Reply("ERR bad range");
            return;
        }

        if (length == 0)
        {
            Reply("OK 0");
            return;
        }
        if (!_ctx.Stats.TryStartDownload(_ctx.Settings.MaxDownloads))
        {
            Reply("ERR busy: too many downloads, try again");
            return;
        }

        SafeFileHandle handle;
        try
        {
            handle = FileService.Open(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _ctx.Stats.DownloadEnded();
            Reply($"ERR not found: {path}");
            return;
        }

        Reply($"OK {length}");
        _phase = Phase.Streaming;
        _transfer = new Transfer(path, length, offset, handle, _ctx.Binary);
        // The OK line goes out first (Continue flushes it); the first chunk is read once it has.
        Self.Tell(TransferNext.Instance);
    }

    private sealed class TransferNext
    {
        public static readonly TransferNext Instance = new();
        private TransferNext() { }
    }

    private bool OnFileMessage(object message)
    {
        switch (message)
        {
            case ListDone done:
                OnListDone(done);
                return true;
            case TransferNext:
                if (_transfer is not null && !_writing) ReadNextChunk();
                return true;
            case ChunkRead read:
                OnChunkRead(read.Bytes);
                return true;
            case ChunkFailed failed:
                OnChunkFailed(failed.Cause);
                return true;
            default:
                return false;
        }
    }

    private void ReadNextChunk()
    {
        var transfer = _transfer!;
        if (transfer.ReadPending) return;
        if (transfer.Sent == transfer.Length)
        {
            FinishTransfer();
            return;
        }
        var count = (int)Math.Min(FileService.ChunkSize, transfer.Length - transfer.Sent);
        transfer.ReadPending = true;
        RandomAccess.ReadAsync(transfer.Handle, transfer.Buffer.AsMemory(transfer.HeaderBytes, count), transfer.FileOffset)
            .AsTask()
            .PipeTo(Self, success: n => new ChunkRead(n), failure: e => new ChunkFailed(e));
    }

    private void OnChunkRead(int bytes)
    {
        var transfer = _transfer;
        if (transfer is null) return;
        transfer.ReadPending = false;
        if (bytes == 0)
        {
            // The file shrank under us: the client must see fewer bytes than promised, so it can tell.
            _ctx.Logger.LogWarning("Connection {ConnectionId} GET {Path} ended after {Sent} of {Length} bytes: the file is shorter now",
                _ticket.Id, transfer.Path, transfer.Sent, transfer.Length);
            Abort(CloseReason.TransferFailed);
            return;
        }
        if (transfer.HeaderBytes > 0) BinaryPrimitives.WriteUInt32BigEndian(transfer.Buffer, (uint)bytes);
        transfer.FileOffset += bytes;
        transfer.Sent += bytes;
        var total = transfer.HeaderBytes + bytes;
        // The buffer is handed to the transport without a copy: it is read into again only after this write completes.
        WriteToTransport(ByteString.FromBytes(transfer.Buffer, 0, total), total, rented: null);
        if (!_writing) ReadNextChunk();
    }

    private void OnChunkFailed(Exception cause)
    {
        var transfer = _transfer;
        if (transfer is null) return;
        transfer.ReadPending = false;
        _ctx.Logger.LogWarning(cause, "Connection {ConnectionId} GET {Path} failed after {Sent} of {Length} bytes",
            _ticket.Id, transfer.Path, transfer.Sent, transfer.Length);
        Abort(CloseReason.TransferFailed);
    }

    private void OnTransferWriteAcked()
    {
        Flush();
        if (!_writing && _transfer is not null) ReadNextChunk();
    }

    private void FinishTransfer()
    {
        EndTransfer();
        _phase = Phase.Command;
        if (_shutdownRequested) BeginClose(CloseReason.Shutdown, "ERR server shutting down");
        else Continue();
    }

    /// <summary>Closes the file and frees the download slot; safe to call twice.</summary>
    private void EndTransfer()
    {
        var transfer = _transfer;
        if (transfer is null) return;
        _transfer = null;
        transfer.Handle.Dispose();
        // A read still in flight writes into the buffer, and so might a write the transport still holds:
        // only a buffer that is surely idle goes back to the pool.
        if (!transfer.ReadPending && !_writing) ArrayPool<byte>.Shared.Return(transfer.Buffer);
        _ctx.Stats.DownloadEnded();
    }
}
