using System.Net;
using ActorTcp.Baseline;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;

// A baseline peer for the load benchmarks: the subset of PROTOCOL.md that the load scenarios use,
// on Kestrel's connection handlers with System.IO.Pipelines and no actors.
var settings = BaselineSettings.Parse(args);
if (settings is null)
{
    Console.Error.WriteLine(BaselineSettings.Usage);
    return 2;
}

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.Services.AddSingleton(settings);

ListenOptions? textListen = null;
ListenOptions? binaryListen = null;
builder.WebHost.ConfigureKestrel(kestrel =>
{
    kestrel.Listen(IPAddress.Loopback, settings.Port, listen =>
    {
        listen.UseConnectionHandler<TextConnectionHandler>();
        textListen = listen;
    });
    if (settings.BinaryPort is int binaryPort)
    {
        kestrel.Listen(IPAddress.Loopback, binaryPort, listen =>
        {
            listen.UseConnectionHandler<BinaryConnectionHandler>();
            binaryListen = listen;
        });
    }
});

var app = builder.Build();
await app.StartAsync();

// Kestrel writes the bound endpoint back into the listen options, so port 0 resolves here.
var binary = binaryListen is null ? "off" : Describe(binaryListen);
Console.Out.WriteLine($"listening text={Describe(textListen!)} binary={binary}");
Console.Out.Flush();

await app.WaitForShutdownAsync();
return 0;

static string Describe(ListenOptions listen) =>
    listen.EndPoint is IPEndPoint ip ? $"{ip.Address}:{ip.Port}" : listen.EndPoint.ToString() ?? "?";
