using System.Net;
using System.Net.Sockets;

namespace CohortSync.Host.Tests.Infrastructure;

/// <summary>
/// Clients that connect from a loopback address of their own (every 127.x.y.z is loopback on Linux), so
/// that one test can play several client machines against a host.
/// </summary>
public static class LoopbackClient
{
    public static HttpClient From(string localAddress, Uri baseAddress)
    {
        var local = IPAddress.Parse(localAddress);
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, ct) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(local, 0));
                    await socket.ConnectAsync(context.DnsEndPoint, ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new HttpClient(handler) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }
}
