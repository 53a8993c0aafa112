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
    public void Stats_help_and_unknown_verbs_are_answered_in_place()
    {
        Assert.Equal("OK version=test\n", Say("stats", named: true).Replies);
        Assert.StartsWith($"OK {Conversation.HelpLines.Length}\n", Say("HELP", named: true).Replies);
        Assert.Equal("ERR unknown command: fLy (try HELP)\n", Say("fLy away", named: true).Replies);
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
