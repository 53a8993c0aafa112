using System.Net;
using ActorTcp.Listening;

namespace ActorTcp.Tests;

public sealed class AdmissionSpecs
{
    private static readonly IPAddress A = IPAddress.Parse("127.0.0.2");
    private static readonly IPAddress B = IPAddress.Parse("127.0.0.3");

    [Fact]
    public void Clients_past_max_connections_are_refused_as_server_full_until_one_leaves()
    {
        var admission = new Admission(maxConnections: 2, maxPerAddress: 0);
        Assert.Equal(Verdict.Admit, admission.Decide(A, shuttingDown: false));
        Assert.Equal(Verdict.Admit, admission.Decide(B, shuttingDown: false));
        Assert.Equal(Verdict.ServerFull, admission.Decide(A, shuttingDown: false));
        Assert.Equal(2, admission.Count);
        admission.Release(B);
        Assert.Equal(Verdict.Admit, admission.Decide(A, shuttingDown: false));
    }

    [Fact]
    public void The_per_address_limit_refuses_one_address_and_not_another()
    {
        var admission = new Admission(maxConnections: 10, maxPerAddress: 1);
        Assert.Equal(Verdict.Admit, admission.Decide(A, shuttingDown: false));
        Assert.Equal(Verdict.PerIpLimit, admission.Decide(A, shuttingDown: false));
        Assert.Equal(Verdict.Admit, admission.Decide(B, shuttingDown: false));
        admission.Release(A);
        Assert.Equal(Verdict.Admit, admission.Decide(A, shuttingDown: false));
    }

    [Fact]
    public void A_refused_client_takes_no_place()
    {
        var admission = new Admission(maxConnections: 1, maxPerAddress: 1);
        admission.Decide(A, shuttingDown: false);
        admission.Decide(A, shuttingDown: false);
        admission.Decide(B, shuttingDown: false);
        Assert.Equal(1, admission.Count);
    }

    [Fact]
    public void During_shutdown_every_client_is_refused_whatever_the_room()
    {
        var admission = new Admission(maxConnections: 10, maxPerAddress: 0);
        Assert.Equal(Verdict.ShuttingDown, admission.Decide(A, shuttingDown: true));
        Assert.Equal(0, admission.Count);
    }
}

public sealed class LingeringSocketsSpecs
{
    private static readonly IPAddress A = IPAddress.Parse("127.0.0.2");
    private static readonly IPAddress B = IPAddress.Parse("127.0.0.3");

    [Fact]
    public void Past_the_total_bound_the_oldest_lingering_socket_is_closed()
    {
        var lingering = new LingeringSockets<string>(maxTotal: 2, maxPerAddress: 0);
        var evicted = new List<string>();
        lingering.Add("first", A, evicted);
        lingering.Add("second", B, evicted);
        Assert.Empty(evicted);
        lingering.Add("third", A, evicted);
        Assert.Equal(["first"], evicted);
        Assert.Equal(2, lingering.Count);
    }

    [Fact]
    public void Past_the_per_address_bound_the_oldest_of_that_address_is_closed_and_others_stay()
    {
        var lingering = new LingeringSockets<string>(maxTotal: 100, maxPerAddress: 2);
        var evicted = new List<string>();
        lingering.Add("b1", B, evicted);
        lingering.Add("a1", A, evicted);
        lingering.Add("a2", A, evicted);
        lingering.Add("a3", A, evicted);
        Assert.Equal(["a1"], evicted);
        Assert.Equal(["a2", "a3", "b1"], lingering.Items.Order());
        Assert.Equal(3, lingering.Count);
    }

    [Fact]
    public void A_socket_that_closed_by_itself_leaves_the_book_and_frees_its_address()
    {
        var lingering = new LingeringSockets<string>(maxTotal: 100, maxPerAddress: 1);
        var evicted = new List<string>();
        lingering.Add("a1", A, evicted);
        Assert.True(lingering.Remove("a1"));
        Assert.False(lingering.Remove("a1"));
        lingering.Add("a2", A, evicted);
        Assert.Empty(evicted);
    }

    [Fact]
    public void A_client_that_quits_and_reconnects_in_a_loop_never_holds_more_than_the_bound()
    {
        var lingering = new LingeringSockets<int>(maxTotal: 125, maxPerAddress: 0);
        var evicted = new List<int>();
        for (var i = 0; i < 10_000; i++) lingering.Add(i, A, evicted);
        Assert.Equal(125, lingering.Count);
        Assert.Equal(Enumerable.Range(0, 10_000 - 125), evicted);
    }
}
