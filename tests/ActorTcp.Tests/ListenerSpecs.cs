using System.Net;
using System.Text;
using ActorTcp.Listening;
using ActorTcp.Sessions;
using ActorTcp.Supervision;
using Akka.Actor;
using Akka.IO;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;
using Tcp = Akka.IO.Tcp;

namespace ActorTcp.Tests;

/// <summary>
/// The listener with its real bind on port 0, fed connections by test probes standing in for Akka.IO's
/// connection actors: admission limits, the drain on shutdown and crash isolation, without client sockets.
/// </summary>
public sealed class ListenerSpecs(ITestOutputHelper output) : TestKit(output: output)
{
    private readonly ServerStats _stats = new("test", DateTimeOffset.UtcNow);

    private IActorRef StartListener(string settings)
    {
        var s = SessionHarness.Settings("actor-tcp { port = 0, binary-port = off }\n" + settings);
        var supervisor = Sys.ActorOf(HeartbeatSupervisor.Props(s.HeartbeatTick, s.IdleTimeout, s.HandshakeTimeout));
        var status = new BindingStatus();
        var listener = Sys.ActorOf(ListenerActor.Props(s, _stats, supervisor, SessionHarness.Files(), NullLogger.Instance, status));
        Assert.True(status.Bound.Wait(TimeSpan.FromSeconds(10)));
        return listener;
    }

    /// <summary>A probe playing the connection actor: it acknowledges writes and confirms closes.</summary>
    private sealed class ConnectionProbe(TestProbe probe)
    {
        private readonly StringBuilder _text = new();

        public TestProbe Probe { get; } = probe;

        public string Text => _text.ToString();

        public void Connect(IActorRef listener, string remoteIp = "127.0.0.1", int port = 40000) =>
            listener.Tell(new Tcp.Connected(new IPEndPoint(IPAddress.Parse(remoteIp), port), new IPEndPoint(IPAddress.Loopback, 6000)), Probe.Ref);

        /// <summary>Serves the session until it closes; returns what it wrote.</summary>
        public string ServeUntilClosed()
        {
            while (true)
            {
                var message = Probe.ReceiveOne(TimeSpan.FromSeconds(5)) ?? throw new TimeoutException(_text.ToString());
                switch (message)
                {
                    case Tcp.Write write:
                        _text.Append(Encoding.UTF8.GetString(write.Data.ToArray()));
                        if (write.Ack is not Tcp.NoAck) Probe.LastSender.Tell(write.Ack);
                        break;
                    case Tcp.ConfirmedClose:
                        Probe.LastSender.Tell(Tcp.ConfirmedClosed.Instance);
                        return Text;
                    case Tcp.Close:
                        // Sent by a session whose client had half-closed, or by the listener for a refused client.
                        Probe.LastSender.Tell(Tcp.Closed.Instance);
                        return Text;
                }
            }
        }

        /// <summary>Serves the session until <paramref name="text"/> has been written.</summary>
        public void ServeUntil(string text)
        {
            while (!Text.Contains(text))
            {
                var message = Probe.ReceiveOne(TimeSpan.FromSeconds(5)) ?? throw new TimeoutException(_text.ToString());
                if (message is Tcp.Write write)
                {
                    _text.Append(Encoding.UTF8.GetString(write.Data.ToArray()));
                    if (write.Ack is not Tcp.NoAck) Probe.LastSender.Tell(write.Ack);
                }
            }
        }
    }

    private ConnectionProbe NewConnection() => new(CreateTestProbe());

    [Fact]
    public async Task A_client_past_max_connections_gets_server_full_as_its_only_line()
    {
        var listener = StartListener("actor-tcp.max-connections = 2");
        var admitted = new[] { NewConnection(), NewConnection() };
        foreach (var c in admitted)
        {
            c.Connect(listener);
            c.ServeUntil("What's your name?\n");
        }
        var refused = NewConnection();
        refused.Connect(listener);
        Assert.Equal("ERR server full\n", refused.ServeUntilClosed());
        Assert.Equal(1, _stats.Rejected);
        Assert.Equal(2, await listener.Ask<int>(GetConnectionCount.Instance));
    }

    [Fact]
    public async Task A_slot_freed_by_a_leaving_client_admits_the_next_one()
    {
        var listener = StartListener("actor-tcp.max-connections = 1");
        var first = NewConnection();
        first.Connect(listener);
        first.ServeUntil("What's your name?\n");
        first.Probe.LastSender.Tell(Tcp.PeerClosed.Instance);
        first.ServeUntilClosed();
        await AwaitConditionAsync(async () => await listener.Ask<int>(GetConnectionCount.Instance) == 0);
        var second = NewConnection();
        second.Connect(listener);
        second.ServeUntil("What's your name?\n");
    }

    [Fact]
    public void A_second_client_from_one_address_past_the_per_address_limit_is_refused_and_others_are_not()
    {
        var listener = StartListener("actor-tcp.max-connections-per-ip = 1");
        var first = NewConnection();
        first.Connect(listener, "127.0.0.2");
        first.ServeUntil("What's your name?\n");
        var same = NewConnection();
        same.Connect(listener, "127.0.0.2", 40001);
        Assert.Equal("ERR too many connections from your address\n", same.ServeUntilClosed());
        var other = NewConnection();
        other.Connect(listener, "127.0.0.3");
        other.ServeUntil("What's your name?\n");
        Assert.Equal(1, _stats.Closed(CloseReason.PerIpLimit));
    }

    [Fact]
    public void Shutdown_tells_every_client_and_reports_drained_when_they_are_gone()
    {
        var listener = StartListener("");
        var clients = Enumerable.Range(0, 3).Select(_ => NewConnection()).ToList();
        foreach (var c in clients)
        {
            c.Connect(listener);
            c.ServeUntil("What's your name?\n");
        }
        listener.Tell(new Drain(TimeSpan.FromSeconds(5)), TestActor);
        foreach (var c in clients) Assert.EndsWith("ERR server shutting down\n", c.ServeUntilClosed());
        Assert.Equal(0, ExpectMsg<Drained>().Cut);
        Assert.Equal(3, _stats.Closed(CloseReason.Shutdown));
    }

    [Fact]
    public void Stop_accepting_refuses_later_clients_with_the_shutdown_line()
    {
        var listener = StartListener("");
        listener.Tell(StopAccepting.Instance, TestActor);
        ExpectMsg<StoppedAccepting>();
        var late = NewConnection();
        late.Connect(listener);
        Assert.Equal("ERR server shutting down\n", late.ServeUntilClosed());
    }

    /// <summary>A parent with the listener's strategy for its session children.</summary>
    private sealed class SessionParent : UntypedActor
    {
        protected override SupervisorStrategy SupervisorStrategy() => ListenerActor.SessionFailures();

        protected override void OnReceive(object message)
        {
            if (message is Props props) Sender.Tell(Context.ActorOf(props));
        }
    }

    [Fact]
    public void A_crash_inside_one_client_actor_closes_that_client_alone()
    {
        var parent = Sys.ActorOf(Props.Create(() => new SessionParent()));
        var settings = SessionHarness.Settings();
        IActorRef Spawn(Props p)
        {
            parent.Tell(p, TestActor);
            return ExpectMsg<IActorRef>();
        }
        var victim = SessionHarness.Start(this, settings, _stats, TestActor, configure: c => c.ThrowOnWriteContaining = "boom", id: 1, spawn: Spawn).Named("victim");
        var bystander = SessionHarness.Start(this, settings, _stats, TestActor, id: 2, spawn: Spawn).Named("bystander");
        Watch(victim.Session);
        victim.Send("ECHO boom\n");
        ExpectTerminated(victim.Session);
        bystander.Send("PING\n");
        Assert.Equal("PONG", bystander.ExpectLine());
        AwaitCondition(() => _stats.Closed(CloseReason.Crash) == 1);
    }
}
