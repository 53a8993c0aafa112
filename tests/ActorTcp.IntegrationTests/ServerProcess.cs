using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace ActorTcp.IntegrationTests;

/// <summary>
/// The real server, run as users run it (the built ActorTcp.Server.dll in its own process), on ports the
/// system picks; the ports are read from its `listening` line.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();
    private readonly StringBuilder _stdout = new();
    private readonly string _scratch;

    private ServerProcess(Process process, string scratch)
    {
        _process = process;
        _scratch = scratch;
    }

    public int TextPort { get; private set; }

    public int BinaryPort { get; private set; }

    public int TlsPort { get; private set; }

    public int UdpPort { get; private set; }

    /// <summary>The metrics endpoint's port; 0 when metrics are off.</summary>
    public int MetricsPort { get; private set; }

    /// <summary>The <c>cluster=</c> value of the listening line (<c>host:port</c>), or null when it is <c>off</c>.</summary>
    public string? ClusterAddress { get; private set; }

    /// <summary>The whole listening line.</summary>
    public string ListeningLine { get; private set; } = "";

    public int Pid => _process.Id;

    /// <summary>Everything the server logged so far (its logs go to standard error).</summary>
    public string Log
    {
        get { lock (_stderr) return _stderr.ToString(); }
    }

    public string Stdout
    {
        get { lock (_stdout) return _stdout.ToString(); }
    }

    public static string ServerDll => Path.Combine(AppContext.BaseDirectory, "ActorTcp.Server.dll");

    /// <summary>
    /// Starts a server with <paramref name="hocon"/> layered over hocon.conf (as <c>--config</c>) and extra flags.
    /// Both listeners bind port 0 unless the flags say otherwise.
    /// </summary>
    public static Task<ServerProcess> StartAsync(string hocon = "", params string[] flags) =>
        StartUnderAsync([], hocon, flags);

    /// <summary>
    /// Like <see cref="StartAsync"/>, with the server's command run under <paramref name="wrapper"/>
    /// (e.g. <c>prlimit --nofile=300</c>), which must exec it so that the PID stays the server's.
    /// </summary>
    public static Task<ServerProcess> StartUnderAsync(string[] wrapper, string hocon = "", params string[] flags) =>
        StartCoreAsync(wrapper, null, hocon, flags);

    /// <summary>Like <see cref="StartAsync"/>, with extra environment variables for the server (e.g. OTEL_*).</summary>
    public static Task<ServerProcess> StartWithEnvironmentAsync(
        IReadOnlyDictionary<string, string> environment, string hocon = "", params string[] flags) =>
        StartCoreAsync([], environment, hocon, flags);

    private static async Task<ServerProcess> StartCoreAsync(
        string[] wrapper, IReadOnlyDictionary<string, string>? environment, string hocon, string[] flags)
    {
        var scratch = Directory.CreateTempSubdirectory("actortcp-it-").FullName;
        var configFile = Path.Combine(scratch, "test.conf");
        await File.WriteAllTextAsync(configFile, hocon);
        var info = Command(["--port", "0", "--binary-port", "0", "--config", configFile, .. flags], wrapper);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) info.Environment[key] = value;
        var process = Process.Start(info) ?? throw new InvalidOperationException("the server did not start");
        var server = new ServerProcess(process, scratch);
        var listening = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (server._stdout) server._stdout.AppendLine(e.Data);
            if (e.Data.StartsWith("listening ", StringComparison.Ordinal)) listening.TrySetResult(e.Data);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (server._stderr) server._stderr.AppendLine(e.Data);
        };
        process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException("the server exited: " + server.Log));
        process.EnableRaisingEvents = true;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var line = await listening.Task.WaitAsync(TimeSpan.FromSeconds(60));
        server.TextPort = PortOf(line, "text=");
        server.BinaryPort = PortOf(line, "binary=");
        server.TlsPort = PortOf(line, "tls=");
        server.UdpPort = PortOf(line, "udp=");
        server.MetricsPort = PortOf(line, "metrics=");
        server.ListeningLine = line;
        var cluster = ValueOf(line, "cluster=");
        server.ClusterAddress = cluster is null or "off" ? null : cluster;
        return server;
    }

    /// <summary>Runs the server's executable with <paramref name="args"/> to its end (for --help, bad flags, ...).</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunToEndAsync(params string[] args)
    {
        using var process = Process.Start(Command(args))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            // A server that started instead of exiting must not outlive the test.
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            throw new TimeoutException($"the server did not exit within 60 s; stdout: {await stdout} stderr: {await stderr}");
        }
        return (process.ExitCode, await stdout, await stderr);
    }

    private static ProcessStartInfo Command(IEnumerable<string> args, string[]? wrapper = null)
    {
        var program = wrapper is { Length: > 0 } ? wrapper[0] : "dotnet";
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        if (wrapper is { Length: > 0 })
        {
            foreach (var arg in wrapper.Skip(1)) info.ArgumentList.Add(arg);
            info.ArgumentList.Add("dotnet");
        }
        info.ArgumentList.Add(ServerDll);
        foreach (var arg in args) info.ArgumentList.Add(arg);
        return info;
    }

    private static string? ValueOf(string line, string key)
    {
        var at = line.IndexOf(" " + key, StringComparison.Ordinal);
        if (at < 0) return null;
        var start = at + 1 + key.Length;
        var end = line.IndexOf(' ', start);
        return end < 0 ? line[start..] : line[start..end];
    }

    /// <summary>The port of one key of the listening line; 0 for a listener that is off or a key the line lacks.</summary>
    private static int PortOf(string line, string key)
    {
        var at = line.IndexOf(" " + key, StringComparison.Ordinal);
        if (at < 0) return 0;
        var start = at + 1 + key.Length;
        var end = line.IndexOf(' ', start);
        var endpoint = end < 0 ? line[start..] : line[start..end];
        return endpoint == "off" ? 0 : int.Parse(endpoint[(endpoint.LastIndexOf(':') + 1)..]);
    }

    /// <summary>Sends SIGTERM, as a service manager or Ctrl-C would, and returns the exit code.</summary>
    public async Task<int> TerminateAsync(TimeSpan? within = null)
    {
        if (!_process.HasExited) _ = kill(_process.Id, 15);
        await _process.WaitForExitAsync().WaitAsync(within ?? TimeSpan.FromSeconds(60));
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: the process dies at once, without leaving its cluster or telling its clients.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited) _ = kill(_process.Id, 9);
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
    }

    public bool HasExited => _process.HasExited;

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        try { Directory.Delete(_scratch, recursive: true); }
        catch (IOException) { }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);
}

/// <summary>
/// One server shared by the tests of a class (xunit class fixture), for tests that need the same settings.
/// A derived fixture passes its HOCON overlay and flags.
/// </summary>
public abstract class ServerFixture(string hocon = "", params string[] flags) : IAsyncLifetime
{
    private ServerProcess? _server;

    public ServerProcess Server => _server ?? throw new InvalidOperationException("the server is not started");

    public int TextPort => Server.TextPort;

    public int BinaryPort => Server.BinaryPort;

    public async Task InitializeAsync() => _server = await ServerProcess.StartAsync(hocon, flags);

    public async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }
}
