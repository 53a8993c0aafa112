using System.Buffers.Binary;

namespace ActorTcp.LoadTest.Protocol;

/// <summary>What a <see cref="ReplyReader"/> hands on: reply lines (text lines or frame payloads) and raw file bytes.</summary>
internal interface IReplySink
{
    void OnLine(ReadOnlySpan<byte> line);

    void OnData(ReadOnlySpan<byte> data);

    /// <summary>A reply the reader cannot frame (a runaway line or frame); the client gives up on the connection.</summary>
    void OnFramingError(string reason);

    /// <summary>Once set, the rest of the input is ignored (the client is already failing or closing).</summary>
    bool Halted { get; }
}

/// <summary>
/// Splits the server's byte stream into reply lines, for either listener. After the client sees
/// <c>OK n</c> of a GET it sets <see cref="RawRemaining"/>, and the next n bytes (text) or the payloads
/// adding up to n bytes (binary) go to <see cref="IReplySink.OnData"/> without being buffered.
/// </summary>
internal sealed class ReplyReader(bool binary, int maxReplyBytes)
{
    private byte[] _partial = new byte[256];
    private int _partialLength;
    private readonly byte[] _header = new byte[4];
    private int _headerLength;
    private long _frameLength = -1;
    private long _frameRead;

    public long RawRemaining { get; set; }

    public void Reset()
    {
        _partialLength = 0;
        _headerLength = 0;
        _frameLength = -1;
        _frameRead = 0;
        RawRemaining = 0;
    }

    public void Feed(ReadOnlySpan<byte> data, IReplySink sink)
    {
        if (binary)
        {
            FeedFrames(data, sink);
        }
        else
        {
            FeedLines(data, sink);
        }
    }

    private void FeedLines(ReadOnlySpan<byte> data, IReplySink sink)
    {
        while (!data.IsEmpty && !sink.Halted)
        {
            if (RawRemaining > 0)
            {
                var take = (int)Math.Min(RawRemaining, data.Length);
                RawRemaining -= take;
                sink.OnData(data[..take]);
                data = data[take..];
                continue;
            }
            var end = data.IndexOf((byte)'\n');
            if (end < 0)
            {
                if (!Append(data, sink))
                {
                    return;
                }
                return;
            }
            if (_partialLength > 0)
            {
                if (!Append(data[..end], sink))
                {
                    return;
                }
                var line = _partial.AsSpan(0, _partialLength);
                _partialLength = 0;
                sink.OnLine(TrimCr(line));
            }
            else
            {
                sink.OnLine(TrimCr(data[..end]));
            }
            data = data[(end + 1)..];
        }
    }

    private void FeedFrames(ReadOnlySpan<byte> data, IReplySink sink)
    {
        while (!data.IsEmpty && !sink.Halted)
        {
            if (_frameLength < 0)
            {
                var take = Math.Min(4 - _headerLength, data.Length);
                data[..take].CopyTo(_header.AsSpan(_headerLength));
                _headerLength += take;
                data = data[take..];
                if (_headerLength < 4)
                {
                    return;
                }
                _headerLength = 0;
                _frameLength = BinaryPrimitives.ReadUInt32BigEndian(_header);
                _frameRead = 0;
                if (RawRemaining == 0 && _frameLength > maxReplyBytes)
                {
                    sink.OnFramingError($"reply frame of {_frameLength} bytes");
                    return;
                }
                if (_frameLength == 0)
                {
                    _frameLength = -1;
                    sink.OnLine([]);
                }
                continue;
            }
            var chunk = (int)Math.Min(_frameLength - _frameRead, data.Length);
            var piece = data[..chunk];
            data = data[chunk..];
            _frameRead += chunk;
            var complete = _frameRead == _frameLength;
            if (RawRemaining > 0)
            {
                // File bytes stream through unbuffered; the client checks that the frames add up to n.
                RawRemaining -= Math.Min(RawRemaining, chunk);
                if (complete)
                {
                    _frameLength = -1;
                }
                sink.OnData(piece);
                continue;
            }
            if (complete && _partialLength == 0)
            {
                _frameLength = -1;
                sink.OnLine(piece);
                continue;
            }
            if (!Append(piece, sink))
            {
                return;
            }
            if (complete)
            {
                _frameLength = -1;
                var line = _partial.AsSpan(0, _partialLength);
                _partialLength = 0;
                sink.OnLine(line);
            }
        }
    }

    private bool Append(ReadOnlySpan<byte> bytes, IReplySink sink)
    {
        var needed = _partialLength + bytes.Length;
        if (needed > maxReplyBytes)
        {
            sink.OnFramingError($"reply line longer than {maxReplyBytes} bytes");
            _partialLength = 0;
            return false;
        }
        if (needed > _partial.Length)
        {
            Array.Resize(ref _partial, Math.Max(needed, _partial.Length * 2));
        }
        bytes.CopyTo(_partial.AsSpan(_partialLength));
        _partialLength = needed;
        return true;
    }

    private static ReadOnlySpan<byte> TrimCr(ReadOnlySpan<byte> line) =>
        !line.IsEmpty && line[^1] == (byte)'\r' ? line[..^1] : line;
}
