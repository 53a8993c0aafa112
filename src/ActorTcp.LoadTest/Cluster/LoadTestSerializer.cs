// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Runtime.Serialization;
using System.Text;
using ActorTcp.LoadTest.Metrics;
using ActorTcp.Cluster;
using Akka.Actor;
using Akka.Serialization;
using Akka.Streams;
using HdrHistogram;
using HdrHistogram.Utilities;

namespace ActorTcp.LoadTest.Cluster;

/// <summary>
/// Writes the run's messages (<see cref="ILoadTestMessage"/>) in a binary form of our own instead of Akka's default
/// JSON: histograms travel in HdrHistogram's own compressed encoding (exact counts, a few KB), and the stream ref inside
/// <see cref="WorkerReady"/> is written by the serializer Akka.Streams registers for it.
/// </summary>
internal sealed class LoadTestSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    /// <summary>Registered in <see cref="ClusterSetup"/>; Akka reserves 0-40 for itself, the server's own is 7301.</summary>
    public const int Id = 7311;

    public override int Identifier => Id;

    public override string Manifest(object o) => o switch
    {
        WorkerHello => "hello",
        WorkerRefused => "refused",
        Assign => "assign",
        WorkerReady => "ready",
        AssignFailed => "assign-failed",
        StartRun => "start",
        OpenWindow => "open",
        CloseWindow => "close",
        Finish => "finish",
        WorkerResult => "result",
        Dismiss => "dismiss",
        ProgressSample => "sample",
        _ => throw new ArgumentException($"cannot serialize {o.GetType()}", nameof(o)),
    };

    public override byte[] ToBinary(object obj)
    {
        using var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            switch (obj)
            {
                case WorkerHello h:
                    w.Write(h.Name);
                    w.Write(h.Pid);
                    w.Write(h.Machine);
                    break;
                case WorkerRefused r:
                    w.Write(r.Reason);
                    break;
                case Assign a:
                    WriteStrings(w, a.Args);
                    break;
                case WorkerReady ready:
                    w.Write(ready.Name);
                    NestedMessages.Write(system, w, ready.Progress);
                    break;
                case AssignFailed f:
                    w.Write(f.Name);
                    w.Write(f.Reason);
                    break;
                case StartRun or OpenWindow or CloseWindow or Dismiss:
                    break;
                case Finish f:
                    w.Write(f.Drain.Ticks);
                    break;
                case WorkerResult r:
                    w.Write(r.Name);
                    WriteResult(w, r.Result);
                    break;
                case ProgressSample s:
                    w.Write(s.Worker);
                    w.Write(s.Second);
                    w.Write(s.Requests);
                    w.Write(s.Errors);
                    w.Write(s.ConnectedNow);
                    WriteHistogram(w, s.LatencyUs);
                    WriteProgress(w, s.Progress);
                    break;
                default:
                    throw new ArgumentException($"cannot serialize {obj.GetType()}", nameof(obj));
            }
        }
        return buffer.ToArray();
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        using var r = new BinaryReader(new MemoryStream(bytes), Encoding.UTF8);
        return manifest switch
        {
            "hello" => new WorkerHello(r.ReadString(), r.ReadInt32(), r.ReadString()),
            "refused" => new WorkerRefused(r.ReadString()),
            "assign" => new Assign(ReadStrings(r)),
            "ready" => new WorkerReady(r.ReadString(), (ISourceRef<ProgressSample>)NestedMessages.Read(system, r)),
            "assign-failed" => new AssignFailed(r.ReadString(), r.ReadString()),
            "start" => StartRun.Instance,
            "open" => OpenWindow.Instance,
            "close" => CloseWindow.Instance,
            "dismiss" => Dismiss.Instance,
            "finish" => new Finish(TimeSpan.FromTicks(r.ReadInt64())),
            "result" => new WorkerResult(r.ReadString(), ReadResult(r)),
            "sample" => new ProgressSample(r.ReadString(), r.ReadInt32(), r.ReadInt64(), r.ReadInt64(), r.ReadInt64(), ReadHistogram(r), ReadProgress(r)),
            _ => throw new SerializationException($"unknown manifest '{manifest}'"),
        };
    }

    private static void WriteProgress(BinaryWriter w, Progress p)
    {
        w.Write(p.Clients);
        w.Write(p.ClientsStarted);
        w.Write(p.ConnectsStarted);
        w.Write(p.ConnectedNow);
        w.Write(p.ReadyNow);
        w.Write(p.Settled);
        w.Write(p.ClientsFinished);
        w.Write(p.Ops);
        w.Write(p.Errors);
        w.Write(p.BytesIn);
        w.Write(p.BytesOut);
        WriteCounts(w, p.ErrorKinds);
    }

    private static Progress ReadProgress(BinaryReader r) => new()
    {
        Clients = r.ReadInt32(),
        ClientsStarted = r.ReadInt64(),
        ConnectsStarted = r.ReadInt64(),
        ConnectedNow = r.ReadInt64(),
        ReadyNow = r.ReadInt64(),
        Settled = r.ReadInt64(),
        ClientsFinished = r.ReadInt64(),
        Ops = r.ReadInt64(),
        Errors = r.ReadInt64(),
        BytesIn = r.ReadInt64(),
        BytesOut = r.ReadInt64(),
        ErrorKinds = new Dictionary<string, long>(ReadCounts(r)),
    };

    private static void WriteResult(BinaryWriter w, NodeResult n)
    {
        w.Write(n.Processes);
        w.Write(n.Clients);
        w.Write(n.ClientsCompleted);
        w.Write(n.ClientsFailed);
        w.Write(n.CyclesFailed);
        w.Write(n.Reconnects);
        w.Write(n.ReconnectAttemptsFailed);
        w.Write(n.ConnectsStarted);
        w.Write(n.Connected);
        w.Write(n.PeakAlive);
        w.Write(n.AliveAtWindowEnd);
        w.Write(n.OpsTotal);
        w.Write(n.WindowSeconds);
        w.Write(n.BytesInWindow);
        w.Write(n.BytesOutWindow);
        w.Write(n.BytesInTotal);
        w.Write(n.BytesOutTotal);
        w.Write(n.Ops.Count);
        foreach (var (name, op) in n.Ops)
        {
            w.Write(name);
            w.Write(op.Count);
            WriteHistogram(w, op.LatencyUs.ToHistogram());
        }
        WriteHistogram(w, n.ConnectUs.ToHistogram());
        WriteCounts(w, n.Errors);
        WriteStrings(w, n.ErrorSamples);
        w.Write(n.CpuSecondsTotal);
        w.Write(n.CpuSecondsWindow);
        w.Write(n.PeakRssKb);
    }

    private static NodeResult ReadResult(BinaryReader r)
    {
        var n = new NodeResult
        {
            Processes = r.ReadInt32(),
            Clients = r.ReadInt32(),
            ClientsCompleted = r.ReadInt64(),
            ClientsFailed = r.ReadInt64(),
            CyclesFailed = r.ReadInt64(),
            Reconnects = r.ReadInt64(),
            ReconnectAttemptsFailed = r.ReadInt64(),
            ConnectsStarted = r.ReadInt64(),
            Connected = r.ReadInt64(),
            PeakAlive = r.ReadInt64(),
            AliveAtWindowEnd = r.ReadInt64(),
            OpsTotal = r.ReadInt64(),
            WindowSeconds = r.ReadDouble(),
            BytesInWindow = r.ReadInt64(),
            BytesOutWindow = r.ReadInt64(),
            BytesInTotal = r.ReadInt64(),
            BytesOutTotal = r.ReadInt64(),
        };
        var ops = new Dictionary<string, OpResult>();
        for (var count = r.ReadInt32(); count > 0; count--)
        {
            var name = r.ReadString();
            ops[name] = new OpResult { Count = r.ReadInt64(), LatencyUs = HistogramData.From(ReadHistogram(r)) };
        }
        return n with
        {
            Ops = ops,
            ConnectUs = HistogramData.From(ReadHistogram(r)),
            Errors = new SortedDictionary<string, long>(ReadCounts(r)),
            ErrorSamples = [.. ReadStrings(r)],
            CpuSecondsTotal = r.ReadDouble(),
            CpuSecondsWindow = r.ReadDouble(),
            PeakRssKb = r.ReadInt64(),
        };
    }

    /// <summary>HdrHistogram's compressed encoding: every bucket count survives, so merged percentiles are exact.</summary>
    private static void WriteHistogram(BinaryWriter w, HistogramBase histogram)
    {
        // The compressed form is at most the plain one plus the deflate header and cookies.
        var buffer = ByteBuffer.Allocate(histogram.GetNeededByteBufferCapacity() + 256);
        var length = HistogramEncoding.EncodeIntoCompressedByteBuffer(histogram, buffer);
        buffer.Position = 0;
        w.Write(length);
        for (var i = 0; i < length; i++)
        {
            w.Write(buffer.Get());
        }
    }

    private static HistogramBase ReadHistogram(BinaryReader r)
    {
        var length = r.ReadInt32();
        var buffer = ByteBuffer.Allocate(length);
        for (var i = 0; i < length; i++)
        {
            buffer.Put(r.ReadByte());
        }
        buffer.Position = 0;
        return HistogramEncoding.DecodeFromCompressedByteBuffer(buffer, 0);
    }

    private static void WriteCounts(BinaryWriter w, IReadOnlyDictionary<string, long> counts)
    {
        w.Write(counts.Count);
        foreach (var (key, value) in counts)
        {
            w.Write(key);
            w.Write(value);
        }
    }

    private static Dictionary<string, long> ReadCounts(BinaryReader r)
    {
        var counts = new Dictionary<string, long>();
        for (var count = r.ReadInt32(); count > 0; count--)
        {
            counts[r.ReadString()] = r.ReadInt64();
        }
        return counts;
    }

    private static void WriteStrings(BinaryWriter w, IReadOnlyList<string> strings)
    {
        w.Write(strings.Count);
        foreach (var s in strings)
        {
            w.Write(s);
        }
    }

    private static string[] ReadStrings(BinaryReader r)
    {
        var strings = new string[r.ReadInt32()];
        for (var i = 0; i < strings.Length; i++)
        {
            strings[i] = r.ReadString();
        }
        return strings;
    }
}
