/**
 * Child process of the `s3Logs` memory figure: ONE flow log object (BENCH_BUCKET / BENCH_KEY on the local S3
 * server BENCH_S3_ENDPOINT) through the real `forwardLogObject`, with the real S3 client and the real Logs
 * Ingestion adapter (BENCH_ENDPOINT / BENCH_CA / BENCH_TOKEN / BENCH_DCR), wired as aws-functions/runtime.ts
 * wires the s3-logs function. Each part gets the function's time budget as the handler computes it
 * (BENCH_BUDGET_MS for reading, BENCH_UPLOAD_BUDGET_MS for starting uploads, BENCH_ABORT_BUDGET_MS for requests
 * in flight); a part that continues hands its
 * continuation to the next part here, in the same process, as a warm Lambda environment would take it.
 * The parent bundles this file with esbuild and runs it with plain node. Prints one JSON line.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { createS3LogObjects } from '../../shared/adapters/aws/s3-log-objects.js';
import { createLogsIngestionAdapter } from '../../shared/adapters/azure/logs-ingestion.js';
import {
  continuationSchema,
  forwardLogObject,
  type LogObjectDeps,
  type ResumeState,
} from '../../shared/app/forward-log-object.js';
import { staticTokenCredential } from '../../shared/local/https-server.js';
import { MemoryDeadLetters } from '../../shared/local/memory-dead-letters.js';
import { createDecoder, detectEncoding, resumeDecoder } from '../../shared/streams/resumable-gunzip.js';

const MIB = 1024 * 1024;
const MAX_PARTS = 100;

function env(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`s3-logs child: ${name} is not set`);
  return value;
}

async function main(): Promise<void> {
  const bucket = env('BENCH_BUCKET');
  const key = env('BENCH_KEY');
  const budgetMs = Number(env('BENCH_BUDGET_MS'));
  const uploadBudgetMs = Number(env('BENCH_UPLOAD_BUDGET_MS'));
  const abortBudgetMs = Number(env('BENCH_ABORT_BUDGET_MS'));
  const continuations: string[] = [];
  const letters = new MemoryDeadLetters();
  const deps: LogObjectDeps = {
    objects: createS3LogObjects(
      new S3Client({
        endpoint: env('BENCH_S3_ENDPOINT'),
        forcePathStyle: true,
        region: 'us-east-1',
        credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'bench-secret-not-real' },
      }),
    ),
    ingestion: createLogsIngestionAdapter({
      endpoint: env('BENCH_ENDPOINT'),
      ruleId: env('BENCH_DCR'),
      credential: staticTokenCredential(env('BENCH_TOKEN')),
      clientOptions: { tlsOptions: { ca: env('BENCH_CA') } },
      maxConcurrency: 5,
    }),
    deadLetters: letters,
    continuations: {
      send: async (body) => {
        continuations.push(body);
      },
    },
    decoders: {
      detect: detectEncoding,
      create: (encoding) => createDecoder(encoding),
      resume: (checkpoint) => resumeDecoder(checkpoint),
    },
  };

  const cpu = process.cpuUsage();
  const started = performance.now();
  const rssBefore = process.memoryUsage.rss();
  let sampledPeak = rssBefore;
  const sampler = setInterval(() => {
    sampledPeak = Math.max(sampledPeak, process.memoryUsage.rss());
  }, 5);
  // The V8 heap every 100 ms: its low points (after a full GC) approach what is live, its highs what is garbage.
  let heapUsedMin = Number.POSITIVE_INFINITY;
  let heapUsedMax = 0;
  let heapTotalMax = 0;
  let externalMax = 0;
  const heapSampler = setInterval(() => {
    const m = process.memoryUsage();
    heapUsedMin = Math.min(heapUsedMin, m.heapUsed);
    heapUsedMax = Math.max(heapUsedMax, m.heapUsed);
    heapTotalMax = Math.max(heapTotalMax, m.heapTotal);
    externalMax = Math.max(externalMax, m.external);
  }, 100);
  // BENCH_TRACE_MEMORY=1: one line per second on stderr (RSS, heap, external), to see where a peak comes from.
  const tracer =
    process.env.BENCH_TRACE_MEMORY === '1'
      ? setInterval(() => {
          const m = process.memoryUsage();
          process.stderr.write(
            `${Math.round(performance.now() - started)} ms: rss ${(m.rss / MIB).toFixed(0)} heapTotal ${(m.heapTotal / MIB).toFixed(0)} heapUsed ${(m.heapUsed / MIB).toFixed(0)} external ${(m.external / MIB).toFixed(0)} arrayBuffers ${(m.arrayBuffers / MIB).toFixed(0)} MiB\n`,
          );
        }, 1000)
      : undefined;
  const partMs: number[] = [];
  const statuses: string[] = [];
  let resume: ResumeState | undefined;
  let rows = 0;
  let rowsTotal = 0;
  let refused = 0;
  let requests = 0;
  let bytesRead = 0;
  let bytesDecoded = 0;
  for (let part = 1; part <= MAX_PARTS; part++) {
    const partStarted = performance.now();
    const report = await forwardLogObject(
      { object: { bucket, key }, messageId: `bench-part-${part}`, ...(resume ? { resume } : {}) },
      deps,
      {
        signal: AbortSignal.timeout(budgetMs),
        uploadSignal: AbortSignal.timeout(uploadBudgetMs),
        abortSignal: AbortSignal.timeout(abortBudgetMs),
      },
    );
    partMs.push(performance.now() - partStarted);
    statuses.push(report.status);
    rows += report.rows;
    rowsTotal = report.rowsTotal;
    refused += report.refused;
    requests += report.requests;
    bytesRead += report.bytesRead;
    bytesDecoded += report.bytesDecoded;
    if (report.status !== 'continued') break;
    const body = continuations.shift();
    if (body === undefined) throw new Error('a continued part sent no continuation');
    resume = continuationSchema.parse(JSON.parse(body)).resume;
  }
  const durationMs = performance.now() - started;
  const cpuUsage = process.cpuUsage(cpu);
  clearInterval(sampler);
  clearInterval(heapSampler);
  if (tracer) clearInterval(tracer);
  sampledPeak = Math.max(sampledPeak, process.memoryUsage.rss());
  const result = {
    parts: partMs.length,
    statuses,
    partMs,
    rows,
    rowsTotal,
    refused,
    deadLetters: letters.letters.length,
    requests,
    bytesRead,
    bytesDecoded,
    durationMs,
    cpuMs: (cpuUsage.user + cpuUsage.system) / 1000,
    rssBeforeMiB: rssBefore / MIB,
    sampledPeakRssMiB: sampledPeak / MIB,
    // maxRSS is in KiB: the high-water mark of the whole process, sampled or not.
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    heapUsedAfterMiB: process.memoryUsage().heapUsed / MIB,
    heapUsedMinMiB: (Number.isFinite(heapUsedMin) ? heapUsedMin : 0) / MIB,
    heapUsedMaxMiB: heapUsedMax / MIB,
    heapTotalMaxMiB: heapTotalMax / MIB,
    externalMaxMiB: externalMax / MIB,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
