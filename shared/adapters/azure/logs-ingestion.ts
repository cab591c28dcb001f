import type { TokenCredential } from '@azure/core-auth';
import { LogsIngestionClient, type LogsIngestionClientOptions } from '@azure/monitor-ingestion';
import { jsonBytes } from '../../domain/rows/limits.js';
import type { Row } from '../../domain/rows/row.js';
import type {
  LogsIngestionPort,
  UploadFailure,
  UploadOptions,
  UploadReport,
} from '../../ports/logs-ingestion.js';

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

export interface Chunk {
  /** Indices of the rows (into the array given to `upload`). */
  readonly indices: number[];
  readonly bytes: number;
}

/** Same split the SDK makes, so each of our calls is exactly one HTTP request. */
export function chunkRows(
  sizes: readonly number[],
  indices: readonly number[] = sizes.map((_, i) => i),
): Chunk[] {
  const chunks: Chunk[] = [];
  let current: number[] = [];
  let size = 0;
  for (const index of indices) {
    const bytes = sizes[index] ?? 0;
    if (size + bytes >= SDK_CHUNK_BYTES && current.length > 0) {
      chunks.push({ indices: current, bytes: size });
      current = [];
      size = 0;
    }
    current.push(index);
    size += bytes;
  }
  if (current.length > 0) chunks.push({ indices: current, bytes: size });
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

/** `AggregateLogsUploadError.errors[0].cause`: the RestError of the one request a single-chunk call made. */
function causeOf(error: unknown): unknown {
  const errors =
    typeof error === 'object' && error !== null ? (error as { errors?: unknown }).errors : undefined;
  if (Array.isArray(errors) && errors.length > 0) return (errors[0] as { cause?: unknown }).cause ?? error;
  return error;
}

/** Statuses that refuse the content of a request: the same rows will be refused again. */
const CONTENT_REFUSED = new Set([400, 413]);

/**
 * Logs Ingestion through the real `@azure/monitor-ingestion` client.
 *
 * Rows are chunked here, the way the SDK does, and each chunk is one `client.upload` call: the SDK's own
 * multi-chunk upload stops starting chunks once its abort signal fires and then reports success for the
 * chunks it never sent, which would lose them. One call per chunk makes every unsent row a failure.
 * A request refused for its content (400, 413) is split in halves and retried until the refused rows are
 * isolated: only a single row refused for its content is permanent (it goes to the DLQ); everything else
 * (429, 5xx, network, auth, unknown stream) is retryable.
 */
export function createLogsIngestionAdapter(options: LogsIngestionAdapterOptions): LogsIngestionPort {
  const client = new LogsIngestionClient(options.endpoint, options.credential, options.clientOptions);
  const concurrency = Math.max(1, options.maxConcurrency ?? DEFAULT_CONCURRENCY);

  return {
    async upload(
      stream: string,
      rows: readonly Row[],
      uploadOptions: UploadOptions = {},
    ): Promise<UploadReport> {
      const { signal } = uploadOptions;
      const sizes = uploadOptions.sizes ?? rows.map((row) => jsonBytes(row));
      const queue: Chunk[] = chunkRows(sizes);
      const failures: UploadFailure[] = [];
      let requests = 0;
      let bytes = 0;

      const fail = (chunk: Chunk, failure: Omit<UploadFailure, 'index'>): void => {
        for (const index of chunk.indices) failures.push({ index, ...failure });
      };
      const send = async (chunk: Chunk): Promise<void> => {
        if (signal?.aborted) {
          fail(chunk, { message: 'not sent: time budget exhausted', permanent: false });
          return;
        }
        requests++;
        bytes += chunk.bytes;
        const payload = chunk.indices.map((i) => rows[i] as Row);
        try {
          await client.upload(options.ruleId, stream, payload, signal ? { abortSignal: signal } : {});
        } catch (error) {
          const cause = causeOf(error);
          const status = statusOf(cause);
          if (status !== undefined && CONTENT_REFUSED.has(status) && chunk.indices.length > 1) {
            // Bisect: the healthy half goes through, the refused rows end up alone.
            const middle = Math.ceil(chunk.indices.length / 2);
            for (const half of [chunk.indices.slice(0, middle), chunk.indices.slice(middle)]) {
              queue.push({ indices: half, bytes: half.reduce((sum, i) => sum + (sizes[i] ?? 0), 0) });
            }
            return;
          }
          fail(chunk, {
            message: messageOf(cause),
            permanent: status !== undefined && CONTENT_REFUSED.has(status),
            ...(status !== undefined ? { status } : {}),
          });
        }
      };

      let active = 0;
      await new Promise<void>((resolve) => {
        const pump = (): void => {
          while (active < concurrency && queue.length > 0) {
            const chunk = queue.shift() as Chunk;
            active++;
            void send(chunk).finally(() => {
              active--;
              pump();
            });
          }
          if (active === 0 && queue.length === 0) resolve();
        };
        pump();
      });
      failures.sort((a, b) => a.index - b.index);
      return { failures, requests, bytes };
    },
  };
}
