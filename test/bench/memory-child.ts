/**
 * Child process of the `memory` figure: one SQS batch (BENCH_BATCH messages, default 10,000) through the real
 * handler, uploading to the ingestion server named by BENCH_ENDPOINT / BENCH_CA / BENCH_TOKEN / BENCH_DCR.
 * The parent bundles this file with esbuild and runs it with plain node (no tsx loader thread in the RSS),
 * as Lambda runs the bundled function. Prints one JSON line: peak RSS (the kernel's maxRSS) and samples.
 */
import type { SQSEvent } from 'aws-lambda';
import { createForwarderHandler } from '../../aws-functions/forwarder.js';
import { createLogsIngestionAdapter } from '../../shared/adapters/azure/logs-ingestion.js';
import { staticTokenCredential } from '../../shared/local/https-server.js';
import { MemoryDeadLetters } from '../../shared/local/memory-dead-letters.js';
import { guardDutyEvent, sqsEvent } from '../support/events.js';
import { lambdaContext, quietObservability } from '../support/lambda.js';

const MIB = 1024 * 1024;

function env(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`memory child: ${name} is not set`);
  return value;
}

/** The event as the Lambda runtime hands it over: parsed from the invoke payload (which is then garbage). */
function invokePayload(size: number): { event: SQSEvent; payloadMiB: number } {
  const payload = JSON.stringify(
    sqsEvent(Array.from({ length: size }, (_, n) => JSON.stringify(guardDutyEvent(n)))),
  );
  return { event: JSON.parse(payload) as SQSEvent, payloadMiB: Buffer.byteLength(payload) / MIB };
}

async function main(): Promise<void> {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  const size = Number(process.env.BENCH_BATCH ?? '10000');
  const token = env('BENCH_TOKEN');
  const handler = createForwarderHandler('guardduty', {
    ...quietObservability('guardduty-findings'),
    ingestion: createLogsIngestionAdapter({
      endpoint: env('BENCH_ENDPOINT'),
      ruleId: env('BENCH_DCR'),
      credential: staticTokenCredential(token),
      clientOptions: { tlsOptions: { ca: env('BENCH_CA') } },
      maxConcurrency: 5,
    }),
    deadLetters: new MemoryDeadLetters(),
  });
  const { event, payloadMiB } = invokePayload(size);
  const rssBefore = process.memoryUsage().rss;
  let sampledPeak = rssBefore;
  const sampler = setInterval(() => {
    sampledPeak = Math.max(sampledPeak, process.memoryUsage().rss);
  }, 2);
  const started = performance.now();
  const response = await handler(event, lambdaContext('guardduty-findings', 900_000));
  const durationMs = performance.now() - started;
  clearInterval(sampler);
  sampledPeak = Math.max(sampledPeak, process.memoryUsage().rss);
  const result = {
    batch: size,
    retried: response.batchItemFailures.length,
    payloadMiB,
    rssBeforeMiB: rssBefore / MIB,
    sampledPeakRssMiB: sampledPeak / MIB,
    // maxRSS is in KiB: the high-water mark of the whole process, sampled or not.
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    heapUsedAfterMiB: process.memoryUsage().heapUsed / MIB,
    durationMs,
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
