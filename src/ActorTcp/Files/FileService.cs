// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using ActorTcp.Protocol;
using Microsoft.Win32.SafeHandles;

namespace ActorTcp.Files;

/// <summary>A GET as the client wrote it: the path, and the offset and length still unparsed (the path is checked first).</summary>
internal sealed record GetRequest(string Path, string? Offset, string? Length);

internal enum GetOutcome { Ready, Empty, NotFound, Forbidden, BadRange, Busy }

/// <summary>What a GET will do: stream <see cref="Length"/> bytes from <see cref="Handle"/>, or answer one line.</summary>
internal sealed record GetPlan(GetOutcome Outcome, long Offset = 0, long Length = 0, SafeFileHandle? Handle = null)
{
    public static readonly GetPlan NotFound = new(GetOutcome.NotFound);
    public static readonly GetPlan Forbidden = new(GetOutcome.Forbidden);
    public static readonly GetPlan BadRange = new(GetOutcome.BadRange);
    public static readonly GetPlan Busy = new(GetOutcome.Busy);
}

/// <summary>The served folder, and how a transfer finds, checks and opens a file in it.</summary>
internal sealed class FileService(FileStore store, DownloadQuota downloads)
{
    /// <summary>Bytes read from the file per chunk; also the largest data frame the binary listener sends.</summary>
    public const int ChunkSize = 64 * 1024;

    public FileStore Store { get; } = store;

    public DownloadQuota Downloads { get; } = downloads;

    /// <summary>
    /// Looks the path up, checks the range, takes a download slot and opens the file, in the order the contract
    /// gives its errors. Blocks on the file system: run it off the actor's thread. A <see cref="GetOutcome.Ready"/>
    /// plan holds a download slot and an open handle, which the transfer gives back.
    /// </summary>
    public GetPlan Prepare(GetRequest request)
    {
        var (status, file) = Store.Lookup(request.Path);
        if (status == LookupStatus.NotFound) return GetPlan.NotFound;
        if (status == LookupStatus.Forbidden) return GetPlan.Forbidden;

        long offset = 0;
        if (request.Offset is not null && (!Arguments.TryParseNumber(request.Offset, out offset) || offset > file!.Size))
            return GetPlan.BadRange;
        var length = file!.Size - offset;
        if (request.Length is not null && (!Arguments.TryParseNumber(request.Length, out length) || length > file.Size - offset))
            return GetPlan.BadRange;
        if (length == 0) return new GetPlan(GetOutcome.Empty);
        if (!Downloads.TryStart()) return GetPlan.Busy;

        try
        {
            return new GetPlan(GetOutcome.Ready, offset, length, Open(file));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Downloads.End();
            return GetPlan.NotFound;
        }
    }

    /// <summary>
    /// Opens for reading, sharing with writers and deleters: a file deleted meanwhile stays readable on Linux, and
    /// one truncated meanwhile simply ends early.
    /// </summary>
    private static SafeFileHandle Open(ServedFile file) =>
        File.OpenHandle(file.FullPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.Asynchronous);
}

/// <summary>The server-wide cap on transfers running at once (max-downloads): a quota, not a metric.</summary>
internal sealed class DownloadQuota(int max)
{
    private int _running;

    public int Running => Volatile.Read(ref _running);

    /// <summary>Takes a slot if fewer than the maximum are running.</summary>
    public bool TryStart()
    {
        while (true)
        {
            var now = Volatile.Read(ref _running);
            if (now >= max) return false;
            if (Interlocked.CompareExchange(ref _running, now + 1, now) == now) return true;
        }
    }

    public void End() => Interlocked.Decrement(ref _running);
}
