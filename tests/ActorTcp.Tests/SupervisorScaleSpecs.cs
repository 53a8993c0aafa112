using ActorTcp.Sessions;
using ActorTcp.Heartbeat;
using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Xunit.Abstractions;

namespace ActorTcp.Tests;

/// <summary>
/// The heartbeat's cost at 50,000 client actors, counted in messages: a tick sends one message per session
/// that must close, and none for the sessions that are alive.
/// </summary>
public sealed class SupervisorScaleSpecs : TestKit
{
    private readonly ITestOutputHelper _output;

    public SupervisorScaleSpecs(ITestOutputHelper output)
        : base("akka.scheduler.implementation = \"Akka.TestKit.TestScheduler, Akka.TestKit\"", output)
    {
        _output = output;
    }

    private const int Clients = 50_000;

    private TestScheduler Clock => (TestScheduler)Sys.Scheduler;

    /// <summary>A client actor that counts what the supervisor tells it.</summary>
    private sealed class CountingClient(int[] counter) : UntypedActor
    {
        protected override void OnReceive(object message)
        {
            if (message is SessionTimeout) Interlocked.Increment(ref counter[0]);
        }
    }

    [Fact]
    public async Task A_tick_over_50000_active_clients_sends_no_message_and_one_per_idle_client()
    {
        var idle = TimeSpan.FromSeconds(30);
        var supervisor = Sys.ActorOf(HeartbeatSupervisor.Props(TimeSpan.FromSeconds(1), idle, idle));
        var told = new int[1];
        var tickets = new SessionTicket[Clients];
        var start = Clock.Now.UtcTicks;
        for (var i = 0; i < Clients; i++)
        {
            // Connections arrive spread over ten seconds, as they would at a real ramp.
            var opened = start + TimeSpan.FromSeconds(i % 10).Ticks;
            tickets[i] = new SessionTicket(i, System.Net.IPAddress.Loopback, opened)
            {
                Session = Sys.ActorOf(Props.Create(() => new CountingClient(told))),
            };
            tickets[i].Named("c" + i);
            supervisor.Tell(new Track(tickets[i]), TestActor);
        }

        var ticks = new List<TickReport>();
        for (var second = 1; second <= 55; second++)
        {
            // Every client but the first 100 is active once a second, the way heartbeats and traffic touch it.
            var now = Clock.Now.UtcTicks + TimeSpan.FromSeconds(1).Ticks;
            for (var i = 100; i < Clients; i++) tickets[i].Touch(now);
            Clock.Advance(TimeSpan.FromSeconds(1));
            ticks.Add(await supervisor.Ask<TickReport>(GetTickReport.Instance));
        }

        AwaitCondition(() => Volatile.Read(ref told[0]) >= 100);
        var messages = ticks.Sum(t => t.MessagesSent);
        _output.WriteLine($"ticks={ticks.Count} max looked at in a tick={ticks.Max(t => t.Checked)} messages={messages} told={told[0]}");
        // Exactly the 100 silent clients were told, once each, in the 55 s after 30 s idle timeouts (before any is due a second time).
        Assert.Equal(100, messages);
        Assert.Equal(100, told[0]);
        // A tick looks only at the sessions whose deadline slot is due: about a tenth of them per second
        // when the deadlines are spread, never all 50,000.
        Assert.True(ticks.Max(t => t.Checked) <= Clients / 10 + 100, $"a tick looked at {ticks.Max(t => t.Checked)} sessions");
        Assert.Equal(Clients, ticks[^1].Tracked);
    }
}
