/**
 * `npm run bench`: the benchmarks of issues 5 and 6, every figure against its floor in the same run.
 *
 *   npm run bench                          full run (1k, 10k, 100k events; flow logs: 1M lines, a 100 MB object),
 *                                          writes BENCHMARKS.md
 *   npm run -s bench -- --quick --json     1k and 10k events; 200k lines, a 10 MB object; one JSON object as the
 *                                          last line of stdout
 *
 * Options: --quick, --json, --out <file> (default BENCHMARKS.md at the repository root).
 * Exits 0 whether goals are met or not (the report says which); non-zero only when the benchmark fails.
 */
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { parseArgs } from 'node:util';
import { machine, nowMs, progress, ROOT, round, silencePowertools } from './common.js';

interface Options {
  readonly quick: boolean;
  readonly json: boolean;
  readonly out: string;
}

function options(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      out: { type: 'string', default: 'BENCHMARKS.md' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log('Usage: npm run bench [-- --quick] [--json] [--out BENCHMARKS.md]');
    process.exit(0);
  }
  const out = values.out;
  return { quick: values.quick, json: values.json, out: isAbsolute(out) ? out : join(ROOT, out) };
}

function commit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim();
    return dirty === '' ? head : `${head} + local changes`;
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const opts = options(process.argv.slice(2));
  // Before the handler modules are loaded: Powertools reads these when its objects are built.
  silencePowertools();
  const [
    { benchBundles },
    { benchForwarder },
    { startIngestionProcess },
    { benchMemory },
    report,
    { benchRespond },
    { benchS3Logs },
    { benchReliability },
  ] = await Promise.all([
    import('./bundles.js'),
    import('./forwarder.js'),
    import('./ingestion-process.js'),
    import('./memory.js'),
    import('./report.js'),
    import('./respond.js'),
    import('./s3-logs.js'),
    import('./reliability.js'),
  ]);
  const started = nowMs();
  const startedAt = new Date().toISOString();
  progress(`${opts.quick ? 'quick' : 'full'} run on ${machine().cores} cores, node ${process.version}`);

  const server = await startIngestionProcess();
  let forwarder: Awaited<ReturnType<typeof benchForwarder>>;
  let memory: Awaited<ReturnType<typeof benchMemory>>;
  try {
    forwarder = await benchForwarder(server, {
      sizes: opts.quick ? [1_000, 10_000] : [1_000, 10_000, 100_000],
      repetitions: opts.quick ? 5 : 7,
    });
    memory = await benchMemory(server);
  } finally {
    await server.close();
  }
  const s3Logs = await benchS3Logs(
    opts.quick
      ? {
          lines: 200_000,
          repetitions: 5,
          memoryObjectBytes: 10 * 1024 * 1024,
          memoryFigureName: 'peakRssMiBFor10MBObject',
        }
      : {
          lines: 1_000_000,
          repetitions: 3,
          memoryObjectBytes: 100 * 1024 * 1024,
          memoryFigureName: 'peakRssMiBFor100MBObject',
        },
  );
  const respond = await benchRespond({ repetitions: opts.quick ? 1 : 3 });
  const bundles = await benchBundles({ initRuns: opts.quick ? 7 : 15 });
  const reliability = await benchReliability(opts.quick ? 'quick' : 'full');

  const goals = report.goalsOf(forwarder, memory, bundles, respond, s3Logs);
  const results = {
    mode: opts.quick ? ('quick' as const) : ('full' as const),
    startedAt,
    durationSeconds: round((nowMs() - started) / 1000, 1),
    commit: commit(),
    machine: machine(),
    forwarder,
    memory,
    bundles,
    respond,
    s3Logs,
    ...(reliability ? { reliability } : {}),
    goals,
  };
  await writeFile(opts.out, report.renderReport(results));
  progress(`wrote ${opts.out} in ${results.durationSeconds} s`);

  const json = {
    forwarder: Object.fromEntries(
      Object.entries(forwarder.forwarder).map(([label, f]) => [
        label,
        {
          eventsPerSecond: f.eventsPerSecond,
          floorEventsPerSecond: f.floorEventsPerSecond,
          ratioToFloor: f.ratioToFloor,
        },
      ]),
    ),
    requests: {
      per10k: forwarder.requests.per10k,
      minimumPer10k: forwarder.requests.minimumPer10k,
      ratio: forwarder.requests.ratio,
    },
    memory: {
      peakRssMiBFor10kBatch: memory.peakRssMiBFor10kBatch,
      peakRssMiBFor1kBatch: memory.peakRssMiBFor1kBatch,
    },
    bundles: Object.fromEntries(
      Object.entries(bundles.bundles).map(([name, b]) => [
        name,
        {
          bytes: b.bytes,
          initMs: b.initMs,
          initMsRelativeToEmpty: b.initMsRelativeToEmpty,
          initRatio: b.initRatio,
        },
      ]),
    ),
    respond: {
      isolateSequentialCalls: respond.isolateSequentialCalls,
      wallMsAt50msPerCall: respond.firstInVpc.wallMsAt50msPerCall,
      naiveSequentialCalls: respond.firstInVpc.naiveSequentialCalls,
      naiveWallMsAt50msPerCall: respond.firstInVpc.naiveWallMsAt50msPerCall,
      firstInVpc: scenario(respond.firstInVpc),
      groupsReused: scenario(respond.groupsReused),
    },
    s3Logs: {
      linesPerSecond: s3Logs.flowLogs.linesPerSecond,
      floorLinesPerSecond: s3Logs.flowLogs.floorLinesPerSecond,
      ratioToFloor: s3Logs.flowLogs.ratioToFloor,
      floorWithUploadLinesPerSecond: s3Logs.flowLogs.floorWithUploadLinesPerSecond,
      ratioToFloorWithUpload: s3Logs.flowLogs.ratioToFloorWithUpload,
      throughputLines: s3Logs.flowLogs.lines,
      // The memory figure: peakRssMiBFor100MBObject (full) or peakRssMiBFor10MBObject (quick), and its object.
      [s3Logs.memory.name]: s3Logs.memory.peakRssMiB,
      peakRssMiB: s3Logs.memory.peakRssMiB,
      objectMiB: s3Logs.memory.objectMiB,
      lines: s3Logs.memory.lines,
      parts: s3Logs.memory.parts,
      seconds: round(s3Logs.memory.totalMs / 1000, 1),
    },
    goals,
    meta: {
      mode: results.mode,
      durationSeconds: results.durationSeconds,
      cores: results.machine.cores,
      node: results.machine.node,
      commit: results.commit,
    },
  };
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(json)}\n`);
  } else {
    const missed = Object.entries(goals)
      .filter(([, ok]) => !ok)
      .map(([name]) => name);
    console.log(
      `Benchmarks written to ${opts.out} (${results.durationSeconds} s). Goals missed: ${missed.length > 0 ? missed.join(', ') : 'none'}.`,
    );
  }
}

function scenario(x: {
  readonly isolateSequentialCalls: number;
  readonly wallMsAt50msPerCall: number;
  readonly naiveSequentialCalls: number;
  readonly naiveWallMsAt50msPerCall: number;
}): Record<string, number> {
  return {
    isolateSequentialCalls: x.isolateSequentialCalls,
    wallMsAt50msPerCall: x.wallMsAt50msPerCall,
    naiveSequentialCalls: x.naiveSequentialCalls,
    naiveWallMsAt50msPerCall: x.naiveWallMsAt50msPerCall,
  };
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
