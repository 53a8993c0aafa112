// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using ActorTcp.Configuration;
using ActorTcp.Files;
using ActorTcp.Protocol;
using Microsoft.Extensions.Logging;

namespace ActorTcp.Sessions;

/// <summary>Everything the sessions of one listener share: one instance per listener, not per connection.</summary>
internal sealed class SessionContext
{
    public SessionContext(ServerSettings settings, ServerStats stats, bool binary, FileService files, SessionKeys keys, ILogger logger, Func<DateTimeOffset> now)
    {
        Settings = settings;
        Stats = stats;
        Binary = binary;
        Files = files;
        Keys = keys;
        Logger = logger;
        IReplyEncoder encoder = binary ? BinaryReplyEncoder.Instance : new TextReplyEncoder(settings.TextEncoding, settings.CrlfReplies);
        Conversation = new Conversation(
            encoder, binary ? settings.MaxFrameBytes : settings.MaxLineBytes, binary, settings.MaxListEntries,
            cluster => stats.Format(now(), files.Downloads.Running, cluster), clustered: settings.Cluster is not null);
    }

    public ServerSettings Settings { get; }

    /// <summary>Where the listener leaves each new session's own parts for the shared Props (see <see cref="SessionActor.SharedProps"/>).</summary>
    public SessionHandoff Handoff { get; } = new();

    public ServerStats Stats { get; }

    /// <summary>True for the length-prefixed listener, false for the text one.</summary>
    public bool Binary { get; }

    public ILogger Logger { get; }

    public FileService Files { get; }

    /// <summary>The server's UDP heartbeat keys.</summary>
    public SessionKeys Keys { get; }

    /// <summary>The dialog and the commands, with this listener's reply encoder.</summary>
    public Conversation Conversation { get; }

    public IReplyEncoder Encoder => Conversation.Encoder;

    public IRequestDecoder NewDecoder() => Binary
        ? new LengthPrefixDecoder(Settings.MaxFrameBytes)
        : new LineDecoder(Settings.MaxLineBytes, Settings.TextEncoding);
}
