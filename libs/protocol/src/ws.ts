// The only importer of 'ws': the reference brings its local typings (ws-types.d.ts) into every
// program that type-checks these sources, since @types/ws is not part of the workspace.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="./ws-types.d.ts" />
export { WebSocket, WebSocketServer, type RawData } from 'ws';
