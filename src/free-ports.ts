import net from 'node:net';

/** Ports on 127.0.0.1 that were free a moment ago, all distinct (held open together while choosing). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, () => new Promise<net.Server>((ok, fail) => {
    const server = net.createServer();
    server.once('error', fail);
    server.listen({ host: '127.0.0.1', port: 0 }, () => ok(server));
  })));
  const ports = servers.map((server) => (server.address() as net.AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((done) => server.close(done))));
  return ports;
}

/** One port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port!;
}
