import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { chunkRows, createLogsIngestionAdapter } from '../../shared/adapters/azure/logs-ingestion.js';
import { jsonBytes } from '../../shared/domain/rows/limits.js';
import type { Row } from '../../shared/domain/rows/row.js';
import { type IngestionServer, startIngestionServer } from '../../shared/local/ingestion-server.js';

let server: IngestionServer;
beforeAll(async () => {
  server = await startIngestionServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => server.reset());

const STREAM = 'Custom-AWSGuardDuty';

function adapter(maxConcurrency = 5) {
  return createLogsIngestionAdapter({
    endpoint: server.endpoint,
    ruleId: server.dcrImmutableId,
    credential: server.credential,
    clientOptions: { tlsOptions: { ca: server.ca }, retryOptions: { maxRetries: 0 } },
    maxConcurrency,
  });
}

/** Rows of about 40 KB: 25 fill one request. */
const rows = (n: number): Row[] =>
  Array.from({ length: n }, (_, i) => ({
    Id: `row-${i}`,
    TimeGenerated: '2026-12-01T10:00:00.000Z',
    Description: 'd'.repeat(40_000),
  }));

describe('Logs Ingestion adapter against the local server', () => {
  it('chunks like the SDK, one HTTP request per chunk, and reports nothing failed on success', async () => {
    const input = rows(60);
    const expected = chunkRows(input.map((r) => jsonBytes(r)));
    const report = await adapter().upload(STREAM, input);
    expect(report.failures).toEqual([]);
    expect(report.requests).toBe(expected.length);
    expect(server.requests).toHaveLength(expected.length);
    expect(
      server
        .rows('AWSGuardDuty')
        .map((r) => r.Id)
        .sort(),
    ).toEqual(input.map((r) => r.Id).sort());
  });

  it('uses the sizes it is given instead of measuring again', async () => {
    const input = rows(3);
    // Claimed sizes put every row in its own request.
    const report = await adapter().upload(STREAM, input, { sizes: [600_000, 600_000, 600_000] });
    expect(report.requests).toBe(3);
    expect(server.requests.map((r) => r.rows)).toEqual([1, 1, 1]);
  });

  it('reports every row of chunks not sent once the time budget is over as retryable failures', async () => {
    server.injectFaults({ kind: 'slow', delayMs: 400 });
    const input = rows(75);
    const report = await adapter(1).upload(STREAM, input, { signal: AbortSignal.timeout(200) });
    const stored = new Set(server.rows('AWSGuardDuty').map((r) => r.Id));
    expect(report.failures.length + stored.size).toBe(75);
    expect(report.failures.length).toBeGreaterThanOrEqual(50);
    expect(report.failures.every((f) => !f.permanent)).toBe(true);
    expect(report.failures.some((f) => f.message === 'not sent: time budget exhausted')).toBe(true);
    for (const f of report.failures) expect(stored.has(input[f.index]?.Id as string)).toBe(false);
  });

  it('bisects a request refused for one bad row and fails only that row, permanently', async () => {
    server.rejectRowsWhere((row) => row.Id === 'row-13');
    const input = rows(20);
    const report = await adapter().upload(STREAM, input);
    expect(report.failures.map((f) => [f.index, f.status, f.permanent])).toEqual([[13, 400, true]]);
    expect(server.rows('AWSGuardDuty')).toHaveLength(19);
    expect(report.requests).toBeLessThanOrEqual(1 + 2 * Math.ceil(Math.log2(20)));
  });

  it('treats throttling and server errors as retryable, with the status', async () => {
    server.injectFaults({ kind: 'throttle-no-retry-after' });
    const throttled = await adapter().upload(STREAM, rows(2));
    expect(throttled.failures.map((f) => [f.status, f.permanent])).toEqual([
      [429, false],
      [429, false],
    ]);
    server.injectFaults({ kind: 'server-error' });
    const failed = await adapter().upload(STREAM, rows(1));
    expect(failed.failures[0]).toMatchObject({ index: 0, status: 500, permanent: false });
    expect(failed.failures[0]?.message).toMatch(/internal error/i);
  });

  it('fails every row, retryably, when the stream does not exist', async () => {
    const report = await adapter().upload('Custom-Nope', rows(2));
    expect(report.failures.map((f) => [f.status, f.permanent])).toEqual([
      [404, false],
      [404, false],
    ]);
  });
});
