import { staticTokenCredential } from '../../shared/local/https-server.js';
/**
 * `forwarder` and `requests`: GuardDuty-like events through the REAL SQS handler (`createForwarderHandler` with
 * the real `@azure/monitor-ingestion` adapter, HTTPS to the local Logs Ingestion server in its own process),
 * against the floor (the same rows, already normalised, only stringified, gzipped and POSTed), interleaved.
 */

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { SQSEvent } from 'aws-lambda';
import { createForwarderHandler, type ForwarderHandler } from '../../aws-functions/forwarder.js';
import { createLogsIngestionAdapter } from '../../shared/adapters/azure/logs-ingestion.js';
import { guardDutyFindingSchema } from '../../shared/domain/guardduty/schema.js';
import { jsonBytes } from '../../shared/domain/rows/limits.js';
import type { Row } from '../../shared/domain/rows/row.js';
import { normaliseItem } from '../../shared/domain/sources.js';
import { AWS_GUARDDUTY } from '../../shared/domain/tables/columns.js';
import { parseAwsTimestamp } from '../../shared/domain/time.js';
import { MemoryDeadLetters } from '../../shared/local/memory-dead-letters.js';
import { guardDutyEvent, sqsEvent } from '../support/events.js';
import { lambdaContext, quietObservability } from '../support/lambda.js';
import { median, nowMs, progress, round } from './common.js';
import { createFloorUploader, type FloorUploader } from './floor.js';
import type { IngestionProcess, RequestLogSummary } from './ingestion-process.js';

/** Largest SQS batch measured (Lambda's maximum batch size for a standard queue). */
export const MAX_BATCH = 10_000;
export const CONCURRENCY = 5;
const MIB = 1024 * 1024;

export interface ForwarderFigure {
  readonly events: number;
  readonly batches: number;
  readonly eventsPerSecond: number;
  readonly floorEventsPerSecond: number;
  readonly ratioToFloor: number;
  readonly repetitions: number;
  /** Wall time of every repetition, in order (handler and floor interleaved). */
  readonly handlerMs: readonly number[];
  readonly floorMs: readonly number[];
  /** Median CPU time of this process (all threads: main, gzip pool, TLS) per run. */
  readonly handlerCpuMs: number;
  readonly floorCpuMs: number;
  /** Median CPU time of the ingestion server process per run. */
  readonly serverCpuMsHandler: number;
  readonly serverCpuMsFloor: number;
  /** Requests the server received for one handler run and one floor run. */
  readonly handlerRequests: number;
  readonly floorRequests: number;
}

export interface RequestsFigure {
  readonly per10k: number;
  readonly minimumPer10k: number;
  readonly ratio: number;
  /** Uncompressed JSON bytes the server received for the 10k events. */
  readonly uncompressedBytes: number;
  /** Bytes on the wire (gzipped). */
  readonly wireBytes: number;
  readonly largestRequestBytes: number;
  readonly gzipped: boolean;
  /** Requests a splitter that filled each request up to the 1 MiB limit would make for the same rows. */
  readonly withFullMiBRequests: number;
}

/**
 * Where the handler's time above the floor goes, for 10k events: each step of the handler's path timed on
 * its own (hot loops over the same events, median of 3), so the parts are approximate and not additive.
 */
export interface OverheadBreakdown {
  /** Median handler time minus median floor time for the 10k events. */
  readonly handlerAboveFloorMs: number;
  /** `JSON.parse` of the 10k message bodies (the floor starts from parsed, normalised rows). */
  readonly parseMs: number;
  /** `normaliseItem` for the 10k parsed events: validation, row building, ingestion limits, size. */
  readonly normaliseMs: number;
  /** Of which: the zod schema of the finding alone. */
  readonly schemaMs: number;
  /** Of which: `parseAwsTimestamp`, called 4 times per finding (2 to validate, 2 to convert). */
  readonly timestampsMs: number;
  /** Of which: `jsonBytes` of each row (stringify + UTF-8 length counted in JavaScript). */
  readonly rowSizeMs: number;
  /** What the SDK's `splitDataToChunks` repeats for each row: `JSON.stringify` + `Buffer.byteLength`. */
  readonly sdkResplitMs: number;
  /** handlerAboveFloorMs - parseMs - normaliseMs - sdkResplitMs: SDK pipeline, bookkeeping, Powertools, GC. */
  readonly restMs: number;
}

export interface ForwarderResults {
  readonly forwarder: Readonly<Record<string, ForwarderFigure>>;
  readonly requests: RequestsFigure;
  readonly breakdown: OverheadBreakdown;
}

interface Workload {
  readonly events: number;
  readonly sqs: readonly SQSEvent[];
  readonly rows: readonly (readonly Row[])[];
}

/** Requests for these rows if each request body (`[row,row,...]`) were filled up to 1 MiB. */
function fullMiBRequests(rows: readonly Row[]): number {
  let requests = 0;
  /** Bytes of the current body, `[` and `]` included. */
  let body = 0;
  for (const row of rows) {
    const bytes = Buffer.byteLength(JSON.stringify(row), 'utf8');
    const grown = body === 0 ? 2 + bytes : body + 1 + bytes;
    if (body > 0 && grown > MIB) {
      requests++;
      body = 2 + bytes;
    } else {
      body = grown;
    }
  }
  return body > 0 ? requests + 1 : requests;
}

function repetitionsFor(size: number, base: number): number {
  if (size < MAX_BATCH) return base * 3;
  if (size > MAX_BATCH) return Math.max(3, base - 2);
  return base;
}

function timed(repetitions: number, step: () => void): number {
  const times: number[] = [];
  for (let i = 0; i < repetitions; i++) {
    collect();
    const started = nowMs();
    step();
    times.push(nowMs() - started);
  }
  return median(times);
}

function breakdown(work: Workload, handlerAboveFloorMs: number): OverheadBreakdown {
  const bodies = work.sqs.flatMap((event) => event.Records.map((r) => r.body));
  const parsed: unknown[] = bodies.map((body) => JSON.parse(body));
  const rows = work.rows.flat();
  const findings = parsed.map((event) =>
    typeof event === 'object' && event !== null && 'detail' in event ? event.detail : undefined,
  );
  const stamps = findings.flatMap((finding) => {
    const record = typeof finding === 'object' && finding !== null ? finding : {};
    const pick = (key: string): string => {
      const value: unknown = Reflect.get(record, key);
      return typeof value === 'string' ? value : '';
    };
    return [pick('createdAt'), pick('updatedAt'), pick('createdAt'), pick('updatedAt')];
  });
  let sink = 0;
  const parseMs = timed(3, () => {
    for (const body of bodies) sink += JSON.parse(body) === null ? 1 : 0;
  });
  const normaliseMs = timed(3, () => {
    for (const event of parsed) sink += normaliseItem('guardduty', event).ok ? 1 : 0;
  });
  const schemaMs = timed(3, () => {
    for (const finding of findings) sink += guardDutyFindingSchema.safeParse(finding).success ? 1 : 0;
  });
  const timestampsMs = timed(3, () => {
    for (const stamp of stamps) sink += parseAwsTimestamp(stamp) === undefined ? 0 : 1;
  });
  const rowSizeMs = timed(3, () => {
    for (const row of rows) sink += jsonBytes(row);
  });
  const sdkResplitMs = timed(3, () => {
    for (const row of rows) sink += Buffer.byteLength(JSON.stringify(row), 'utf8');
  });
  if (sink < 0) progress('unreachable');
  return {
    handlerAboveFloorMs: round(handlerAboveFloorMs, 1),
    parseMs: round(parseMs, 1),
    normaliseMs: round(normaliseMs, 1),
    schemaMs: round(schemaMs, 1),
    timestampsMs: round(timestampsMs, 1),
    rowSizeMs: round(rowSizeMs, 1),
    sdkResplitMs: round(sdkResplitMs, 1),
    restMs: round(handlerAboveFloorMs - parseMs - normaliseMs - sdkResplitMs, 1),
  };
}

export function sizeLabel(events: number): string {
  return events >= 1000 && events % 1000 === 0 ? `${events / 1000}k` : String(events);
}

/** A forced full GC between runs, so no run pays for the garbage of the one before. */
const collect: () => void = (() => {
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    if (typeof gc === 'function') return () => void gc();
  } catch {
    // not available: runs simply are not separated by a GC
  }
  return () => undefined;
})();

/** `count` distinct findings (ids 0..count-1 from `first`) as SQS batches, and their normalised rows. */
function workload(count: number, first = 0): Workload {
  const sqs: SQSEvent[] = [];
  const rows: Row[][] = [];
  for (let start = 0; start < count; start += MAX_BATCH) {
    const bodies: string[] = [];
    const batchRows: Row[] = [];
    for (let n = start; n < Math.min(count, start + MAX_BATCH); n++) {
      const body = JSON.stringify(guardDutyEvent(first + n));
      bodies.push(body);
      const outcome = normaliseItem('guardduty', JSON.parse(body));
      if (!outcome.ok) throw new Error(`bench event ${n} does not normalise: ${outcome.reason}`);
      batchRows.push(outcome.row);
    }
    sqs.push(sqsEvent(bodies));
    rows.push(batchRows);
  }
  return { events: count, sqs, rows };
}

function createHandler(server: IngestionProcess): ForwarderHandler {
  const token = server.token;
  return createForwarderHandler('guardduty', {
    ...quietObservability('guardduty-findings'),
    ingestion: createLogsIngestionAdapter({
      endpoint: server.endpoint,
      ruleId: server.dcrImmutableId,
      credential: staticTokenCredential(token),
      clientOptions: { tlsOptions: { ca: server.ca } },
      maxConcurrency: CONCURRENCY,
    }),
    deadLetters: new MemoryDeadLetters(),
  });
}

async function checkDelivered(
  server: IngestionProcess,
  expected: number,
  what: string,
): Promise<RequestLogSummary> {
  const summary = await server.summary();
  if (summary.rows !== expected || summary.acceptedRequests !== summary.requests) {
    throw new Error(
      `${what}: the server stored ${summary.rows} of ${expected} rows (${summary.acceptedRequests}/${summary.requests} requests accepted)`,
    );
  }
  return summary;
}

interface Timing {
  readonly wallMs: number;
  readonly cpuMs: number;
}

function cpuMs(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000;
}

async function runHandler(handler: ForwarderHandler, work: Workload): Promise<Timing> {
  const cpu = process.cpuUsage();
  const started = nowMs();
  for (const event of work.sqs) {
    // 15 minutes (Lambda's maximum), so the time budget never cuts a slow run short.
    const response = await handler(event, lambdaContext('guardduty-findings', 900_000));
    if (response.batchItemFailures.length > 0) {
      throw new Error(`handler returned ${response.batchItemFailures.length} messages for retry`);
    }
  }
  return { wallMs: nowMs() - started, cpuMs: cpuMs(process.cpuUsage(cpu)) };
}

async function runFloor(floor: FloorUploader, work: Workload): Promise<Timing> {
  const cpu = process.cpuUsage();
  const started = nowMs();
  for (const rows of work.rows) await floor.upload(rows);
  return { wallMs: nowMs() - started, cpuMs: cpuMs(process.cpuUsage(cpu)) };
}

export async function benchForwarder(
  server: IngestionProcess,
  options: {
    readonly sizes: readonly number[];
    /** Repetitions for 10k events; short runs get more (1k: 3x), 100k runs fewer (at least 3). */
    readonly repetitions: number;
  },
): Promise<ForwarderResults> {
  const handler = createHandler(server);
  const floor = createFloorUploader({
    endpoint: server.endpoint,
    ca: server.ca,
    token: server.token,
    dcrImmutableId: server.dcrImmutableId,
    stream: AWS_GUARDDUTY.stream,
  });
  try {
    // Warm-up: JIT, TLS sessions and keep-alive connections for both, outside any measurement.
    const warm = workload(1000, 900_000);
    for (let i = 0; i < 2; i++) {
      await server.reset();
      await runHandler(handler, warm);
      await server.reset();
      await runFloor(floor, warm);
    }

    const figures: Record<string, ForwarderFigure> = {};
    let requests: RequestsFigure | undefined;
    let overhead: OverheadBreakdown | undefined;
    for (const size of options.sizes) {
      const label = sizeLabel(size);
      const work = workload(size);
      const handlerMs: number[] = [];
      const floorMs: number[] = [];
      const handlerCpu: number[] = [];
      const floorCpu: number[] = [];
      const serverCpuHandler: number[] = [];
      const serverCpuFloor: number[] = [];
      let handlerSummary: RequestLogSummary | undefined;
      let floorSummary: RequestLogSummary | undefined;
      const repetitions = repetitionsFor(size, options.repetitions);
      for (let rep = 0; rep < repetitions; rep++) {
        await server.reset();
        collect();
        const h = await runHandler(handler, work);
        handlerMs.push(h.wallMs);
        handlerCpu.push(h.cpuMs);
        handlerSummary = await checkDelivered(server, size, `handler, ${label}`);
        serverCpuHandler.push(handlerSummary.serverCpuMs);

        await server.reset();
        collect();
        const f = await runFloor(floor, work);
        floorMs.push(f.wallMs);
        floorCpu.push(f.cpuMs);
        floorSummary = await checkDelivered(server, size, `floor, ${label}`);
        serverCpuFloor.push(floorSummary.serverCpuMs);
        progress(
          `forwarder ${label} #${rep + 1}: handler ${round(handlerMs.at(-1) ?? 0, 1)} ms, floor ${round(floorMs.at(-1) ?? 0, 1)} ms`,
        );
      }
      await server.reset();
      if (handlerSummary === undefined || floorSummary === undefined) throw new Error('no repetition ran');
      const eventsPerSecond = size / (median(handlerMs) / 1000);
      const floorEventsPerSecond = size / (median(floorMs) / 1000);
      figures[label] = {
        events: size,
        batches: work.sqs.length,
        eventsPerSecond: Math.round(eventsPerSecond),
        floorEventsPerSecond: Math.round(floorEventsPerSecond),
        ratioToFloor: round(eventsPerSecond / floorEventsPerSecond, 3),
        repetitions,
        handlerMs: handlerMs.map((ms) => round(ms, 1)),
        floorMs: floorMs.map((ms) => round(ms, 1)),
        handlerCpuMs: round(median(handlerCpu), 1),
        floorCpuMs: round(median(floorCpu), 1),
        serverCpuMsHandler: round(median(serverCpuHandler), 1),
        serverCpuMsFloor: round(median(serverCpuFloor), 1),
        handlerRequests: handlerSummary.requests,
        floorRequests: floorSummary.requests,
      };
      if (size === MAX_BATCH) {
        const minimumPer10k = Math.ceil(handlerSummary.uncompressedBytes / MIB);
        requests = {
          per10k: handlerSummary.requests,
          minimumPer10k,
          ratio: round(handlerSummary.requests / minimumPer10k, 3),
          uncompressedBytes: handlerSummary.uncompressedBytes,
          wireBytes: handlerSummary.bodyBytes,
          largestRequestBytes: handlerSummary.maxUncompressedBytes,
          gzipped: handlerSummary.gzipRequests === handlerSummary.requests,
          withFullMiBRequests: fullMiBRequests(work.rows.flat()),
        };
        overhead = breakdown(work, median(handlerMs) - median(floorMs));
      }
    }
    if (requests === undefined || overhead === undefined) {
      throw new Error('the 10k size was not measured, so requests per 10k are unknown');
    }
    return { forwarder: figures, requests, breakdown: overhead };
  } finally {
    floor.close();
  }
}
