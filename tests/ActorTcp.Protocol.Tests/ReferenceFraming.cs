using System.Buffers.Binary;
using System.Text;

namespace ActorTcp.Protocol.Tests;

/// <summary>
/// The framing rules written the slow, obvious way, for property tests to compare the decoders against: the whole
/// stream at once, telnet filtering as a first pass, lines as a second, erasure by decoding the line from its start.
/// </summary>
internal static class ReferenceFraming
{
    private const int TimingMarkToken = -1;

    public static List<Decoded> Lines(byte[] raw, int max, Encoding encoding)
    {
        var events = new List<Decoded>();
        var line = new List<byte>();
        bool discarding = false, pendingCr = false, dropLf = false;

        void EndLine()
        {
            if (discarding)
            {
                discarding = false;
            }
            else
            {
                events.Add(Decoded.Request(line.ToArray()));
            }

            line.Clear();
        }

        void AddData(byte b)
        {
            if (discarding)
            {
                return;
            }

            if (line.Count == max)
            {
                discarding = true;
                line.Clear();
                events.Add(Decoded.TooLong);
                return;
            }

            line.Add(b);
        }

        foreach (int token in TelnetFiltered(raw))
        {
            if (token == TimingMarkToken)
            {
                events.Add(Decoded.TimingMark);
                continue;
            }

            byte b = (byte)token;
            if (dropLf)
            {
                dropLf = false;
                if (b == '\n')
                {
                    continue;
                }
            }

            if (pendingCr)
            {
                pendingCr = false;
                if (b == '\n')
                {
                    EndLine();
                    continue;
                }

                if (b == 0)
                {
                    dropLf = true;
                    EndLine();
                    continue;
                }

                AddData((byte)'\r');
            }

            if (b == '\n')
            {
                EndLine();
            }
            else if (b == '\r')
            {
                pendingCr = true;
            }
            else if (b is 8 or 127)
            {
                if (!discarding && line.Count > 0)
                {
                    int start = StartOfLastCharacter([.. line], encoding);
                    line.RemoveRange(start, line.Count - start);
                }
            }
            else
            {
                AddData(b);
            }
        }

        if (!discarding && line.Count > 0)
        {
            events.Add(Decoded.Request(line.ToArray()));
        }

        return events;
    }

    public static List<Decoded> Frames(byte[] raw, int max)
    {
        var events = new List<Decoded>();
        long at = 0;
        while (raw.Length - at >= 4)
        {
            uint length = BinaryPrimitives.ReadUInt32BigEndian(raw.AsSpan((int)at));
            at += 4;
            if (length > max)
            {
                events.Add(Decoded.TooLong);
                at += length;
                continue;
            }

            if (raw.Length - at < length)
            {
                break;
            }

            events.Add(Decoded.Request(raw[(int)at..(int)(at + length)]));
            at += length;
        }

        return events;
    }

    /// <summary>
    /// Where the last character starts: the longest prefix of the line that shows as the line's characters without
    /// its last one (a surrogate pair being one character), decoding from the line's start each time.
    /// </summary>
    public static int StartOfLastCharacter(byte[] line, Encoding encoding)
    {
        var replacing = (Encoding)encoding.Clone();
        replacing.DecoderFallback = new DecoderReplacementFallback("\uFFFD");
        string shown = replacing.GetString(line);
        int last = shown.Length >= 2 && char.IsSurrogatePair(shown[^2], shown[^1]) ? 2 : 1;
        string wanted = shown[..^last];
        for (int keep = line.Length - 1; keep >= 0; keep--)
        {
            if (replacing.GetString(line, 0, keep) == wanted)
            {
                return keep;
            }
        }

        return line.Length - 1;
    }

    // Data bytes as 0..255, DO TIMING-MARK as -1; an unfinished command at the end is dropped.
    private static List<int> TelnetFiltered(byte[] raw)
    {
        var tokens = new List<int>();
        int i = 0;
        while (i < raw.Length)
        {
            if (raw[i] != 255)
            {
                tokens.Add(raw[i++]);
                continue;
            }

            if (i + 1 >= raw.Length)
            {
                break;
            }

            byte command = raw[i + 1];
            if (command == 255)
            {
                tokens.Add(255);
                i += 2;
            }
            else if (command >= 251)
            {
                if (i + 2 >= raw.Length)
                {
                    break;
                }

                if (command == 253 && raw[i + 2] == 6)
                {
                    tokens.Add(TimingMarkToken);
                }

                i += 3;
            }
            else if (command == 250)
            {
                i = AfterSubnegotiation(raw, i + 2);
            }
            else if (command >= 240)
            {
                i += 2;
            }
            else
            {
                tokens.Add(255);
                tokens.Add(command);
                i += 2;
            }
        }

        return tokens;
    }

    // The bytes after IAC SB: up to and including IAC SE, but never more than 64 of them.
    private static int AfterSubnegotiation(byte[] raw, int start)
    {
        int end = Math.Min(raw.Length, start + 64);
        for (int j = start; j < end; j++)
        {
            if (raw[j] == 255 && j + 1 < end)
            {
                if (raw[j + 1] == 240)
                {
                    return j + 2;
                }

                j++;
            }
        }

        return start + 64;
    }
}
