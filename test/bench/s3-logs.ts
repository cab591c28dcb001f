/**
 * `s3Logs`: VPC Flow Log objects through the REAL `forwardLogObject` (the s3-logs Lambda's use case): the real
 * `@aws-sdk/client-s3` reads a gzipped object from the local S3 server (path-style, in its own process), the
 * resumable decoder (pako, with checkpoints) inflates it, every line is normalised to an AWSVPCFlow row, and
 * the real Logs Ingestion adapter uploads the rows over HTTPS to the local Logs Ingestion server (in its own
 * process, counting rows without keeping them).
 *
 * - `flowLogs`: lines per second against the floor, in the same run, interleaved (handler, floor, floor with
 *   upload, handler, ...), medians. The floor reads the same object from the same server with a bare HTTP GET,
 *   gunzips it with node:zlib (streaming) and splits it into lines (strings), nothing else. The second floor,
 *   for context, also uploads each line's row, normalised beforehand: `JSON.stringify` + gzip + POST, flushed
 *   every FLUSH_BYTES of row JSON as the use case does (one batch uploading while the next is read).
 * - `memory`: peak RSS of a child process (bundled with esbuild, plain node) that takes ONE object of at least
 *   100 MB compressed (quick mode: 10 MB) through `forwardLogObject`, within the Lambda's time budget; and, for
 *   context, the same child on a 10 MB object with plain node (the function is deployed with `--max-old-space-size`).
 *
 * Both run against their own S3 and ingestion server processes (the ingestion server counts rows, keeps none).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent, get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createGunzip, gunzipSync, gzipSync } from 'node:zlib';
import { S3Client } from '@aws-sdk/client-s3';
import { createS3LogObjects } from '../../shared/adapters/aws/s3-log-objects.js';
import { chunkRows, createLogsIngestionAdapter } from '../../shared/adapters/azure/logs-ingestion.js';
import { FLUSH_BYTES, forwardLogObject, type LogObjectDeps } from '../../shared/app/forward-log-object.js';
import { applyIngestionLimits } from '../../shared/domain/rows/limits.js';
import type { Row } from '../../shared/domain/rows/row.js';
import { AWS_VPCFLOW } from '../../shared/domain/tables/vpcflow-columns.js';
import { normaliseFlowLogLine, parseFlowLogHeader } from '../../shared/domain/vpcflow/parse.js';
import { staticTokenCredential } from '../../shared/local/https-server.js';
import { typeMismatch } from '../../shared/local/ingestion-server.js';
import { MemoryDeadLetters } from '../../shared/local/memory-dead-letters.js';
import { createDecoder, detectEncoding, resumeDecoder } from '../../shared/streams/resumable-gunzip.js';
import { flowLogKey } from '../support/flow-logs.js';
import {
  bundleForNode,
  lastJsonObject,
  median,
  nowMs,
  numberField,
  progress,
  ROOT,
  round,
} from './common.js';
import { createFloorUploader, type FloorUploader } from './floor.js';
import { type FlowLogObjectFile, writeFlowLogObject } from './flow-log-object.js';
import { type IngestionProcess, type RequestLogSummary, startIngestionProcess } from './ingestion-process.js';
import { type S3Process, startS3Process } from './s3-process.js';

const run = promisify(execFile);
const MIB = 1024 * 1024;
const BUCKET = 'org-log-archive-123456789012';
const CONCURRENCY = 5;
/** The breakdown's steps are timed on at most this many lines (per-line figures do not need more). */
const BREAKDOWN_LINES = 100_000;

/** Peak RSS goal of the s3-logs function for one object (serverless.yml gives it 1024 MB). */
export const S3_LOGS_MEMORY_GOAL_MIB = 256;
/** The Lambda's timeout (serverless.yml `s3LogsTimeout`) and the handler's default safety margin. */
export const S3_LOGS_TIMEOUT_MS = 900_000;
export const S3_LOGS_SAFETY_MARGIN_MS = 60_000;

export interface FlowLogsFigure {
  readonly lines: number;
  readonly objectBytes: number;
  readonly uncompressedBytes: number;
  readonly linesPerSecond: number;
  /** GET + node:zlib gunzip + split into lines. */
  readonly floorLinesPerSecond: number;
  readonly ratioToFloor: number;
  /** The floor + `JSON.stringify` + gzip + POST of each line's row, normalised beforehand. */
  readonly floorWithUploadLinesPerSecond: number;
  readonly ratioToFloorWithUpload: number;
  readonly repetitions: number;
  readonly handlerMs: readonly number[];
  readonly floorMs: readonly number[];
  readonly floorWithUploadMs: readonly number[];
  /** Median CPU time of this process (all threads) per run. */
  readonly handlerCpuMs: number;
  readonly floorCpuMs: number;
  readonly floorWithUploadCpuMs: number;
  /** Median CPU time of the ingestion server process per run. */
  readonly serverCpuMsHandler: number;
  readonly serverCpuMsFloorWithUpload: number;
  readonly handlerRequests: number;
  readonly floorWithUploadRequests: number;
  /** Uncompressed JSON the handler sent for the object. */
  readonly handlerUploadBytes: number;
  /** Share of the handler's wall time with an upload (`uploadTexts`) in flight, median of the runs. */
  readonly handlerUploadingShare: number;
}

/**
 * Where the time goes, in µs per line: the runs' medians divided by the lines, and each step of the handler's
 * path timed alone (hot loops over the first BREAKDOWN_LINES lines of the same object, median of 3), so the
 * steps are approximate and not additive.
 */
export interface FlowLogsBreakdown {
  /** Lines the steps were timed on. */
  readonly lines: number;
  readonly handlerUs: number;
  readonly floorUs: number;
  readonly floorWithUploadUs: number;
  /** CPU of the handler's process (all threads) and of the ingestion server, per line, in the handler runs. */
  readonly handlerCpuUs: number;
  readonly serverCpuUs: number;
  /** The resumable decoder (pako's inflate, a checkpoint every MiB), 64 KiB input chunks. */
  readonly resumableGunzipUs: number;
  /** node:zlib `gunzipSync` of the same bytes (native inflate), as the floor decodes. */
  readonly zlibGunzipUs: number;
  /** `normaliseFlowLogLine` of every line (lines already split). */
  readonly normaliseUs: number;
  /** `applyIngestionLimits` of every row: its JSON text (`JSON.stringify`) and byte count. */
  readonly limitsUs: number;
  /** zlib gzip (default level 6, as the SDK's gzip policy) of the rows' JSON in 1 MiB bodies. */
  readonly bodyGzipUs: number;
  /** The same bodies at gzip level 1. */
  readonly bodyGzipLevel1Us: number;
  /** What the local ingestion server does per row, timed here: gunzip + `JSON.parse` of the bodies... */
  readonly serverParseUs: number;
  /** ...and its check of every value (byte size, declared column, `typeMismatch`), as its `validateRows`. */
  readonly serverCheckUs: number;
}

export interface S3LogsMemoryRun {
  /** `peakRssMiBFor100MBObject` (full mode) or `peakRssMiBFor10MBObject` (quick mode). */
  readonly name: string;
  /** Options given to node before the child's file (none for the figure itself). */
  readonly nodeArgs: readonly string[];
  readonly objectBytes: number;
  readonly objectMiB: number;
  readonly uncompressedMiB: number;
  readonly lines: number;
  readonly peakRssMiB: number;
  readonly sampledPeakRssMiB: number;
  readonly rssBeforeMiB: number;
  readonly heapUsedAfterMiB: number;
  /** V8 heap sampled every 100 ms: lowest and highest `heapUsed` (the lows approach the live set). */
  readonly heapUsedMinMiB: number;
  readonly heapUsedMaxMiB: number;
  readonly heapTotalMaxMiB: number;
  readonly externalMaxMiB: number;
  readonly budgetMs: number;
  readonly parts: number;
  readonly partMs: readonly number[];
  readonly totalMs: number;
  readonly linesPerSecond: number;
  /** CPU time of the child (all threads) and of the ingestion server during the run. */
  readonly childCpuMs: number;
  readonly serverCpuMs: number;
  readonly requests: number;
  /** Stored bytes read by all parts (the object once, plus what a continued part re-reads). */
  readonly bytesRead: number;
  /** Time to generate the object (not part of the figure). */
  readonly generateMs: number;
}

export interface S3LogsResults {
  readonly flowLogs: FlowLogsFigure;
  readonly breakdown: FlowLogsBreakdown;
  readonly memory: S3LogsMemoryRun;
  /**
   * Context, not a goal: the same child on a 10 MB object with plain `node` (V8's default heap limit, derived from
   * the machine's memory), to show what the deployed `--max-old-space-size` saves.
   */
  readonly memoryWithOldSpaceCap: S3LogsMemoryRun;
}

/** `--max-old-space-size` the s3Logs function is deployed with (serverless.yml), in MiB. */
export const OLD_SPACE_CAP_MIB = 128;

/**
 * The V8 flags of the deployed s3Logs function (its NODE_OPTIONS in serverless.yml, source maps aside), so the
 * memory figure is measured as the function runs.
 */
async function deployedNodeArgs(): Promise<string[]> {
  const yaml = await readFile(join(ROOT, 'serverless.yml'), 'utf8');
  const block = yaml.slice(yaml.indexOf('\n  s3Logs:\n'));
  const options = /\n {6}NODE_OPTIONS: (.+)\n/.exec(block)?.[1] ?? '';
  const args = options.split(/\s+/).filter((arg) => arg.startsWith('--max-old-space-size='));
  if (args.join() !== `--max-old-space-size=${OLD_SPACE_CAP_MIB}`)
    throw new Error(
      `serverless.yml deploys s3Logs with "${options}", the bench expects --max-old-space-size=${OLD_SPACE_CAP_MIB}`,
    );
  return args;
}
const CONTEXT_OBJECT_BYTES = 10 * 1024 * 1024;

export interface S3LogsOptions {
  /** Records of the throughput object (quick ~200k, full ~1M). */
  readonly lines: number;
  readonly repetitions: number;
  /** Compressed size of the memory object (quick 10 MiB, full 100 MiB). */
  readonly memoryObjectBytes: number;
  readonly memoryFigureName: string;
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

function cpuMs(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000;
}

interface Timing {
  readonly wallMs: number;
  readonly cpuMs: number;
}

async function timedRun(step: () => Promise<void>): Promise<Timing> {
  const cpu = process.cpuUsage();
  const started = nowMs();
  await step();
  return { wallMs: nowMs() - started, cpuMs: cpuMs(process.cpuUsage(cpu)) };
}

/** Time with at least one upload in flight, since the last reset. */
interface UploadMeter {
  active: number;
  since: number;
  totalMs: number;
}

interface Wiring {
  readonly uploads: UploadMeter;
  readonly s3: S3Process;
  readonly ingestion: IngestionProcess;
  readonly deps: LogObjectDeps;
  readonly letters: MemoryDeadLetters;
  readonly continuations: string[];
  readonly agent: Agent;
  readonly uploader: FloorUploader;
}

function wire(s3: S3Process, ingestion: IngestionProcess): Wiring {
  const letters = new MemoryDeadLetters();
  const continuations: string[] = [];
  const adapter = createLogsIngestionAdapter({
    endpoint: ingestion.endpoint,
    ruleId: ingestion.dcrImmutableId,
    credential: staticTokenCredential(ingestion.token),
    clientOptions: { tlsOptions: { ca: ingestion.ca } },
    maxConcurrency: CONCURRENCY,
  });
  const uploads: UploadMeter = { active: 0, since: 0, totalMs: 0 };
  const deps: LogObjectDeps = {
    objects: createS3LogObjects(
      new S3Client({
        endpoint: s3.endpoint,
        forcePathStyle: true,
        region: 'us-east-1',
        credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'bench-secret-not-real' },
      }),
    ),
    // The real adapter, timed: how much of the handler's wall time an upload is in flight.
    ingestion: {
      upload: adapter.upload,
      uploadTexts: async (stream, texts, options) => {
        if (uploads.active++ === 0) uploads.since = nowMs();
        try {
          return await adapter.uploadTexts(stream, texts, options);
        } finally {
          if (--uploads.active === 0) uploads.totalMs += nowMs() - uploads.since;
        }
      },
    },
    deadLetters: letters,
    continuations: {
      send: async (body) => {
        continuations.push(body);
      },
    },
    // As the s3-logs function is wired (aws-functions/runtime.ts): default checkpoint interval.
    decoders: {
      detect: detectEncoding,
      create: (encoding) => createDecoder(encoding),
      resume: (checkpoint) => resumeDecoder(checkpoint),
    },
  };
  const uploader = createFloorUploader(
    {
      endpoint: ingestion.endpoint,
      ca: ingestion.ca,
      token: ingestion.token,
      dcrImmutableId: ingestion.dcrImmutableId,
      stream: AWS_VPCFLOW.stream,
    },
    CONCURRENCY,
  );
  return {
    uploads,
    s3,
    ingestion,
    deps,
    letters,
    continuations,
    agent: new Agent({ keepAlive: true }),
    uploader,
  };
}

async function runHandler(w: Wiring, key: string, lines: number): Promise<void> {
  const report = await forwardLogObject({ object: { bucket: BUCKET, key }, messageId: 'bench' }, w.deps);
  if (report.status !== 'done' || report.rows !== lines || report.refused !== 0) {
    throw new Error(
      `forwardLogObject: ${report.status} with ${report.rows} of ${lines} rows, ${report.refused} refused (${report.reason ?? ''})`,
    );
  }
  if (w.continuations.length > 0 || w.letters.letters.length > 0) {
    throw new Error('forwardLogObject sent a continuation or dead letters in a benchmark run');
  }
}

/**
 * The floor's read: GET the object from the same server (plain node:http, keep-alive; the local server wants an
 * Authorization header of the SigV4 form and does not check the signature), gunzip it with node:zlib
 * (streaming), split the output into lines (strings), and hand each to `onLine`; after each decoded chunk
 * `afterChunk` may wait (back-pressure, as the use case waits for its uploads).
 */
function readLines(
  w: Wiring,
  key: string,
  onLine: (line: string, n: number) => void,
  afterChunk?: () => Promise<void> | undefined,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = get(
      `${w.s3.endpoint}/${BUCKET}/${key}`,
      {
        agent: w.agent,
        headers: { authorization: 'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/bench, Signature=0' },
      },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Error(`floor GET answered HTTP ${res.statusCode}`));
          return;
        }
        const gunzip = createGunzip();
        res.once('error', reject);
        res.pipe(gunzip);
        const text = new TextDecoder('utf-8');
        void (async () => {
          let carry = '';
          let n = 0;
          for await (const chunk of gunzip as AsyncIterable<Buffer>) {
            const block = carry + text.decode(chunk, { stream: true });
            let from = 0;
            for (let nl = block.indexOf('\n'); nl !== -1; nl = block.indexOf('\n', from)) {
              onLine(block.slice(from, nl), n++);
              from = nl + 1;
            }
            carry = block.slice(from);
            const waiting = afterChunk?.();
            if (waiting) await waiting;
          }
          const tail = carry + text.decode();
          if (tail !== '') onLine(tail, n++);
          return n;
        })().then(resolve, reject);
      },
    );
    req.once('error', reject);
  });
}

async function runFloor(w: Wiring, key: string, lines: number): Promise<void> {
  let sink = 0;
  const read = await readLines(w, key, (line) => {
    sink += line.length;
  });
  if (read !== lines + 1 || sink <= 0) throw new Error(`floor read ${read} lines of ${lines + 1}`);
}

interface Prepared {
  readonly rows: readonly Row[];
  readonly sizes: readonly number[];
}

/** Every record's row, normalised beforehand (not timed), and the byte size of its JSON. */
function prepareRows(text: string): Prepared {
  const lines = text.split('\n');
  const header = parseFlowLogHeader(lines[0] ?? '');
  if (!header.ok) throw new Error(`bench object header: ${header.reason}`);
  const rows: Row[] = [];
  const sizes: number[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line === '') continue;
    const outcome = normaliseFlowLogLine(header.format, line, i + 1);
    if (!outcome.ok) throw new Error(`bench line ${i + 1} does not normalise: ${outcome.reason}`);
    rows.push(outcome.row);
    sizes.push(Buffer.byteLength(JSON.stringify(outcome.row)));
  }
  return { rows, sizes };
}

/**
 * The floor with upload flushes as the use case does: every FLUSH_BYTES of row JSON, one batch uploading while the
 * next is read (it waits for the previous upload before it starts the next).
 */
async function runFloorWithUpload(w: Wiring, key: string, prepared: Prepared): Promise<void> {
  let batch: Row[] = [];
  let bytes = 0;
  let inFlight: Promise<unknown> | undefined;
  const flush = async (): Promise<void> => {
    if (inFlight) await inFlight;
    const rows = batch;
    batch = [];
    bytes = 0;
    inFlight = w.uploader.upload(rows);
    inFlight.catch(() => undefined); // awaited by the next flush or at the end
  };
  const read = await readLines(
    w,
    key,
    (_line, n) => {
      if (n === 0) return; // the header
      const row = prepared.rows[n - 1];
      if (row === undefined) return;
      batch.push(row);
      bytes += prepared.sizes[n - 1] ?? 0;
    },
    () => (bytes >= FLUSH_BYTES ? flush() : undefined),
  );
  if (batch.length > 0) await flush();
  if (inFlight) await inFlight;
  if (read !== prepared.rows.length + 1) throw new Error(`floor with upload read ${read} lines`);
}

async function checkDelivered(
  ingestion: IngestionProcess,
  expected: number,
  what: string,
): Promise<RequestLogSummary> {
  const summary = await ingestion.summary();
  if (
    summary.rows !== expected ||
    summary.acceptedRequests !== summary.requests ||
    summary.typeErrors !== 0
  ) {
    throw new Error(
      `${what}: the server counted ${summary.rows} of ${expected} rows (${summary.acceptedRequests}/${summary.requests} requests accepted, ${summary.typeErrors} type errors)`,
    );
  }
  return summary;
}

function timedSync(step: () => void): number {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    collect();
    const started = nowMs();
    step();
    times.push(nowMs() - started);
  }
  return median(times);
}

function breakdown(
  text: string,
  figure: FlowLogsFigure,
  medians: { readonly handlerMs: number; readonly floorMs: number; readonly floorWithUploadMs: number },
): FlowLogsBreakdown {
  // The first BREAKDOWN_LINES records (and the header), as their own gzipped object.
  const lines = text.split('\n').filter((line) => line !== '');
  const records = lines.slice(1, 1 + BREAKDOWN_LINES);
  const compressed = gzipSync(`${[lines[0], ...records].join('\n')}\n`);
  const n = records.length;
  const per = (ms: number, count = n): number => round((ms * 1000) / count, 2);
  let sink = 0;
  const resumableGunzipMs = timedSync(() => {
    const decoder = createDecoder('gzip');
    for (let at = 0; at < compressed.length; at += 64 * 1024) {
      for (const out of decoder.push(compressed.subarray(at, at + 64 * 1024))) sink += out.length;
    }
    for (const out of decoder.end()) sink += out.length;
  });
  const zlibGunzipMs = timedSync(() => {
    sink += gunzipSync(compressed).length;
  });
  const header = parseFlowLogHeader(lines[0] ?? '');
  if (!header.ok) throw new Error('bench object header');
  const rows: Row[] = [];
  const normaliseMs = timedSync(() => {
    rows.length = 0;
    for (let i = 0; i < records.length; i++) {
      const outcome = normaliseFlowLogLine(header.format, records[i] ?? '', i + 2);
      if (outcome.ok) rows.push(outcome.row);
    }
  });
  const texts: string[] = [];
  const sizes: number[] = [];
  const limitsMs = timedSync(() => {
    texts.length = 0;
    sizes.length = 0;
    for (const row of rows) {
      const limited = applyIngestionLimits(row, AWS_VPCFLOW.columns);
      texts.push(limited.json);
      sizes.push(limited.bytes);
    }
  });
  const bodies = chunkRows(sizes).map((chunk) => `[${chunk.indices.map((i) => texts[i]).join(',')}]`);
  const bodyGzipMs = timedSync(() => {
    for (const body of bodies) sink += gzipSync(body).length;
  });
  const bodyGzipLevel1Ms = timedSync(() => {
    for (const body of bodies) sink += gzipSync(body, { level: 1 }).length;
  });
  const gzipped = bodies.map((body) => gzipSync(body));
  let parsed: unknown[] = [];
  const serverParseMs = timedSync(() => {
    parsed = gzipped.map((body): unknown => JSON.parse(gunzipSync(body).toString('utf8')));
  });
  const columns = new Map(AWS_VPCFLOW.columns.map((column) => [column.name, column.type]));
  const serverCheckMs = timedSync(() => {
    for (const body of parsed) {
      if (!Array.isArray(body)) continue;
      for (const row of body as Record<string, unknown>[]) {
        for (const [column, value] of Object.entries(row)) {
          if (typeof value === 'string') sink += Buffer.byteLength(value, 'utf8');
          const type = columns.get(column);
          if (type !== undefined && typeMismatch(type, value) !== undefined) sink--;
        }
      }
    }
  });
  if (sink < 0) progress('unreachable');
  return {
    lines: n,
    handlerUs: per(medians.handlerMs, figure.lines),
    floorUs: per(medians.floorMs, figure.lines),
    floorWithUploadUs: per(medians.floorWithUploadMs, figure.lines),
    handlerCpuUs: per(figure.handlerCpuMs, figure.lines),
    serverCpuUs: per(figure.serverCpuMsHandler, figure.lines),
    resumableGunzipUs: per(resumableGunzipMs),
    zlibGunzipUs: per(zlibGunzipMs),
    normaliseUs: per(normaliseMs),
    limitsUs: per(limitsMs),
    bodyGzipUs: per(bodyGzipMs),
    bodyGzipLevel1Us: per(bodyGzipLevel1Ms),
    serverParseUs: per(serverParseMs),
    serverCheckUs: per(serverCheckMs),
  };
}

async function benchThroughput(
  w: Wiring,
  dir: string,
  lines: number,
  repetitions: number,
): Promise<{ figure: FlowLogsFigure; breakdown: FlowLogsBreakdown }> {
  // Warm-up: JIT, TLS sessions and keep-alive connections of all three, outside any measurement.
  const warmFile = await writeFlowLogObject(join(dir, 'warm.log.gz'), { lines: 50_000 }, 7);
  const warmKey = flowLogKey('123456789012', 'us-east-1', 1);
  await w.s3.putObjectFromFile(BUCKET, warmKey, warmFile.file);
  const warmPrepared = prepareRows(gunzipSync(await readFile(warmFile.file)).toString('utf8'));
  for (let i = 0; i < 2; i++) {
    await w.ingestion.reset();
    await runHandler(w, warmKey, warmFile.lines);
    await runFloor(w, warmKey, warmFile.lines);
    await w.ingestion.reset();
    await runFloorWithUpload(w, warmKey, warmPrepared);
  }

  const object = await writeFlowLogObject(join(dir, 'throughput.log.gz'), { lines });
  const key = flowLogKey('123456789012', 'us-east-1', 2);
  await w.s3.putObjectFromFile(BUCKET, key, object.file);
  const text = gunzipSync(await readFile(object.file)).toString('utf8');
  progress(
    `s3Logs flowLogs: ${object.lines.toLocaleString('en-US')} lines, ${round(object.compressedBytes / MIB, 1)} MiB gzipped (${round(object.uncompressedBytes / MIB, 1)} MiB of text)`,
  );

  const handlerMs: number[] = [];
  const floorMs: number[] = [];
  const uploadMs: number[] = [];
  const handlerCpu: number[] = [];
  const floorCpu: number[] = [];
  const uploadCpu: number[] = [];
  const serverHandler: number[] = [];
  const serverUpload: number[] = [];
  const uploadingShare: number[] = [];
  let handlerSummary: RequestLogSummary | undefined;
  let uploadSummary: RequestLogSummary | undefined;
  for (let rep = 0; rep < repetitions; rep++) {
    await w.ingestion.reset();
    collect();
    w.uploads.totalMs = 0;
    const h = await timedRun(() => runHandler(w, key, object.lines));
    uploadingShare.push(w.uploads.totalMs / h.wallMs);
    handlerMs.push(h.wallMs);
    handlerCpu.push(h.cpuMs);
    handlerSummary = await checkDelivered(w.ingestion, object.lines, 'forwardLogObject');
    serverHandler.push(handlerSummary.serverCpuMs);

    collect();
    const f = await timedRun(() => runFloor(w, key, object.lines));
    floorMs.push(f.wallMs);
    floorCpu.push(f.cpuMs);

    // The rows exist only for this run, so the other runs do not carry (and garbage-collect around) them.
    let prepared: Prepared | undefined = prepareRows(text);
    await w.ingestion.reset();
    collect();
    const ready = prepared;
    const u = await timedRun(() => runFloorWithUpload(w, key, ready));
    prepared = undefined;
    uploadMs.push(u.wallMs);
    uploadCpu.push(u.cpuMs);
    uploadSummary = await checkDelivered(w.ingestion, object.lines, 'floor with upload');
    serverUpload.push(uploadSummary.serverCpuMs);
    progress(
      `s3Logs flowLogs #${rep + 1}: handler ${round(h.wallMs, 0)} ms, floor ${round(f.wallMs, 0)} ms, floor with upload ${round(u.wallMs, 0)} ms`,
    );
  }
  await w.ingestion.reset();
  if (handlerSummary === undefined || uploadSummary === undefined) throw new Error('no repetition ran');
  const perSecond = (ms: readonly number[]): number => object.lines / (median(ms) / 1000);
  const linesPerSecond = perSecond(handlerMs);
  const floorLinesPerSecond = perSecond(floorMs);
  const floorWithUploadLinesPerSecond = perSecond(uploadMs);
  const figure: FlowLogsFigure = {
    lines: object.lines,
    objectBytes: object.compressedBytes,
    uncompressedBytes: object.uncompressedBytes,
    linesPerSecond: Math.round(linesPerSecond),
    floorLinesPerSecond: Math.round(floorLinesPerSecond),
    ratioToFloor: round(linesPerSecond / floorLinesPerSecond, 3),
    floorWithUploadLinesPerSecond: Math.round(floorWithUploadLinesPerSecond),
    ratioToFloorWithUpload: round(linesPerSecond / floorWithUploadLinesPerSecond, 3),
    repetitions,
    handlerMs: handlerMs.map((ms) => round(ms, 1)),
    floorMs: floorMs.map((ms) => round(ms, 1)),
    floorWithUploadMs: uploadMs.map((ms) => round(ms, 1)),
    handlerCpuMs: round(median(handlerCpu), 1),
    floorCpuMs: round(median(floorCpu), 1),
    floorWithUploadCpuMs: round(median(uploadCpu), 1),
    serverCpuMsHandler: round(median(serverHandler), 1),
    serverCpuMsFloorWithUpload: round(median(serverUpload), 1),
    handlerRequests: handlerSummary.requests,
    floorWithUploadRequests: uploadSummary.requests,
    handlerUploadBytes: handlerSummary.uncompressedBytes,
    handlerUploadingShare: round(median(uploadingShare), 3),
  };
  return {
    figure,
    breakdown: breakdown(text, figure, {
      handlerMs: median(handlerMs),
      floorMs: median(floorMs),
      floorWithUploadMs: median(uploadMs),
    }),
  };
}

/** The memory child, bundled as the function is (see memory.ts), into `dir`. */
async function bundleChild(dir: string): Promise<string> {
  return bundleForNode('test/bench/s3-logs-child.ts', join(dir, 's3-logs-child.mjs'));
}

interface StoredObject {
  readonly key: string;
  readonly object: FlowLogObjectFile;
  readonly generateMs: number;
}

/** Generates a flow log object of at least `bytes` compressed, stores it in the S3 process, removes the file. */
async function storeObject(w: Wiring, dir: string, bytes: number, n: number): Promise<StoredObject> {
  const generated = nowMs();
  const object = await writeFlowLogObject(join(dir, `memory-${n}.log.gz`), { minCompressedBytes: bytes });
  const generateMs = nowMs() - generated;
  progress(
    `s3Logs memory: ${object.lines.toLocaleString('en-US')} lines, ${round(object.compressedBytes / MIB, 1)} MiB gzipped (${round(object.uncompressedBytes / MIB, 0)} MiB of text), generated in ${round(generateMs / 1000, 1)} s`,
  );
  const key = flowLogKey('123456789012', 'us-east-1', n);
  await w.s3.putObjectFromFile(BUCKET, key, object.file);
  await rm(object.file, { force: true });
  return { key, object, generateMs };
}

async function runMemoryChild(
  w: Wiring,
  child: string,
  stored: StoredObject,
  name: string,
  nodeArgs: readonly string[],
): Promise<S3LogsMemoryRun> {
  const { key, object } = stored;
  await w.ingestion.reset();
  const budgetMs = S3_LOGS_TIMEOUT_MS - S3_LOGS_SAFETY_MARGIN_MS;
  const { stdout } = await run(process.execPath, [...nodeArgs, child], {
    cwd: tmpdir(),
    env: {
      PATH: process.env.PATH ?? '',
      BENCH_S3_ENDPOINT: w.s3.endpoint,
      BENCH_BUCKET: BUCKET,
      BENCH_KEY: key,
      BENCH_ENDPOINT: w.ingestion.endpoint,
      BENCH_CA: w.ingestion.ca,
      BENCH_TOKEN: w.ingestion.token,
      BENCH_DCR: w.ingestion.dcrImmutableId,
      BENCH_BUDGET_MS: String(budgetMs),
      // As aws-functions/s3-logs-handler.ts derives them from its budget and safety margin.
      BENCH_UPLOAD_BUDGET_MS: String(budgetMs + Math.floor(S3_LOGS_SAFETY_MARGIN_MS / 3)),
      BENCH_ABORT_BUDGET_MS: String(budgetMs + Math.floor((S3_LOGS_SAFETY_MARGIN_MS * 3) / 4)),
    },
    maxBuffer: 16 * 1024 * 1024,
  });
  const result = lastJsonObject(stdout);
  const summary = await checkDelivered(w.ingestion, object.lines, 's3-logs child');
  if (numberField(result, 'rowsTotal') !== object.lines || numberField(result, 'refused') !== 0) {
    throw new Error(`s3-logs child: ${numberField(result, 'rowsTotal')} of ${object.lines} rows delivered`);
  }
  await w.ingestion.reset();
  const partMs = Array.isArray(result.partMs)
    ? result.partMs.filter((ms): ms is number => typeof ms === 'number')
    : [];
  const totalMs = numberField(result, 'durationMs');
  const mib = (field: string): number => round(numberField(result, field), 1);
  const figure: S3LogsMemoryRun = {
    name,
    nodeArgs,
    objectBytes: object.compressedBytes,
    objectMiB: round(object.compressedBytes / MIB, 1),
    uncompressedMiB: round(object.uncompressedBytes / MIB, 1),
    lines: object.lines,
    peakRssMiB: mib('peakRssMiB'),
    sampledPeakRssMiB: mib('sampledPeakRssMiB'),
    rssBeforeMiB: mib('rssBeforeMiB'),
    heapUsedAfterMiB: mib('heapUsedAfterMiB'),
    heapUsedMinMiB: mib('heapUsedMinMiB'),
    heapUsedMaxMiB: mib('heapUsedMaxMiB'),
    heapTotalMaxMiB: mib('heapTotalMaxMiB'),
    externalMaxMiB: mib('externalMaxMiB'),
    budgetMs,
    parts: numberField(result, 'parts'),
    partMs: partMs.map((ms) => round(ms, 0)),
    totalMs: round(totalMs, 0),
    linesPerSecond: Math.round(object.lines / (totalMs / 1000)),
    childCpuMs: round(numberField(result, 'cpuMs'), 0),
    serverCpuMs: round(summary.serverCpuMs, 0),
    requests: summary.requests,
    bytesRead: numberField(result, 'bytesRead'),
    generateMs: round(stored.generateMs, 0),
  };
  progress(
    `s3Logs memory ${name}${nodeArgs.length > 0 ? ` (${nodeArgs.join(' ')})` : ''}: peak RSS ${figure.peakRssMiB} MiB for ${figure.objectMiB} MiB, heap used ${figure.heapUsedMinMiB}-${figure.heapUsedMaxMiB} MiB, ${figure.parts} part(s), ${round(totalMs / 1000, 1)} s`,
  );
  return figure;
}

async function benchMemoryRuns(
  w: Wiring,
  dir: string,
  options: Pick<S3LogsOptions, 'memoryObjectBytes' | 'memoryFigureName'>,
): Promise<Pick<S3LogsResults, 'memory' | 'memoryWithOldSpaceCap'>> {
  const child = await bundleChild(dir);
  const main = await storeObject(w, dir, options.memoryObjectBytes, 3);
  const memory = await runMemoryChild(w, child, main, options.memoryFigureName, await deployedNodeArgs());
  const context =
    options.memoryObjectBytes === CONTEXT_OBJECT_BYTES
      ? main
      : await storeObject(w, dir, CONTEXT_OBJECT_BYTES, 4);
  const memoryWithOldSpaceCap = await runMemoryChild(
    w,
    child,
    context,
    'peakRssMiBFor10MBObjectWithDefaultHeap',
    [],
  );
  await w.s3.reset();
  return { memory, memoryWithOldSpaceCap };
}

/** Both s3Logs figures, with their own S3 and ingestion server processes. */
export async function benchS3Logs(options: S3LogsOptions): Promise<S3LogsResults> {
  const dir = await mkdtemp(join(tmpdir(), 'bridge-bench-s3logs-'));
  const [s3, ingestion] = await Promise.all([startS3Process(), startIngestionProcess({ storeRows: false })]);
  const w = wire(s3, ingestion);
  try {
    const started = nowMs();
    const throughput = await benchThroughput(w, dir, options.lines, options.repetitions);
    progress(`s3Logs flowLogs took ${round((nowMs() - started) / 1000, 1)} s`);
    await s3.reset();
    const memoryStarted = nowMs();
    const memory = await benchMemoryRuns(w, dir, options);
    progress(`s3Logs memory took ${round((nowMs() - memoryStarted) / 1000, 1)} s`);
    return { flowLogs: throughput.figure, breakdown: throughput.breakdown, ...memory };
  } finally {
    w.uploader.close();
    w.agent.destroy();
    await Promise.all([s3.close(), ingestion.close()]);
    await rm(dir, { recursive: true, force: true });
  }
}
