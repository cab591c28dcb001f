/** Small helpers shared by the benchmark sections: statistics, timing, logging, machine facts. */
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** The repository root (test/bench/ is two levels down). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Progress goes to stderr, so stdout ends with the one JSON line of `--json`. */
export function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] ?? Number.NaN;
  if (sorted.length % 2 === 1) return upper;
  return ((sorted[middle - 1] ?? upper) + upper) / 2;
}

/** Rounds to `digits` decimals (figures in the JSON stay readable). */
export function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Milliseconds since an arbitrary origin, monotonic. */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface Machine {
  readonly cores: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly platform: string;
}

export function machine(): Machine {
  const list = cpus();
  return {
    cores: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    memoryGiB: round(totalmem() / 1024 ** 3, 1),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

/** Powertools writes nothing during the benchmark (metrics are read when `Metrics` is constructed). */
export function silencePowertools(): void {
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.POWERTOOLS_DEV = 'false';
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function numberField(value: Record<string, unknown>, key: string): number {
  const field = value[key];
  if (typeof field !== 'number' || !Number.isFinite(field)) {
    throw new Error(`expected a number in field ${key}, got ${JSON.stringify(field)}`);
  }
  return field;
}

export function stringField(value: Record<string, unknown>, key: string): string {
  const field = value[key];
  if (typeof field !== 'string') throw new Error(`expected a string in field ${key}`);
  return field;
}

/** The last line of a child's stdout that parses as a JSON object. */
export function lastJsonObject(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split('\n').reverse();
  for (const line of lines) {
    const text = line.trim();
    if (!text.startsWith('{')) continue;
    try {
      const value: unknown = JSON.parse(text);
      if (isRecord(value)) return value;
    } catch {
      // not the result line
    }
  }
  throw new Error(`no JSON result line in child output: ${stdout.slice(-500)}`);
}

/**
 * Bundles a bench child (`entry`, relative to the repository) into `outfile` the way the functions are bundled
 * (minified ESM for node22 with the createRequire banner), so it runs with plain `node`: no tsx loader thread
 * and no parent heap in the figures it measures.
 */
export async function bundleForNode(entry: string, outfile: string): Promise<string> {
  await build({
    absWorkingDir: ROOT,
    entryPoints: [entry],
    outfile,
    bundle: true,
    minify: true,
    keepNames: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    mainFields: ['module', 'main'],
    banner: {
      js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
    },
    logLevel: 'silent',
  });
  return outfile;
}
