// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using Akka.Actor;

namespace ActorTcp.Cluster;

/// <summary>
/// A message carried inside one of ours (a stream reference, say), written by whichever serializer Akka binds to
/// its type: the serializer's id, its manifest, the bytes. Shared by the server's and the load generator's
/// serializers.
/// </summary>
internal static class NestedMessages
{
    public static void Write(ActorSystem system, BinaryWriter w, object inner)
    {
        var serializer = system.Serialization.FindSerializerFor(inner);
        var bytes = serializer.ToBinary(inner);
        w.Write(serializer.Identifier);
        w.Write(Akka.Serialization.Serialization.ManifestFor(serializer, inner));
        w.Write(bytes.Length);
        w.Write(bytes);
    }

    public static object Read(ActorSystem system, BinaryReader r)
    {
        var id = r.ReadInt32();
        var manifest = r.ReadString();
        var bytes = r.ReadBytes(r.ReadInt32());
        return system.Serialization.Deserialize(bytes, id, manifest);
    }
}
