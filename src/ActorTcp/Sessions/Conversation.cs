using System.Buffers;
using System.Text.Unicode;
using ActorTcp.Files;
using ActorTcp.Protocol;

namespace ActorTcp.Sessions;

/// <summary>What the session does after a request (see <see cref="Conversation.OnRequest"/>).</summary>
internal enum StepKind
{
    /// <summary>The replies are written; read the next request.</summary>
    Continue,
    /// <summary>The client chose a name (<see cref="Step.Argument"/>); the session is in command mode now.</summary>
    Named,
    /// <summary>The last line is written; close with <see cref="Step.Reason"/>.</summary>
    Close,
    /// <summary>WHO: ask the directory for the names; requests wait for the answer.</summary>
    Who,
    /// <summary>LIST of the folder in <see cref="Step.Argument"/>; requests wait for the answer.</summary>
    List,
    /// <summary>GET of <see cref="Step.Get"/>; requests wait until the transfer is over.</summary>
    Get,
    /// <summary>KEY: answer with the session's key for UDP heartbeats (<see cref="Conversation.WriteKey"/>).</summary>
    Key,
    /// <summary>NODES: ask the directory for the servers; requests wait for the answer.</summary>
    Nodes,
    /// <summary>STATS in cluster mode: ask the cluster registry for the cluster keys; requests wait for the answer.</summary>
    Stats,
}

internal readonly record struct Step(StepKind Kind, CloseReason Reason = default, string? Argument = null, GetRequest? Get = null)
{
    public static readonly Step Continue = new(StepKind.Continue);
    public static readonly Step Who = new(StepKind.Who);
    public static readonly Step Key = new(StepKind.Key);
    public static readonly Step Nodes = new(StepKind.Nodes);
    public static readonly Step Stats = new(StepKind.Stats);
}

/// <summary>
/// The name dialog and the commands of docs/PROTOCOL.md, as a pure function: a request in, its replies written to
/// the output and the next step out. It holds no per-client state (whether the client is named is passed in), so
/// one instance serves every session of a listener, and it is tested without actors or sockets.
/// <paramref name="statsLine"/> formats STATS with the cluster keys it is given (null: a server alone); when
/// <paramref name="clustered"/>, STATS waits for the cluster's answer like WHO.
/// </summary>
internal sealed class Conversation(
    IReplyEncoder encoder, int maxLineOrFrameBytes, bool binary, int maxListEntries, Func<ClusterSummary?, string> statsLine,
    bool clustered = false)
{
    internal static readonly string[] HelpLines =
    [
        "PING - answers PONG",
        "HEARTBEAT - marks you alive; no reply",
        "ECHO <text> - answers <text>",
        "WHO - the connected names: OK <n>, then one per line",
        "LIST [<folder>] - the files served: OK <n>, then <size> <path> per line",
        "GET <path> [<offset> [<length>]] - OK <n>, then n raw bytes of the file",
        "STATS - server counters as key=value pairs",
        "KEY - your key for UDP heartbeats: OK <key>",
        "NODES - the servers of the cluster: OK <n>, then <address> <status> <connections> per line",
        "HELP - this list",
        "QUIT - says Goodbye! and closes (EXIT works too)",
    ];

    private readonly bool _utf8 = encoder.Encoding.CodePage == 65001;
    private readonly string _tooLong = binary ? Replies.FrameTooLong(maxLineOrFrameBytes) : Replies.LineTooLong(maxLineOrFrameBytes);
    // The answer to PING, the one request a heartbeating client sends, already in this listener's encoding.
    private readonly byte[] _pong = encoder.Encoding.GetBytes(Replies.Pong);

    public IReplyEncoder Encoder => encoder;

    public void Greet(IBufferWriter<byte> output)
    {
        Reply(output, Replies.Welcome);
        Reply(output, Replies.AskName);
    }

    /// <summary>A line or frame past its limit: one error, and the name question again while in the dialog.</summary>
    public void OnTooLong(bool named, IBufferWriter<byte> output)
    {
        Reply(output, _tooLong);
        if (!named) Reply(output, Replies.AskName);
    }

    public Step OnRequest(ReadOnlySpan<byte> line, bool named, IBufferWriter<byte> output) =>
        named ? OnCommand(line, output) : OnDialogLine(line, output);

    private Step OnDialogLine(ReadOnlySpan<byte> line, IBufferWriter<byte> output)
    {
        switch (RequestParser.Parse(line).Verb)
        {
            case Verb.Blank:
                Reply(output, Replies.AskName);
                return Step.Continue;
            case Verb.Quit:
                Reply(output, Replies.Goodbye);
                return new Step(StepKind.Close, CloseReason.Quit);
            case Verb.Ping:
                encoder.WriteEncodedLine(output, _pong);
                return Step.Continue;
            case Verb.Heartbeat:
                return Step.Continue;
        }

        if (Names.TryValidate(Decode(line), out var name, out var reason))
        {
            Reply(output, Replies.Hello(name));
            return new Step(StepKind.Named, Argument: name);
        }
        Reply(output, Replies.InvalidName(reason));
        Reply(output, Replies.AskName);
        return Step.Continue;
    }

    private Step OnCommand(ReadOnlySpan<byte> line, IBufferWriter<byte> output)
    {
        var request = RequestParser.Parse(line);
        switch (request.Verb)
        {
            case Verb.Blank:
            case Verb.Heartbeat:
                return Step.Continue;
            case Verb.Ping:
                encoder.WriteEncodedLine(output, _pong);
                return Step.Continue;
            case Verb.Echo:
                Echo(line[request.ArgsStart..], output);
                return Step.Continue;
            case Verb.Who:
                return Step.Who;
            case Verb.Key:
                return Step.Key;
            case Verb.List:
                return StartList(Decode(line[request.ArgsStart..]), output);
            case Verb.Get:
                return StartGet(Decode(line[request.ArgsStart..]), output);
            case Verb.Stats:
                if (clustered) return Step.Stats;
                Reply(output, statsLine(null));
                return Step.Continue;
            case Verb.Nodes:
                return Step.Nodes;
            case Verb.Help:
                Reply(output, Replies.Ok(HelpLines.Length));
                foreach (var help in HelpLines) Reply(output, help);
                return Step.Continue;
            case Verb.Quit:
                Reply(output, Replies.Goodbye);
                return new Step(StepKind.Close, CloseReason.Quit);
            default:
                Reply(output, Replies.UnknownCommand(Decode(line.Slice(request.VerbStart, request.VerbLength))));
                return Step.Continue;
        }
    }

    private void Echo(ReadOnlySpan<byte> text, IBufferWriter<byte> output)
    {
        // Valid UTF-8 goes back byte for byte with no decoding; anything else is decoded so that invalid
        // bytes come back as U+FFFD, the same as every other line the server reads.
        if (_utf8 && Utf8.IsValid(text)) encoder.WriteEncodedLine(output, text);
        else Reply(output, Decode(text));
    }

    private Step StartList(string args, IBufferWriter<byte> output)
    {
        var tokens = new List<string>(2);
        if (!Arguments.TrySplit(args, tokens, out var error))
            return Refuse(output, Replies.ListUsage(error!));
        return new Step(StepKind.List, Argument: tokens.Count > 0 ? tokens[0] : "");
    }

    private Step StartGet(string args, IBufferWriter<byte> output)
    {
        var tokens = new List<string>(3);
        if (!Arguments.TrySplit(args, tokens, out _) || tokens.Count is 0 or > 3) return Refuse(output, Replies.GetUsage);
        return new Step(StepKind.Get, Get: new GetRequest(tokens[0], tokens.Count > 1 ? tokens[1] : null, tokens.Count > 2 ? tokens[2] : null));
    }

    private Step Refuse(IBufferWriter<byte> output, string line)
    {
        Reply(output, line);
        return Step.Continue;
    }

    /// <summary>The answer to WHO: the names, already sorted by the directory; partial when a member did not answer.</summary>
    public void WriteWho(IReadOnlyList<string> names, bool partial, IBufferWriter<byte> output)
    {
        Reply(output, partial ? Replies.OkPartial(names.Count) : Replies.Ok(names.Count));
        foreach (var name in names) Reply(output, name);
    }

    public void WriteKey(string key, IBufferWriter<byte> output) => Reply(output, Replies.OkPrefix + key);
    /// <summary>The answer to NODES: one line per server, already sorted; <c>?</c> for a server that did not answer.</summary>
    public void WriteNodes(IReadOnlyList<NodeLine> nodes, IBufferWriter<byte> output)
    {
        Reply(output, Replies.Ok(nodes.Count));
        foreach (var node in nodes)
            Reply(output, $"{node.Address} {node.Status} {(node.Connections is { } n ? n.ToString(System.Globalization.CultureInfo.InvariantCulture) : "?")}");
    }

    /// <summary>The answer to STATS in cluster mode, once the members have answered.</summary>
    public void WriteStats(ClusterSummary cluster, IBufferWriter<byte> output) => Reply(output, statsLine(cluster));

    public void WriteList(string folder, ListResult result, IBufferWriter<byte> output)
    {
        if (result.TooMany) Reply(output, Replies.TooManyFiles(maxListEntries));
        else if (result.Status == LookupStatus.NotFound) Reply(output, Replies.NotFound(folder));
        else if (result.Status == LookupStatus.Forbidden) Reply(output, Replies.Forbidden(folder));
        else
        {
            Reply(output, Replies.Ok(result.Entries.Count));
            foreach (var entry in result.Entries) Reply(output, $"{entry.Size} {Arguments.QuotePath(entry.Path)}");
        }
    }

    /// <summary>The first line of a GET's answer: <c>OK n</c> when the bytes follow, else why not.</summary>
    public void WriteGet(GetRequest request, GetPlan plan, IBufferWriter<byte> output) => Reply(output, plan.Outcome switch
    {
        GetOutcome.Ready or GetOutcome.Empty => Replies.Ok(plan.Length),
        GetOutcome.NotFound => Replies.NotFound(request.Path),
        GetOutcome.Forbidden => Replies.Forbidden(request.Path),
        GetOutcome.BadRange => Replies.BadRange,
        _ => Replies.Busy,
    });

    public void Reply(IBufferWriter<byte> output, string line) => encoder.WriteLine(output, line);

    private string Decode(ReadOnlySpan<byte> bytes) => encoder.Encoding.GetString(bytes);
}
