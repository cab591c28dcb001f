/**
 * `reliability`: the figures of the reliability suite (test/reliability/fault-injection.test.ts), quoted in
 * BENCHMARKS.md. The full bench runs the suite itself at 100,000 events (about two minutes here); the quick bench,
 * which must stay under five minutes, quotes the figures of the last `npm run test:reliability` on this machine
 * when there are any (with their time), and says how to get them otherwise.
 */
import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { progress, ROOT } from './common.js';

const run = promisify(execFile);

/** Where the suite writes its figures when RELIABILITY_FIGURES is not set (test/reliability/support/figures.ts). */
const DEFAULT_FIGURES = join(tmpdir(), 'aws-sentinel-bridge-reliability.jsonl');

export interface ReliabilityResults {
  /** `run by this bench` or the time of the earlier run whose figures are quoted. */
  readonly source: string;
  /** One object per published set (`suite`: reliability, reliability-lost-responses). */
  readonly sets: readonly (Record<string, unknown> & { readonly suite: string })[];
}

async function readSets(file: string): Promise<ReliabilityResults['sets']> {
  const text = await readFile(file, 'utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown> & { suite: string });
}

export async function benchReliability(mode: 'quick' | 'full'): Promise<ReliabilityResults | undefined> {
  if (mode === 'quick') {
    try {
      const info = await stat(DEFAULT_FIGURES);
      return {
        source: `an earlier \`npm run test:reliability\` (${info.mtime.toISOString()})`,
        sets: await readSets(DEFAULT_FIGURES),
      };
    } catch {
      return undefined;
    }
  }
  const file = join(tmpdir(), `bridge-bench-reliability-${process.pid}.jsonl`);
  progress('reliability: fault-injection suite at 100,000 events');
  await run(
    process.execPath,
    [
      join(ROOT, 'node_modules/jest/bin/jest.js'),
      '-c',
      'jest.reliability.config.js',
      '--testPathPatterns',
      'fault-injection',
    ],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        NODE_OPTIONS: '--experimental-vm-modules',
        RELIABILITY_EVENTS: '100000',
        RELIABILITY_FIGURES: file,
      },
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return {
    source: 'this bench run (`RELIABILITY_EVENTS=100000`, the suite passed)',
    sets: await readSets(file),
  };
}
