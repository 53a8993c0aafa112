using System.Buffers.Binary;
using System.Text;
using Akka.IO;

namespace ActorTcp.LoadTest.Protocol;

/// <summary>Request bytes for one framing, built once and shared by every client (ByteStrings are immutable).</summary>
internal sealed class Requests
{
    private readonly bool _binary;

    public Requests(bool binary, int payload)
    {
        _binary = binary;
        EchoPayload = Encoding.ASCII.GetBytes(MakePayload(payload));
        Echo = Encode("ECHO " + MakePayload(payload));
        Ping = Encode("PING");
        Quit = Encode("QUIT");
    }

    public ByteString Echo { get; }

    /// <summary>The exact reply line an ECHO must get back.</summary>
    public byte[] EchoPayload { get; }

    public ByteString Ping { get; }

    public ByteString Quit { get; }

    public ByteString Encode(string line)
    {
        var text = Encoding.UTF8.GetBytes(line);
        var bytes = new byte[text.Length + (_binary ? 4 : 1)];
        if (_binary)
        {
            BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)text.Length);
            text.CopyTo(bytes, 4);
        }
        else
        {
            text.CopyTo(bytes, 0);
            bytes[^1] = (byte)'\n';
        }
        return ByteString.FromBytes(bytes);
    }

    /// <summary>Printable, no spaces at either end, so ECHO's reply is byte-for-byte the payload.</summary>
    private static string MakePayload(int length)
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        var chars = new char[length];
        for (var i = 0; i < length; i++)
        {
            chars[i] = alphabet[i % alphabet.Length];
        }
        return new string(chars);
    }
}

/// <summary>Fixed reply lines as bytes, compared without decoding.</summary>
internal static class Replies
{
    public static readonly byte[] Welcome = "Welcome!"u8.ToArray();
    public static readonly byte[] WhatsYourName = "What's your name?"u8.ToArray();
    public static readonly byte[] Pong = "PONG"u8.ToArray();
    public static readonly byte[] Goodbye = "Goodbye!"u8.ToArray();

    public static byte[] Hello(string name) => Encoding.UTF8.GetBytes($"Hello {name}!");

    /// <summary>Reads <c>OK n</c>; anything else is not a GET header.</summary>
    public static bool TryParseOk(ReadOnlySpan<byte> line, out long length)
    {
        length = 0;
        if (line.Length < 4 || !line.StartsWith("OK "u8))
        {
            return false;
        }
        foreach (var b in line[3..])
        {
            if (b is < (byte)'0' or > (byte)'9' || length > (long.MaxValue - 9) / 10)
            {
                return false;
            }
            length = length * 10 + (b - '0');
        }
        return true;
    }
}
