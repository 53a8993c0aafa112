using System.Buffers;
using System.Text;
using ActorTcp.Files;
using ActorTcp.Protocol;
using ActorTcp.Sessions;

namespace ActorTcp.Tests;

/// <summary>The dialog and the commands as a pure function: a request in, replies and the next step out.</summary>
public sealed class ConversationSpecs
{
    private readonly Conversation _conversation = new(new TextReplyEncoder(Encoding.UTF8, crlf: false), 4096, binary: false, 10_000, _ => "OK version=test");

    private (string Replies, Step Step) Say(string line, bool named)
    {
        var output = new ArrayBufferWriter<byte>();
        var step = _conversation.OnRequest(Encoding.UTF8.GetBytes(line), named, output);
        return (Encoding.UTF8.GetString(output.WrittenSpan), step);
    }

    [Fact]
    public void A_valid_name_is_greeted_and_named()
    {
        var (replies, step) = Say("  José\t", named: false);
        Assert.Equal("Hello José!\n", replies);
        Assert.Equal(StepKind.Named, step.Kind);
        Assert.Equal("José", step.Argument);
    }

    [Fact]
    public void The_command_words_are_never_names()
    {
        Assert.Equal(("PONG\n", StepKind.Continue), Pick(Say("ping", named: false)));
        Assert.Equal(("", StepKind.Continue), Pick(Say("HeartBeat", named: false)));
        Assert.Equal(("Goodbye!\n", StepKind.Close), Pick(Say("Quit", named: false)));
        Assert.Equal(CloseReason.Quit, Say("exit", named: false).Step.Reason);
    }

    [Fact]
    public void An_invalid_name_gets_its_reason_and_the_question_again()
    {
        var (replies, step) = Say("neo anderson", named: false);
        Assert.StartsWith("ERR invalid name: ", replies);
        Assert.EndsWith("\nWhat's your name?\n", replies);
        Assert.Equal(StepKind.Continue, step.Kind);
    }

    [Fact]
    public void Commands_that_need_an_answer_from_elsewhere_say_so_and_write_nothing_yet()
    {
        Assert.Equal(("", StepKind.Who), Pick(Say("who", named: true)));
        var list = Say("LIST \"my folder\"", named: true);
        Assert.Equal(("", StepKind.List), Pick(list));
        Assert.Equal("my folder", list.Step.Argument);
        var get = Say("GET a.txt 5 10", named: true);
        Assert.Equal(StepKind.Get, get.Step.Kind);
        Assert.Equal(new GetRequest("a.txt", "5", "10"), get.Step.Get);
    }

    [Fact]
    public void A_get_with_no_path_or_too_many_arguments_is_refused_at_once()
    {
        Assert.Equal((Replies.GetUsage + "\n", StepKind.Continue), Pick(Say("GET", named: true)));
        Assert.Equal((Replies.GetUsage + "\n", StepKind.Continue), Pick(Say("GET a 1 2 3", named: true)));
    }

    [Fact]
    public void Help_lists_NODES()
    {
        Assert.Contains("\nNODES - ", Say("HELP", named: true).Replies);
    }

    [Fact]
    public void Stats_help_and_unknown_verbs_are_answered_in_place()
    {
        Assert.Equal("OK version=test\n", Say("stats", named: true).Replies);
        Assert.StartsWith($"OK {Conversation.HelpLines.Length}\n", Say("HELP", named: true).Replies);
        Assert.Equal("ERR unknown command: fLy (try HELP)\n", Say("fLy away", named: true).Replies);
    }

    [Fact]
    public void NODES_waits_for_the_directory_and_STATS_does_too_in_cluster_mode_only()
    {
        Assert.Equal(("", StepKind.Nodes), Pick(Say("nodes", named: true)));
        Assert.Equal(("OK version=test\n", StepKind.Continue), Pick(Say("STATS", named: true)));

        var clustered = new Conversation(new TextReplyEncoder(Encoding.UTF8, crlf: false), 4096, binary: false, 10_000,
            c => c is null ? "alone" : $"OK node={c.Node} members={c.Members}", clustered: true);
        var output = new ArrayBufferWriter<byte>();
        Assert.Equal(StepKind.Stats, clustered.OnRequest("STATS"u8, named: true, output).Kind);
        Assert.Equal(0, output.WrittenCount);
        clustered.WriteStats(new ClusterSummary("10.0.0.1:4053", 3, 7, 2), output);
        Assert.Equal("OK node=10.0.0.1:4053 members=3\n", Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Fact]
    public void NODES_lines_show_a_question_mark_for_a_member_that_did_not_answer()
    {
        var output = new ArrayBufferWriter<byte>();
        _conversation.WriteNodes([new NodeLine("10.0.0.1:4053", "up", 12), new NodeLine("10.0.0.2:4053", "unreachable", null)], output);
        Assert.Equal("OK 2\n10.0.0.1:4053 up 12\n10.0.0.2:4053 unreachable ?\n", Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Fact]
    public void A_partial_WHO_says_so_on_its_first_line()
    {
        var output = new ArrayBufferWriter<byte>();
        _conversation.WriteWho(["anna", "neo"], partial: true, output);
        Assert.Equal("OK 2 partial\nanna\nneo\n", Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Fact]
    public void A_get_plan_becomes_its_first_line()
    {
        var request = new GetRequest("a b.txt", null, null);
        string First(GetPlan plan)
        {
            var output = new ArrayBufferWriter<byte>();
            _conversation.WriteGet(request, plan, output);
            return Encoding.UTF8.GetString(output.WrittenSpan);
        }
        Assert.Equal("OK 0\n", First(new GetPlan(GetOutcome.Empty)));
        Assert.Equal("ERR not found: a b.txt\n", First(GetPlan.NotFound));
        Assert.Equal("ERR forbidden: a b.txt\n", First(GetPlan.Forbidden));
        Assert.Equal("ERR bad range\n", First(GetPlan.BadRange));
        Assert.Equal("ERR busy: too many downloads, try again\n", First(GetPlan.Busy));
    }

    private static (string, StepKind) Pick((string Replies, Step Step) said) => (said.Replies, said.Step.Kind);
}
