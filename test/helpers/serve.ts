// Serves a handler through the real local host on a loopback port, and closes it completely
// (open keep-alive and streaming connections included) so tests leave no handles behind.
import type { AddressInfo } from 'node:net';
import { createNodeHost, type NodeHostOptions } from '../../infra/local/node-host';
import type { HttpHandler } from '../../shared/http/types';

export interface Served {
  url: string;
  close(): Promise<void>;
}

export async function serveOnLoopback(handler: HttpHandler, opts: NodeHostOptions): Promise<Served> {
  const server = createNodeHost(handler, opts);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
