using System.Text;
using Xunit;

namespace ActorTcp.Protocol.Tests;

public abstract class LineDecoderTestBase
{
    protected static readonly Encoding Utf8 = TextEncodings.Resolve("utf-8");

    /// <summary>Decodes <paramref name="bytes"/> fed whole, and checks that feeding them a byte at a time agrees.</summary>
    protected static List<Decoded> Decode(byte[] bytes, int max = 4096, Encoding? encoding = null, bool finish = true)
    {
        using var whole = new LineDecoder(max, encoding ?? Utf8);
        using var trickled = new LineDecoder(max, encoding ?? Utf8);
        List<Decoded> events = Drive.Whole(whole, bytes, finish, maxBuffered: max);
        Assert.Equal(events, Drive.ByteByByte(trickled, bytes, finish, maxBuffered: max));
        return events;
    }

    protected static List<Decoded> Decode(params object[] parts) => Decode(Wire.Of(parts));

    protected static List<Decoded> Requests(params string[] lines) => lines.Select(Decoded.Request).ToList();
}
