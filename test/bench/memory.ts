/**
 * `memory`: peak RSS of a child process that takes one SQS batch through the real handler. The child
 * (memory-child.ts) is bundled with esbuild and run with plain node, so neither the parent's heap nor a
 * loader thread of tsx is in the figure; the ingestion server stays in its own process.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { bundleForNode, lastJsonObject, numberField, progress, round } from './common.js';
import type { IngestionProcess } from './ingestion-process.js';

const run = promisify(execFile);

export const MEMORY_GOAL_MIB = 256;

export interface MemoryRun {
  readonly batch: number;
  readonly peakRssMiB: number;
  readonly sampledPeakRssMiB: number;
  readonly rssBeforeBatchMiB: number;
  readonly payloadMiB: number;
  readonly durationMs: number;
}

export interface MemoryResults {
  readonly peakRssMiBFor10kBatch: number;
  /** The batch size serverless.yml deploys (batchSize: 1000). */
  readonly peakRssMiBFor1kBatch: number;
  readonly runs: readonly MemoryRun[];
}

async function runChild(file: string, server: IngestionProcess, batch: number): Promise<MemoryRun> {
  const { stdout } = await run(process.execPath, [file], {
    cwd: tmpdir(),
    env: {
      PATH: process.env.PATH ?? '',
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      BENCH_ENDPOINT: server.endpoint,
      BENCH_CA: server.ca,
      BENCH_TOKEN: server.token,
      BENCH_DCR: server.dcrImmutableId,
      BENCH_BATCH: String(batch),
    },
    maxBuffer: 16 * 1024 * 1024,
  });
  const result = lastJsonObject(stdout);
  if (numberField(result, 'retried') !== 0) {
    throw new Error(`memory child: ${numberField(result, 'retried')} messages were returned for retry`);
  }
  return {
    batch,
    peakRssMiB: round(numberField(result, 'peakRssMiB'), 1),
    sampledPeakRssMiB: round(numberField(result, 'sampledPeakRssMiB'), 1),
    rssBeforeBatchMiB: round(numberField(result, 'rssBeforeMiB'), 1),
    payloadMiB: round(numberField(result, 'payloadMiB'), 1),
    durationMs: round(numberField(result, 'durationMs'), 1),
  };
}

export async function benchMemory(server: IngestionProcess): Promise<MemoryResults> {
  const outdir = await mkdtemp(join(tmpdir(), 'bridge-bench-memory-'));
  try {
    const file = await bundleForNode('test/bench/memory-child.ts', join(outdir, 'memory-child.mjs'));
    const runs: MemoryRun[] = [];
    for (const batch of [10_000, 1_000]) {
      await server.reset();
      const result = await runChild(file, server, batch);
      const stored = (await server.summary()).rows;
      if (stored !== batch) throw new Error(`memory child: the server stored ${stored} of ${batch} rows`);
      runs.push(result);
      progress(
        `memory ${batch}: peak RSS ${result.peakRssMiB} MiB (before the batch ${result.rssBeforeBatchMiB} MiB)`,
      );
    }
    await server.reset();
    const [tenK, oneK] = runs;
    if (tenK === undefined || oneK === undefined) throw new Error('memory runs missing');
    return { peakRssMiBFor10kBatch: tenK.peakRssMiB, peakRssMiBFor1kBatch: oneK.peakRssMiB, runs };
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
}
