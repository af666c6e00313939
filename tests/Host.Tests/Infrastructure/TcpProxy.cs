using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace CohortSync.Host.Tests.Infrastructure;

/// <summary>
/// A loopback TCP forwarder in front of PostgreSQL, for one host only: <see cref="Cut"/> resets every open
/// connection and refuses new ones (the database is unreachable for that host), <see cref="Restore"/> ends it.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    readonly TcpListener listener = new(IPAddress.Loopback, 0);
    readonly string targetHost;
    readonly int targetPort;
    readonly CancellationTokenSource stop = new();
    readonly ConcurrentDictionary<Socket, byte> open = new();
    readonly Task accepting;
    volatile bool down;

    public TcpProxy(string targetHost, int targetPort)
    {
        this.targetHost = targetHost;
        this.targetPort = targetPort;
        listener.Start();
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        accepting = AcceptAsync();
    }

    public int Port { get; }

    public void Cut()
    {
        down = true;
        foreach (var socket in open.Keys)
            Reset(socket);
    }

    public void Restore() => down = false;

    async Task AcceptAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptSocketAsync(stop.Token);
            }
            catch (Exception) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }
            if (down)
                Reset(client);
            else
                _ = ForwardAsync(client);
        }
    }

    async Task ForwardAsync(Socket client)
    {
        var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        open[client] = 0;
        open[upstream] = 0;
        try
        {
            await upstream.ConnectAsync(targetHost, targetPort, stop.Token);
            using var a = new NetworkStream(client, ownsSocket: false);
            using var b = new NetworkStream(upstream, ownsSocket: false);
            await Task.WhenAny(a.CopyToAsync(b, stop.Token), b.CopyToAsync(a, stop.Token));
        }
        catch (Exception)
        {
            // A cut, a stop or a peer closing: either way both ends go.
        }
        finally
        {
            Reset(client);
            Reset(upstream);
        }
    }

    void Reset(Socket socket)
    {
        open.TryRemove(socket, out _);
        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception)
        {
            // Already closed.
        }
        socket.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        stop.Cancel();
        listener.Stop();
        Cut();
        try
        {
            await accepting;
        }
        catch (Exception)
        {
            // Stopping.
        }
        stop.Dispose();
    }
}
