using ActorTcp.Cluster;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.TestKit.Xunit2;

namespace ActorTcp.Tests;

/// <summary>What crosses nodes: small messages of our own, and names in batches far below the remote frame limit.</summary>
public sealed class ClusterSerializerSpecs() : TestKit(ActorMaterializer.DefaultConfig())
{
    /// <summary>Akka.Remote's default maximum-frame-size.</summary>
    private const int RemoteFrameLimit = 128_000;

    private ClusterSerializer Serializer => new((ExtendedActorSystem)Sys);

    private object RoundTrip(object message)
    {
        var serializer = Serializer;
        return serializer.FromBinary(serializer.ToBinary(message), serializer.Manifest(message));
    }

    [Fact]
    public void Queries_and_counts_come_back_as_they_went()
    {
        Assert.Equal(new CountQuery(2), RoundTrip(new CountQuery(2)));
        Assert.Equal(new CountReply(1, 18_000), RoundTrip(new CountReply(1, 18_000)));
        Assert.Equal(new NamesQuery(0), RoundTrip(new NamesQuery(0)));
    }

    [Fact]
    public void A_full_batch_of_the_longest_names_stays_far_below_the_remote_frame_limit()
    {
        // 32 code points of four UTF-8 bytes each: the longest name the dialog accepts.
        var longest = string.Concat(Enumerable.Repeat("\U0001D49C", 32));
        var names = Enumerable.Range(0, NodeRegistry.BatchSize).Select(_ => longest).ToArray();
        var bytes = Serializer.ToBinary(new NameBatch(names));
        Assert.True(bytes.Length < RemoteFrameLimit / 4, $"{bytes.Length} bytes");
        Assert.Equal(names, ((NameBatch)RoundTrip(new NameBatch(names))).Names);
    }

    [Fact]
    public async Task An_offer_carries_a_stream_ref_that_still_streams_after_the_round_trip()
    {
        var materializer = Sys.Materializer();
        var sourceRef = await Source.From(new[] { new NameBatch(["anna", "bob"]), new NameBatch(["zoe"]) })
            .RunWith(StreamRefs.SourceRef<NameBatch>(), materializer);

        var offer = (NamesOffer)RoundTrip(new NamesOffer(4, 3, sourceRef));
        Assert.Equal((4, 3), (offer.Tag, offer.Count));
        var names = await offer.Names.Source.SelectMany(batch => batch.Names).RunWith(Sink.Seq<string>(), materializer);
        Assert.Equal(["anna", "bob", "zoe"], names);
    }
}
