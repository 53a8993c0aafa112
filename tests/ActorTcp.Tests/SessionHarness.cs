using System.Text;
using ActorTcp.Configuration;
using ActorTcp.Files;
using ActorTcp.Listening;
using ActorTcp.Sessions;
using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit;
using Microsoft.Extensions.Logging.Abstractions;

namespace ActorTcp.Tests;

/// <summary>Builds sessions over fake connections and reads their output line by line.</summary>
internal sealed class SessionHarness
{
    private readonly StringBuilder _pending = new();
    private readonly List<ConnectionCall> _unclaimed = new();

    private SessionHarness(FakeConnection connection, TestProbe probe, SessionTicket ticket, IActorRef session)
    {
        Connection = connection;
        Probe = probe;
        Ticket = ticket;
        Session = session;
    }

    public FakeConnection Connection { get; }
    public TestProbe Probe { get; }
    public SessionTicket Ticket { get; }
    public IActorRef Session { get; }

    public static ServerSettings Settings(string overrides = "")
    {
        var hocon = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "hocon.conf"));
        var config = ConfigurationFactory.ParseString(overrides).WithFallback(ConfigurationFactory.ParseString(hocon));
        return ServerSettings.FromConfig(config, descriptorLimit: 20_000);
    }

    public static FileService Files(string? root = null) =>
        new(new FileStore(root ?? Path.Combine(AppContext.BaseDirectory, "files")), new DownloadQuota(1000));

    /// <summary>
    /// Starts one session under a stand-in listener that forwards WHO to <paramref name="directory"/> and reports
    /// the session's end to the session's probe as <see cref="Ended"/> and <see cref="Stopped"/>.
    /// </summary>
    public static SessionHarness Start(
        TestKitBase kit, ServerSettings settings, ServerStats stats, IActorRef directory, bool binary = false,
        Action<FakeConnection>? configure = null, long id = 1, string? dispatcher = null)
    {
        var probe = kit.CreateTestProbe();
        var connection = new FakeConnection(probe);
        configure?.Invoke(connection);
        var scheduler = kit.Sys.Scheduler;
        var context = new SessionContext(settings, stats, binary, Files(), new SessionKeys(), NullLogger.Instance, () => scheduler.Now);
        var ticket = new SessionTicket(id, System.Net.IPAddress.Loopback, scheduler.Now.UtcTicks);
        var parent = kit.Sys.ActorOf(Props.Create(() => new ListenerStandIn(directory, probe.Ref)));
        var props = SessionActor.Props(context, connection, ticket);
        parent.Tell(dispatcher is null ? props : props.WithDispatcher(dispatcher), kit.TestActor);
        var session = kit.ExpectMsg<IActorRef>();
        ticket.Session = session;
        return new SessionHarness(connection, probe, ticket, session);
    }

    /// <summary>A parent with the listener's strategy for its session child, and its half of the session's messages.</summary>
    private sealed class ListenerStandIn(IActorRef directory, IActorRef probe) : UntypedActor
    {
        protected override SupervisorStrategy SupervisorStrategy() => ListenerActor.SessionFailures();

        protected override void OnReceive(object message)
        {
            switch (message)
            {
                case Props props:
                    Sender.Tell(Context.ActorOf(props));
                    break;
                case WhoRequest:
                    directory.Forward(message);
                    break;
                case SessionEnded ended:
                    probe.Tell(new Ended(ended.Reason));
                    break;
                case SessionStopped stopped:
                    probe.Tell(new Stopped(stopped.Reason));
                    break;
            }
        }
    }

    public void Send(string text) => Connection.Receive(text);

    /// <summary>Collects written bytes until <paramref name="count"/> whole lines have arrived.</summary>
    public List<string> ExpectLines(int count)
    {
        var lines = new List<string>();
        while (true)
        {
            var text = _pending.ToString();
            int nl;
            while (lines.Count < count && (nl = text.IndexOf('\n')) >= 0)
            {
                lines.Add(text[..nl]);
                text = text[(nl + 1)..];
            }
            _pending.Clear().Append(text);
            if (lines.Count == count) return lines;
            var call = Probe.ExpectMsg<ConnectionCall>(TimeSpan.FromSeconds(5));
            if (call is Wrote wrote) _pending.Append(Encoding.UTF8.GetString(wrote.Bytes));
        }
    }

    public string ExpectLine() => ExpectLines(1)[0];

    /// <summary>Reads past the greeting and the name dialog.</summary>
    public SessionHarness Named(string name = "neo")
    {
        Assert.Equal(["Welcome!", "What's your name?"], ExpectLines(2));
        Send(name + "\n");
        Assert.Equal($"Hello {name}!", ExpectLine());
        return this;
    }

    /// <summary>
    /// The next call of type <typeparamref name="T"/>, skipping reading toggles and collecting writes. Other closing
    /// calls met on the way are kept for a later expectation: what the session tells its listener travels through the
    /// stand-in parent, so it may reach the probe before or after what it asked of its connection.
    /// </summary>
    public T ExpectCall<T>() where T : ConnectionCall
    {
        var kept = _unclaimed.OfType<T>().FirstOrDefault();
        if (kept is not null)
        {
            _unclaimed.Remove(kept);
            return kept;
        }
        while (true)
        {
            var call = Probe.ExpectMsg<ConnectionCall>(TimeSpan.FromSeconds(5));
            if (call is T wanted) return wanted;
            if (call is Wrote wrote) _pending.Append(Encoding.UTF8.GetString(wrote.Bytes));
            else if (call is not (Suspended or Resumed)) _unclaimed.Add(call);
        }
    }
}
