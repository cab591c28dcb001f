/**
 * The local Logs Ingestion server in a process of its own, as the real service is on another machine: its
 * gunzip, JSON parsing, validation and storage do not share the event loop (or the core) of the code being
 * measured. Both the handler and the floor talk to this one server over HTTPS.
 *
 * Parent side: `startIngestionProcess()`. Child side: this file run with `--import tsx` and an IPC channel.
 */
import { type IngestionServer, startIngestionServer } from '../../shared/local/ingestion-server.js';
import { isRecord, numberField, stringField } from './common.js';
import { forkServer, serveCommands, serveIfEntryPoint } from './server-process.js';

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
  const child = await forkServer(
    import.meta.url,
    options.storeRows === false ? [NO_STORE] : [],
    'ingestion server',
  );
  const { info } = child;
  return {
    endpoint: stringField(info, 'endpoint'),
    ca: stringField(info, 'ca'),
    token: stringField(info, 'token'),
    dcrImmutableId: stringField(info, 'dcrImmutableId'),
    reset: async () => {
      await child.call({ command: 'reset' });
    },
    summary: async () => {
      const reply = await child.call({ command: 'summary' });
      const summary = reply.summary;
      if (!isRecord(summary)) throw new Error('ingestion server: no summary in reply');
      return toSummary(summary);
    },
    close: () => child.close(),
  };
}

async function serve(): Promise<void> {
  const server = await startIngestionServer({ storeRows: !process.argv.includes(NO_STORE) });
  let cpuSince = process.cpuUsage();
  serveCommands(
    {
      endpoint: server.endpoint,
      ca: server.ca,
      token: server.token,
      dcrImmutableId: server.dcrImmutableId,
    },
    (message) => {
      if (message.command === 'reset') {
        server.reset();
        cpuSince = process.cpuUsage();
        return {};
      }
      if (message.command === 'summary') return { summary: summarise(server, cpuSince) };
      throw new Error(`unknown command ${String(message.command)}`);
    },
    () => server.close(),
  );
}

serveIfEntryPoint(import.meta.url, serve);
