import { once } from 'node:events';
import http, { type IncomingHttpHeaders } from 'node:http';
import type net from 'node:net';

/** A request that reached the proxy. */
export interface ProxiedRequest {
  method: string;
  /** Path and query, such as `/v2/team/hello/blobs/sha256:…`. */
  path: string;
  headers: IncomingHttpHeaders;
}

/** The proxy's handling of one request. */
export type ProxyAction =
  /** Pass it to the registry, at `path` when given, with `headers` added. */
  | { kind: 'forward'; path?: string; headers?: Record<string, string> }
  /** Respond in the registry's place. */
  | { kind: 'respond'; status: number; headers?: Record<string, string>; body?: string }
  /** Close the connection without a response, as a network failure would. */
  | { kind: 'drop' };

/** An HTTP proxy on 127.0.0.1 in front of a test registry, which fails requests on demand. */
export interface RegistryProxy {
  /** `127.0.0.1:PORT`, the registry part of a reference that goes through the proxy. */
  host: string;
  /** Every request received, in order of arrival. */
  requests: ProxiedRequest[];
  stop(): Promise<void>;
}

/**
 * Starts a proxy that calls `decide` for each request to choose its handling: forward it to the registry at
 * `target` (`127.0.0.1:PORT`), respond in its place, or drop the connection. The `Host` header is passed on
 * unchanged, so the `Location` headers the registry builds point back at the proxy.
 */
export async function startRegistryProxy(
  target: string,
  decide: (request: ProxiedRequest, proxyHost: string) => ProxyAction,
): Promise<RegistryProxy> {
  const requests: ProxiedRequest[] = [];
  const sockets = new Set<net.Socket>();
  let proxyHost = '';

  const server = http.createServer((incoming, outgoing) => {
    const request: ProxiedRequest = {
      method: incoming.method ?? 'GET',
      path: incoming.url ?? '/',
      headers: incoming.headers,
    };
    requests.push(request);
    const action = decide(request, proxyHost);

    if (action.kind === 'drop') {
      incoming.socket.destroy();
      return;
    }
    if (action.kind === 'respond') {
      incoming.resume();
      outgoing.writeHead(action.status, action.headers ?? {});
      outgoing.end(action.body);
      return;
    }

    const [hostname, port] = target.split(':');
    const forwarded = http.request(
      {
        hostname,
        port: Number(port),
        method: request.method,
        path: action.path ?? request.path,
        headers: { ...incoming.headers, ...action.headers },
      },
      (response) => {
        outgoing.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(outgoing);
      },
    );
    forwarded.on('error', () => incoming.socket.destroy());
    incoming.pipe(forwarded);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  proxyHost = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;

  return {
    host: proxyHost,
    requests,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close').catch(() => undefined);
    },
  };
}
