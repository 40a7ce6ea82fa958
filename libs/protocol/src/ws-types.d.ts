// The part of ws@8 this library uses, typed here because @types/ws is not installed in the workspace.
// Transport modules pull it in with a triple-slash reference so that packages type-checking our
// sources see it too.
declare module 'ws' {
  import type { EventEmitter } from 'node:events';
  import type { IncomingMessage } from 'node:http';
  import type { Duplex } from 'node:stream';
  import type { ClientRequest, OutgoingHttpHeaders } from 'node:http';

  type RawData = Buffer | ArrayBuffer | Buffer[];

  interface ClientOptions {
    headers?: OutgoingHttpHeaders;
    maxPayload?: number;
    perMessageDeflate?: boolean;
    handshakeTimeout?: number;
    skipUTF8Validation?: boolean;
    /** Fills the 4-byte masking key of each frame; an all-zero key makes ws skip masking. */
    generateMask?: (mask: Uint8Array) => void;
    /** Passed on to tls.connect for wss:// URLs: the CAs the server's certificate must chain to. */
    ca?: string | Buffer;
  }

  interface SendOptions {
    binary?: boolean;
    fin?: boolean;
    compress?: boolean;
    mask?: boolean;
  }

  class WebSocket extends EventEmitter {
    static readonly CONNECTING: 0;
    static readonly OPEN: 1;
    static readonly CLOSING: 2;
    static readonly CLOSED: 3;
    constructor(address: string | URL, options?: ClientOptions);
    readonly readyState: 0 | 1 | 2 | 3;
    readonly bufferedAmount: number;
    binaryType: 'nodebuffer' | 'arraybuffer' | 'fragments';
    send(data: Uint8Array | ArrayBuffer | string, options: SendOptions, cb?: (err?: Error) => void): void;
    send(data: Uint8Array | ArrayBuffer | string, cb?: (err?: Error) => void): void;
    close(code?: number, reason?: string | Buffer): void;
    terminate(): void;
    on(event: 'message', listener: (data: RawData, isBinary: boolean) => void): this;
    on(event: 'close', listener: (code: number, reason: Buffer) => void): this;
    on(event: 'error', listener: (error: Error & { code?: string }) => void): this;
    on(event: 'open', listener: () => void): this;
    on(event: 'upgrade', listener: (response: IncomingMessage) => void): this;
    on(event: 'unexpected-response', listener: (request: ClientRequest, response: IncomingMessage) => void): this;
    once(event: 'open', listener: () => void): this;
    once(event: 'close', listener: (code: number, reason: Buffer) => void): this;
  }

  interface ServerOptions {
    port?: number;
    host?: string;
    noServer?: boolean;
    maxPayload?: number;
    perMessageDeflate?: boolean;
    clientTracking?: boolean;
    skipUTF8Validation?: boolean;
  }

  class WebSocketServer extends EventEmitter {
    constructor(options: ServerOptions);
    handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, callback: (client: WebSocket, request: IncomingMessage) => void): void;
    close(callback?: (err?: Error) => void): void;
    address(): { port: number; address: string; family: string } | string | null;
    on(event: 'headers', listener: (headers: string[], request: IncomingMessage) => void): this;
    on(event: 'connection', listener: (socket: WebSocket, request: IncomingMessage) => void): this;
    on(event: 'error', listener: (error: Error) => void): this;
    once(event: 'listening', listener: () => void): this;
  }

  export { WebSocket, WebSocketServer, type RawData, type ClientOptions, type ServerOptions, type SendOptions };
  export default WebSocket;
}
