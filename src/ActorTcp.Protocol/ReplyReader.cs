// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.

namespace ActorTcp.Protocol;

/// <summary>
/// The client's side of the framing: cuts the server's byte stream into reply lines (text lines without their CR LF or
/// LF, or frame payloads) and, for a reply announced as <see cref="ReplyShape.File"/>, the file bytes after its
/// <c>OK n</c>. One instance per connection, not thread-safe.
/// </summary>
/// <remarks>
/// Like the server's decoders it hands out one event per call and the caller passes the rest of its input back in.
/// A line that arrives whole is a slice of the input; only a line split across reads is copied, into a pooled buffer
/// that never grows past the maximum line, so reading allocates nothing once warm and memory stays bounded whatever
/// the server sends.
/// </remarks>
public sealed class ReplyReader
{
    /// <summary>The largest data frame the contract allows, whatever the server's max-frame-bytes is.</summary>
    public const int MaxDataFrameBytes = 65536;

    private const byte Lf = (byte)'\n';
    private const byte Cr = (byte)'\r';

    private readonly int _maxLineBytes;
    private PooledBuffer _partial;
    private FrameHeader _header;
    private int _frameLength = -1;
    private int _dataFrameLeft;
    private bool _lineReturned;
    private ReplyShape _nextShape;

    private ReplyReader(bool binary, int maxLineBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxLineBytes);
        IsBinary = binary;
        _maxLineBytes = maxLineBytes;
    }

    /// <summary>For the text listener: lines end at LF, a CR before it is dropped.</summary>
    /// <param name="maxLineBytes">The longest reply line accepted, without its CR LF; a longer one is a framing error.</param>
    public static ReplyReader ForText(int maxLineBytes) => new(binary: false, maxLineBytes);

    /// <summary>For the binary listener: each reply line is one frame.</summary>
    /// <param name="maxLineBytes">The longest reply frame accepted (data frames apart); a longer one is a framing error.</param>
    public static ReplyReader ForBinary(int maxLineBytes) => new(binary: true, maxLineBytes);

    public static ReplyReader For(bool binary, int maxLineBytes) => new(binary, maxLineBytes);

    public bool IsBinary { get; }

    /// <summary>What the last <see cref="ReplyEvent.Line"/> was.</summary>
    public ReplyLineKind LineKind { get; private set; }

    /// <summary>The n of the last block or file header.</summary>
    public long Count { get; private set; }

    /// <summary>Lines of the current block still to come.</summary>
    public long BlockLinesRemaining { get; private set; }

    /// <summary>File bytes of the current GET reply still to come; more than 0 at a close means the file was cut short.</summary>
    public long DataRemaining { get; private set; }

    /// <summary>The last event ended a reply (true before the first one): the moment to say the next reply's shape.</summary>
    public bool ReplyComplete { get; private set; } = true;

    /// <summary>The last text line ended with CR LF rather than LF (its CR is not part of the line).</summary>
    public bool EndedWithCrLf { get; private set; }

    public ReplyFramingError FramingError { get; private set; }

    /// <summary>A short lower-case account of <see cref="FramingError"/>, with the sizes involved.</summary>
    public string? FramingErrorReason { get; private set; }

    /// <summary>Bytes held in the reader's own buffer: a split line or frame and a split frame header.</summary>
    public int BufferedBytes => _partial.Length + _header.BufferedBytes;

    /// <summary>
    /// Says the shape of the next reply to start; each reply that starts takes it and leaves <see cref="ReplyShape.Line"/>
    /// for the one after. Say it when <see cref="ReplyComplete"/> is true: with requests in flight, once the reply before
    /// has ended.
    /// </summary>
    public void ExpectReply(ReplyShape shape) => _nextShape = shape;

    /// <summary>
    /// Reads at most one event from <paramref name="input"/>; <paramref name="consumed"/> is how much of it was used, and
    /// the caller calls again with the rest. <see cref="ReplyEvent.NeedMore"/> means all of it was used. The bytes of a
    /// <see cref="ReplyEvent.Line"/> or <see cref="ReplyEvent.Data"/> stay valid until the next call on this reader.
    /// After a <see cref="ReplyEvent.FramingError"/> the reader takes all input and finds nothing until <see cref="Reset"/>.
    /// </summary>
    public ReplyEvent Read(ReadOnlySpan<byte> input, out int consumed, out ReadOnlySpan<byte> bytes)
    {
        ForgetReturnedLine();
        bytes = default;
        if (FramingError != ReplyFramingError.None)
        {
            consumed = input.Length;
            return ReplyEvent.NeedMore;
        }

        if (DataRemaining > 0)
        {
            return IsBinary ? ReadDataFrame(input, out consumed, out bytes) : ReadRawData(input, out consumed, out bytes);
        }

        return IsBinary ? ReadFrame(input, out consumed, out bytes) : ReadTextLine(input, out consumed, out bytes);
    }

    /// <summary>
    /// The server closed: returns <see cref="ReplyEvent.Line"/> with a last text line that had no LF (its bytes as they
    /// came, a CR included), otherwise <see cref="ReplyEvent.NeedMore"/>; a partial frame is dropped.
    /// <see cref="DataRemaining"/> and <see cref="BlockLinesRemaining"/> still show a reply that the close cut short.
    /// </summary>
    public ReplyEvent Finish(out ReadOnlySpan<byte> line)
    {
        ForgetReturnedLine();
        line = default;
        _header.Reset();
        _frameLength = -1;
        _dataFrameLeft = 0;
        if (IsBinary || FramingError != ReplyFramingError.None || _partial.Length == 0)
        {
            _partial.Release();
            return ReplyEvent.NeedMore;
        }

        if (_partial.Length > _maxLineBytes)
        {
            return Fault(ReplyFramingError.LineTooLong, $"reply line longer than {_maxLineBytes} bytes");
        }

        EndedWithCrLf = false;
        _lineReturned = true;
        return Classify(_partial.Written, out line);
    }

    /// <summary>Forgets everything, a framing error included, for a new connection.</summary>
    public void Reset()
    {
        _lineReturned = false;
        _partial.Release();
        _header.Reset();
        _frameLength = -1;
        _dataFrameLeft = 0;
        _nextShape = ReplyShape.Line;
        LineKind = ReplyLineKind.Single;
        Count = 0;
        BlockLinesRemaining = 0;
        DataRemaining = 0;
        ReplyComplete = true;
        EndedWithCrLf = false;
        FramingError = ReplyFramingError.None;
        FramingErrorReason = null;
    }

    private ReplyEvent ReadTextLine(ReadOnlySpan<byte> input, out int consumed, out ReadOnlySpan<byte> line)
    {
        line = default;
        int end = input.IndexOf(Lf);
        if (end < 0)
        {
            consumed = input.Length;
            return Buffer(input) ? ReplyEvent.NeedMore : ReplyEvent.FramingError;
        }

        consumed = end + 1;
        ReadOnlySpan<byte> whole;
        if (_partial.Length == 0)
        {
            whole = input[..end];
        }
        else
        {
            if (!Buffer(input[..end]))
            {
                return ReplyEvent.FramingError;
            }

            whole = _partial.Written;
            _lineReturned = true;
        }

        EndedWithCrLf = !whole.IsEmpty && whole[^1] == Cr;
        if (EndedWithCrLf)
        {
            whole = whole[..^1];
        }

        if (whole.Length > _maxLineBytes)
        {
            return Fault(ReplyFramingError.LineTooLong, $"reply line longer than {_maxLineBytes} bytes");
        }

        return Classify(whole, out line);
    }

    // Holds one more byte than the maximum, for the CR that may come before the LF.
    private bool Buffer(ReadOnlySpan<byte> bytes)
    {
        int limit = _maxLineBytes + 1;
        if (_partial.Length + bytes.Length > limit)
        {
            Fault(ReplyFramingError.LineTooLong, $"reply line longer than {_maxLineBytes} bytes");
            return false;
        }

        _partial.Append(bytes, limit);
        return true;
    }

    private ReplyEvent ReadFrame(ReadOnlySpan<byte> input, out int consumed, out ReadOnlySpan<byte> line)
    {
        line = default;
        EndedWithCrLf = false;
        int i = 0;
        if (_frameLength < 0)
        {
            if (!_header.TryRead(input, ref i, out uint length))
            {
                consumed = input.Length;
                return ReplyEvent.NeedMore;
            }

            consumed = i;
            if (length > (uint)_maxLineBytes)
            {
                // Said as soon as the header is in, rather than after reading a payload the client would not keep.
                return Fault(ReplyFramingError.FrameTooLong, $"reply frame of {length} bytes (max {_maxLineBytes})");
            }

            if (input.Length - i >= (int)length)
            {
                consumed = i + (int)length;
                return Classify(input.Slice(i, (int)length), out line);
            }

            _frameLength = (int)length;
        }

        int take = Math.Min(_frameLength - _partial.Length, input.Length - i);
        _partial.Append(input.Slice(i, take), _frameLength);
        consumed = i + take;
        if (_partial.Length < _frameLength)
        {
            return ReplyEvent.NeedMore;
        }

        _frameLength = -1;
        _lineReturned = true;
        return Classify(_partial.Written, out line);
    }

    private ReplyEvent ReadRawData(ReadOnlySpan<byte> input, out int consumed, out ReadOnlySpan<byte> data)
    {
        int take = (int)Math.Min(DataRemaining, input.Length);
        consumed = take;
        data = input[..take];
        if (take == 0)
        {
            return ReplyEvent.NeedMore;
        }

        DataRemaining -= take;
        ReplyComplete = DataRemaining == 0;
        return ReplyEvent.Data;
    }

    // File bytes stream through as they arrive, never buffered, so a large file costs no more memory than a small one.
    private ReplyEvent ReadDataFrame(ReadOnlySpan<byte> input, out int consumed, out ReadOnlySpan<byte> data)
    {
        data = default;
        int i = 0;
        if (_dataFrameLeft == 0)
        {
            if (!_header.TryRead(input, ref i, out uint length))
            {
                consumed = input.Length;
                return ReplyEvent.NeedMore;
            }

            consumed = i;
            if (length == 0 || length > MaxDataFrameBytes || length > DataRemaining)
            {
                return Fault(ReplyFramingError.BadDataFrame, $"data frame of {length} bytes with {DataRemaining} file bytes to come");
            }

            _dataFrameLeft = (int)length;
        }

        int take = Math.Min(_dataFrameLeft, input.Length - i);
        consumed = i + take;
        if (take == 0)
        {
            return ReplyEvent.NeedMore;
        }

        data = input.Slice(i, take);
        _dataFrameLeft -= take;
        DataRemaining -= take;
        ReplyComplete = DataRemaining == 0;
        return ReplyEvent.Data;
    }

    // Which part of which reply the line is: inside a block it is the block's, otherwise it starts a reply of the shape
    // the client said, which the line's first bytes confirm or not.
    private ReplyEvent Classify(ReadOnlySpan<byte> whole, out ReadOnlySpan<byte> line)
    {
        line = whole;
        if (BlockLinesRemaining > 0)
        {
            BlockLinesRemaining--;
            LineKind = ReplyLineKind.BlockLine;
            ReplyComplete = BlockLinesRemaining == 0;
            return ReplyEvent.Line;
        }

        ReplyShape shape = _nextShape;
        _nextShape = ReplyShape.Line;
        ReplyComplete = true;
        if (Replies.IsError(whole))
        {
            LineKind = ReplyLineKind.Error;
        }
        else if (shape == ReplyShape.Block && TryParseBlockHeader(whole, out long lines))
        {
            LineKind = ReplyLineKind.BlockHeader;
            Count = lines;
            BlockLinesRemaining = lines;
            ReplyComplete = lines == 0;
        }
        else if (shape == ReplyShape.File && Replies.TryParseOk(whole, out long fileBytes))
        {
            LineKind = ReplyLineKind.FileHeader;
            Count = fileBytes;
            DataRemaining = fileBytes;
            ReplyComplete = fileBytes == 0;
        }
        else
        {
            LineKind = ReplyLineKind.Single;
        }

        return ReplyEvent.Line;
    }

    // `OK n`, or `OK n partial` when a cluster member did not answer WHO: the count ends at the first space after it.
    private static bool TryParseBlockHeader(ReadOnlySpan<byte> line, out long count)
    {
        int prefix = Replies.OkPrefix.Length;
        int space = line.Length > prefix ? line[prefix..].IndexOf((byte)' ') : -1;
        return Replies.TryParseOk(space < 0 ? line : line[..(prefix + space)], out count);
    }

    private ReplyEvent Fault(ReplyFramingError error, string reason)
    {
        FramingError = error;
        FramingErrorReason = reason;
        if (!_lineReturned)
        {
            _partial.Release();
        }

        return ReplyEvent.FramingError;
    }

    // The previous call's line may still point into the buffer, so it is released only on the next call.
    private void ForgetReturnedLine()
    {
        if (_lineReturned)
        {
            _lineReturned = false;
            _partial.Release();
        }
    }
}
