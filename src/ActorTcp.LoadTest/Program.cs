// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using ActorTcp.LoadTest.Options;
using ActorTcp.LoadTest.Running;

LoadOptions options;
try
{
    options = LoadOptions.Parse(args);
}
catch (UsageException e)
{
    if (e.Message.Length > 0)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        Console.Error.WriteLine("run with --help for the flags");
        return 2;
    }
    Console.Out.WriteLine(LoadOptions.Usage);
    return 0;
}

if (options.Worker)
{
    return await WorkerProtocol.RunWorkerAsync(options);
}

// Every run stops by itself: if something hangs past the bound, the process ends anyway (exit 3).
_ = Task.Delay(options.HardLimit + TimeSpan.FromSeconds(60)).ContinueWith(_ =>
{
    Console.Error.WriteLine("error: the run passed its time limit; exiting");
    Environment.Exit(3);
}, TaskScheduler.Default);

try
{
    return await new Coordinator(options).RunAsync();
}
catch (UsageException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}
