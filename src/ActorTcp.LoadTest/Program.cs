// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using ActorTcp.LoadTest.Cluster;
using ActorTcp.LoadTest.Options;
using ActorTcp.LoadTest.Running;

if (args is [WorkerOptions.Command, .. var workerArgs])
{
    WorkerOptions worker;
    try
    {
        worker = WorkerOptions.Parse(workerArgs);
    }
    catch (UsageException e)
    {
        return Usage(e, WorkerOptions.Usage);
    }
    // Exit even if a dispatcher thread of a system that did not stop in time is still there.
    Environment.Exit(await WorkerProgram.RunAsync(worker));
    return 0;
}

LoadOptions options;
try
{
    options = LoadOptions.Parse(args);
}
catch (UsageException e)
{
    return Usage(e, LoadOptions.Usage);
}

// Every run stops by itself: if something hangs past the bound, the process ends anyway (exit 3). A distributed run
// also waits for its workers to join, and outlives their bounds by a little to report them.
ProcessBound.Arm(
    options.Distributed ? options.JoinTimeout + ClusterRun.PrepareTimeout + options.HardLimit + TimeSpan.FromSeconds(15) : options.HardLimit + TimeSpan.FromSeconds(60),
    "the run");

try
{
    return await new Coordinator(options).RunAsync();
}
catch (UsageException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}

static int Usage(UsageException e, string usage)
{
    if (e.Message.Length > 0)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        Console.Error.WriteLine("run with --help for the flags");
        return 2;
    }
    Console.Out.WriteLine(usage);
    return 0;
}
