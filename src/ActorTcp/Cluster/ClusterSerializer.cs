// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Text;
using Akka.Actor;
using Akka.Serialization;
using Akka.Streams;

namespace ActorTcp.Cluster;

/// <summary>
/// Writes the messages that cross nodes (<see cref="IClusterMessage"/>) in a compact binary form of our own, rather
/// than Akka's default JSON: they are few and small, and a stream ref inside an offer must be written by the stream
/// ref serializer that Akka.Streams registers, which JSON would not call.
/// </summary>
internal sealed class ClusterSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    /// <summary>Registered in the cluster configuration; Akka reserves 0-40 for itself.</summary>
    public const int Id = 7301;

    private const string CountQueryManifest = "cq";
    private const string CountReplyManifest = "cr";
    private const string NamesQueryManifest = "nq";
    private const string NamesOfferManifest = "no";
    private const string NameBatchManifest = "nb";
    private const string HeartbeatManifest = "hb";

    public override int Identifier => Id;

    public override string Manifest(object o) => o switch
    {
        CountQuery => CountQueryManifest,
        CountReply => CountReplyManifest,
        NamesQuery => NamesQueryManifest,
        NamesOffer => NamesOfferManifest,
        NameBatch => NameBatchManifest,
        RemoteHeartbeat => HeartbeatManifest,
        _ => throw new ArgumentException($"cannot serialize {o.GetType()}", nameof(o)),
    };

    public override byte[] ToBinary(object obj)
    {
        using var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            switch (obj)
            {
                case CountQuery q:
                    w.Write(q.Tag);
                    break;
                case CountReply r:
                    w.Write(r.Tag);
                    w.Write(r.Connections);
                    break;
                case NamesQuery q:
                    w.Write(q.Tag);
                    break;
                case NamesOffer o:
                    w.Write(o.Tag);
                    w.Write(o.Count);
                    NestedMessages.Write(system, w, o.Names);
                    break;
                case NameBatch b:
                    w.Write(b.Names.Length);
                    foreach (var name in b.Names) w.Write(name);
                    break;
                case RemoteHeartbeat h:
                    w.Write(h.Key.Length);
                    w.Write(h.Key);
                    break;
                default:
                    throw new ArgumentException($"cannot serialize {obj.GetType()}", nameof(obj));
            }
        }
        return buffer.ToArray();
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        using var r = new BinaryReader(new MemoryStream(bytes), Encoding.UTF8);
        switch (manifest)
        {
            case CountQueryManifest:
                return new CountQuery(r.ReadInt32());
            case CountReplyManifest:
                return new CountReply(r.ReadInt32(), r.ReadInt64());
            case NamesQueryManifest:
                return new NamesQuery(r.ReadInt32());
            case NamesOfferManifest:
                var tag = r.ReadInt32();
                var count = r.ReadInt32();
                return new NamesOffer(tag, count, (ISourceRef<NameBatch>)NestedMessages.Read(system, r));
            case NameBatchManifest:
                var names = new string[r.ReadInt32()];
                for (var i = 0; i < names.Length; i++) names[i] = r.ReadString();
                return new NameBatch(names);
            case HeartbeatManifest:
                return new RemoteHeartbeat(r.ReadBytes(Math.Min(r.ReadInt32(), Sessions.SessionKeys.KeyBytes)));
            default:
                throw new System.Runtime.Serialization.SerializationException($"unknown manifest '{manifest}'");
        }
    }
}
