// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.

namespace ActorTcp.Protocol;

/// <summary>
/// Binary framing (PROTOCOL.md "Binary framing"): a 4-byte unsigned big-endian length, then that many payload bytes.
/// </summary>
public sealed class LengthPrefixDecoder : IRequestDecoder
{

    private readonly int _maxFrameBytes;
    private PooledBuffer _payload;
    private FrameHeader _header;
    private int _frameLength = -1;
    private long _skipBytes;
    private bool _frameReturned;
    private bool _disposed;

    public LengthPrefixDecoder(int maxFrameBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxFrameBytes);
        _maxFrameBytes = maxFrameBytes;
    }

    public int BufferedBytes => _header.BufferedBytes + _payload.Length;

    public DecodeEvent Decode(ReadOnlySpan<byte> input, out int consumed, out ReadOnlySpan<byte> request)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ForgetReturnedFrame();
        request = default;
        int i = 0;
        while (true)
        {
            if (_skipBytes > 0)
            {
                // A long, not an int: the header may announce up to 4 GiB - 1 bytes to skip.
                int skipped = (int)Math.Min(_skipBytes, input.Length - i);
                i += skipped;
                _skipBytes -= skipped;
                if (_skipBytes > 0)
                {
                    break;
                }
            }

            if (_frameLength < 0)
            {
                if (!_header.TryRead(input, ref i, out uint length))
                {
                    break;
                }

                if (length > (uint)_maxFrameBytes)
                {
                    // Said at once, before the payload arrives, so a client that sends a huge frame hears why early.
                    _skipBytes = length;
                    consumed = i;
                    return DecodeEvent.TooLong;
                }

                if (input.Length - i >= (int)length)
                {
                    request = input.Slice(i, (int)length);
                    consumed = i + (int)length;
                    return DecodeEvent.Request;
                }

                _frameLength = (int)length;
            }

            int take = Math.Min(_frameLength - _payload.Length, input.Length - i);
            _payload.Append(input.Slice(i, take), _frameLength);
            i += take;
            if (_payload.Length < _frameLength)
            {
                break;
            }

            _frameLength = -1;
            _frameReturned = true;
            request = _payload.Written;
            consumed = i;
            return DecodeEvent.Request;
        }

        consumed = input.Length;
        return DecodeEvent.NeedMore;
    }

    public DecodeEvent Finish(out ReadOnlySpan<byte> request)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ForgetReturnedFrame();
        _payload.Release();
        _header.Reset();
        _frameLength = -1;
        _skipBytes = 0;
        request = default;
        return DecodeEvent.NeedMore;
    }

    public void Dispose()
    {
        _disposed = true;
        _payload.Release();
    }

    // The previous call's request may still point into the buffer, so it is released only on the next call.
    private void ForgetReturnedFrame()
    {
        if (_frameReturned)
        {
            _frameReturned = false;
            _payload.Release();
        }
    }
}
