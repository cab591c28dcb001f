import type { TokenCredential } from '@azure/core-auth';
import {
  createDefaultHttpClient,
  createHttpHeaders,
  createPipelineRequest,
  type HttpClient,
} from '@azure/core-rest-pipeline';
import { LogsIngestionClient, type LogsIngestionClientOptions } from '@azure/monitor-ingestion';
import { utf8Length } from '../../domain/rows/limits.js';
import type { Row } from '../../domain/rows/row.js';
import type {
  LogsIngestionPort,
  UploadFailure,
  UploadOptions,
  UploadReport,
} from '../../ports/logs-ingestion.js';

/**
 * Largest request body the Logs Ingestion API accepts: "Maximum allowed content length: 1048576 bytes (1 MB)"
 * (its 413 message), uncompressed. The SDK's own `upload` stops at 1,000,000 bytes of row JSON; filling
 * requests to the real limit saves about one request in twenty.
 */
export const MAX_REQUEST_BYTES = 1_048_576;
const DEFAULT_CONCURRENCY = 5;
const DEFAULT_API_VERSION = '2023-01-01';

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

/**
 * Rows into requests: a chunk's body `[row,row,...]` (brackets and commas counted) stays within
 * MAX_REQUEST_BYTES. A row too large for any request (the limits keep rows under 900 KB) is its own chunk.
 */
export function chunkRows(
  sizes: readonly number[],
  indices: readonly number[] = sizes.map((_, i) => i),
): Chunk[] {
  const chunks: Chunk[] = [];
  let current: number[] = [];
  let size = 0;
  for (const index of indices) {
    const bytes = sizes[index] ?? 0;
    // '[' + rows joined by ',' + ']': each row adds its bytes and one separator (or a bracket).
    if (current.length > 0 && size + bytes + 1 + 1 > MAX_REQUEST_BYTES) {
      chunks.push({ indices: current, bytes: size + 1 });
      current = [];
      size = 0;
    }
    current.push(index);
    size += bytes + 1;
  }
  if (current.length > 0) chunks.push({ indices: current, bytes: size + 1 });
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

/** The service's own words for a refused request (`{"error":{"code","message"}}`), else the status. */
function responseMessage(status: number, body: string | undefined): string {
  try {
    const parsed = JSON.parse(body ?? '') as { error?: { code?: unknown; message?: unknown } };
    const code = typeof parsed.error?.code === 'string' ? parsed.error.code : undefined;
    const message = typeof parsed.error?.message === 'string' ? parsed.error.message : undefined;
    if (code !== undefined || message !== undefined)
      return `HTTP ${status} ${[code, message].filter(Boolean).join(': ')}`
        .replace(/\s+/g, ' ')
        .slice(0, 300);
  } catch {
    // Not JSON: say the status only (the body may echo anything).
  }
  return `HTTP ${status}`;
}

/** Statuses that refuse the content of a request: the same rows will be refused again. */
const CONTENT_REFUSED = new Set([400, 413]);

/**
 * Logs Ingestion through the real `@azure/monitor-ingestion` client's pipeline: its bearer-token policy
 * (scope `https://monitor.azure.com//.default`), retry and throttling policies (429 with Retry-After, 5xx,
 * network errors), TLS options and its gzip policy, so every request is what `client.upload` would send.
 *
 * Chunking is ours, one request per chunk, for three reasons: the SDK's multi-chunk `upload` stops starting
 * chunks once its abort signal fires and then reports success for the chunks it never sent (which would lose
 * them); it serialises every row twice more (to size it, then for the body), while the caller already has
 * each row's JSON text; and it cuts requests at 1,000,000 bytes instead of the service's 1,048,576.
 * A request refused for its content (400, 413) is split in halves and retried until the refused rows are
 * isolated: only a single row refused for its content is permanent (it goes to the DLQ); everything else
 * (429, 5xx, network, auth, unknown stream) is retryable.
 */
export function createLogsIngestionAdapter(options: LogsIngestionAdapterOptions): LogsIngestionPort {
  const client = new LogsIngestionClient(options.endpoint, options.credential, options.clientOptions);
  const httpClient: HttpClient = options.clientOptions?.httpClient ?? createDefaultHttpClient();
  const concurrency = Math.max(1, options.maxConcurrency ?? DEFAULT_CONCURRENCY);
  const apiVersion = options.clientOptions?.apiVersion ?? DEFAULT_API_VERSION;
  const base = options.endpoint.replace(/\/+$/, '');
  const urlOf = (stream: string): string =>
    `${base}/dataCollectionRules/${encodeURIComponent(options.ruleId)}/streams/${encodeURIComponent(stream)}?api-version=${encodeURIComponent(apiVersion)}`;

  /** One POST; resolves with the status, or undefined and a message when no response came. */
  const post = async (
    url: string,
    body: string,
    signal: AbortSignal | undefined,
  ): Promise<{ status?: number; message?: string }> => {
    const request = createPipelineRequest({
      url,
      method: 'POST',
      body,
      headers: createHttpHeaders({
        'content-type': 'application/json',
        'content-encoding': 'gzip',
        accept: 'application/json',
      }),
      ...(signal ? { abortSignal: signal } : {}),
    });
    try {
      const response = await client.pipeline.sendRequest(httpClient, request);
      if (response.status === 204 || response.status === 200) return { status: response.status };
      return {
        status: response.status,
        message: responseMessage(response.status, response.bodyAsText ?? undefined),
      };
    } catch (error) {
      const status = statusOf(error);
      return { ...(status !== undefined ? { status } : {}), message: messageOf(error) };
    }
  };

  const uploadTexts = async (
    stream: string,
    texts: readonly string[],
    uploadOptions: UploadOptions = {},
  ): Promise<UploadReport> => {
    const { signal } = uploadOptions;
    const abortSignal = uploadOptions.abortSignal ?? signal;
    const sizes = uploadOptions.sizes ?? texts.map((text) => utf8Length(text));
    const queue: Chunk[] = chunkRows(sizes);
    const failures: UploadFailure[] = [];
    const url = urlOf(stream);
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
      const body = `[${chunk.indices.map((i) => texts[i] ?? 'null').join(',')}]`;
      const { status, message } = await post(url, body, abortSignal);
      if (message === undefined) return;
      if (status !== undefined && CONTENT_REFUSED.has(status) && chunk.indices.length > 1) {
        // Bisect: the healthy half goes through, the refused rows end up alone.
        const middle = Math.ceil(chunk.indices.length / 2);
        for (const half of [chunk.indices.slice(0, middle), chunk.indices.slice(middle)]) {
          queue.push({
            indices: half,
            bytes: half.reduce((sum, i) => sum + (sizes[i] ?? 0) + 1, 1),
          });
        }
        return;
      }
      fail(chunk, {
        message,
        permanent: status !== undefined && CONTENT_REFUSED.has(status),
        ...(status !== undefined ? { status } : {}),
      });
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
  };

  return {
    uploadTexts,
    upload: (stream: string, rows: readonly Row[], uploadOptions?: UploadOptions) =>
      uploadTexts(
        stream,
        rows.map((row) => JSON.stringify(row)),
        uploadOptions,
      ),
  };
}
