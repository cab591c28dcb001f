/**
 * The local S3 server (`shared/local/s3-server.ts`) in a process of its own, as S3 is another machine: what it
 * costs to serve an object (and the object itself, held in a Buffer: 100 MB for the memory figure) is neither
 * in the timings nor in the RSS of the code being measured.
 *
 * Parent side: `startS3Process()`. Child side: this file run with `--import tsx` and an IPC channel.
 */
import { readFile } from 'node:fs/promises';
import { startLocalS3Server } from '../../shared/local/s3-server.js';
import { numberField, stringField } from './common.js';
import { forkServer, serveCommands, serveIfEntryPoint } from './server-process.js';

export interface S3Process {
  /** `http://127.0.0.1:<port>`, path-style. */
  readonly endpoint: string;
  /** Stores the file's bytes as the object (the server reads the file; nothing goes over IPC). */
  putObjectFromFile(bucket: string, key: string, file: string): Promise<{ bytes: number; etag: string }>;
  /** Body bytes sent for the object since the last reset, all responses. */
  bytesServed(bucket: string, key: string): Promise<number>;
  /** Forgets objects and the log of served ranges. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export async function startS3Process(): Promise<S3Process> {
  const child = await forkServer(import.meta.url, [], 'S3 server');
  return {
    endpoint: stringField(child.info, 'endpoint'),
    putObjectFromFile: async (bucket, key, file) => {
      const reply = await child.call({ command: 'put', bucket, key, file });
      return { bytes: numberField(reply, 'bytes'), etag: stringField(reply, 'etag') };
    },
    bytesServed: async (bucket, key) =>
      numberField(await child.call({ command: 'served', bucket, key }), 'bytes'),
    reset: async () => {
      await child.call({ command: 'reset' });
    },
    close: () => child.close(),
  };
}

async function serve(): Promise<void> {
  const server = await startLocalS3Server();
  serveCommands(
    { endpoint: server.endpoint },
    async (message) => {
      switch (message.command) {
        case 'put': {
          const body = await readFile(stringField(message, 'file'));
          const stored = server.putObject(stringField(message, 'bucket'), stringField(message, 'key'), body);
          return { bytes: body.length, etag: stored.etag };
        }
        case 'served':
          return {
            bytes: server.bytesServed(stringField(message, 'bucket'), stringField(message, 'key')),
          };
        case 'reset':
          server.reset();
          return {};
        default:
          throw new Error(`unknown command ${String(message.command)}`);
      }
    },
    () => server.close(),
  );
}

serveIfEntryPoint(import.meta.url, serve);
