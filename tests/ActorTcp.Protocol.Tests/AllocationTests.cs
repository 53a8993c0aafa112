using Xunit;

namespace ActorTcp.Protocol.Tests;

public sealed class AllocationTests
{
    private static long AllocatedBy(Action action)
    {
        action();
        long before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    private static void DecodeAll(IRequestDecoder decoder, byte[] input)
    {
        ReadOnlySpan<byte> rest = input;
        while (decoder.Decode(rest, out int consumed, out ReadOnlySpan<byte> request) != DecodeEvent.NeedMore)
        {
            RequestParser.Parse(request);
            rest = rest[consumed..];
        }
    }

    [Fact]
    public void Whole_lines_are_decoded_and_parsed_without_allocating()
    {
        byte[] input = Wire.Of(string.Concat(Enumerable.Repeat("PING\nECHO hello world\r\nGET \"a b\" 1 2\n", 1000)));
        using var decoder = new LineDecoder(4096, TextEncodings.Resolve("utf-8"));
        Assert.Equal(0, AllocatedBy(() => DecodeAll(decoder, input)));
    }

    [Fact]
    public void Whole_frames_are_decoded_without_allocating()
    {
        byte[] input = Enumerable.Range(0, 1000).SelectMany(i => Wire.Frame($"ECHO {i}")).ToArray();
        using var decoder = new LengthPrefixDecoder(65536);
        Assert.Equal(0, AllocatedBy(() => DecodeAll(decoder, input)));
    }

    [Fact]
    public void Lines_split_across_spans_reuse_pooled_buffers_without_allocating()
    {
        byte[] input = Wire.Of(string.Concat(Enumerable.Repeat("ECHO a rather long line\n", 200)));
        using var decoder = new LineDecoder(4096, TextEncodings.Resolve("utf-8"));
        byte[][] chunks = Drive.Split(input, [7]).ToArray();
        Assert.Equal(0, AllocatedBy(() =>
        {
            foreach (byte[] chunk in chunks)
            {
                DecodeAll(decoder, chunk);
            }
        }));
    }
}
