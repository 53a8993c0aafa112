// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ActorTcp.LoadTest.Metrics;
using ActorTcp.LoadTest.Options;

namespace ActorTcp.LoadTest.Running;

/// <summary>
/// The line protocol between the parent and its workers. Worker to parent on stdout:
/// <c>P {progress json}</c> every 500 ms and one <c>R {result json}</c> at the end. Parent to worker on stdin:
/// <c>start</c>, <c>stop</c>, <c>finish &lt;drain ms&gt;</c>. A worker whose stdin closes finishes at once.
/// </summary>
internal static class WorkerProtocol
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.General)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    /// <summary>Runs inside a worker process.</summary>
    public static async Task<int> RunWorkerAsync(LoadOptions options)
    {
        // Only protocol lines may reach stdout; anything else a library prints goes to stderr.
        var protocol = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true };
        Console.SetOut(Console.Error);

        // The parent may die without a word: never outlive the run's bound.
        _ = Task.Delay(options.HardLimit + TimeSpan.FromSeconds(30)).ContinueWith(_ =>
        {
            Console.Error.WriteLine("worker: hard time limit reached, exiting");
            Environment.Exit(3);
        }, TaskScheduler.Default);

        await using var node = LocalNode.Start(options);
        var gate = new object();
        void Send(string kind, object payload)
        {
            var line = kind + " " + JsonSerializer.Serialize(payload, Json);
            lock (gate)
            {
                protocol.WriteLine(line);
            }
        }

        using var cancel = new CancellationTokenSource();
        var progress = Task.Run(async () =>
        {
            while (!cancel.IsCancellationRequested)
            {
                Send("P", node.Progress);
                try
                {
                    await Task.Delay(500, cancel.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        });

        var drain = options.Drain;
        var finishAsked = false;
        var windowStopped = false;
        while (await Console.In.ReadLineAsync() is { } command)
        {
            if (command == "start")
            {
                node.StartWindow();
            }
            else if (command == "stop")
            {
                node.StopWindow();
                windowStopped = true;
            }
            else if (command.StartsWith("finish", StringComparison.Ordinal))
            {
                if (command.Split(' ') is [_, var ms] && long.TryParse(ms, NumberStyles.None, CultureInfo.InvariantCulture, out var drainMs))
                {
                    drain = TimeSpan.FromMilliseconds(drainMs);
                }
                finishAsked = true;
                break;
            }
        }
        if (!finishAsked)
        {
            // The parent is gone (stdin closed): wind down quickly instead of holding connections open.
            if (!windowStopped)
            {
                node.StopWindow();
            }
            drain = TimeSpan.FromSeconds(2);
        }
        var result = await node.FinishAsync(drain);
        await cancel.CancelAsync();
        await progress;
        Send("P", node.Progress);
        Send("R", result);
        return 0;
    }
}

/// <summary>The parent's handle on one worker process.</summary>
internal sealed class WorkerNode : ILoadNode
{
    private readonly Process _process;
    private readonly TaskCompletionSource<NodeResult> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Queue<string> _stderrTail = new();
    private readonly int _id;
    private Progress _progress;

    private WorkerNode(int id, int clients, Process process)
    {
        _id = id;
        _process = process;
        _progress = new Progress { Clients = clients };
        _ = Task.Run(ReadStdoutAsync);
        _ = Task.Run(ReadStderrAsync);
    }

    public static IReadOnlyList<WorkerNode> StartAll(LoadOptions options)
    {
        var (fileName, prefix) = SelfCommand();
        var workers = new List<WorkerNode>();
        var offset = 0;
        for (var i = 0; i < options.Processes; i++)
        {
            var clients = options.Clients / options.Processes + (i < options.Clients % options.Processes ? 1 : 0);
            var info = new ProcessStartInfo(fileName)
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var arg in prefix.Concat(options.ToWorkerArgs(clients, offset, options.Ramp / options.Processes)))
            {
                info.ArgumentList.Add(arg);
            }
            var process = Process.Start(info) ?? throw new InvalidOperationException("could not start a worker process");
            workers.Add(new WorkerNode(i, clients, process));
            offset += clients;
        }
        return workers;
    }

    public int Pid => _process.Id;

    public Progress Progress => Volatile.Read(ref _progress);

    public void StartWindow() => Command("start");

    public void StopWindow() => Command("stop");

    public async Task<NodeResult> FinishAsync(TimeSpan drain)
    {
        Command($"finish {(long)drain.TotalMilliseconds}");
        var limit = drain + TimeSpan.FromSeconds(30);
        if (await Task.WhenAny(_result.Task, Task.Delay(limit)) == _result.Task)
        {
            await Task.WhenAny(_process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(5)));
            return _result.Task.Result;
        }
        Kill();
        var p = Progress;
        return new NodeResult
        {
            Processes = 1,
            Clients = p.Clients,
            ClientsFailed = p.Clients,
            Errors = new SortedDictionary<string, long> { [$"worker {_id} gave no report"] = 1 },
            ErrorSamples = [.. _stderrTail],
        };
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }

    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
            }
        }
        catch (InvalidOperationException)
        {
        }
    }

    private void Command(string line)
    {
        try
        {
            _process.StandardInput.WriteLine(line);
            _process.StandardInput.Flush();
        }
        catch (IOException)
        {
            // A worker that died is reported by FinishAsync.
        }
    }

    private async Task ReadStdoutAsync()
    {
        while (await _process.StandardOutput.ReadLineAsync() is { } line)
        {
            try
            {
                if (line.StartsWith("P ", StringComparison.Ordinal))
                {
                    Volatile.Write(ref _progress, JsonSerializer.Deserialize<Progress>(line[2..], WorkerProtocol.Json)!);
                }
                else if (line.StartsWith("R ", StringComparison.Ordinal))
                {
                    _result.TrySetResult(JsonSerializer.Deserialize<NodeResult>(line[2..], WorkerProtocol.Json)!);
                }
            }
            catch (JsonException e)
            {
                _result.TrySetException(e);
            }
        }
    }

    private async Task ReadStderrAsync()
    {
        while (await _process.StandardError.ReadLineAsync() is { } line)
        {
            lock (_stderrTail)
            {
                _stderrTail.Enqueue($"worker {_id}: {line}");
                if (_stderrTail.Count > 10)
                {
                    _stderrTail.Dequeue();
                }
            }
        }
    }

    /// <summary>How to start this same program again: its apphost, or `dotnet the.dll` when run through dotnet.</summary>
    private static (string FileName, string[] Prefix) SelfCommand()
    {
        var processPath = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find this program's path");
        var assembly = typeof(WorkerNode).Assembly.Location;
        return Path.GetFileNameWithoutExtension(processPath).Equals("dotnet", StringComparison.OrdinalIgnoreCase)
            ? (processPath, [assembly])
            : (processPath, []);
    }
}
