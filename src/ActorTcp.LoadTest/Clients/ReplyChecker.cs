// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Security.Cryptography;
using System.Text;
using ActorTcp.Protocol;
using ActorTcp.Transport;

namespace ActorTcp.LoadTest.Clients;

/// <summary>What a client waits for, one per request it sent (and two for the greeting), in order.</summary>
internal enum Expect { Welcome, AskName, Hello, Echo, Pong, GetHeader, Goodbye }

/// <summary>What a reply means for the request at the head of the client's queue.</summary>
internal enum Verdict
{
    /// <summary>The reply is complete and right: the request is done.</summary>
    Met,

    /// <summary>Right so far, more to come (a GET's file bytes).</summary>
    InProgress,

    /// <summary>
    /// An <c>ERR</c> line where something else was due. Most come right before the server closes (server full, idle
    /// timeout), so the client waits a moment to learn which error it was.
    /// </summary>
    ErrLine,

    /// <summary>Not what the contract promises: the client counts <see cref="ErrorKinds.WrongReply"/> and gives up.</summary>
    Wrong,

    /// <summary>A line after an unanswered ERR: the server kept the session, so the ERR is judged on its own.</summary>
    Ignored,
}

/// <summary>A verdict, why a reply was wrong, and the size of a download it completed.</summary>
internal readonly record struct Check(Verdict Verdict, string? Detail = null, long FileBytes = 0)
{
    public static readonly Check Met = new(Verdict.Met);
    public static readonly Check InProgress = new(Verdict.InProgress);
    public static readonly Check Ignored = new(Verdict.Ignored);

    public static Check Wrong(string detail) => new(Verdict.Wrong, detail);
}

/// <summary>
/// Reads one connection's replies and judges them against what the protocol promises for the requests the client
/// sent, naming the error when they differ. Pure: the actor owns the socket, the queue of requests and the clock, and
/// acts on the verdicts; this decides what counts as an error.
/// </summary>
internal sealed class ReplyChecker(ReplyReader reader, byte[] hello, byte[] echoPayload, byte[]? expectedFile, string? expectedSha256)
{
    private long _downloadLength;
    private long _downloadReceived;
    private IncrementalHash? _hash;
    private string? _pendingErr;
    private string? _pendingErrExpected;

    /// <summary>An ERR line is waiting to be judged by what the server does next.</summary>
    public bool ErrPending => _pendingErr is not null;

    /// <summary>The announced size of the download in progress, 0 when none is.</summary>
    public long DownloadLength => _downloadLength;

    /// <summary>Forgets the last connection.</summary>
    public void Reset()
    {
        reader.Reset();
        _pendingErr = null;
        _pendingErrExpected = null;
        EndDownload();
    }

    /// <summary>The next reply is a GET's: <c>OK n</c>, then n file bytes. Say it once every earlier reply is in.</summary>
    public void ExpectFile() => reader.ExpectReply(ReplyShape.File);

    /// <summary>
    /// Reads the next reply line or file bytes from <paramref name="data"/> (advanced past them) and judges them for
    /// the request at the head of the queue; null once <paramref name="data"/> is used up.
    /// </summary>
    public Check? Next(ref ReadOnlySpan<byte> data, Expect? awaiting)
    {
        var found = reader.Read(data, out var consumed, out var bytes);
        data = data[consumed..];
        return found switch
        {
            ReplyEvent.Line => Line(awaiting, reader.LineKind, reader.Count, bytes),
            ReplyEvent.Data => Data(awaiting, bytes),
            ReplyEvent.FramingError => FramingError(reader.FramingErrorReason ?? reader.FramingError.ToString()),
            _ => null,
        };
    }

    /// <summary>Judges one reply line for the request at the head of the queue (null when nothing was asked).</summary>
    public Check Line(Expect? awaiting, ReplyLineKind kind, long count, ReadOnlySpan<byte> line)
    {
        if (_pendingErr is not null)
        {
            return Check.Ignored;
        }

        switch (awaiting)
        {
            case null:
                return Mismatch("no reply", line);
            case Expect.GetHeader:
                return kind == ReplyLineKind.FileHeader ? StartDownload(count) : Mismatch("OK <n>", line);
            case Expect.Welcome when line.SequenceEqual(Replies.Utf8.Welcome):
            case Expect.AskName when line.SequenceEqual(Replies.Utf8.AskName):
            case Expect.Hello when line.SequenceEqual(hello):
            case Expect.Echo when line.SequenceEqual(echoPayload):
            case Expect.Pong when line.SequenceEqual(Replies.Utf8.Pong):
            case Expect.Goodbye when line.SequenceEqual(Replies.Utf8.Goodbye):
                return Check.Met;
            default:
                return Mismatch(Describe(awaiting.Value), line);
        }
    }

    /// <summary>Judges file bytes that came after a GET's <c>OK n</c>.</summary>
    public Check Data(Expect? awaiting, ReadOnlySpan<byte> data)
    {
        if (awaiting != Expect.GetHeader || _downloadReceived + data.Length > _downloadLength)
        {
            return Check.Wrong($"{data.Length} file bytes past what OK {_downloadLength} announced");
        }

        if (expectedFile is not null && !data.SequenceEqual(expectedFile.AsSpan((int)_downloadReceived, data.Length)))
        {
            return Check.Wrong($"GET: file bytes differ from --file-local near offset {_downloadReceived}");
        }

        _hash?.AppendData(data);
        _downloadReceived += data.Length;
        return _downloadReceived == _downloadLength ? CompleteDownload() : Check.InProgress;
    }

    /// <summary>The reply stream could not be read at all (a runaway line, an oversized or bad frame).</summary>
    public static Check FramingError(string reason) => Check.Wrong(reason);

    /// <summary>
    /// The grace after an ERR line passed without a close: the ERR was a wrong reply to the request. Null when no ERR
    /// line is waiting.
    /// </summary>
    public string? ErrNotFollowedByClose()
    {
        if (_pendingErr is not { } line)
        {
            return null;
        }

        _pendingErr = null;
        return $"expected {_pendingErrExpected}, got '{ErrorKinds.Truncate(line)}'";
    }

    /// <summary>
    /// The error kind of a close the client did not ask for, with <paramref name="awaiting"/> still unanswered:
    /// <paramref name="broken"/> is null when the server closed its side in order, else how the connection broke.
    /// </summary>
    public string UnexpectedClose(CloseKind? broken, Expect? awaiting) =>
        _pendingErr is not null ? $"closed by server: {_pendingErr}"
        : broken is { } kind ? ErrorKinds.OfClose(kind)
        : awaiting is { } head ? $"closed by server (no ERR line) awaiting {Describe(head)}" : "closed by server (no ERR line)";

    public static string Describe(Expect kind) => kind switch
    {
        Expect.Welcome => Replies.Welcome,
        Expect.AskName => Replies.AskName,
        Expect.Hello => "Hello <name>!",
        Expect.Echo => "the echoed payload",
        Expect.Pong => Replies.Pong,
        Expect.GetHeader => "GET reply",
        Expect.Goodbye => Replies.Goodbye,
        _ => kind.ToString(),
    };

    private Check StartDownload(long length)
    {
        if (expectedFile is not null && expectedFile.Length != length)
        {
            return Check.Wrong($"GET: expected OK {expectedFile.Length}, got OK {length}");
        }

        EndDownload();
        _downloadLength = length;
        _hash = expectedSha256 is null ? null : IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        return length == 0 ? CompleteDownload() : Check.InProgress;
    }

    private Check CompleteDownload()
    {
        if (_hash is not null && Convert.ToHexStringLower(_hash.GetHashAndReset()) != expectedSha256)
        {
            return Check.Wrong("GET: SHA-256 of the file differs from --file-sha256");
        }

        long length = _downloadLength;
        EndDownload();
        return new Check(Verdict.Met, FileBytes: length);
    }

    private void EndDownload()
    {
        _hash?.Dispose();
        _hash = null;
        _downloadLength = 0;
        _downloadReceived = 0;
    }

    private Check Mismatch(string expected, ReadOnlySpan<byte> line)
    {
        var text = Encoding.UTF8.GetString(line);
        if (text.StartsWith(Replies.ErrPrefix, StringComparison.Ordinal))
        {
            _pendingErr = text;
            _pendingErrExpected = expected;
            return new Check(Verdict.ErrLine);
        }

        return Check.Wrong($"expected {expected}, got '{ErrorKinds.Truncate(text)}'");
    }
}
