// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Buffers;
using System.Text;

namespace ActorTcp.Protocol;

/// <summary>
/// Text framing (PROTOCOL.md "Text framing"): telnet negotiation removed from the raw stream, then lines cut at LF
/// (or CR NUL), BS/DEL applied, and lines longer than the maximum reported once and skipped.
/// </summary>
public sealed class LineDecoder : IRequestDecoder
{
    private const byte Lf = (byte)'\n';
    private const byte Cr = (byte)'\r';
    private const byte Nul = 0;
    private const byte Bs = 8;
    private const byte Del = 127;

    // Every byte that can change the meaning of the bytes around it; runs of anything else are plain data.
    private static readonly SearchValues<byte> Special = SearchValues.Create([Lf, Cr, Telnet.Iac, Bs, Del]);

    private readonly int _maxLineBytes;
    private readonly CharacterEraser _eraser;
    private PooledBuffer _line;
    private TelnetState _telnet;
    private byte _optionCommand;
    private int _subnegotiationBytes;
    private bool _pendingCr;
    private bool _dropLf;
    private bool _discarding;
    private bool _lineReturned;
    private bool _disposed;

    public LineDecoder(int maxLineBytes, Encoding encoding)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxLineBytes);
        ArgumentNullException.ThrowIfNull(encoding);
        _maxLineBytes = maxLineBytes;
        _eraser = CharacterEraser.For(encoding);
    }

    private enum TelnetState : byte
    {
        Data,
        Iac,
        Option,
        Subnegotiation,
        SubnegotiationIac,
    }

    public int BufferedBytes => _line.Length;

    public DecodeEvent Decode(ReadOnlySpan<byte> input, out int consumed, out ReadOnlySpan<byte> request)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ForgetReturnedLine();
        request = default;

        int start = 0;
        if (_dropLf && _telnet == TelnetState.Data && !input.IsEmpty && input[0] != Telnet.Iac)
        {
            _dropLf = false;
            start = input[0] == Lf ? 1 : 0;
        }

        if (_telnet == TelnetState.Data && !_pendingCr && !_dropLf && !_discarding && _line.Length == 0)
        {
            // The common case: a whole line with nothing special before its end, handed out without a copy.
            ReadOnlySpan<byte> rest = input[start..];
            int end = rest.IndexOfAny(Special);
            if (end >= 0 && end <= _maxLineBytes)
            {
                if (rest[end] == Lf)
                {
                    request = rest[..end];
                    consumed = start + end + 1;
                    return DecodeEvent.Request;
                }

                if (rest[end] == Cr && end + 1 < rest.Length && rest[end + 1] == Lf)
                {
                    request = rest[..end];
                    consumed = start + end + 2;
                    return DecodeEvent.Request;
                }
            }
        }

        DecodeEvent found = DecodeSlowly(input, start, out consumed);
        if (found == DecodeEvent.Request)
        {
            request = _line.Written;
        }

        return found;
    }

    public DecodeEvent Finish(out ReadOnlySpan<byte> request)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ForgetReturnedLine();

        // An unfinished telnet command and a CR still waiting for its next byte are dropped: a client that sends
        // "PING\r" and closes meant the line "PING", the LF just never came.
        bool hasLine = !_discarding && _line.Length > 0;
        _telnet = TelnetState.Data;
        _subnegotiationBytes = 0;
        _pendingCr = false;
        _dropLf = false;
        _discarding = false;
        if (hasLine)
        {
            _lineReturned = true;
            request = _line.Written;
            return DecodeEvent.Request;
        }

        _line.Release();
        request = default;
        return DecodeEvent.NeedMore;
    }

    public void Dispose()
    {
        _disposed = true;
        _line.Release();
    }

    // The previous call's request may still point into the buffer, so it is released only on the next call.
    private void ForgetReturnedLine()
    {
        if (_lineReturned)
        {
            _lineReturned = false;
            _line.Release();
        }
    }

    private DecodeEvent DecodeSlowly(ReadOnlySpan<byte> input, int i, out int consumed)
    {
        DecodeEvent found = DecodeEvent.NeedMore;
        while (i < input.Length && found == DecodeEvent.NeedMore)
        {
            byte b = input[i++];
            switch (_telnet)
            {
                case TelnetState.Data when b == Telnet.Iac:
                    _telnet = TelnetState.Iac;
                    break;

                case TelnetState.Data when !_pendingCr && !_dropLf && !Special.Contains(b):
                    found = PlainRun(input, ref i);
                    break;

                case TelnetState.Data:
                    found = DataByte(b);
                    break;

                case TelnetState.Iac:
                    found = Command(b);
                    break;

                case TelnetState.Option:
                    _telnet = TelnetState.Data;
                    if (_optionCommand == Telnet.Do && b == Telnet.TimingMark)
                    {
                        found = DecodeEvent.TimingMark;
                    }

                    break;

                case TelnetState.Subnegotiation:
                    // Every byte after the SB byte counts toward the limit, the option code included; the byte that
                    // reaches it is the last one swallowed, and the next is read as ordinary stream again.
                    _subnegotiationBytes++;
                    if (_subnegotiationBytes >= Telnet.MaxSubnegotiationBytes)
                    {
                        _telnet = TelnetState.Data;
                    }
                    else if (b == Telnet.Iac)
                    {
                        _telnet = TelnetState.SubnegotiationIac;
                    }

                    break;

                case TelnetState.SubnegotiationIac:
                    // IAC SE ends it; any other IAC pair (IAC IAC is an escaped 255) stays inside it.
                    _subnegotiationBytes++;
                    _telnet = b == Telnet.Se || _subnegotiationBytes >= Telnet.MaxSubnegotiationBytes
                        ? TelnetState.Data
                        : TelnetState.Subnegotiation;
                    break;
            }
        }

        consumed = i;
        return found;
    }

    // Plain bytes go in bulk: found with a vectorized search, copied with one call.
    private DecodeEvent PlainRun(ReadOnlySpan<byte> input, ref int i)
    {
        int start = i - 1;
        int length = input[start..].IndexOfAny(Special);
        if (length < 0)
        {
            length = input.Length - start;
        }

        if (_discarding)
        {
            i = start + length;
            return DecodeEvent.NeedMore;
        }

        int room = _maxLineBytes - _line.Length;
        if (length > room)
        {
            // Consume exactly through the first byte past the limit, the moment the line becomes too long.
            i = start + room + 1;
            StartDiscarding();
            return DecodeEvent.TooLong;
        }

        _line.Append(input.Slice(start, length), _maxLineBytes);
        i = start + length;
        return DecodeEvent.NeedMore;
    }

    private DecodeEvent Command(byte b)
    {
        _telnet = TelnetState.Data;
        switch (b)
        {
            case Telnet.Iac:
                return DataByte(Telnet.Iac);

            case >= Telnet.Will:
                _optionCommand = b;
                _telnet = TelnetState.Option;
                return DecodeEvent.NeedMore;

            case Telnet.Sb:
                _subnegotiationBytes = 0;
                _telnet = TelnetState.Subnegotiation;
                return DecodeEvent.NeedMore;

            case >= Telnet.Se:
                return DecodeEvent.NeedMore;

            default:
                // Not a telnet command, so the IAC was data all along, and so is the byte after it.
                DecodeEvent first = DataByte(Telnet.Iac);
                if (first == DecodeEvent.TooLong)
                {
                    // Now discarding, where a byte yields no event but may still end the discarded line.
                    DataByte(b);
                    return first;
                }

                return DataByte(b);
        }
    }

    private DecodeEvent DataByte(byte b)
    {
        if (_dropLf)
        {
            _dropLf = false;
            if (b == Lf)
            {
                return DecodeEvent.NeedMore;
            }
        }

        if (_pendingCr)
        {
            _pendingCr = false;
            if (b == Lf)
            {
                return EndLine();
            }

            if (b == Nul)
            {
                _dropLf = true;
                return EndLine();
            }

            if (Append(Cr) == DecodeEvent.TooLong)
            {
                // The CR was the byte too many; `b` is read in discarding mode, where it yields no event.
                DataByte(b);
                return DecodeEvent.TooLong;
            }
        }

        switch (b)
        {
            case Lf:
                return EndLine();
            case Cr:
                // Data or part of a line end: only the next byte tells, and it may be in the next input span.
                _pendingCr = true;
                return DecodeEvent.NeedMore;
            case Bs or Del:
                if (!_discarding && _line.Length > 0)
                {
                    _line.Truncate(_eraser.StartOfLast(_line.Written));
                }

                return DecodeEvent.NeedMore;
            default:
                return Append(b);
        }
    }

    private DecodeEvent Append(byte b)
    {
        if (_discarding)
        {
            return DecodeEvent.NeedMore;
        }

        if (_line.Length >= _maxLineBytes)
        {
            StartDiscarding();
            return DecodeEvent.TooLong;
        }

        _line.Append(b, _maxLineBytes);
        return DecodeEvent.NeedMore;
    }

    private DecodeEvent EndLine()
    {
        if (_discarding)
        {
            _discarding = false;
            return DecodeEvent.NeedMore;
        }

        _lineReturned = true;
        return DecodeEvent.Request;
    }

    private void StartDiscarding()
    {
        _discarding = true;
        _line.Release();
    }
}
