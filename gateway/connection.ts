/**
 * One client connection: frames split from the byte stream (`FrameReader`), requests decoded and
 * answered one at a time in arrival order, so responses go out in request order however many a
 * client pipelines (Kafka handles a connection's requests one at a time too). Reading pauses while
 * enough requests wait.
 *
 * Whatever a peer sends, only its own connection is affected: a frame that is malformed,
 * truncated, oversized, of an API or version not served, or sent before authenticating closes the
 * connection after the answers to the requests before it, and nothing of it is written. The one
 * exception is ApiVersions above the versions served, answered in the v0 body (KIP-511) so that
 * the client retries with one both speak.
 */
import type { Socket } from 'node:net';
import { isHandled } from './advertised-apis.ts';
import type { GatewayContext, Handler, RequestOf, RequestScope } from './context.ts';
import { NO_RESPONSE } from './context.ts';
import { HANDLERS, type RoutedApi } from './handlers/index.ts';
import { KafkaError } from './kafka-errors.ts';
import type { GatewayMetrics } from './metrics.ts';
import {
  type ApiName,
  decodeRequest,
  encodeResponse,
  encodeUnsupportedApiVersionsResponse,
  FrameReader,
  type KafkaRequest,
  ProtocolError,
  type RequestHeader,
  type ResponseInput,
  UnsupportedRequestError,
} from './protocol/index.ts';
import { admits, PLAIN, type PlainCredentials, type SaslState, transition } from './sasl.ts';
import { SequenceGate } from './sequence-gate.ts';

/** Settings every connection of a gateway shares. */
export interface ConnectionSettings {
  readonly gateway: GatewayContext;
  /** Set when clients must authenticate with SASL/PLAIN. */
  readonly credentials: PlainCredentials | undefined;
  readonly maxFrameBytes: number;
  /** Counts connections, bytes and requests (`metrics.ts`). */
  readonly metrics: GatewayMetrics;
}

/** Requests waiting at which reading the socket pauses (it resumes at half). */
const MAX_QUEUED_FRAMES = 64;
/** How long a closed connection's unsent answers may take to leave before the socket is destroyed. */
const CLOSE_GRACE_MS = 5_000;
const API_VERSIONS_KEY = 18;
/** The answer to a raw (v0-handshake) SASL token: an empty frame. */
const EMPTY_FRAME = new Uint8Array(4);
/** Socket errors that only mean the peer went away. */
const PEER_GONE = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT']);

export class GatewayConnection {
  readonly #socket: Socket;
  readonly #settings: ConnectionSettings;
  readonly #frames: FrameReader;
  readonly #queue: Uint8Array[] = [];
  readonly #abort = new AbortController();
  readonly #scope: RequestScope;
  readonly #label: string;
  #sasl: SaslState;
  /** Set when the byte stream could not be framed: no frame after it can be trusted. */
  #framingError: ProtocolError | undefined;
  #serving: Promise<void> | undefined;
  /** Set by a handler that wants the connection closed once its request is done. */
  #closeReason: string | undefined;
  #closed = false;
  readonly #gone: Promise<void>;
  /** The request being served, counted once: when answered, or when it ends unanswered. */
  #current: { readonly api: ApiName; readonly version: number; readonly started: number } | undefined;

  constructor(socket: Socket, settings: ConnectionSettings) {
    this.#socket = socket;
    this.#settings = settings;
    this.#frames = new FrameReader({ maxFrameBytes: settings.maxFrameBytes });
    this.#label = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.#sasl = settings.credentials ? 'unauthenticated' : 'open';
    this.#scope = {
      gateway: settings.gateway,
      signal: this.#abort.signal,
      clientHost: socket.remoteAddress ?? '',
      sequences: new SequenceGate(),
      closeAfter: (reason) => {
        this.#closeReason ??= reason;
      },
    };
    this.#gone = new Promise((resolve) => socket.once('close', () => resolve()));
    settings.metrics.connectionOpened();
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      settings.metrics.received(chunk.length);
      this.#receive(chunk);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (!PEER_GONE.has(error.code ?? '')) this.#log(`socket error: ${error.message}`);
    });
    socket.on('close', () => {
      settings.metrics.connectionClosed();
      this.#closed = true;
      this.#abort.abort();
      this.#queue.length = 0;
    });
  }

  /** Settles once the socket is closed and the request being served (if any) has finished. */
  async finished(): Promise<void> {
    await this.#gone;
    await this.#serving;
  }

  /** Closes the connection at once (the gateway stops). */
  destroy(): Promise<void> {
    this.#socket.destroy();
    return this.finished();
  }

  #receive(chunk: Buffer): void {
    if (this.#closed || this.#framingError) return;
    try {
      this.#queue.push(...this.#frames.push(chunk));
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      // Answer the requests of earlier chunks, then close: the stream cannot be resynchronised.
      this.#framingError = error;
      this.#socket.pause();
    }
    if (this.#queue.length >= MAX_QUEUED_FRAMES) this.#socket.pause();
    this.#pump();
  }

  #pump(): void {
    if (this.#serving) return;
    this.#serving = this.#serveQueued().finally(() => {
      this.#serving = undefined;
      if (this.#closed) return;
      if (this.#queue.length > 0) this.#pump();
      else if (this.#framingError) {
        this.#settings.metrics.closedForMalformedInput();
        this.#close(`unreadable stream: ${this.#framingError.message}`);
      }
    });
  }

  async #serveQueued(): Promise<void> {
    for (let frame = this.#queue.shift(); frame && !this.#closed; frame = this.#queue.shift()) {
      if (!this.#framingError && this.#queue.length <= MAX_QUEUED_FRAMES / 2) this.#socket.resume();
      try {
        await this.#serve(frame);
        if (this.#closeReason !== undefined) this.#close(this.#closeReason);
      } catch (error) {
        // A handler's bug (it must answer domain failures in the response): this connection only.
        this.#close(
          `request failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
        );
      }
    }
  }

  async #serve(frame: Uint8Array): Promise<void> {
    if (this.#sasl === 'handshake-v0') return this.#rawToken(frame);
    const started = performance.now();
    let request: KafkaRequest;
    try {
      request = decodeRequest(frame);
    } catch (error) {
      if (error instanceof UnsupportedRequestError && error.apiKey === API_VERSIONS_KEY) {
        // Counted as the v0 answer it gets: versions a client makes up must not become series.
        this.#current = { api: 'ApiVersions', version: 0, started };
        this.#record({ errorCode: KafkaError.UNSUPPORTED_VERSION });
        return this.#write(encodeUnsupportedApiVersionsResponse(error.correlationId));
      }
      if (error instanceof ProtocolError) {
        this.#settings.metrics.closedForMalformedInput();
        return this.#close(`malformed request: ${error.message}`);
      }
      throw error;
    }
    const { api } = request;
    if (!isHandled(api)) return this.#close(`${api} is not served (it is not advertised)`);
    if (!admits(this.#sasl, api)) return this.#close(`${api} before authenticating`);
    this.#current = { api, version: request.header.apiVersion, started };
    try {
      if (request.api === 'SaslHandshake') return await this.#handshake(request);
      if (request.api === 'SaslAuthenticate') return await this.#authenticate(request);
      const handler = HANDLERS[api as RoutedApi] as unknown as Handler<ApiName>;
      const response = await handler(request as RequestOf<ApiName>, this.#scope);
      if (response === NO_RESPONSE || this.#closed) return;
      return await this.#respond(api, request.header, response);
    } finally {
      // Not answered: acks 0, the connection closed meanwhile, or the handler failed.
      this.#record(undefined);
    }
  }

  /** Encodes and writes the answer to the request being served, counting it first. */
  #respond<N extends ApiName>(api: N, header: RequestHeader, body: ResponseInput<N>): Promise<void> {
    const bytes = encodeResponse(api, header.apiVersion, header.correlationId, body);
    // Before the write, so that a client holding the answer finds it counted.
    this.#record(body);
    return this.#write(bytes);
  }

  /** Counts the request being served (once), with its response if one is sent. */
  #record(response: unknown): void {
    const current = this.#current;
    if (current === undefined) return;
    this.#current = undefined;
    const latencyMs = performance.now() - current.started;
    this.#settings.metrics.request(current.api, current.version, latencyMs, response);
  }

  async #handshake(request: RequestOf<'SaslHandshake'>): Promise<void> {
    const { apiVersion } = request.header;
    const answer = (errorCode: number, mechanisms: string[]) =>
      this.#respond('SaslHandshake', request.header, { errorCode, mechanisms });
    if (this.#sasl === 'open') return answer(KafkaError.ILLEGAL_SASL_STATE, []);
    if (this.#sasl !== 'unauthenticated') {
      await answer(KafkaError.ILLEGAL_SASL_STATE, [PLAIN]);
      return this.#close('SaslHandshake after authenticating (re-authentication is not supported)');
    }
    if (request.body.mechanism !== PLAIN) {
      await answer(KafkaError.UNSUPPORTED_SASL_MECHANISM, [PLAIN]);
      return this.#close(`SASL mechanism ${request.body.mechanism} is not supported`);
    }
    this.#sasl = transition(this.#sasl, apiVersion === 0 ? 'handshake-v0' : 'handshake-v1');
    return answer(KafkaError.NONE, [PLAIN]);
  }

  async #authenticate(request: RequestOf<'SaslAuthenticate'>): Promise<void> {
    const answer = (errorCode: number, errorMessage: string | null) =>
      this.#respond('SaslAuthenticate', request.header, {
        errorCode,
        errorMessage,
        authBytes: new Uint8Array(0),
        sessionLifetimeMs: 0n,
      });
    if (this.#sasl !== 'handshake-v1') {
      await answer(KafkaError.ILLEGAL_SASL_STATE, 'SaslAuthenticate comes after a SaslHandshake v1');
      if (this.#sasl === 'authenticated') this.#close('SaslAuthenticate after authenticating');
      return;
    }
    const user = this.#settings.credentials?.verify(request.body.authBytes);
    if (user === undefined) {
      await answer(
        KafkaError.SASL_AUTHENTICATION_FAILED,
        'Authentication failed: Invalid username or password',
      );
      return this.#close('SASL/PLAIN authentication failed');
    }
    this.#sasl = transition(this.#sasl, 'authenticated');
    return answer(KafkaError.NONE, null);
  }

  /** After a v0 handshake: the frame is the PLAIN token itself, answered by an empty frame. */
  async #rawToken(frame: Uint8Array): Promise<void> {
    if (this.#settings.credentials?.verify(frame) === undefined) {
      return this.#close('SASL/PLAIN authentication failed');
    }
    this.#sasl = transition(this.#sasl, 'authenticated');
    return this.#write(EMPTY_FRAME);
  }

  /** Writes a response; waits while the socket's buffer is full (the client reads slowly). */
  #write(bytes: Uint8Array): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#settings.metrics.sent(bytes.length);
    if (this.#socket.write(bytes)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.#socket.off('drain', done);
        this.#socket.off('close', done);
        resolve();
      };
      this.#socket.once('drain', done);
      this.#socket.once('close', done);
    });
  }

  /** Closes after what was written so far has gone out; nothing more is read or served. */
  #close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#log(`closing: ${reason}`);
    this.#abort.abort();
    this.#queue.length = 0;
    this.#socket.end(() => this.#socket.destroy());
    setTimeout(() => this.#socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  #log(line: string): void {
    this.#settings.gateway.log(`[${this.#label}] ${line}`);
  }
}
