using System.Buffers.Binary;
using ActorTcp.Transport;
using ActorTcp.Files;
using ActorTcp.Protocol;
using Akka.Actor;
using Akka.IO;
using Akka.Streams;
using Microsoft.Extensions.Logging;

namespace ActorTcp.Sessions;

public sealed partial class SessionActor
{
    private const string GetUsage = "ERR usage: GET <path> [<offset> [<length>]]";

    /// <summary>The one transfer a session may run; allocated only while it runs, so idle sessions stay small.</summary>
    private Transfer? _transfer;

    private sealed class Transfer(string path, long length)
    {
        public string Path { get; } = path;
        public long Length { get; } = length;
        public long Sent { get; set; }
        public UniqueKillSwitch? KillSwitch { get; set; }
        /// <summary>The stream stage that waits for our acknowledgement before it reads the next chunk.</summary>
        public IActorRef? Stage { get; set; }
        public bool StageWaiting { get; set; }
        public bool StreamEnded { get; set; }
        public Exception? Failure { get; set; }
    }

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

        Reply($"OK {length}");
        _phase = Phase.Streaming;
        _transfer = new Transfer(path, length);
        try
        {
            _transfer.KillSwitch = _ctx.Files.Stream(file, offset, length, Self);
        }
        catch (Exception e)
        {
            // The OK line is queued but no byte of the file can follow it: the client must see a short transfer.
            _ctx.Logger.LogWarning(e, "Connection {ConnectionId} could not start GET {Path}", _ticket.Id, path);
            Abort(CloseReason.TransferFailed);
        }
    }

    private bool OnFileMessage(object message)
    {
        switch (message)
        {
            case ListDone done:
                OnListDone(done);
                return true;
            case TransferMessages.Init when _transfer is not null:
                _transfer.Stage = Sender;
                _transfer.StageWaiting = true;
                RequestChunkWhenWritten();
                return true;
            case ByteString chunk when _transfer is not null:
                OnChunk(chunk);
                return true;
            case TransferMessages.Done when _transfer is not null:
                _transfer.StreamEnded = true;
                FinishTransferWhenWritten();
                return true;
            case TransferMessages.Failed failed when _transfer is not null:
                _transfer.StreamEnded = true;
                _transfer.Failure = failed.Cause;
                FinishTransferWhenWritten();
                return true;
            case TransferMessages.Init or TransferMessages.Done or TransferMessages.Failed or ByteString:
                // A stream that outlived its transfer (cut by a timeout or a reset): nothing to do.
                return true;
            default:
                return false;
        }
    }

    private void OnChunk(ByteString chunk)
    {
        var transfer = _transfer!;
        transfer.StageWaiting = true;
        transfer.Sent += chunk.Count;
        if (_ctx.Binary)
        {
            var header = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(header, (uint)chunk.Count);
            chunk = ByteString.FromBytes(header).Concat(chunk);
        }
        // The pending buffer (the OK line) always goes first; a chunk is written only when nothing is in flight.
        Flush();
        if (_writing)
        {
            _output.Write(chunk.ToReadOnlySpan());
            return;
        }
        WriteToTransport(chunk, chunk.Count, rented: null);
        if (!_writing) OnTransferWriteAcked();
    }

    private void OnTransferWriteAcked()
    {
        Flush();
        if (_writing) return;
        RequestChunkWhenWritten();
        FinishTransferWhenWritten();
    }

    private void RequestChunkWhenWritten()
    {
        var transfer = _transfer!;
        if (_writing || transfer.StreamEnded || !transfer.StageWaiting || transfer.Stage is null) return;
        transfer.StageWaiting = false;
        transfer.Stage.Tell(TransferMessages.Ack.Instance, Self);
    }

    private void FinishTransferWhenWritten()
    {
        var transfer = _transfer;
        if (transfer is null || !transfer.StreamEnded || _writing || _output.Count > 0) return;
        if (transfer.Sent < transfer.Length)
        {
            // The file shrank or failed under us: the client must see fewer bytes than promised, so it can tell.
            _ctx.Logger.LogWarning(transfer.Failure,
                "Connection {ConnectionId} GET {Path} ended after {Sent} of {Length} bytes",
                _ticket.Id, transfer.Path, transfer.Sent, transfer.Length);
            Abort(CloseReason.TransferFailed);
            return;
        }
        EndTransfer();
        _phase = Phase.Command;
        if (_shutdownRequested) BeginClose(CloseReason.Shutdown, "ERR server shutting down");
        else Continue();
    }

    /// <summary>Stops the stream (closing the file) and frees the download slot; safe to call twice.</summary>
    private void EndTransfer()
    {
        if (_transfer is null) return;
        _transfer.KillSwitch?.Shutdown();
        _transfer = null;
        _ctx.Stats.DownloadEnded();
    }
}
