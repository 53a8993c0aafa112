using System.Text.Unicode;
using ActorTcp.Protocol;

namespace ActorTcp.Sessions;

public sealed partial class SessionActor
{
    private static readonly string[] HelpLines =
    [
        "PING - answers PONG",
        "HEARTBEAT - marks you alive; no reply",
        "ECHO <text> - answers <text>",
        "WHO - the connected names: OK <n>, then one per line",
        "LIST [<folder>] - the files served: OK <n>, then <size> <path> per line",
        "GET <path> [<offset> [<length>]] - OK <n>, then n raw bytes of the file",
        "STATS - server counters as key=value pairs",
        "HELP - this list",
        "QUIT - says Goodbye! and closes (EXIT works too)",
    ];

    private void OnRequest(ReadOnlySpan<byte> line)
    {
        if (_phase == Phase.Dialog) OnDialogLine(line);
        else OnCommand(line);
    }

    private void OnDialogLine(ReadOnlySpan<byte> line)
    {
        var request = RequestParser.Parse(line);
        switch (request.Verb)
        {
            case Verb.Blank:
                Reply("What's your name?");
                return;
            case Verb.Quit:
                BeginClose(CloseReason.Quit, "Goodbye!");
                return;
            case Verb.Ping:
                Reply("PONG");
                return;
            case Verb.Heartbeat:
                return;
        }

        if (Names.TryValidate(Decode(line), out var name, out var reason))
        {
            _ticket.Named(name);
            _phase = Phase.Command;
            Reply($"Hello {name}!");
        }
        else
        {
            Reply($"ERR invalid name: {reason}");
            Reply("What's your name?");
        }
    }

    private void OnCommand(ReadOnlySpan<byte> line)
    {
        var request = RequestParser.Parse(line);
        switch (request.Verb)
        {
            case Verb.Blank:
            case Verb.Heartbeat:
                return;
            case Verb.Ping:
                Reply("PONG");
                return;
            case Verb.Echo:
                Echo(line[request.ArgsStart..]);
                return;
            case Verb.Who:
                _phase = Phase.Waiting;
                _ctx.Directory.Tell(WhoRequest.Instance, Self);
                return;
            case Verb.List:
                StartList(Decode(line[request.ArgsStart..]));
                return;
            case Verb.Get:
                StartGet(Decode(line[request.ArgsStart..]));
                return;
            case Verb.Stats:
                Reply(_ctx.Stats.Format(Context.System.Scheduler.Now));
                return;
            case Verb.Help:
                Reply($"OK {HelpLines.Length}");
                foreach (var help in HelpLines) Reply(help);
                return;
            case Verb.Quit:
                BeginClose(CloseReason.Quit, "Goodbye!");
                return;
            default:
                var verb = Decode(line.Slice(request.VerbStart, request.VerbLength));
                Reply($"ERR unknown command: {verb} (try HELP)");
                return;
        }
    }

    private void Echo(ReadOnlySpan<byte> text)
    {
        // Valid UTF-8 goes back byte for byte with no decoding; anything else is decoded so that invalid
        // bytes come back as U+FFFD, the same as every other line the server reads.
        if (_ctx.EncodingIsUtf8 && Utf8.IsValid(text)) _ctx.Encoder.WriteEncodedLine(_output, text);
        else Reply(Decode(text));
    }

    private void OnWhoReply(WhoReply who)
    {
        if (_phase != Phase.Waiting) return;
        Reply($"OK {who.Names.Count}");
        foreach (var name in who.Names) Reply(name);
        _phase = Phase.Command;
        Continue();
    }

    private string Decode(ReadOnlySpan<byte> bytes) => _ctx.Encoder.Encoding.GetString(bytes);
}
