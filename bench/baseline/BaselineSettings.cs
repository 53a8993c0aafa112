namespace ActorTcp.Baseline;

internal sealed record BaselineSettings(int Port, int? BinaryPort, string FilesRoot, bool CrLf)
{
    public const string Usage =
        "usage: ActorTcp.Baseline [--port P (6000)] [--binary-port P|off (6001)] [--files DIR (files)] [--crlf]";

    public static BaselineSettings? Parse(string[] args)
    {
        var port = 6000;
        int? binaryPort = 6001;
        var files = "files";
        var crlf = false;
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            try
            {
                switch (args[i])
                {
                    case "--port": port = int.Parse(Next()); break;
                    case "--binary-port":
                        var value = Next();
                        binaryPort = value == "off" ? null : int.Parse(value);
                        break;
                    case "--files": files = Next(); break;
                    case "--crlf": crlf = true; break;
                    default: return null;
                }
            }
            catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
            {
                Console.Error.WriteLine(e.Message);
                return null;
            }
        }
        return new BaselineSettings(port, binaryPort, Path.GetFullPath(files), crlf);
    }
}
