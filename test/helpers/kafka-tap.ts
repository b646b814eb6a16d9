/**
 * A wire tap for kafkajs: a `socketFactory` that hands kafkajs ordinary TCP sockets and, on the
 * side, decodes every request kafkajs writes and every response it reads (with the gateway's
 * protocol layer) and counts the bytes and connections. Tests compare what the gateway reports
 * about its traffic with what actually crossed the wire, whatever requests kafkajs chose to send.
 */
import { connect } from 'node:net';
import type { ISocketFactory } from 'kafkajs';
import {
  type ApiName,
  decodeRequest,
  decodeResponse,
  FrameReader,
  type ResponseBody,
} from '../../gateway/protocol/index.ts';

/** One request kafkajs sent, and its response once it arrived. */
export interface TappedRequest {
  readonly api: ApiName;
  readonly version: number;
  readonly correlationId: number;
  response?: ResponseBody<ApiName>;
}

export class KafkaTap {
  readonly requests: TappedRequest[] = [];
  /** Frames kafkajs wrote that the protocol layer could not decode (a test expects none). */
  readonly undecodable: string[] = [];
  connections = 0;
  bytesWritten = 0;
  bytesRead = 0;

  readonly socketFactory: ISocketFactory = ({ host, port, onConnect }) => {
    const socket = connect({ host, port }, onConnect);
    this.connections++;
    const outgoing = new FrameReader();
    const incoming = new FrameReader();
    const pending = new Map<number, TappedRequest>();
    const write = socket.write.bind(socket) as (chunk: Uint8Array, ...rest: unknown[]) => boolean;
    socket.write = ((chunk: unknown, ...rest: unknown[]) => {
      if (!(chunk instanceof Uint8Array)) throw new TypeError('kafkajs wrote something other than bytes');
      this.bytesWritten += chunk.length;
      for (const frame of outgoing.push(chunk)) {
        try {
          const { api, header } = decodeRequest(frame);
          const entry: TappedRequest = {
            api,
            version: header.apiVersion,
            correlationId: header.correlationId,
          };
          pending.set(header.correlationId, entry);
          this.requests.push(entry);
        } catch (error) {
          this.undecodable.push(String(error));
        }
      }
      return write(chunk, ...rest);
    }) as typeof socket.write;
    socket.on('data', (chunk: Buffer) => {
      this.bytesRead += chunk.length;
      for (const frame of incoming.push(chunk)) {
        const correlationId = new DataView(frame.buffer, frame.byteOffset, 4).getInt32(0);
        const entry = pending.get(correlationId);
        if (entry === undefined) {
          this.undecodable.push(`a response to ${correlationId}, which was never sent`);
          continue;
        }
        pending.delete(correlationId);
        entry.response = decodeResponse(entry.api, entry.version, frame).body;
      }
    });
    return socket;
  };
}
