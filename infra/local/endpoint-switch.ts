// A public loopback port in front of an emulator that can be switched off and on again, the way
// the harness simulates an outage: off, the port refuses connections and open ones are reset, as
// if the process had been killed; on, it listens on the same port again, and the emulator behind
// it still has its data.
import type { Server, Socket } from 'node:net';

export class EndpointSwitch {
  private readonly sockets = new Set<Socket>();
  private port = 0;
  private listening = false;

  constructor(private readonly server: Server) {
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  /** Listens on `port` (0: any free one) and returns the port it got. */
  async listen(port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const addr = this.server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : port;
    this.listening = true;
    return this.port;
  }

  get isOn(): boolean {
    return this.listening;
  }

  /** Stops accepting and resets every open connection. */
  async off(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  /** Listens again on the port it had. */
  async on(): Promise<void> {
    if (this.listening) return;
    await this.listen(this.port);
  }
}
