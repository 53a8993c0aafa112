// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ActorTcp.Configuration;

namespace ActorTcp.Transport;

/// <summary>Loads the TLS listener's certificate chain and key from PEM files, once, at start.</summary>
internal static class TlsCertificates
{
    /// <summary>
    /// The certificate (the first in <paramref name="certificatePath"/>, with the rest as its chain) and its key;
    /// throws <see cref="SettingsException"/> naming the file that cannot be used.
    /// </summary>
    public static SslStreamCertificateContext Load(string certificatePath, string keyPath)
    {
        var chain = new X509Certificate2Collection();
        try
        {
            chain.ImportFromPemFile(certificatePath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new SettingsException($"tls-certificate: cannot read '{certificatePath}': {e.Message}");
        }
        if (chain.Count == 0) throw new SettingsException($"tls-certificate: '{certificatePath}' holds no PEM certificate");
        if (!File.Exists(keyPath)) throw new SettingsException($"tls-key: '{keyPath}' not found");

        X509Certificate2 leaf;
        try
        {
            leaf = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new SettingsException($"tls-key: '{keyPath}' cannot be used with '{certificatePath}': {e.Message}");
        }
        var intermediates = new X509Certificate2Collection();
        for (var i = 1; i < chain.Count; i++) intermediates.Add(chain[i]);
        return SslStreamCertificateContext.Create(leaf, intermediates, offline: true);
    }
}
