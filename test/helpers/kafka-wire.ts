/**
 * A minimal Kafka client over a raw socket, for gateway tests that need exact control of what
 * goes on the wire (versions, sequences, malformed frames): requests encoded with the gateway's
 * own protocol layer (itself checked against kafkajs's codecs), responses decoded in order.
 */
import { connect, type Socket } from 'node:net';
import {
  type ApiName,
  decodeResponse,
  encodeRequest,
  FrameReader,
  type RequestInput,
  type ResponseBody,
} from '../../gateway/protocol/index.ts';

/** A connection to a gateway. */
export class WireClient {
  readonly #socket: Socket;
  readonly #frames = new FrameReader();
  readonly #waiting: { resolve: (frame: Uint8Array) => void; reject: (error: Error) => void }[] = [];
  readonly #arrived: Uint8Array[] = [];
  #correlationId = 0;
  #closed = false;
  /** Settles when the gateway (or this side) closed the connection. */
  readonly closed: Promise<void>;

  private constructor(socket: Socket) {
    this.#socket = socket;
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.#frames.push(chunk)) {
        const next = this.#waiting.shift();
        if (next) next.resolve(frame);
        else this.#arrived.push(frame);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.#closed = true;
      for (const w of this.#waiting.splice(0)) w.reject(new Error('The gateway closed the connection'));
    });
  }

  static connect(port: number): Promise<WireClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port }, () => {
        socket.off('error', reject);
        resolve(new WireClient(socket));
      });
      socket.once('error', reject);
    });
  }

  /** True once the connection is closed. */
  get isClosed(): boolean {
    return this.#closed;
  }

  /** Sends one request and returns its decoded response. */
  async request<N extends ApiName>(api: N, version: number, body: RequestInput<N>): Promise<ResponseBody<N>> {
    const correlationId = this.send(api, version, body);
    return this.response(api, version, correlationId);
  }

  /** Sends one request without waiting; returns its correlation id. */
  send<N extends ApiName>(api: N, version: number, body: RequestInput<N>): number {
    const correlationId = ++this.#correlationId;
    this.#socket.write(
      encodeRequest(api, { apiVersion: version, correlationId, clientId: 'wire-test' }, body),
    );
    return correlationId;
  }

  /** The next response, decoded as `api` v`version`; checks its correlation id. */
  async response<N extends ApiName>(
    api: N,
    version: number,
    correlationId: number,
  ): Promise<ResponseBody<N>> {
    const frame = await this.nextFrame();
    const decoded = decodeResponse(api, version, frame);
    if (decoded.correlationId !== correlationId) {
      throw new Error(`Expected the response to ${correlationId}, got ${decoded.correlationId}`);
    }
    return decoded.body;
  }

  /** The next frame the gateway sent (its payload). */
  nextFrame(): Promise<Uint8Array> {
    const arrived = this.#arrived.shift();
    if (arrived) return Promise.resolve(arrived);
    if (this.#closed) return Promise.reject(new Error('The gateway closed the connection'));
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  /** Writes raw bytes (a frame of one's own making). */
  writeRaw(bytes: Uint8Array): void {
    this.#socket.write(bytes);
  }

  close(): void {
    this.#socket.destroy();
  }
}
