/**
 * The local Logs Ingestion API against the real `LogsIngestionClient` (over HTTPS, trusting the
 * server's throwaway certificate) and against raw `https.request` calls.
 *
 * What the SDK (@azure/monitor-ingestion 1.2.0 on @azure/core-rest-pipeline 1.25 /
 * @typespec/ts-http-runtime 0.3) does, read from its sources and observed here:
 *  - it splits the logs into chunks of < 1,000,000 bytes of JSON (sum of the records' JSON lengths),
 *    gzips every chunk and uploads up to 5 chunks at once; a record over that size is its own chunk;
 *  - a failed chunk never rejects alone: `upload` throws one `AggregateLogsUploadError` whose
 *    `errors[i]` hold `failedLogs` (the chunk) and `cause` (a `RestError` with `statusCode` and `code`
 *    = the body's `error.code`, or `code: 'ECONNRESET'` for a dropped connection);
 *  - the default retry policy retries 3 times: 429/503 after `Retry-After` (seconds), 408 and 5xx
 *    (except 501/505) and ECONNRESET/ETIMEDOUT-like errors with exponential back-off from 1 s;
 *    a 429 without `Retry-After` is not retried, nor are 401, 404 and 413. Tests pass
 *    `retryOptions` (maxRetries 0, or a 10 ms delay) so they stay fast.
 */

import type { IncomingHttpHeaders } from 'node:http';
import { request } from 'node:https';
import { gzipSync } from 'node:zlib';
import type { TokenCredential } from '@azure/core-auth';
import {
  type AggregateLogsUploadError,
  isAggregateLogsUploadError,
  LogsIngestionClient,
  type LogsIngestionClientOptions,
} from '@azure/monitor-ingestion';
import { AWS_CLOUDTRAIL, AWS_GUARDDUTY } from '../../shared/domain/tables/columns.js';
import {
  DEFAULT_DCR_IMMUTABLE_ID,
  type IngestionServer,
  MAX_BODY_BYTES,
  startIngestionServer,
} from '../../shared/local/ingestion-server.js';

const GUARDDUTY = AWS_GUARDDUTY.stream;
const CLOUDTRAIL = AWS_CLOUDTRAIL.stream;

let server: IngestionServer;

beforeAll(async () => {
  server = await startIngestionServer();
});

afterAll(async () => {
  await server.close();
});

beforeEach(() => {
  server.reset();
});

function client(options: LogsIngestionClientOptions = {}, credential?: TokenCredential): LogsIngestionClient {
  return new LogsIngestionClient(server.endpoint, credential ?? server.credential, {
    tlsOptions: { ca: server.ca },
    retryOptions: { maxRetries: 0 },
    ...options,
  });
}

const fastRetries: LogsIngestionClientOptions = {
  retryOptions: { maxRetries: 3, retryDelayInMs: 10, maxRetryDelayInMs: 20 },
};

function guardDutyRow(n: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    TimeGenerated: '2026-12-01T10:00:00.000Z',
    TimeCreated: '2026-12-01T09:00:00.000Z',
    AccountId: '123456789012',
    ActivityType: 'UnauthorizedAccess:EC2/SSHBruteForce',
    Arn: `arn:aws:guardduty:us-east-1:123456789012:detector/d/finding/f${n}`,
    Description: 'An EC2 instance is being probed by SSH brute force.',
    Id: `f${n}`,
    Partition: 'aws',
    Region: 'us-east-1',
    ResourceDetails: { resourceType: 'Instance', instanceDetails: { instanceId: `i-${n}` } },
    SchemaVersion: '2.0',
    ServiceDetails: { action: { actionType: 'NETWORK_CONNECTION' }, count: 3 },
    Severity: 8,
    Title: 'SSH brute force',
    ...extra,
  };
}

function cloudTrailRow(n: number): Record<string, unknown> {
  return {
    TimeGenerated: '2026-12-01T10:00:00Z',
    AwsEventId: `e${n}`,
    EventName: 'CreateUser',
    EventSource: 'iam.amazonaws.com',
    AWSRegion: 'us-east-1',
    RequestParameters: JSON.stringify({ userName: `u${n}` }),
    ReadOnly: false,
    ManagementEvent: true,
  };
}

/** Runs an upload and returns the SDK's aggregate error, or undefined when every chunk landed. */
async function uploadError(
  ingestion: LogsIngestionClient,
  stream: string,
  logs: Record<string, unknown>[],
  ruleId = server.dcrImmutableId,
): Promise<AggregateLogsUploadError | undefined> {
  try {
    await ingestion.upload(ruleId, stream, logs);
    return undefined;
  } catch (error) {
    if (isAggregateLogsUploadError(error)) {
      return error;
    }
    throw error;
  }
}

/** `statusCode` and `code` of the RestError behind each failed chunk. */
function causes(error: AggregateLogsUploadError | undefined): { statusCode: unknown; code: unknown }[] {
  return (error?.errors ?? []).map(({ cause }) => {
    const fields: Record<string, unknown> = { ...cause };
    return { statusCode: fields.statusCode, code: fields.code };
  });
}

interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

function send(
  path: string,
  options: {
    readonly body?: string | Buffer;
    readonly headers?: Record<string, string>;
    readonly method?: string;
  } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${server.endpoint}${path}`,
      { method: options.method ?? 'POST', headers: options.headers ?? {}, ca: server.ca, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const streamPath = (
  stream = GUARDDUTY,
  query = 'api-version=2023-01-01',
  ruleId = DEFAULT_DCR_IMMUTABLE_ID,
): string => `/dataCollectionRules/${ruleId}/streams/${stream}?${query}`;

const authorized = (headers: Record<string, string> = {}): Record<string, string> => ({
  authorization: `Bearer ${server.token}`,
  'content-type': 'application/json',
  ...headers,
});

function errorCode(body: string): unknown {
  const parsed: unknown = JSON.parse(body);
  if (typeof parsed === 'object' && parsed !== null && 'error' in parsed) {
    const { error } = parsed;
    if (typeof error === 'object' && error !== null && 'code' in error && 'message' in error) {
      return error.code;
    }
  }
  return undefined;
}

describe('local Logs Ingestion API with the real LogsIngestionClient', () => {
  it('stores the uploaded rows per table, received gzip-compressed', async () => {
    const ingestion = client();
    const guardDuty = [guardDutyRow(1), guardDutyRow(2)];

    await ingestion.upload(server.dcrImmutableId, GUARDDUTY, guardDuty);
    await ingestion.upload(server.dcrImmutableId, CLOUDTRAIL, [cloudTrailRow(1)]);

    expect(server.rows('AWSGuardDuty')).toEqual(guardDuty);
    expect(server.rows('AWSCloudTrail')).toEqual([cloudTrailRow(1)]);
    expect(server.requests.map((r) => [r.stream, r.status, r.rows, r.gzip])).toEqual([
      [GUARDDUTY, 204, 2, true],
      [CLOUDTRAIL, 204, 1, true],
    ]);
    const first = server.requests[0];
    expect(first?.uncompressedBytes).toBe(Buffer.byteLength(JSON.stringify(guardDuty)));
    expect(first?.bodyBytes).toBeLessThan(first?.uncompressedBytes ?? 0);
    const stats = server.stats();
    expect(stats).toMatchObject({ requests: 2, acceptedRequests: 2, totalRows: 3 });
    expect(stats.rows).toEqual({ AWSGuardDuty: 2, AWSCloudTrail: 1, AWSVPCFlow: 0, AWSResponseAudit_CL: 0 });
    expect(stats.unknownColumns.size).toBe(0);
    expect(stats.typeErrors).toEqual([]);
  });

  it('refuses a wrong bearer token with 401 and stores nothing', async () => {
    const impostor: TokenCredential = {
      getToken: async () => ({ token: 'not-the-token', expiresOnTimestamp: Date.now() + 3_600_000 }),
    };

    const error = await uploadError(client({}, impostor), GUARDDUTY, [guardDutyRow(1)]);

    expect(error?.name).toBe('AggregateLogsUploadError');
    expect(causes(error)).toEqual([{ statusCode: 401, code: 'InvalidAuthenticationToken' }]);
    expect(server.requests.map((r) => r.status)).toEqual([401]);
    expect(server.rows('AWSGuardDuty')).toEqual([]);
  });

  it('answers 404 InvalidStream for a stream the DCR does not declare', async () => {
    const error = await uploadError(client(), 'Custom-AWSS3ServerAccess', [
      { TimeGenerated: '2026-12-01T10:00:00Z' },
    ]);

    expect(causes(error)).toEqual([{ statusCode: 404, code: 'InvalidStream' }]);
    expect(server.stats().acceptedRequests).toBe(0);
  });

  it('answers 404 for an unknown DCR immutable id', async () => {
    const error = await uploadError(
      client(),
      GUARDDUTY,
      [guardDutyRow(1)],
      'dcr-ffffffffffffffffffffffffffffffff',
    );

    expect(causes(error)).toEqual([{ statusCode: 404, code: 'InvalidDataCollectionRule' }]);
  });

  it('answers 413 ContentLengthLimitExceeded for a record over 1 MB and stores the records around it', async () => {
    const big = guardDutyRow(2, { Description: 'x'.repeat(MAX_BODY_BYTES + 1) });

    const error = await uploadError(client(), GUARDDUTY, [guardDutyRow(1), big, guardDutyRow(3)]);

    expect(causes(error)).toEqual([{ statusCode: 413, code: 'ContentLengthLimitExceeded' }]);
    expect(error?.errors[0]?.failedLogs).toEqual([big]);
    expect(error?.errors[0]?.cause.message).toMatch(
      /^Maximum allowed content length: 1048576 bytes \(1 MB\)\./,
    );
    expect(server.rows('AWSGuardDuty').map((r) => r.Id)).toEqual(expect.arrayContaining(['f1', 'f3']));
    expect(server.stats().rows.AWSGuardDuty).toBe(2);
    const refused = server.requests.find((r) => r.status === 413);
    expect(refused?.uncompressedBytes).toBeGreaterThan(MAX_BODY_BYTES);
    expect(refused?.bodyBytes).toBeLessThan(MAX_BODY_BYTES);
  });

  it('splits a large upload into gzip chunks under 1 MB and stores every row exactly once', async () => {
    const logs = Array.from({ length: 3_000 }, (_, n) =>
      guardDutyRow(n, { Description: `${n} `.padEnd(700, 'd') }),
    );
    expect(Buffer.byteLength(JSON.stringify(logs[0]))).toBeGreaterThan(1_000);

    await client().upload(server.dcrImmutableId, GUARDDUTY, logs);

    expect(server.requests.length).toBeGreaterThanOrEqual(3);
    for (const r of server.requests) {
      expect(r).toMatchObject({ status: 204, gzip: true });
      expect(r.uncompressedBytes).toBeLessThanOrEqual(MAX_BODY_BYTES);
    }
    expect(server.requests.reduce((total, r) => total + r.rows, 0)).toBe(3_000);
    const ids = server.rows('AWSGuardDuty').map((r) => r.Id);
    expect(new Set(ids).size).toBe(3_000);
    expect(ids).toHaveLength(3_000);
  });

  it('lets the client wait out a 429 with Retry-After and then stores the rows once', async () => {
    server.injectFaults({ kind: 'throttle', retryAfterSeconds: 1 });
    const started = Date.now();

    await client({ retryOptions: { maxRetries: 3 } }).upload(server.dcrImmutableId, GUARDDUTY, [
      guardDutyRow(1),
    ]);

    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(server.requests.map((r) => [r.status, r.fault])).toEqual([
      [429, 'throttle'],
      [204, undefined],
    ]);
    expect(server.rows('AWSGuardDuty')).toHaveLength(1);
  });

  it('surfaces a 429 without Retry-After, which the client does not retry', async () => {
    server.injectFaults({ kind: 'throttle-no-retry-after' });

    const error = await uploadError(client(fastRetries), GUARDDUTY, [guardDutyRow(1)]);

    expect(causes(error)).toEqual([{ statusCode: 429, code: 'TooManyRequests' }]);
    expect(server.requests.map((r) => r.status)).toEqual([429]);
    expect(server.rows('AWSGuardDuty')).toEqual([]);
  });

  it('answers a server-error fault with 500 and does not store its rows', async () => {
    server.injectFaults({ kind: 'server-error' });

    const error = await uploadError(client(), GUARDDUTY, [guardDutyRow(1)]);

    expect(causes(error)).toEqual([{ statusCode: 500, code: 'InternalServerError' }]);
    expect(server.rows('AWSGuardDuty')).toEqual([]);
    expect(server.stats()).toMatchObject({ requests: 1, faultedRequests: 1, acceptedRequests: 0 });
  });

  it('stores the rows once when the client retries after a 500', async () => {
    server.injectFaults({ kind: 'server-error' });

    await client(fastRetries).upload(server.dcrImmutableId, GUARDDUTY, [guardDutyRow(1)]);

    expect(server.requests.map((r) => r.status)).toEqual([500, 204]);
    expect(server.rows('AWSGuardDuty')).toHaveLength(1);
  });

  it('drops the connection on a reset fault, which the client sees as ECONNRESET', async () => {
    server.injectFaults({ kind: 'reset' });

    const error = await uploadError(client(), GUARDDUTY, [guardDutyRow(1)]);

    expect(causes(error)).toEqual([{ statusCode: undefined, code: 'ECONNRESET' }]);
    expect(server.requests.map((r) => [r.status, r.fault])).toEqual([[0, 'reset']]);
    expect(server.rows('AWSGuardDuty')).toEqual([]);
  });

  it('stores the rows once when the client retries after a reset', async () => {
    server.injectFaults({ kind: 'reset' }, { kind: 'reset' });

    await client(fastRetries).upload(server.dcrImmutableId, GUARDDUTY, [guardDutyRow(1)]);

    expect(server.requests.map((r) => r.status)).toEqual([0, 0, 204]);
    expect(server.rows('AWSGuardDuty')).toHaveLength(1);
  });

  it('accepts rows with undeclared columns, wrong types and oversize fields but records each', async () => {
    const row = guardDutyRow(1, {
      Severity: 7.5,
      TimeCreated: 'yesterday',
      Title: 42,
      Description: 'y'.repeat(70_000),
      TenantId: 'reserved',
      Extra: true,
    });

    await client().upload(server.dcrImmutableId, GUARDDUTY, [row]);

    const [stored] = server.rows('AWSGuardDuty');
    expect(stored).not.toHaveProperty('Extra');
    expect(stored).not.toHaveProperty('TenantId');
    expect(stored?.Severity).toBe(7.5);
    const stats = server.stats();
    expect([...stats.unknownColumns].sort()).toEqual(['AWSGuardDuty.Extra', 'AWSGuardDuty.TenantId']);
    expect(stats.typeErrors).toEqual([
      {
        table: 'AWSGuardDuty',
        column: 'TimeCreated',
        expected: 'datetime',
        actual: 'string (not ISO 8601)',
        row: 0,
      },
      {
        table: 'AWSGuardDuty',
        column: 'Severity',
        expected: 'int',
        actual: 'number (not an integer)',
        row: 0,
      },
      { table: 'AWSGuardDuty', column: 'Title', expected: 'string', actual: 'number', row: 0 },
    ]);
    expect(stats.oversizeFields).toEqual([
      { table: 'AWSGuardDuty', column: 'Description', bytes: 70_000, row: 0 },
    ]);
    expect(server.requests[0]?.unknownColumns).toEqual(['TenantId', 'Extra']);
  });
});

describe('local Logs Ingestion API on the wire', () => {
  it('answers 401 with a WWW-Authenticate challenge when the Authorization header is missing', async () => {
    const res = await send(streamPath(), { body: '[]', headers: { 'content-type': 'application/json' } });

    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer /);
    expect(res.headers['x-ms-error-code']).toBe('AuthenticationFailed');
    expect(errorCode(res.body)).toBe('AuthenticationFailed');
  });

  it('answers 400 for an unsupported api-version and accepts the percent-encoded parameter name', async () => {
    const wrong = await send(streamPath(GUARDDUTY, 'api-version=2021-01-01'), {
      body: '[]',
      headers: authorized(),
    });
    const missing = await send(streamPath(GUARDDUTY, ''), { body: '[]', headers: authorized() });
    const encoded = await send(streamPath(GUARDDUTY, 'api%2Dversion=2023-01-01'), {
      body: '[]',
      headers: authorized(),
    });

    expect([wrong.status, errorCode(wrong.body)]).toEqual([400, 'InvalidApiVersionParameter']);
    expect([missing.status, errorCode(missing.body)]).toEqual([400, 'MissingApiVersionParameter']);
    expect(encoded.status).toBe(204);
    expect(encoded.body).toBe('');
  });

  it('answers 400 InvalidRequestBody for invalid JSON and for JSON that is not an array of objects', async () => {
    const invalid = await send(streamPath(), { body: '[{"TimeGenerated":', headers: authorized() });
    const notArray = await send(streamPath(), {
      body: '{"TimeGenerated":"2026-12-01T10:00:00Z"}',
      headers: authorized(),
    });
    const notObjects = await send(streamPath(), { body: '[1, 2]', headers: authorized() });

    for (const res of [invalid, notArray, notObjects]) {
      expect([res.status, errorCode(res.body)]).toEqual([400, 'InvalidRequestBody']);
    }
    expect(server.stats().totalRows).toBe(0);
  });

  it('answers 413 for an uncompressed body over 1 MB and accepts one of exactly 1 MB', async () => {
    const body = (bytes: number): string => {
      const frame = JSON.stringify([{ Description: '' }]);
      return JSON.stringify([{ Description: 'z'.repeat(bytes - frame.length) }]);
    };

    const over = await send(streamPath(), { body: body(MAX_BODY_BYTES + 1), headers: authorized() });
    const exact = await send(streamPath(), { body: body(MAX_BODY_BYTES), headers: authorized() });

    expect([over.status, errorCode(over.body)]).toEqual([413, 'ContentLengthLimitExceeded']);
    expect(exact.status).toBe(204);
    expect(server.requests.map((r) => r.bodyBytes)).toEqual([MAX_BODY_BYTES + 1, MAX_BODY_BYTES]);
  });

  it('decompresses a gzip body and answers 400 for a body that is not gzip', async () => {
    const ok = await send(streamPath(), {
      body: gzipSync(JSON.stringify([guardDutyRow(1)])),
      headers: authorized({ 'content-encoding': 'gzip' }),
    });
    const broken = await send(streamPath(), {
      body: '[]',
      headers: authorized({ 'content-encoding': 'gzip' }),
    });

    expect(ok.status).toBe(204);
    expect(server.rows('AWSGuardDuty')).toEqual([guardDutyRow(1)]);
    expect([broken.status, errorCode(broken.body)]).toEqual([400, 'InvalidContentEncoding']);
  });

  it('answers 404 for any other path or method', async () => {
    const other = await send('/streams', { body: '[]', headers: authorized() });
    const get = await send(streamPath(), { method: 'GET', headers: authorized() });

    expect([other.status, get.status]).toEqual([404, 404]);
  });

  it('delays a slow request and then serves it normally', async () => {
    server.injectFaults({ kind: 'slow', delayMs: 150 });
    const started = Date.now();

    const res = await send(streamPath(), { body: JSON.stringify([guardDutyRow(1)]), headers: authorized() });

    expect(res.status).toBe(204);
    expect(Date.now() - started).toBeGreaterThanOrEqual(145);
    expect(server.rows('AWSGuardDuty')).toHaveLength(1);
  });

  it('holds a timed-out request without answering, then drops the connection', async () => {
    server.injectFaults({ kind: 'timeout', delayMs: 200 });
    const started = Date.now();

    await expect(
      send(streamPath(), { body: JSON.stringify([guardDutyRow(1)]), headers: authorized() }),
    ).rejects.toThrow('socket hang up');

    expect(Date.now() - started).toBeGreaterThanOrEqual(195);
    expect(server.requests.map((r) => [r.status, r.fault])).toEqual([[0, 'timeout']]);
    expect(server.rows('AWSGuardDuty')).toEqual([]);
  });

  it('repeats the same random fault sequence for the same seed', async () => {
    const run = async (): Promise<number[]> => {
      server.reset();
      server.setFaultRate({ probability: 0.5, kinds: ['server-error', 'throttle-no-retry-after'], seed: 7 });
      const statuses: number[] = [];
      for (let n = 0; n < 16; n++) {
        statuses.push((await send(streamPath(), { body: '[]', headers: authorized() })).status);
      }
      return statuses;
    };

    const first = await run();
    const second = await run();

    expect(second).toEqual(first);
    expect(new Set(first)).toEqual(new Set([204, 429, 500]));
  });

  it('hands out its token through the credential, valid for an hour', async () => {
    const token = await server.credential.getToken('https://monitor.azure.com//.default');

    expect(token?.token).toBe(server.token);
    expect(token?.expiresOnTimestamp).toBeGreaterThan(Date.now() + 3_500_000);
    expect(server.endpoint).toBe(`https://127.0.0.1:${server.port}`);
    expect(server.ca).toMatch(/^-----BEGIN CERTIFICATE-----/);
  });

  it('forgets rows, requests and queued faults on reset', async () => {
    server.injectFaults({ kind: 'server-error' }, { kind: 'server-error' });
    await send(streamPath(), { body: '[]', headers: authorized() });

    server.reset();
    const res = await send(streamPath(), { body: JSON.stringify([guardDutyRow(1)]), headers: authorized() });

    expect(res.status).toBe(204);
    expect(server.requests).toHaveLength(1);
    expect(server.stats().rows.AWSGuardDuty).toBe(1);
  });
});

describe('local Logs Ingestion API without row storage (storeRows: false)', () => {
  let counting: IngestionServer;

  beforeAll(async () => {
    counting = await startIngestionServer({ storeRows: false });
  });

  afterAll(async () => {
    await counting.close();
  });

  it('validates and counts accepted rows without keeping them, and forgets the counts on reset', async () => {
    const ingestion = new LogsIngestionClient(counting.endpoint, counting.credential, {
      tlsOptions: { ca: counting.ca },
      retryOptions: { maxRetries: 0 },
    });
    const rows = Array.from({ length: 3_000 }, (_, n) =>
      guardDutyRow(n, n === 7 ? { Severity: 'high' } : {}),
    );

    await ingestion.upload(counting.dcrImmutableId, GUARDDUTY, rows);
    await ingestion.upload(counting.dcrImmutableId, CLOUDTRAIL, [cloudTrailRow(1)]);
    counting.injectFaults({ kind: 'server-error' });
    expect(
      await uploadError(ingestion, CLOUDTRAIL, [cloudTrailRow(2)], counting.dcrImmutableId),
    ).toBeDefined();

    expect(counting.rows('AWSGuardDuty')).toEqual([]);
    expect(counting.rows('AWSCloudTrail')).toEqual([]);
    const stats = counting.stats();
    expect(stats.rows).toEqual({
      AWSGuardDuty: 3_000,
      AWSCloudTrail: 1,
      AWSVPCFlow: 0,
      AWSResponseAudit_CL: 0,
    });
    expect(stats.totalRows).toBe(3_001);
    expect(stats.acceptedRequests).toBe(stats.requests - 1);
    expect(counting.requests.filter((r) => r.status === 204).reduce((sum, r) => sum + r.rows, 0)).toBe(3_001);
    // Validation still runs: the wrong type is recorded.
    expect(stats.typeErrors).toEqual([
      { table: 'AWSGuardDuty', column: 'Severity', expected: 'int', actual: 'string', row: 7 },
    ]);

    counting.reset();
    expect(counting.stats()).toMatchObject({ requests: 0, totalRows: 0 });
    expect(counting.stats().rows.AWSGuardDuty).toBe(0);
  });

  it('keeps the rows by default, and counts the same rows it keeps', async () => {
    await client().upload(server.dcrImmutableId, GUARDDUTY, [guardDutyRow(1), guardDutyRow(2)]);

    expect(server.rows('AWSGuardDuty')).toHaveLength(2);
    expect(server.stats().rows.AWSGuardDuty).toBe(2);
  });
});
