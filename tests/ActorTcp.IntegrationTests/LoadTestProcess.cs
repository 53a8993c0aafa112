using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace ActorTcp.IntegrationTests;

/// <summary>The load generator as users run it (the built ActorTcp.LoadTest.dll in its own process), output kept.</summary>
public sealed class LoadTestProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Found)> _waiters = [];

    private LoadTestProcess(Process process) => _process = process;

    public int Pid => _process.Id;

    /// <summary>The generator's own build output, same configuration as this test assembly (bin/CONFIG/TFM).</summary>
    public static string Dll
    {
        get
        {
            var tfm = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var configuration = tfm.Parent!;
            var repository = configuration.Parent!.Parent!.Parent!.Parent!;
            return Path.Combine(repository.FullName, "src", "ActorTcp.LoadTest", "bin", configuration.Name, tfm.Name, "ActorTcp.LoadTest.dll");
        }
    }

    public string Stdout
    {
        get { lock (_stdout) return _stdout.ToString(); }
    }

    public string Stderr
    {
        get { lock (_stdout) return _stderr.ToString(); }
    }

    public static LoadTestProcess Start(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        info.ArgumentList.Add(Dll);
        foreach (var arg in args) info.ArgumentList.Add(arg);
        var process = Process.Start(info) ?? throw new InvalidOperationException("the load generator did not start");
        var run = new LoadTestProcess(process);
        process.OutputDataReceived += (_, e) => run.Append(run._stdout, e.Data);
        process.ErrorDataReceived += (_, e) => run.Append(run._stderr, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return run;
    }

    /// <summary>The first line of either stream that <paramref name="match"/> accepts (lines already seen count too).</summary>
    public async Task<string> LineAsync(Func<string, bool> match, TimeSpan within)
    {
        var found = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_stdout)
        {
            var seen = (_stdout + "\n" + _stderr).Split('\n').Select(l => l.TrimEnd('\r')).FirstOrDefault(match);
            if (seen is not null) return seen;
            _waiters.Add((match, found));
        }
        try
        {
            return await found.Task.WaitAsync(within);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"no such line within {within}; stdout: {Stdout}\nstderr: {Stderr}");
        }
    }

    /// <summary>Waits for the process to end by itself; kills it (and fails) when it does not within <paramref name="within"/>.</summary>
    public async Task<int> ExitCodeAsync(TimeSpan within)
    {
        try
        {
            await _process.WaitForExitAsync().WaitAsync(within);
        }
        catch (TimeoutException)
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"the load generator did not exit within {within}; stdout: {Stdout}\nstderr: {Stderr}");
        }
        // The last lines may still be on their way from the pipes.
        _process.WaitForExit();
        return _process.ExitCode;
    }

    public bool HasExited => _process.HasExited;

    /// <summary>SIGKILL to a process of the run (this one or one of its workers), as a crash would.</summary>
    public static void KillHard(int pid) => _ = kill(pid, 9);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    private void Append(StringBuilder to, string? line)
    {
        if (line is null) return;
        lock (_stdout)
        {
            to.AppendLine(line);
            foreach (var waiter in _waiters.Where(w => w.Match(line)).ToList())
            {
                _waiters.Remove(waiter);
                waiter.Found.TrySetResult(line);
            }
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);
}
