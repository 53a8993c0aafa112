using Akka.Actor;
using Akka.IO;
using Akka.Streams;
using Akka.Streams.Dsl;

namespace ActorTcp.Files;

/// <summary>The served folder plus what every transfer shares: one materializer for the whole server.</summary>
public sealed class FileService(FileStore store, IMaterializer materializer)
{
    /// <summary>Bytes read from the file per chunk; also the largest data frame the binary listener sends.</summary>
    public const int ChunkSize = 64 * 1024;

    public FileStore Store { get; } = store;

    /// <summary>
    /// Streams <paramref name="length"/> bytes from <paramref name="offset"/> to <paramref name="session"/>, one
    /// chunk at a time: the next chunk is read only after the session acknowledges the last one, so a slow reader
    /// holds the file back instead of the server buffering it. The kill switch ends it early.
    /// </summary>
    public UniqueKillSwitch Stream(ServedFile file, long offset, long length, IActorRef session)
    {
        var remaining = length;
        return FileIO.FromFile(new FileInfo(file.FullPath), ChunkSize, offset)
            // One chunk read ahead at most, so a transfer holds a couple of chunks whatever the file's size.
            .WithAttributes(Attributes.CreateInputBuffer(1, 1))
            .Select(chunk =>
            {
                if (chunk.Count > remaining) chunk = chunk.Slice(0, (int)remaining);
                remaining -= chunk.Count;
                return chunk;
            })
            .TakeWhile(chunk => chunk.Count > 0)
            .ViaMaterialized(KillSwitches.Single<ByteString>(), Keep.Right)
            .To(Sink.ActorRefWithAck<ByteString>(
                session, TransferMessages.Init.Instance, TransferMessages.Ack.Instance, TransferMessages.Done.Instance,
                cause => new TransferMessages.Failed(cause)))
            .Run(materializer);
    }
}

/// <summary>What the file stream says to its session, and the session's acknowledgement.</summary>
public static class TransferMessages
{
    public sealed class Init
    {
        public static readonly Init Instance = new();
        private Init() { }
    }

    public sealed class Ack
    {
        public static readonly Ack Instance = new();
        private Ack() { }
    }

    public sealed class Done
    {
        public static readonly Done Instance = new();
        private Done() { }
    }

    public sealed record Failed(Exception Cause);
}
