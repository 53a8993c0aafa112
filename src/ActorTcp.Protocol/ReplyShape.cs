// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
namespace ActorTcp.Protocol;

/// <summary>What a reply looks like when it succeeds; the request that asked for it decides, so the client says it.</summary>
public enum ReplyShape
{
    /// <summary>One line (PING, ECHO, STATS, KEY, the dialog's lines, QUIT).</summary>
    Line,

    /// <summary><c>OK n</c>, then n lines (WHO, LIST, HELP, NODES); <c>OK n partial</c> too.</summary>
    Block,

    /// <summary><c>OK n</c>, then n bytes of the file: raw (text) or in data frames (binary) (GET).</summary>
    File,
}

/// <summary>What one line of a reply is, as <see cref="ReplyReader"/> sorts it.</summary>
public enum ReplyLineKind
{
    /// <summary>A whole one-line reply, or a line where an <c>OK n</c> header was expected but something else came.</summary>
    Single,

    /// <summary>An <c>ERR ...</c> line at the start of a reply: the whole reply (an ECHO of <c>ERR x</c> looks the same).</summary>
    Error,

    /// <summary>The <c>OK n</c> of a <see cref="ReplyShape.Block"/> reply; n lines follow.</summary>
    BlockHeader,

    /// <summary>One of the n lines after a block's header.</summary>
    BlockLine,

    /// <summary>The <c>OK n</c> of a <see cref="ReplyShape.File"/> reply; n file bytes follow as data.</summary>
    FileHeader,
}

/// <summary>What one call of <see cref="ReplyReader.Read"/> found in the server's stream.</summary>
public enum ReplyEvent
{
    /// <summary>All of the input was used and nothing is complete yet.</summary>
    NeedMore,

    /// <summary>One reply line, without its line end (text) or its header (binary); <see cref="ReplyReader.LineKind"/> says which.</summary>
    Line,

    /// <summary>Some of a GET's file bytes, handed on as they arrive.</summary>
    Data,

    /// <summary>The stream cannot be read as replies any more; <see cref="ReplyReader.FramingError"/> says why.</summary>
    FramingError,
}

/// <summary>Why a <see cref="ReplyReader"/> gave up on the stream.</summary>
public enum ReplyFramingError
{
    None,

    /// <summary>A text line ran past the maximum without its LF.</summary>
    LineTooLong,

    /// <summary>A reply frame's header announced more than the maximum.</summary>
    FrameTooLong,

    /// <summary>A data frame of a GET was empty, longer than 65536 bytes, or ran past the <c>OK n</c>.</summary>
    BadDataFrame,
}
