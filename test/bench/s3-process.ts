/**
 * The local S3 server (`shared/local/s3-server.ts`) in a process of its own, as S3 is another machine: what it
 * costs to serve an object (and the object itself, held in a Buffer: 100 MB for the memory figure) is neither
 * in the timings nor in the RSS of the code being measured.
 *
 * Parent side: `startS3Process()`. Child side: this file run with `--import tsx` and an IPC channel.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startLocalS3Server } from '../../shared/local/s3-server.js';
import { isRecord, numberField, ROOT, stringField } from './common.js';

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
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [], {
    execArgv: ['--import', 'tsx'],
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const pending = new Map<
    number,
    { resolve: (value: Record<string, unknown>) => void; reject: (e: Error) => void }
  >();
  let nextId = 1;
  let exited = false;
  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`S3 server process exited early (code ${code})`)));
    child.on('message', (message: unknown) => {
      if (!isRecord(message)) return;
      if (message.type === 'ready') {
        resolve(message);
        return;
      }
      const id = typeof message.id === 'number' ? message.id : -1;
      const waiter = pending.get(id);
      if (waiter === undefined) return;
      pending.delete(id);
      if (message.ok === true) waiter.resolve(message);
      else waiter.reject(new Error(`S3 server: ${String(message.error)}`));
    });
  });
  child.on('exit', () => {
    exited = true;
    for (const waiter of pending.values()) waiter.reject(new Error('S3 server process exited'));
    pending.clear();
  });
  const info = await ready;
  const call = (command: Record<string, unknown>): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      if (exited) {
        reject(new Error('S3 server process is gone'));
        return;
      }
      const id = nextId++;
      pending.set(id, { resolve, reject });
      child.send({ ...command, id });
    });
  return {
    endpoint: stringField(info, 'endpoint'),
    putObjectFromFile: async (bucket, key, file) => {
      const reply = await call({ command: 'put', bucket, key, file });
      return { bytes: numberField(reply, 'bytes'), etag: stringField(reply, 'etag') };
    },
    bytesServed: async (bucket, key) => numberField(await call({ command: 'served', bucket, key }), 'bytes'),
    reset: async () => {
      await call({ command: 'reset' });
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (exited) {
          resolve();
          return;
        }
        child.once('exit', () => resolve());
        child.disconnect();
      }),
  };
}

async function serve(): Promise<void> {
  const server = await startLocalS3Server();
  const send = (message: Record<string, unknown>): void => {
    process.send?.(message);
  };
  const run = async (message: Record<string, unknown>): Promise<Record<string, unknown>> => {
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
  };
  process.on('message', (message: unknown) => {
    if (!isRecord(message) || typeof message.id !== 'number') return;
    const { id } = message;
    run(message).then(
      (reply) => send({ ...reply, id, ok: true }),
      (error: unknown) =>
        send({ id, ok: false, error: error instanceof Error ? error.message : String(error) }),
    );
  });
  process.once('disconnect', () => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
  send({ type: 'ready', endpoint: server.endpoint });
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  serve().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
