import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/** Events the fault-injection run sends: `RELIABILITY_EVENTS` (default 100,000; CI runs 10,000). */
export function reliabilityEvents(): number {
  const raw = process.env.RELIABILITY_EVENTS;
  if (raw === undefined || raw.trim() === '') return 100_000;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 100) {
    throw new RangeError(`RELIABILITY_EVENTS must be an integer of at least 100, got '${raw}'`);
  }
  return value;
}

/** Lines published by this run, so far. */
const published: string[] = [];

/**
 * Writes one set of figures (`suite` names it) as one JSON line on stdout, for the benchmark to quote, and into
 * a JSON Lines file holding every set of this run: `RELIABILITY_FIGURES` when set, else a file in the OS temp
 * folder. The file is replaced atomically, so a run that overlaps another never leaves a mix of both. Returns
 * the file's path.
 */
export function publishFigures(figures: { readonly suite: string } & Record<string, unknown>): string {
  const line = JSON.stringify(figures);
  published.push(line);
  const path = resolve(
    process.env.RELIABILITY_FIGURES ?? join(tmpdir(), 'aws-sentinel-bridge-reliability.jsonl'),
  );
  mkdirSync(dirname(path), { recursive: true });
  const partial = `${path}.${process.pid}.tmp`;
  writeFileSync(partial, `${published.join('\n')}\n`);
  renameSync(partial, path);
  // stdout, not console.log: Jest decorates console output, and this line must stay one parsable line.
  process.stdout.write(`${line}\n`);
  process.stdout.write(`reliability figures (${figures.suite}) written to ${path}\n`);
  return path;
}
