/**
 * `bundles`: each deployable function bundled as serverless.yml's `custom.esbuild` does (minified ESM for
 * node22, keepNames, external source map without sources), its size, its largest contributors (esbuild
 * metafile), and its module init time (a fresh plain `node` per import, no tsx) relative to an empty handler
 * bundled the same way.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { type BuildOptions, build, type Metafile } from 'esbuild';
import { lastJsonObject, median, numberField, progress, ROOT, round } from './common.js';

const run = promisify(execFile);

/** The 600 KB goal of the issue, in bytes (KB = 1,000 bytes). */
export const BUNDLE_GOAL_BYTES = 600_000;

/** serverless.yml `custom.esbuild`, as esbuild options. */
export const SERVERLESS_ESBUILD: BuildOptions = {
  bundle: true,
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  keepNames: true,
  platform: 'node',
  target: 'node22',
  format: 'esm',
  outExtension: { '.js': '.mjs' },
  mainFields: ['module', 'main'],
  banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
  logLevel: 'silent',
};

/** Packages a change would take out of a bundle, and the change. */
export interface Removal {
  readonly change: string;
  readonly packages: readonly string[];
}

interface BundleSpec {
  readonly name: string;
  readonly entry: string;
  /** Candidate changes towards the goal, applied cumulatively in this order. */
  readonly removals: readonly Removal[];
  /** Modules the platform provides at run time. */
  readonly external?: readonly string[];
  /** Environment the module needs at import (placeholders that pass the configuration checks). */
  readonly env: Readonly<Record<string, string>>;
  readonly note: string;
}

/** Valid placeholder settings: the forwarder validates its configuration when the module is imported. */
const FORWARDER_ENV = {
  LOGS_INGESTION_ENDPOINT: 'https://bridge-bench-0000.eastus-1.ingest.monitor.azure.com',
  DCR_IMMUTABLE_ID: 'dcr-00000000000000000000000000000000',
  AZURE_TENANT_ID: '00000000-0000-4000-8000-000000000000',
  AZURE_CLIENT_ID: '00000000-0000-4000-8000-000000000001',
  AZURE_CREDENTIAL_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:bridge-bench-AbCdEf',
  DLQ_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/bridge-bench-dlq',
  AWS_REGION: 'us-east-1',
  POWERTOOLS_METRICS_NAMESPACE: 'AwsSentinelBridge',
  POWERTOOLS_METRICS_DISABLED: 'true',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  // As serverless.yml sets it for the deployed functions.
  NODE_OPTIONS: '--enable-source-maps',
} as const;

const FORWARDER_REMOVALS: readonly Removal[] = [
  {
    change: 'zod (classic API) replaced by zod/mini or hand-written checks',
    packages: ['zod'],
  },
  {
    change: '@azure/identity (MSAL) replaced by one client-credentials POST to the Entra token endpoint',
    packages: ['@azure/identity'],
  },
  {
    change:
      'Secrets Manager client and Powertools parameters replaced by the Lambda Parameters and Secrets extension (HTTP on localhost)',
    packages: ['@aws-sdk/client-secrets-manager', '@aws-lambda-powertools/parameters'],
  },
];

export const BUNDLES: readonly BundleSpec[] = [
  {
    name: 'guardduty-findings',
    entry: 'aws-functions/guardduty-findings.ts',
    removals: FORWARDER_REMOVALS,
    env: { ...FORWARDER_ENV, POWERTOOLS_SERVICE_NAME: 'guardduty-findings' },
    note: 'Lambda; builds its clients and validates its settings at import',
  },
  {
    name: 'iam-changes',
    entry: 'aws-functions/iam-changes.ts',
    removals: FORWARDER_REMOVALS,
    env: { ...FORWARDER_ENV, POWERTOOLS_SERVICE_NAME: 'iam-changes' },
    note: 'Lambda; builds its clients and validates its settings at import',
  },
  {
    name: 'azure-functions',
    entry: 'azure-functions/index.ts',
    removals: [
      {
        change: '@aws-sdk/client-ec2 replaced by signed requests for the ~15 EC2 operations the actions use',
        packages: ['@aws-sdk/client-ec2'],
      },
      {
        change:
          '@azure/arm-securityinsight replaced by its two REST calls (comment, labels) through core-rest-pipeline',
        packages: ['@azure/arm-securityinsight'],
      },
      { change: 'zod (classic API) replaced by zod/mini or hand-written checks', packages: ['zod'] },
      {
        change: '@azure/identity replaced by direct managed-identity token requests',
        packages: ['@azure/identity'],
      },
      {
        change: 'the GuardDuty, IAM, Auto Scaling and ELBv2 clients replaced by signed requests',
        packages: [
          '@aws-sdk/client-guardduty',
          '@aws-sdk/client-iam',
          '@aws-sdk/client-auto-scaling',
          '@aws-sdk/client-elastic-load-balancing-v2',
        ],
      },
    ],
    // Provided by the Functions host's worker; outside the host the package runs in its test mode.
    external: ['@azure/functions-core'],
    env: {},
    note: 'Function App (all routes); registers routes at import, builds its dependencies on first request',
  },
];

export interface Contributor {
  /** npm package, or the project folder for our own code. */
  readonly name: string;
  readonly bytes: number;
}

/** What a bundle would weigh after a change (and the changes before it). */
export interface RemovalStep {
  readonly change: string;
  /** Bytes only these packages bring (everything reachable only through them), given the earlier steps. */
  readonly savedBytes: number;
  readonly bytesAfter: number;
}

export interface BundleFigure {
  readonly bytes: number;
  /** The external source map beside it (not loaded unless an error is mapped). */
  readonly sourceMapBytes: number;
  readonly initMs: number;
  readonly initMsRelativeToEmpty: number;
  readonly initRatio: number;
  readonly meetsGoal: boolean;
  readonly contributors: readonly Contributor[];
  /** Cumulative: the size after each candidate change (replacement code not counted). */
  readonly pathToGoal: readonly RemovalStep[];
  readonly note: string;
}

export interface BundleResults {
  readonly bundles: Readonly<Record<string, BundleFigure>>;
  readonly empty: { readonly bytes: number; readonly initMs: number };
  readonly initRuns: number;
}

function packageOf(input: string): string {
  const index = input.lastIndexOf('node_modules/');
  if (index < 0) {
    const [folder = input] = input.split('/');
    return `(project) ${folder}/`;
  }
  const parts = input.slice(index + 'node_modules/'.length).split('/');
  const first = parts[0] ?? input;
  return first.startsWith('@') ? `${first}/${parts[1] ?? ''}` : first;
}

function contributors(metafile: Metafile, outfile: string): Contributor[] {
  const output = Object.entries(metafile.outputs).find(([path]) => path.endsWith(outfile))?.[1];
  if (output === undefined) throw new Error(`esbuild metafile has no output ${outfile}`);
  const totals = new Map<string, number>();
  for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
    const name = packageOf(path);
    totals.set(name, (totals.get(name) ?? 0) + bytesInOutput);
  }
  return [...totals].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes);
}

/**
 * Bytes of the output still reachable from the entry when the given packages are gone: what dropping them
 * saves, including everything only they import (and nothing that other code also imports).
 */
function reachableBytes(metafile: Metafile, outfile: string, removed: ReadonlySet<string>): number {
  const output = Object.entries(metafile.outputs).find(([path]) => path.endsWith(outfile))?.[1];
  if (output?.entryPoint === undefined) throw new Error(`esbuild metafile has no entry for ${outfile}`);
  const seen = new Set<string>();
  const stack = [output.entryPoint];
  let bytes = 0;
  for (let path = stack.pop(); path !== undefined; path = stack.pop()) {
    if (seen.has(path) || removed.has(packageOf(path))) continue;
    seen.add(path);
    bytes += output.inputs[path]?.bytesInOutput ?? 0;
    for (const imported of metafile.inputs[path]?.imports ?? []) {
      if (imported.external !== true) stack.push(imported.path);
    }
  }
  return bytes;
}

function pathToGoal(metafile: Metafile, outfile: string, removals: readonly Removal[]): RemovalStep[] {
  const removed = new Set<string>();
  let before = reachableBytes(metafile, outfile, removed);
  const total = before;
  const outputBytes =
    Object.entries(metafile.outputs).find(([path]) => path.endsWith(outfile))?.[1]?.bytes ?? total;
  // Bytes outside any input (banner, esbuild's runtime helpers) stay whatever is removed.
  const fixed = outputBytes - total;
  return removals.map((removal) => {
    for (const name of removal.packages) removed.add(name);
    const after = reachableBytes(metafile, outfile, removed);
    const step = { change: removal.change, savedBytes: before - after, bytesAfter: after + fixed };
    before = after;
    return step;
  });
}

async function bundle(
  entry: string,
  outdir: string,
  name: string,
  external: readonly string[] = [],
  removals: readonly Removal[] = [],
): Promise<{
  file: string;
  bytes: number;
  sourceMapBytes: number;
  contributors: Contributor[];
  pathToGoal: RemovalStep[];
}> {
  const result = await build({
    ...SERVERLESS_ESBUILD,
    absWorkingDir: ROOT,
    entryPoints: { [name]: entry },
    outdir,
    external: [...external],
    metafile: true,
    write: true,
  });
  const file = join(outdir, `${name}.mjs`);
  const [code, map] = await Promise.all([stat(file), stat(`${file}.map`)]);
  return {
    file,
    bytes: code.size,
    sourceMapBytes: map.size,
    contributors: contributors(result.metafile, `${name}.mjs`),
    pathToGoal: pathToGoal(result.metafile, `${name}.mjs`, removals),
  };
}

/** Imports the bundle in a fresh `node` and returns the time the import took (module evaluation). */
async function initMs(file: string, env: Readonly<Record<string, string>>): Promise<number> {
  const script = [
    'const started = performance.now();',
    'await import(process.env.BENCH_BUNDLE_URL);',
    'const ms = performance.now() - started;',
    'process.stdout.write(JSON.stringify({ ms }) + "\\n");',
    'process.exit(0);',
  ].join('\n');
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    cwd: tmpdir(),
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? tmpdir(),
      ...env,
      BENCH_BUNDLE_URL: pathToFileURL(file).href,
    },
    maxBuffer: 16 * 1024 * 1024,
  });
  return numberField(lastJsonObject(stdout), 'ms');
}

export async function benchBundles(options: { readonly initRuns: number }): Promise<BundleResults> {
  const outdir = await mkdtemp(join(tmpdir(), 'bridge-bench-bundles-'));
  try {
    const emptyEntry = join(outdir, 'empty-handler.mjs');
    await writeFile(emptyEntry, 'export const handler = async () => ({ batchItemFailures: [] });\n');
    const empty = await bundle(emptyEntry, join(outdir, 'out'), 'empty-handler');
    const built = [];
    for (const spec of BUNDLES) {
      built.push({
        spec,
        ...(await bundle(spec.entry, join(outdir, 'out'), spec.name, spec.external, spec.removals)),
      });
      progress(`bundle ${spec.name}: ${built.at(-1)?.bytes ?? 0} bytes`);
    }
    const emptyEnv = BUNDLES[0]?.env ?? {};
    // Warm the file cache and node itself once, then round-robin so noise hits every bundle alike.
    await initMs(empty.file, emptyEnv);
    for (const b of built) await initMs(b.file, b.spec.env);
    const emptyTimes: number[] = [];
    const times = built.map(() => [] as number[]);
    for (let i = 0; i < options.initRuns; i++) {
      emptyTimes.push(await initMs(empty.file, emptyEnv));
      for (const [index, b] of built.entries()) times[index]?.push(await initMs(b.file, b.spec.env));
    }
    const emptyMs = median(emptyTimes);
    const bundles: Record<string, BundleFigure> = {};
    for (const [index, b] of built.entries()) {
      const ms = median(times[index] ?? []);
      bundles[b.spec.name] = {
        bytes: b.bytes,
        sourceMapBytes: b.sourceMapBytes,
        initMs: round(ms, 1),
        initMsRelativeToEmpty: round(ms - emptyMs, 1),
        initRatio: round(ms / emptyMs, 1),
        meetsGoal: b.bytes <= BUNDLE_GOAL_BYTES,
        contributors: b.contributors.slice(0, 12),
        pathToGoal: b.pathToGoal,
        note: b.spec.note,
      };
      progress(`bundle ${b.spec.name}: init ${round(ms, 1)} ms (empty ${round(emptyMs, 2)} ms)`);
    }
    return { bundles, empty: { bytes: empty.bytes, initMs: round(emptyMs, 2) }, initRuns: options.initRuns };
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
}
