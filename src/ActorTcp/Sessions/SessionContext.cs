using ActorTcp.Configuration;
using ActorTcp.Files;
using ActorTcp.Protocol;
using Akka.Actor;
using Microsoft.Extensions.Logging;

namespace ActorTcp.Sessions;

/// <summary>Everything the sessions of one listener share: one instance per listener, not per connection.</summary>
public sealed class SessionContext
{
    public SessionContext(
        ServerSettings settings, ServerStats stats, bool binary, IActorRef directory, FileService files, ILogger logger)
    {
        Files = files;
        Settings = settings;
        Stats = stats;
        Binary = binary;
        Directory = directory;
        Logger = logger;
        Encoder = binary
            ? BinaryReplyEncoder.Instance
            : new TextReplyEncoder(settings.TextEncoding, settings.CrlfReplies);
        TooLongLine = binary
            ? $"ERR frame too long (max {settings.MaxFrameBytes} bytes)"
            : $"ERR line too long (max {settings.MaxLineBytes} bytes)";
        EncodingIsUtf8 = Encoder.Encoding.CodePage == 65001;
    }

    public ServerSettings Settings { get; }

    public ServerStats Stats { get; }

    /// <summary>True for the length-prefixed listener, false for the text one.</summary>
    public bool Binary { get; }

    /// <summary>Answers <see cref="WhoRequest"/>.</summary>
    public IActorRef Directory { get; }

    public ILogger Logger { get; }

    /// <summary>The served folder and the stream materializer that transfers share.</summary>
    public FileService Files { get; }

    public IReplyEncoder Encoder { get; }

    public string TooLongLine { get; }

    public bool EncodingIsUtf8 { get; }

    public IRequestDecoder NewDecoder() => Binary
        ? new LengthPrefixDecoder(Settings.MaxFrameBytes)
        : new LineDecoder(Settings.MaxLineBytes, Settings.TextEncoding);
}
