using ActorTcp.Sessions;
using ActorTcp.LoadTest.Clients;
using Akka.Actor;

namespace ActorTcp.LoadTest.Tests;

public sealed class ClientMailboxTests
{
    [Fact]
    public void Messages_from_many_senders_come_out_once_each_and_in_each_senders_order()
    {
        var queue = new SmallMessageQueue();
        const int Senders = 4;
        const int PerSender = 10_000;
        var threads = Enumerable.Range(0, Senders).Select(s => new Thread(() =>
        {
            for (var i = 0; i < PerSender; i++)
            {
                queue.Enqueue(ActorRefs.Nobody, new Envelope((s, i), ActorRefs.NoSender));
            }
        })).ToList();
        threads.ForEach(t => t.Start());

        var next = new int[Senders];
        var taken = 0;
        while (taken < Senders * PerSender)
        {
            if (queue.TryDequeue(out var envelope))
            {
                var (sender, i) = ((int, int))envelope.Message;
                Assert.Equal(next[sender]++, i);
                taken++;
            }
        }
        threads.ForEach(t => t.Join());
        Assert.False(queue.HasMessages);
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public void A_ring_that_wraps_around_and_then_grows_keeps_first_in_first_out()
    {
        var queue = new SmallMessageQueue();
        var taken = new List<object>();
        void Put(int n) => queue.Enqueue(ActorRefs.Nobody, new Envelope(n, ActorRefs.NoSender));
        void Take(int n)
        {
            for (var i = 0; i < n; i++)
            {
                Assert.True(queue.TryDequeue(out var e));
                taken.Add(e.Message);
            }
        }

        Put(0); Put(1); Put(2);
        Take(2);
        // The next four wrap past the end of the first ring of four; the fifth makes it grow while wrapped.
        Put(3); Put(4); Put(5); Put(6); Put(7);
        Assert.Equal(6, queue.Count);
        Take(6);

        Assert.Equal(Enumerable.Range(0, 8).Cast<object>(), taken);
        Assert.False(queue.TryDequeue(out _));
    }

    [Fact]
    public void One_message_at_a_time_waits_in_the_queue_itself_and_allocates_nothing()
    {
        var message = new object();
        void Cycle(SmallMessageQueue queue)
        {
            queue.Enqueue(ActorRefs.Nobody, new Envelope(message, ActorRefs.NoSender));
            Assert.True(queue.TryDequeue(out var e));
            Assert.Same(message, e.Message);
        }
        // Once on another queue, so that nothing the first call costs is counted.
        Cycle(new SmallMessageQueue());
        var queue = new SmallMessageQueue();

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1_000; i++) Cycle(queue);

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.False(queue.HasMessages);
    }

    [Fact]
    public void Clean_up_hands_what_is_left_to_dead_letters_in_order()
    {
        var queue = new SmallMessageQueue();
        var deadLetters = new SmallMessageQueue();
        queue.Enqueue(ActorRefs.Nobody, new Envelope("a", ActorRefs.NoSender));
        queue.Enqueue(ActorRefs.Nobody, new Envelope("b", ActorRefs.NoSender));
        Assert.True(queue.HasMessages);
        Assert.Equal(2, queue.Count);

        queue.CleanUp(ActorRefs.Nobody, deadLetters);

        Assert.Equal(0, queue.Count);
        Assert.True(deadLetters.TryDequeue(out var first));
        Assert.True(deadLetters.TryDequeue(out var second));
        Assert.Equal(["a", "b"], new[] { first.Message, second.Message });
    }
}
