// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using ActorTcp.Sessions;
using Akka.Actor;

namespace ActorTcp.Heartbeat;

/// <summary>
/// Receives the periodic heartbeat tick and closes sessions past their idle or handshake deadline. It sends
/// a message only to a session that is due to close: a tick over 50,000 active sessions sends none.
/// </summary>
internal sealed class HeartbeatSupervisor : UntypedActor, IWithTimers
{
    private readonly DeadlineWheel _wheel;
    private readonly TimeSpan _tick;
    private TickReport _last = new(0, 0, 0, 0);

    public HeartbeatSupervisor(TimeSpan tick, TimeSpan idleTimeout, TimeSpan handshakeTimeout)
    {
        _tick = tick;
        _wheel = new DeadlineWheel(tick, idleTimeout, handshakeTimeout);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(TimeSpan tick, TimeSpan idleTimeout, TimeSpan handshakeTimeout) =>
        Akka.Actor.Props.Create(() => new HeartbeatSupervisor(tick, idleTimeout, handshakeTimeout));

    protected override void PreStart() => Timers.StartPeriodicTimer("heartbeat", HeartbeatTick.Instance, _tick);

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case Track track:
                _wheel.Add(track.Ticket);
                break;
            case HeartbeatTick:
                OnTick();
                break;
            case GetTickReport:
                Sender.Tell(_last);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void OnTick()
    {
        var sent = 0;
        var now = Context.System.Scheduler.Now.UtcTicks;
        var looked = _wheel.Advance(now, (ticket, timeout) =>
        {
            ticket.Session.Tell(timeout, Self);
            sent++;
        });
        _last = new TickReport(_last.Ticks + 1, looked, sent, _wheel.Tracked);
    }
}

/// <summary>Starts watching a new session's deadlines.</summary>
internal sealed record Track(SessionTicket Ticket);

internal sealed class HeartbeatTick
{
    public static readonly HeartbeatTick Instance = new();

    private HeartbeatTick() { }
}

/// <summary>Asks for the cost of the last tick.</summary>
internal sealed class GetTickReport
{
    public static readonly GetTickReport Instance = new();

    private GetTickReport() { }
}

/// <summary>
/// The last tick's cost: sessions looked at, messages sent (one per session told to close), and sessions tracked.
/// </summary>
internal sealed record TickReport(long Ticks, int Checked, int MessagesSent, int Tracked);
