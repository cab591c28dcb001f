/**
 * The local Logs Ingestion server in a process of its own, as the real service is on another machine: its
 * gunzip, JSON parsing, validation and storage do not share the event loop (or the core) of the code being
 * measured. Both the handler and the floor talk to this one server over HTTPS.
 *
 * Parent side: `startIngestionProcess()`. Child side: this file run with `--import tsx` and an IPC channel.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type IngestionServer, startIngestionServer } from '../../shared/local/ingestion-server.js';
import { isRecord, numberField, ROOT, stringField } from './common.js';

/** What the server's request log says since the last reset. */
export interface RequestLogSummary {
  readonly requests: number;
  readonly acceptedRequests: number;
  /** Rows stored by accepted requests, all tables. */
  readonly rows: number;
  /** Bytes of the request bodies after gunzip (the JSON text), all requests. */
  readonly uncompressedBytes: number;
  /** Bytes on the wire, all requests. */
  readonly bodyBytes: number;
  /** Requests that came gzipped. */
  readonly gzipRequests: number;
  /** Largest uncompressed body. */
  readonly maxUncompressedBytes: number;
  /** CPU time (user + system) the server process spent since the reset, all its threads. */
  readonly serverCpuMs: number;
  /** Values of accepted rows whose type does not fit their column (the server checks every row). */
  readonly typeErrors: number;
}

export interface IngestionProcess {
  readonly endpoint: string;
  readonly ca: string;
  readonly token: string;
  readonly dcrImmutableId: string;
  /** Forgets rows and the request log. */
  reset(): Promise<void>;
  summary(): Promise<RequestLogSummary>;
  close(): Promise<void>;
}

type Command = 'reset' | 'summary';

function summarise(server: IngestionServer, cpuSince: NodeJS.CpuUsage): RequestLogSummary {
  const stats = server.stats();
  let gzipRequests = 0;
  let maxUncompressedBytes = 0;
  for (const request of server.requests) {
    if (request.gzip) gzipRequests++;
    maxUncompressedBytes = Math.max(maxUncompressedBytes, request.uncompressedBytes);
  }
  return {
    requests: stats.requests,
    acceptedRequests: stats.acceptedRequests,
    rows: stats.totalRows,
    uncompressedBytes: stats.uncompressedBytes,
    bodyBytes: stats.bodyBytes,
    gzipRequests,
    maxUncompressedBytes,
    serverCpuMs: cpuMs(process.cpuUsage(cpuSince)),
    typeErrors: stats.typeErrors.length,
  };
}

function cpuMs(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000;
}

function toSummary(value: Record<string, unknown>): RequestLogSummary {
  return {
    requests: numberField(value, 'requests'),
    acceptedRequests: numberField(value, 'acceptedRequests'),
    rows: numberField(value, 'rows'),
    uncompressedBytes: numberField(value, 'uncompressedBytes'),
    bodyBytes: numberField(value, 'bodyBytes'),
    gzipRequests: numberField(value, 'gzipRequests'),
    maxUncompressedBytes: numberField(value, 'maxUncompressedBytes'),
    serverCpuMs: numberField(value, 'serverCpuMs'),
    typeErrors: numberField(value, 'typeErrors'),
  };
}

export interface IngestionProcessOptions {
  /**
   * `false`: the server validates and counts rows but keeps none (`storeRows: false`), for runs of millions of
   * rows (the s3Logs figures). Default `true`, as the forwarder figures were measured.
   */
  readonly storeRows?: boolean;
}

const NO_STORE = '--no-store';

/** Forks the server process and waits until it listens. */
export async function startIngestionProcess(
  options: IngestionProcessOptions = {},
): Promise<IngestionProcess> {
  const child: ChildProcess = fork(
    fileURLToPath(import.meta.url),
    options.storeRows === false ? [NO_STORE] : [],
    {
      execArgv: ['--import', 'tsx'],
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    },
  );
  const pending = new Map<
    number,
    { resolve: (value: Record<string, unknown>) => void; reject: (e: Error) => void }
  >();
  let nextId = 1;
  let exited = false;

  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`ingestion server process exited early (code ${code})`)));
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
      else waiter.reject(new Error(`ingestion server: ${String(message.error)}`));
    });
  });
  child.on('exit', () => {
    exited = true;
    for (const waiter of pending.values()) waiter.reject(new Error('ingestion server process exited'));
    pending.clear();
  });
  const info = await ready;

  const call = (command: Command): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      if (exited) {
        reject(new Error('ingestion server process is gone'));
        return;
      }
      const id = nextId++;
      pending.set(id, { resolve, reject });
      child.send({ id, command });
    });

  return {
    endpoint: stringField(info, 'endpoint'),
    ca: stringField(info, 'ca'),
    token: stringField(info, 'token'),
    dcrImmutableId: stringField(info, 'dcrImmutableId'),
    reset: async () => {
      await call('reset');
    },
    summary: async () => {
      const reply = await call('summary');
      const summary = reply.summary;
      if (!isRecord(summary)) throw new Error('ingestion server: no summary in reply');
      return toSummary(summary);
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
  const server = await startIngestionServer({ storeRows: !process.argv.includes(NO_STORE) });
  let cpuSince = process.cpuUsage();
  const send = (message: Record<string, unknown>): void => {
    process.send?.(message);
  };
  process.on('message', (message: unknown) => {
    if (!isRecord(message) || typeof message.id !== 'number') return;
    const { id, command } = message;
    try {
      if (command === 'reset') {
        server.reset();
        cpuSince = process.cpuUsage();
        send({ id, ok: true });
      } else if (command === 'summary') {
        send({ id, ok: true, summary: summarise(server, cpuSince) });
      } else {
        send({ id, ok: false, error: `unknown command ${String(command)}` });
      }
    } catch (error) {
      send({ id, ok: false, error: error instanceof Error ? error.message : String(error) });
    }
  });
  // The parent went away (or closed the channel): stop.
  process.once('disconnect', () => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
  send({
    type: 'ready',
    endpoint: server.endpoint,
    ca: server.ca,
    token: server.token,
    dcrImmutableId: server.dcrImmutableId,
  });
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  serve().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
