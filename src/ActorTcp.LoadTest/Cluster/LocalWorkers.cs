// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Diagnostics;
using System.Globalization;
using ActorTcp.LoadTest.Options;

namespace ActorTcp.LoadTest.Cluster;

/// <summary>
/// The worker processes that --processes starts on this machine: the same program with <c>worker --join</c>, named
/// local-1 .. local-N. Their output is kept (the last lines) to explain a worker that never joined or died.
/// </summary>
internal sealed class LocalWorkers
{
    private const int TailLines = 10;

    private sealed record Entry(string Name, Process Process, Queue<string> Tail);

    private readonly List<Entry> _entries = [];

    public static IReadOnlyList<string> NamesFor(int count) =>
        [.. Enumerable.Range(1, count).Select(i => "local-" + i.ToString(CultureInfo.InvariantCulture))];

    public static LocalWorkers Start(int count, string host, int port, TimeSpan joinTimeout)
    {
        var (fileName, prefix) = SelfCommand();
        var workers = new LocalWorkers();
        foreach (var name in NamesFor(count))
        {
            var info = new ProcessStartInfo(fileName)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            string[] args =
            [
                .. prefix, WorkerOptions.Command, "--join", $"{host}:{port}", "--name", name, "--cluster-host", host,
                "--join-timeout", ((long)joinTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) + "ms",
            ];
            foreach (var arg in args)
            {
                info.ArgumentList.Add(arg);
            }
            var process = Process.Start(info) ?? throw new InvalidOperationException("could not start a worker process");
            var entry = new Entry(name, process, new Queue<string>());
            process.OutputDataReceived += (_, e) => Keep(entry, e.Data);
            process.ErrorDataReceived += (_, e) => Keep(entry, e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            workers._entries.Add(entry);
        }
        return workers;
    }

    /// <summary>A local worker whose process has ended, if any (it will never join).</summary>
    public string? FirstExited(IEnumerable<string> among) =>
        _entries.FirstOrDefault(e => among.Contains(e.Name) && e.Process.HasExited)?.Name;

    public int? PidOf(string name) => _entries.Find(e => e.Name == name)?.Process.Id;

    /// <summary>The process's state and its last lines, for a message about a worker that is missing or lost.</summary>
    public string Describe(string name)
    {
        if (_entries.Find(e => e.Name == name) is not { } entry)
        {
            return name;
        }
        string tail;
        lock (entry.Tail)
        {
            tail = entry.Tail.Count == 0 ? "" : "; its last output: " + string.Join(" | ", entry.Tail);
        }
        var state = entry.Process.HasExited ? $"exited with code {entry.Process.ExitCode}" : "still running";
        return $"{name} (pid {entry.Process.Id}, {state}{tail})";
    }

    /// <summary>Waits for the workers to exit by themselves (they were dismissed), then kills those still there.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        var exits = Task.WhenAll(_entries.Select(e => e.Process.WaitForExitAsync()));
        await Task.WhenAny(exits, Task.Delay(grace));
        Kill();
    }

    /// <summary>Kills every worker still running (Ctrl-C, SIGTERM, or the end of the run).</summary>
    public void Kill()
    {
        foreach (var entry in _entries)
        {
            try
            {
                if (!entry.Process.HasExited)
                {
                    entry.Process.Kill();
                }
            }
            catch (InvalidOperationException)
            {
            }
        }
    }

    private static void Keep(Entry entry, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (entry.Tail)
        {
            entry.Tail.Enqueue(line);
            if (entry.Tail.Count > TailLines)
            {
                entry.Tail.Dequeue();
            }
        }
    }

    /// <summary>How to start this same program again: its apphost, or `dotnet the.dll` when run through dotnet.</summary>
    private static (string FileName, string[] Prefix) SelfCommand()
    {
        var processPath = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find this program's path");
        var assembly = typeof(LocalWorkers).Assembly.Location;
        return Path.GetFileNameWithoutExtension(processPath).Equals("dotnet", StringComparison.OrdinalIgnoreCase)
            ? (processPath, [assembly])
            : (processPath, []);
    }
}
