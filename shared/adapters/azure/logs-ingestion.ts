import type { TokenCredential } from '@azure/core-auth';
import { LogsIngestionClient, type LogsIngestionClientOptions } from '@azure/monitor-ingestion';
import { utf8Length } from '../../domain/rows/limits.js';
import type { Row } from '../../domain/rows/row.js';
import type { LogsIngestionPort, UploadFailure, UploadReport } from '../../ports/logs-ingestion.js';

/** The SDK splits an upload into requests of at most this many bytes of JSON (sum of the records). */
const SDK_CHUNK_BYTES = 1_000_000;
const DEFAULT_CONCURRENCY = 5;

export interface LogsIngestionAdapterOptions {
  /** Data collection endpoint or the DCR's own logs ingestion endpoint, `https://...ingest.monitor.azure.com`. */
  readonly endpoint: string;
  /** Immutable id of the data collection rule (`dcr-...`). */
  readonly ruleId: string;
  readonly credential: TokenCredential;
  /** Passed to the SDK client: `tlsOptions` for a local server, `retryOptions`, ... */
  readonly clientOptions?: LogsIngestionClientOptions;
  readonly maxConcurrency?: number;
}

interface Chunk {
  readonly start: number;
  readonly rows: Row[];
  readonly bytes: number;
}

/** Same split the SDK makes, so each of our calls is exactly one HTTP request. */
export function chunkRows(rows: readonly Row[]): Chunk[] {
  const chunks: Chunk[] = [];
  let current: Row[] = [];
  let start = 0;
  let size = 0;
  rows.forEach((row, index) => {
    const bytes = utf8Length(JSON.stringify(row));
    if (size + bytes >= SDK_CHUNK_BYTES && current.length > 0) {
      chunks.push({ start, rows: current, bytes: size });
      current = [];
      start = index;
      size = 0;
    }
    current.push(row);
    size += bytes;
  });
  if (current.length > 0) chunks.push({ start, rows: current, bytes: size });
  return chunks;
}

function statusOf(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null && 'statusCode' in error) {
    const status = (error as { statusCode?: unknown }).statusCode;
    return typeof status === 'number' ? status : undefined;
  }
  return undefined;
}

function messageOf(error: unknown): string {
  const raw = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return raw.replace(/\s+/g, ' ').slice(0, 300);
}

/**
 * Logs Ingestion through the real `@azure/monitor-ingestion` client.
 *
 * Rows are chunked here, the way the SDK does, and each chunk is one `client.upload` call: the SDK's own
 * multi-chunk upload stops starting chunks once its abort signal fires and then reports success for the
 * chunks it never sent, which would lose them. One call per chunk makes every unsent row a failure.
 * Failures are mapped back to row indices; a 400 or 413 for a request holding a single row is permanent
 * (retrying the same row cannot help), anything else (429, 5xx, network, auth) is retryable.
 */
export function createLogsIngestionAdapter(options: LogsIngestionAdapterOptions): LogsIngestionPort {
  const client = new LogsIngestionClient(options.endpoint, options.credential, options.clientOptions);
  const concurrency = Math.max(1, options.maxConcurrency ?? DEFAULT_CONCURRENCY);

  return {
    async upload(stream: string, rows: readonly Row[], signal?: AbortSignal): Promise<UploadReport> {
      const chunks = chunkRows(rows);
      const failures: UploadFailure[] = [];
      let requests = 0;
      let bytes = 0;
      let next = 0;

      const worker = async (): Promise<void> => {
        for (let i = next++; i < chunks.length; i = next++) {
          const chunk = chunks[i];
          if (!chunk) continue;
          if (signal?.aborted) {
            chunk.rows.forEach((_, k) => {
              failures.push({
                index: chunk.start + k,
                message: 'not sent: time budget exhausted',
                permanent: false,
              });
            });
            continue;
          }
          requests++;
          bytes += chunk.bytes;
          try {
            await client.upload(options.ruleId, stream, chunk.rows, signal ? { abortSignal: signal } : {});
          } catch (error) {
            const cause = error instanceof Error && 'errors' in error ? firstCause(error) : error;
            const status = statusOf(cause);
            const permanent = chunk.rows.length === 1 && (status === 400 || status === 413);
            const message = messageOf(cause);
            chunk.rows.forEach((_, k) => {
              failures.push({
                index: chunk.start + k,
                message,
                permanent,
                ...(status !== undefined ? { status } : {}),
              });
            });
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, chunks.length) }, worker));
      failures.sort((a, b) => a.index - b.index);
      return { failures, requests, bytes };
    },
  };
}

/** `AggregateLogsUploadError.errors[0].cause`: the RestError of the one request a single-chunk call made. */
function firstCause(error: Error): unknown {
  const errors = (error as { errors?: unknown }).errors;
  if (Array.isArray(errors) && errors.length > 0) {
    const first = errors[0] as { cause?: unknown };
    return first.cause ?? error;
  }
  return error;
}
