using System.Buffers;
using ActorTcp.Protocol;

namespace ActorTcp.LoadTest.Tests;

/// <summary>Replies framed by the server's own encoder, so the tests play a server that frames exactly as the real one.</summary>
internal static class ServerFrames
{
    public static byte[] Frame(string line)
    {
        var output = new ArrayBufferWriter<byte>();
        BinaryReplyEncoder.Instance.WriteLine(output, line);
        return output.WrittenSpan.ToArray();
    }

    public static byte[] Frame(byte[] payload)
    {
        var output = new ArrayBufferWriter<byte>();
        BinaryReplyEncoder.Instance.WriteEncodedLine(output, payload);
        return output.WrittenSpan.ToArray();
    }
}
