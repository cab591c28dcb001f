/**
 * A local Azure Monitor Logs Ingestion API, for tests, the offline demo and evaluation.
 *
 * It follows the real service's wire contract (api-version 2023-01-01), so the real
 * `LogsIngestionClient` of `@azure/monitor-ingestion` talks to it over HTTPS:
 *
 *   POST /dataCollectionRules/{immutableId}/streams/{streamName}?api-version=2023-01-01
 *   Authorization: Bearer <token>
 *   Content-Encoding: gzip            (optional)
 *   body: a JSON array of objects     (at most 1,048,576 bytes, compressed and uncompressed)
 *   -> 204 without a body
 *
 * Errors carry `{ "error": { "code", "message" } }` and an `x-ms-error-code` header, as the service's
 * do. Rows of accepted requests are stored per table (the stream's `table`), projected onto the
 * stream's declared columns, because a DCR silently drops undeclared columns. For strictness the
 * server records what the real service would silently tolerate: undeclared columns, values of the
 * wrong type, and field values over 64 KB (which the service truncates). Faults (throttling, 500s,
 * connection resets, slow and hanging responses) can be queued or drawn from a seeded PRNG.
 *
 * Run it on its own with `node --import tsx shared/local/ingestion-server.ts --port 8443`.
 */

import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { gunzip } from 'node:zlib';
import type { TokenCredential } from '@azure/core-auth';
import { AWS_RESPONSE_AUDIT } from '../domain/tables/audit-columns.js';
import { type ColumnType, TABLES, type TableDefinition } from '../domain/tables/columns.js';
import {
  closeOnSignal,
  runIfEntryPoint,
  startLocalHttpsServer,
  staticTokenCredential,
} from './https-server.js';

/** api-versions the service accepts. */
export const SUPPORTED_API_VERSIONS: readonly string[] = ['2023-01-01'];
/** Largest accepted body, compressed and uncompressed: 1 MB. */
export const MAX_BODY_BYTES = 1_048_576;
/** Largest field value the service keeps whole (longer ones are truncated): 64 KB. */
export const MAX_FIELD_BYTES = 65_536;
export const DEFAULT_DCR_IMMUTABLE_ID = 'dcr-00000000000000000000000000000000';

/** Decompressing stops here; the size of a bigger body is reported as this lower bound. */
const MAX_INFLATED_BYTES = 64 * MAX_BODY_BYTES;

export type Fault =
  /** 429 with `Retry-After: <seconds>`. */
  | { readonly kind: 'throttle'; readonly retryAfterSeconds: number }
  /** 429 without `Retry-After` (the SDK does not retry it). */
  | { readonly kind: 'throttle-no-retry-after' }
  /** 500; the rows are not stored. */
  | { readonly kind: 'server-error' }
  /** Waits, then serves the request normally. */
  | { readonly kind: 'slow'; readonly delayMs: number }
  /** Destroys the connection without a response; the rows are not stored. */
  | { readonly kind: 'reset' }
  /** Holds the request without answering for `delayMs`, then destroys the connection. */
  | { readonly kind: 'timeout'; readonly delayMs: number };

export type FaultKind = Fault['kind'];

export interface FaultRate {
  /** Chance in [0, 1] that a request (with no queued fault) gets a fault. */
  readonly probability: number;
  /** Faults to draw from, uniformly; a bare kind uses default parameters (throttle 1 s, slow 250 ms, timeout 2 s). */
  readonly kinds: readonly (Fault | FaultKind)[];
  /** PRNG seed, so a run is repeatable; default 1. */
  readonly seed?: number;
}

export interface IngestionServerOptions {
  /** Port on 127.0.0.1; default 0 (ephemeral). */
  readonly port?: number;
  /** The bearer token accepted; default a random one (exposed as `token`). */
  readonly token?: string;
  /** The DCR immutable id accepted; default `dcr-00000000000000000000000000000000`. */
  readonly dcrImmutableId?: string;
  /** Streams and their tables; default the forwarder tables plus the response audit table. */
  readonly tables?: readonly TableDefinition[];
  /** Called after every request is recorded (logging in the CLI). */
  readonly onRequest?: (request: IngestionRequestRecord) => void;
  /**
   * `false`: accepted rows are validated and counted (in `stats().rows`) but not kept (`rows()` returns none),
   * so that a long run (the bench's 100 MB flow log object, millions of rows) does not hold them all in memory.
   * Default `true`.
   */
  readonly storeRows?: boolean;
}

export interface TypeMismatch {
  readonly table: string;
  readonly column: string;
  readonly expected: ColumnType;
  /** What was sent instead, e.g. `string`, `number (not an integer)`, `string (not ISO 8601)`. */
  readonly actual: string;
  /** Index of the row in its request body. */
  readonly row: number;
}

export interface OversizeField {
  readonly table: string;
  readonly column: string;
  /** UTF-8 bytes of the string value, or of the JSON text of any other value. */
  readonly bytes: number;
  readonly row: number;
}

export interface IngestionRequestRecord {
  readonly method: string;
  readonly path: string;
  /** Stream name from the path; empty when the path is not a stream route. */
  readonly stream: string;
  /** HTTP status sent; 0 when no response was sent (reset, timeout, client gone). */
  readonly status: number;
  /** `error.code` of an error response. */
  readonly errorCode?: string;
  /** The fault applied to this request, if any. */
  readonly fault?: FaultKind;
  /** Rows in the body (0 when it could not be read as a JSON array). */
  readonly rows: number;
  /** Bytes on the wire. */
  readonly bodyBytes: number;
  /** Bytes after decompression (equal to `bodyBytes` without gzip). */
  readonly uncompressedBytes: number;
  readonly gzip: boolean;
  /** Arrival time. */
  readonly at: Date;
  /** Undeclared columns seen in the rows of an accepted request (names, unique). */
  readonly unknownColumns: readonly string[];
  readonly typeErrors: readonly TypeMismatch[];
  readonly oversizeFields: readonly OversizeField[];
}

export interface IngestionStats {
  readonly requests: number;
  /** Requests answered 204. */
  readonly acceptedRequests: number;
  /** Requests answered otherwise, or not at all. */
  readonly rejectedRequests: number;
  readonly faultedRequests: number;
  /** Stored rows per table; every configured table is present. */
  readonly rows: Readonly<Record<string, number>>;
  readonly totalRows: number;
  /** Bytes received on the wire, all requests. */
  readonly bodyBytes: number;
  /** Bytes after decompression, all requests. */
  readonly uncompressedBytes: number;
  /** Uncompressed bytes of accepted requests (what counts against the 2 GB/min quota). */
  readonly acceptedBytes: number;
  /** Undeclared columns of accepted rows, as `Table.Column`. */
  readonly unknownColumns: ReadonlySet<string>;
  readonly typeErrors: readonly TypeMismatch[];
  readonly oversizeFields: readonly OversizeField[];
}

export interface IngestionServer {
  /** `https://127.0.0.1:PORT`: the data collection endpoint to give `LogsIngestionClient`. */
  readonly endpoint: string;
  readonly port: number;
  /** PEM certificate of the server; pass as `{ tlsOptions: { ca } }`. */
  readonly ca: string;
  /** Path of the same PEM file (removed on close). */
  readonly caPath: string;
  readonly token: string;
  readonly dcrImmutableId: string;
  readonly tables: readonly TableDefinition[];
  /** Returns `token`, valid for an hour. */
  readonly credential: TokenCredential;
  /** Every request so far, in order of completion. */
  readonly requests: readonly IngestionRequestRecord[];
  /** Stored rows of a table, e.g. `rows('AWSGuardDuty')` (none with `storeRows: false`). */
  rows(table: string): readonly Record<string, unknown>[];
  stats(): IngestionStats;
  /** Queues faults; each applies to one request, in order of arrival. */
  injectFaults(...faults: Fault[]): void;
  /** Draws faults at random for requests with no queued fault; no argument turns it off. */
  setFaultRate(rate?: FaultRate): void;
  /**
   * Refuses, with 400 `InvalidLogRecord`, every request that holds a row matching `predicate` (as the service
   * refuses a request for one malformed record); no row of such a request is stored. `undefined` turns it off.
   */
  rejectRowsWhere(predicate?: (row: Record<string, unknown>) => boolean): void;
  /** Forgets rows, requests, queued faults, the fault rate and the row predicate. */
  reset(): void;
  close(): Promise<void>;
}

interface ErrorResponse {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly headers?: Readonly<Record<string, string>>;
}

type Decoded =
  | { readonly ok: true; readonly body: Buffer }
  | { readonly ok: false; readonly error: ErrorResponse; readonly uncompressedBytes: number };

interface ReadBody {
  readonly body: Buffer;
  readonly bytes: number;
  readonly tooLarge: boolean;
}

interface Validation {
  readonly stored: Record<string, unknown>[];
  readonly unknownColumns: string[];
  readonly typeErrors: TypeMismatch[];
  readonly oversizeFields: OversizeField[];
}

/** Starts the server on 127.0.0.1 with a fresh self-signed certificate. */
export async function startIngestionServer(options: IngestionServerOptions = {}): Promise<IngestionServer> {
  const token = options.token ?? randomBytes(32).toString('base64url');
  const dcrImmutableId = options.dcrImmutableId ?? DEFAULT_DCR_IMMUTABLE_ID;
  const tables = options.tables ?? [...TABLES, AWS_RESPONSE_AUDIT];
  const streams = new Map(tables.map((t) => [t.stream, t]));

  const { server, port, ca, caPath, removeFiles } = await startLocalHttpsServer(
    'ingestion-server',
    options.port ?? 0,
  );

  const storeRows = options.storeRows ?? true;
  const stored = new Map<string, Record<string, unknown>[]>();
  /** Rows accepted per table; with `storeRows: false` the only trace of them. */
  const counted = new Map<string, number>();
  const requests: IngestionRequestRecord[] = [];
  let faultQueue: Fault[] = [];
  let rejectRow: ((row: Record<string, unknown>) => boolean) | undefined;
  let random: { readonly rate: FaultRate; readonly next: () => number } | undefined;
  const waits = new Set<{ readonly timer: NodeJS.Timeout; readonly done: () => void }>();
  let closed = false;

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          waits.delete(entry);
          resolve();
        }, ms),
        done: resolve,
      };
      waits.add(entry);
    });

  const nextFault = (): Fault | undefined => {
    const queued = faultQueue.shift();
    if (queued !== undefined || random === undefined) {
      return queued;
    }
    if (random.next() >= random.rate.probability) {
      return undefined;
    }
    const pick = random.rate.kinds[Math.floor(random.next() * random.rate.kinds.length)];
    return pick === undefined ? undefined : toFault(pick);
  };

  const record = (entry: IngestionRequestRecord): void => {
    requests.push(entry);
    options.onRequest?.(entry);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const at = new Date();
    const fault = nextFault();
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const segments = url.pathname.split('/');
    const isStreamRoute =
      req.method === 'POST' &&
      segments.length === 5 &&
      segments[0] === '' &&
      segments[1] === 'dataCollectionRules' &&
      segments[3] === 'streams';
    const streamName = isStreamRoute ? safeDecode(segments[4] ?? '') : '';
    const encoding = (req.headers['content-encoding'] ?? '').trim().toLowerCase();
    const gzip = encoding === 'gzip';

    const base = {
      method: req.method ?? '',
      path: url.pathname,
      stream: streamName,
      gzip,
      at,
      ...(fault === undefined ? {} : { fault: fault.kind }),
    };

    let read: ReadBody;
    try {
      read = await readBody(req, MAX_BODY_BYTES);
    } catch {
      // The client went away while sending.
      record({ ...base, ...emptyCounts(), status: 0 });
      return;
    }
    const decoded: Decoded | undefined = read.tooLarge ? undefined : await decode(read.body, encoding);
    const uncompressedBytes =
      decoded === undefined ? read.bytes : decoded.ok ? decoded.body.length : decoded.uncompressedBytes;
    const parsed = decoded?.ok ? parseRows(decoded.body) : undefined;
    const counts = {
      rows: parsed === undefined ? 0 : parsed.length,
      bodyBytes: read.bytes,
      uncompressedBytes,
      unknownColumns: [],
      typeErrors: [],
      oversizeFields: [],
    };

    const reply = (status: number, error?: ErrorResponse, accepted?: Validation): void => {
      if (closed || res.destroyed) {
        record({ ...base, ...counts, status: 0 });
        return;
      }
      const headers: Record<string, string> = { 'x-ms-request-id': randomUUID() };
      const clientRequestId = req.headers['x-ms-client-request-id'];
      if (typeof clientRequestId === 'string') {
        headers['x-ms-client-request-id'] = clientRequestId;
      }
      if (error === undefined) {
        res.writeHead(status, headers).end();
        record({
          ...base,
          ...counts,
          status,
          ...(accepted === undefined
            ? {}
            : {
                unknownColumns: accepted.unknownColumns,
                typeErrors: accepted.typeErrors,
                oversizeFields: accepted.oversizeFields,
              }),
        });
        return;
      }
      const body = JSON.stringify({ error: { code: error.code, message: error.message } });
      res
        .writeHead(status, {
          ...headers,
          ...error.headers,
          'content-type': 'application/json; charset=utf-8',
          'content-length': String(Buffer.byteLength(body)),
          'x-ms-error-code': error.code,
        })
        .end(body);
      record({ ...base, ...counts, status, errorCode: error.code });
    };

    switch (fault?.kind) {
      case 'reset':
        req.socket.destroy();
        record({ ...base, ...counts, status: 0 });
        return;
      case 'timeout':
        record({ ...base, ...counts, status: 0 });
        await sleep(fault.delayMs);
        req.socket.destroy();
        return;
      case 'throttle':
        reply(429, {
          status: 429,
          code: 'TooManyRequests',
          message: `Rate limit exceeded. Retry after ${fault.retryAfterSeconds} seconds.`,
          headers: { 'retry-after': String(fault.retryAfterSeconds) },
        });
        return;
      case 'throttle-no-retry-after':
        reply(429, { status: 429, code: 'TooManyRequests', message: 'Rate limit exceeded.' });
        return;
      case 'server-error':
        reply(500, {
          status: 500,
          code: 'InternalServerError',
          message: 'The service encountered an internal error.',
        });
        return;
      case 'slow':
        await sleep(fault.delayMs);
        break;
      case undefined:
        break;
    }

    const error = checkRequest({
      isStreamRoute,
      segments,
      url,
      authorization: req.headers.authorization,
      streamName,
    });
    if (error !== undefined) {
      reply(error.status, error);
      return;
    }
    const table = streams.get(streamName);
    if (table === undefined) {
      reply(404, invalidStream(streamName));
      return;
    }
    if (read.tooLarge || decoded === undefined) {
      reply(413, contentTooLarge(read.bytes));
      return;
    }
    if (!decoded.ok) {
      reply(decoded.error.status, decoded.error);
      return;
    }
    if (parsed === undefined) {
      reply(400, {
        status: 400,
        code: 'InvalidRequestBody',
        message: 'The request body must be a JSON array of objects.',
      });
      return;
    }

    if (
      rejectRow &&
      parsed.some(
        (row) => typeof row === 'object' && row !== null && rejectRow?.(row as Record<string, unknown>),
      )
    ) {
      reply(400, {
        status: 400,
        code: 'InvalidLogRecord',
        message: 'A record of the request does not match the stream declaration.',
      });
      return;
    }

    const validation = validateRows(table, parsed);
    if (!closed && !res.destroyed) {
      counted.set(table.table, (counted.get(table.table) ?? 0) + validation.stored.length);
      if (storeRows) {
        const rows = stored.get(table.table) ?? [];
        // A loop, not push(...rows): a 1 MB body can hold more rows than a call takes arguments.
        for (const row of validation.stored) {
          rows.push(row);
        }
        stored.set(table.table, rows);
      }
    }
    reply(204, undefined, validation);
  };

  const checkRequest = (request: {
    readonly isStreamRoute: boolean;
    readonly segments: readonly string[];
    readonly url: URL;
    readonly authorization: string | undefined;
    readonly streamName: string;
  }): ErrorResponse | undefined => {
    if (!request.isStreamRoute) {
      return { status: 404, code: 'NotFound', message: 'The requested resource does not exist.' };
    }
    // The SDK sends `api%2Dversion=...`; URLSearchParams decodes the name.
    const apiVersion = new URLSearchParams(request.url.search).get('api-version');
    if (apiVersion === null) {
      return {
        status: 400,
        code: 'MissingApiVersionParameter',
        message: 'The api-version query parameter (?api-version=) is required for all requests.',
      };
    }
    if (!SUPPORTED_API_VERSIONS.includes(apiVersion)) {
      return {
        status: 400,
        code: 'InvalidApiVersionParameter',
        message: `The api-version '${apiVersion}' is invalid. The supported versions are '${SUPPORTED_API_VERSIONS.join("', '")}'.`,
      };
    }
    const authError = checkAuthorization(request.authorization, token);
    if (authError !== undefined) {
      return authError;
    }
    const ruleId = safeDecode(request.segments[2] ?? '');
    if (ruleId !== dcrImmutableId) {
      return {
        status: 404,
        code: 'InvalidDataCollectionRule',
        message: `Data collection rule with immutable Id '${ruleId}' not found.`,
      };
    }
    return undefined;
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch(() => {
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500).end();
      } else {
        res.destroy();
      }
    });
  };
  server.on('request', onRequest);

  const credential = staticTokenCredential(token);

  return {
    endpoint: `https://127.0.0.1:${port}`,
    port,
    ca,
    caPath,
    token,
    dcrImmutableId,
    tables,
    credential,
    get requests(): readonly IngestionRequestRecord[] {
      return requests;
    },
    rows: (table) => [...(stored.get(table) ?? [])],
    stats: () => computeStats(tables, requests, counted),
    injectFaults: (...faults) => {
      faultQueue.push(...faults.map(checkFault));
    },
    setFaultRate: (rate) => {
      random =
        rate === undefined ? undefined : { rate: checkFaultRate(rate), next: mulberry32(rate.seed ?? 1) };
    },
    rejectRowsWhere: (predicate) => {
      rejectRow = predicate;
    },
    reset: () => {
      stored.clear();
      counted.clear();
      requests.length = 0;
      faultQueue = [];
      random = undefined;
      rejectRow = undefined;
    },
    close: async () => {
      if (closed) {
        return;
      }
      closed = true;
      for (const wait of waits) {
        clearTimeout(wait.timer);
        wait.done();
      }
      waits.clear();
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await stopped;
      await removeFiles();
    },
  };
}

function readBody(req: IncomingMessage, limit: number): Promise<ReadBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      // Past the limit the body is only counted (and drained, so the client can read the answer).
      if (bytes <= limit) {
        chunks.push(chunk);
      }
    });
    req.on('end', () => resolve({ body: Buffer.concat(chunks), bytes, tooLarge: bytes > limit }));
    req.on('error', reject);
    req.on('aborted', () => reject(new Error('request aborted')));
  });
}

async function decode(body: Buffer, encoding: string): Promise<Decoded> {
  if (encoding === '' || encoding === 'identity') {
    return { ok: true, body };
  }
  if (encoding !== 'gzip') {
    return {
      ok: false,
      uncompressedBytes: body.length,
      error: {
        status: 400,
        code: 'InvalidContentEncoding',
        message: `Content-Encoding '${encoding}' is not supported; use gzip or none.`,
      },
    };
  }
  return new Promise((resolve) => {
    gunzip(body, { maxOutputLength: MAX_INFLATED_BYTES }, (error, inflated) => {
      if (error === null) {
        resolve(
          inflated.length > MAX_BODY_BYTES
            ? { ok: false, uncompressedBytes: inflated.length, error: contentTooLarge(inflated.length) }
            : { ok: true, body: inflated },
        );
      } else if (error instanceof RangeError) {
        // ERR_BUFFER_TOO_LARGE: inflates to more than MAX_INFLATED_BYTES.
        resolve({
          ok: false,
          uncompressedBytes: MAX_INFLATED_BYTES,
          error: contentTooLarge(MAX_INFLATED_BYTES),
        });
      } else {
        resolve({
          ok: false,
          uncompressedBytes: 0,
          error: {
            status: 400,
            code: 'InvalidContentEncoding',
            message: 'The request body is not valid gzip.',
          },
        });
      }
    });
  });
}

/** The rows of a JSON array of objects, or undefined when the body is anything else. */
function parseRows(body: Buffer): readonly Record<string, unknown>[] | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || !value.every(isPlainObject)) {
    return undefined;
  }
  return value;
}

function checkAuthorization(header: string | undefined, token: string): ErrorResponse | undefined {
  const challenge = {
    'www-authenticate':
      'Bearer authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="invalid_token"',
  };
  if (header === undefined || header.trim() === '') {
    return {
      status: 401,
      code: 'AuthenticationFailed',
      message: "Authentication failed. The 'Authorization' header is missing.",
      headers: challenge,
    };
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  const presented = Buffer.from(match?.[1] ?? '');
  const expected = Buffer.from(token);
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
    return {
      status: 401,
      code: 'InvalidAuthenticationToken',
      message: 'The access token is invalid.',
      headers: challenge,
    };
  }
  return undefined;
}

function invalidStream(stream: string): ErrorResponse {
  return {
    status: 404,
    code: 'InvalidStream',
    message: `Stream '${stream}' is not declared in the data collection rule.`,
  };
}

function contentTooLarge(bytes: number): ErrorResponse {
  return {
    status: 413,
    code: 'ContentLengthLimitExceeded',
    message: `Maximum allowed content length: ${MAX_BODY_BYTES} bytes (1 MB). Provided content length: ${bytes} bytes.`,
  };
}

function validateRows(table: TableDefinition, rows: readonly Record<string, unknown>[]): Validation {
  const columns = new Map(table.columns.map((c) => [c.name, c.type]));
  const result: Validation = { stored: [], unknownColumns: [], typeErrors: [], oversizeFields: [] };
  const unknown = new Set<string>();
  rows.forEach((row, index) => {
    const kept: Record<string, unknown> = {};
    for (const [column, value] of Object.entries(row)) {
      const bytes = fieldBytes(value);
      if (bytes > MAX_FIELD_BYTES) {
        result.oversizeFields.push({ table: table.table, column, bytes, row: index });
      }
      const type = columns.get(column);
      if (type === undefined) {
        unknown.add(column);
        continue;
      }
      kept[column] = value;
      const mismatch = typeMismatch(type, value);
      if (mismatch !== undefined) {
        result.typeErrors.push({ table: table.table, column, expected: type, actual: mismatch, row: index });
      }
    }
    result.stored.push(kept);
  });
  result.unknownColumns.push(...unknown);
  return result;
}

/** What is wrong with a value for a column type, or undefined when it fits. `null` fits every type. */
export function typeMismatch(type: ColumnType, value: unknown): string | undefined {
  if (value === null) {
    return undefined;
  }
  const actual = jsonType(value);
  switch (type) {
    case 'string':
      return typeof value === 'string' ? undefined : actual;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : actual;
    case 'real':
      return typeof value === 'number' ? undefined : actual;
    case 'int':
      if (typeof value !== 'number') return actual;
      if (!Number.isInteger(value)) return 'number (not an integer)';
      return value >= -2_147_483_648 && value <= 2_147_483_647 ? undefined : 'number (outside int32)';
    case 'long':
      if (typeof value !== 'number') return actual;
      return Number.isInteger(value) ? undefined : 'number (not an integer)';
    case 'datetime':
      if (typeof value !== 'string') return actual;
      return isIsoDateTime(value) ? undefined : 'string (not ISO 8601)';
    case 'dynamic':
      return undefined;
  }
}

const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/;

/** An ISO 8601 date-time with a zone (`Z` or an offset), e.g. `2026-01-02T03:04:05.678Z`. */
export function isIsoDateTime(value: string): boolean {
  const match = ISO_DATE_TIME.exec(value);
  if (match === null || Number.isNaN(Date.parse(value))) {
    return false;
  }
  const [year, month, day, hour, minute, second] = match.slice(1).map((part) => Number(part ?? 0));
  if (year === undefined || month === undefined || day === undefined) {
    return false;
  }
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return (
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth &&
    (hour ?? 0) <= 23 &&
    (minute ?? 0) <= 59 &&
    (second ?? 0) <= 59
  );
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function fieldBytes(value: unknown): number {
  if (typeof value === 'string') {
    return Buffer.byteLength(value, 'utf8');
  }
  if (typeof value === 'object' && value !== null) {
    return Buffer.byteLength(JSON.stringify(value), 'utf8');
  }
  return 0;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function emptyCounts(): Pick<
  IngestionRequestRecord,
  'rows' | 'bodyBytes' | 'uncompressedBytes' | 'unknownColumns' | 'typeErrors' | 'oversizeFields'
> {
  return {
    rows: 0,
    bodyBytes: 0,
    uncompressedBytes: 0,
    unknownColumns: [],
    typeErrors: [],
    oversizeFields: [],
  };
}

function computeStats(
  tables: readonly TableDefinition[],
  requests: readonly IngestionRequestRecord[],
  counted: ReadonlyMap<string, number>,
): IngestionStats {
  const rows: Record<string, number> = {};
  for (const table of tables) {
    rows[table.table] = counted.get(table.table) ?? 0;
  }
  const accepted = requests.filter((r) => r.status === 204);
  const unknownColumns = new Set<string>();
  const tableOf = new Map(tables.map((t) => [t.stream, t.table]));
  for (const request of accepted) {
    for (const column of request.unknownColumns) {
      unknownColumns.add(`${tableOf.get(request.stream) ?? request.stream}.${column}`);
    }
  }
  const sum = (
    list: readonly IngestionRequestRecord[],
    pick: (r: IngestionRequestRecord) => number,
  ): number => list.reduce((total, r) => total + pick(r), 0);
  return {
    requests: requests.length,
    acceptedRequests: accepted.length,
    rejectedRequests: requests.length - accepted.length,
    faultedRequests: requests.filter((r) => r.fault !== undefined).length,
    rows,
    totalRows: Object.values(rows).reduce((total, n) => total + n, 0),
    bodyBytes: sum(requests, (r) => r.bodyBytes),
    uncompressedBytes: sum(requests, (r) => r.uncompressedBytes),
    acceptedBytes: sum(accepted, (r) => r.uncompressedBytes),
    unknownColumns,
    typeErrors: accepted.flatMap((r) => r.typeErrors),
    oversizeFields: accepted.flatMap((r) => r.oversizeFields),
  };
}

function toFault(fault: Fault | FaultKind): Fault {
  if (typeof fault !== 'string') {
    return fault;
  }
  switch (fault) {
    case 'throttle':
      return { kind: 'throttle', retryAfterSeconds: 1 };
    case 'slow':
      return { kind: 'slow', delayMs: 250 };
    case 'timeout':
      return { kind: 'timeout', delayMs: 2_000 };
    case 'throttle-no-retry-after':
    case 'server-error':
    case 'reset':
      return { kind: fault };
  }
}

function checkFault(fault: Fault): Fault {
  const bad = (what: string): never => {
    throw new RangeError(`Invalid ${fault.kind} fault: ${what}`);
  };
  if (
    fault.kind === 'throttle' &&
    !(Number.isFinite(fault.retryAfterSeconds) && fault.retryAfterSeconds >= 0)
  ) {
    bad('retryAfterSeconds must be a non-negative number');
  }
  if (
    (fault.kind === 'slow' || fault.kind === 'timeout') &&
    !(Number.isFinite(fault.delayMs) && fault.delayMs >= 0)
  ) {
    bad('delayMs must be a non-negative number');
  }
  return fault;
}

function checkFaultRate(rate: FaultRate): FaultRate {
  if (!(rate.probability >= 0 && rate.probability <= 1)) {
    throw new RangeError('Fault probability must be between 0 and 1');
  }
  if (rate.kinds.length === 0) {
    throw new RangeError('Fault rate needs at least one kind');
  }
  return { ...rate, kinds: rate.kinds.map((k) => checkFault(toFault(k))) };
}

/** Small seeded PRNG (mulberry32): the same seed gives the same fault sequence. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

async function main(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      port: { type: 'string', default: '0' },
      token: { type: 'string' },
      dcr: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(
      'Usage: node --import tsx shared/local/ingestion-server.ts [--port 8443] [--token T] [--dcr dcr-...]',
    );
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new RangeError(`--port must be an integer between 0 and 65535, got '${values.port}'`);
  }
  const server = await startIngestionServer({
    port,
    ...(values.token === undefined ? {} : { token: values.token }),
    ...(values.dcr === undefined ? {} : { dcrImmutableId: values.dcr }),
    onRequest: (r) => {
      const notes = [
        r.errorCode,
        r.fault === undefined ? undefined : `fault ${r.fault}`,
        r.unknownColumns.length > 0 ? `undeclared columns: ${r.unknownColumns.join(', ')}` : undefined,
        r.typeErrors.length > 0 ? `${r.typeErrors.length} type mismatches` : undefined,
        r.oversizeFields.length > 0 ? `${r.oversizeFields.length} fields over 64 KB` : undefined,
      ];
      const outcome = notes.filter((n) => n !== undefined).join('; ');
      console.log(
        `${r.at.toISOString()} ${r.method} ${r.stream || r.path} -> ${r.status} ${r.rows} rows ${outcome}`,
      );
    },
  });
  console.log(`Logs Ingestion API listening (Ctrl-C to stop)
  endpoint:        ${server.endpoint}
  dcrImmutableId:  ${server.dcrImmutableId}
  token:           ${server.token}
  ca:              ${server.caPath}
  streams:         ${server.tables.map((t) => `${t.stream} -> ${t.table}`).join(', ')}`);
  closeOnSignal(server.close, () => {
    const stats = server.stats();
    console.log(
      `\n${stats.requests} requests, ${stats.acceptedRequests} accepted, rows: ${JSON.stringify(stats.rows)}`,
    );
  });
}

runIfEntryPoint(import.meta.url, main);
