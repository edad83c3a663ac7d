import { createServer, type Server, type Socket } from 'node:net';
import type AVPacket from 'node-media-server/src/core/avpacket.js';
import nmsLogger from 'node-media-server/src/core/logger.js';
import type { Logger } from '../../../core/logger.ts';
import { GuardedRtmp, RtmpProtocolError, type PublishRequest } from './guarded-rtmp.ts';

/**
 * One encoder's connection once it asked to publish. The ingest checks the key, then accepts (media starts
 * flowing to `onPacket`) or refuses (the encoder is told why and disconnected).
 */
export interface RtmpPublisher {
  readonly id: string;
  readonly remoteAddress: string;
  readonly request: PublishRequest;
  /** Starts the flow of media. Each packet's `data` is valid only during the call (the parser reuses it). */
  accept(onPacket: (packet: AVPacket) => void): void;
  refuse(description: string): void;
  /** Stops reading from the socket (the encoder's TCP window fills): backpressure while ffmpeg catches up. */
  pause(): void;
  resume(): void;
  close(reason: string): void;
  /** Bytes received since the connection opened. */
  readonly bytesIn: number;
  /** Called once when the connection is gone (closed by either side, or `close`), or the encoder unpublished. */
  onGone(listener: (reason: string) => void): void;
}

export interface RtmpServerOptions {
  host: string;
  port: number;
  /** Connections open at once; more are closed on arrival. */
  maxConnections: number;
  /** Connections from one address that have not yet published. */
  maxPendingPerAddress?: number;
  /** Time from accept to the publish command, ms. */
  publishDeadlineMs?: number;
  /** Bytes a connection may send before its publish is accepted. */
  maxBytesBeforePublish?: number;
  maxCommandBytes?: number;
  maxMediaBytes?: number;
  logger: Logger;
  /** Called with every publish request: check its key, then accept or refuse it. */
  onPublish: (publisher: RtmpPublisher) => void;
}

// node-media-server's protocol code logs with console.log; route it to debug level of the role's logger.
let nmsLogTarget: Logger | undefined;
nmsLogger.log = (message: string, level = 'info') => nmsLogTarget?.debug({ nmsLevel: level }, String(message).slice(0, 200));

/**
 * The RTMP listener: node-media-server's protocol state machine (GuardedRtmp) on a plain `net` server whose every
 * connection is bounded: how many at once (and per address before publishing), how long until the publish
 * command, how many bytes before it, how large one message may be. Garbage closes the connection it came on and
 * nothing else; a protocol error never escapes into the process.
 */
export class RtmpServer {
  private readonly server: Server;
  private readonly options: Required<Omit<RtmpServerOptions, 'onPublish' | 'logger'>> & Pick<RtmpServerOptions, 'onPublish' | 'logger'>;
  private readonly sockets = new Set<Socket>();
  private readonly pendingByAddress = new Map<string, number>();
  private nextId = 0;
  /** Connections closed for breaking the protocol or a limit, since start. */
  protocolErrors = 0;

  constructor({
    maxPendingPerAddress = 8,
    publishDeadlineMs = 10_000,
    maxBytesBeforePublish = 256 * 1024,
    maxCommandBytes = 64 * 1024,
    maxMediaBytes = 8 * 1024 * 1024,
    ...rest
  }: RtmpServerOptions) {
    this.options = { maxPendingPerAddress, publishDeadlineMs, maxBytesBeforePublish, maxCommandBytes, maxMediaBytes, ...rest };
    nmsLogTarget = rest.logger;
    this.server = createServer({ noDelay: true }, (socket) => this.handle(socket));
    this.server.maxConnections = rest.maxConnections;
  }

  async listen(): Promise<{ host: string; port: number }> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const address = this.server.address();
    if (!address || typeof address === 'string') throw new Error('the RTMP server has no port');
    return { host: address.address, port: address.port };
  }

  get connections(): number {
    return this.sockets.size;
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private handle(socket: Socket): void {
    const { logger } = this.options;
    const id = `rtmp-${++this.nextId}`;
    const remoteAddress = socket.remoteAddress ?? 'unknown';
    const pending = (this.pendingByAddress.get(remoteAddress) ?? 0) + 1;
    if (pending > this.options.maxPendingPerAddress) {
      logger.warn({ connection: id, remoteAddress }, 'too many RTMP connections from one address before publishing; closed');
      socket.destroy();
      return;
    }
    this.pendingByAddress.set(remoteAddress, pending);
    let stillPending = true;
    const leavePending = () => {
      if (!stillPending) return;
      stillPending = false;
      const left = (this.pendingByAddress.get(remoteAddress) ?? 1) - 1;
      if (left <= 0) this.pendingByAddress.delete(remoteAddress);
      else this.pendingByAddress.set(remoteAddress, left);
    };
    this.sockets.add(socket);

    const rtmp = new GuardedRtmp({ maxCommandBytes: this.options.maxCommandBytes, maxMediaBytes: this.options.maxMediaBytes });
    let bytesIn = 0;
    let gone: string | undefined;
    const goneListeners: ((reason: string) => void)[] = [];
    let onPacket: ((packet: AVPacket) => void) | undefined;
    const finish = (reason: string) => {
      if (gone !== undefined) return;
      gone = reason;
      clearTimeout(deadline);
      leavePending();
      for (const listener of goneListeners) listener(reason);
    };
    const close = (reason: string) => {
      finish(reason);
      socket.destroy();
    };
    const deadline = setTimeout(() => {
      logger.info({ connection: id, remoteAddress }, 'RTMP connection did not publish in time; closed');
      close('no publish in time');
    }, this.options.publishDeadlineMs);

    rtmp.onOutputCallback = (buffer) => {
      if (!socket.destroyed) socket.write(buffer);
    };
    rtmp.onPacketCallback = (packet) => onPacket?.(packet);
    rtmp.onUnpublish = () => finish('unpublished');
    rtmp.onPublishRequest = (request) => {
      clearTimeout(deadline);
      const publisher: RtmpPublisher = {
        id,
        remoteAddress,
        request,
        accept: (handler) => {
          if (gone !== undefined) return;
          leavePending();
          onPacket = handler;
          rtmp.acceptPublish();
        },
        refuse: (description) => {
          if (gone === undefined) rtmp.refusePublish(description);
          finish('refused');
          // Let the status message go out before the socket closes.
          socket.end();
          setTimeout(() => socket.destroy(), 1000).unref();
        },
        pause: () => socket.pause(),
        resume: () => socket.resume(),
        close,
        get bytesIn() {
          return bytesIn;
        },
        onGone: (listener) => {
          if (gone !== undefined) listener(gone);
          else goneListeners.push(listener);
        },
      };
      this.options.onPublish(publisher);
    };

    socket.on('data', (data: Buffer) => {
      bytesIn += data.length;
      if (!rtmp.publishing && bytesIn > this.options.maxBytesBeforePublish) {
        this.protocolErrors++;
        logger.warn({ connection: id, remoteAddress, bytesIn }, 'RTMP connection sent too much before publishing; closed');
        close('too many bytes before publishing');
        return;
      }
      try {
        const error = rtmp.parserData(data);
        if (error) throw new RtmpProtocolError(error);
      } catch (err) {
        this.protocolErrors++;
        const reason = err instanceof RtmpProtocolError ? err.message : `unreadable RTMP (${(err as Error).name})`;
        logger.info({ connection: id, remoteAddress, reason }, 'RTMP connection broke the protocol; closed');
        close(`protocol error: ${reason}`);
      }
    });
    socket.on('error', (err) => logger.debug({ err, connection: id }, 'RTMP socket error'));
    socket.on('close', () => {
      this.sockets.delete(socket);
      finish('disconnected');
    });
  }
}
