/**
 * aws-sentinel-bridge command line.
 *
 *   normalize --source guardduty|cloudtrail|vpcflow [--input FILE]   events, trail files, flow log files -> {"table","row"} JSON lines
 *   replay --input FILE|DIR [--source auto|guardduty|cloudtrail] [--local]   events -> a workspace
 *
 * Run with `npm run -s cli -- <verb> ...` or, installed, `aws-sentinel-bridge <verb> ...`.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DefaultAzureCredential } from '@azure/identity';
import { createLogsIngestionAdapter } from '../adapters/azure/logs-ingestion.js';
import { applyIngestionLimits } from '../domain/rows/limits.js';
import { isSourceName, normaliseItem, SOURCE_NAMES, type SourceName } from '../domain/sources.js';
import { AWS_VPCFLOW } from '../domain/tables/columns.js';
import { normaliseFlowLogLine, parseFlowLogHeader } from '../domain/vpcflow/parse.js';
import { startIngestionServer } from '../local/ingestion-server.js';
import type { LogsIngestionPort } from '../ports/logs-ingestion.js';
import { detectSource, parseItems, readInput } from './input.js';
import { replayThroughHandler } from './replay.js';
import { CliUsageError, planCommand, respondCommand } from './respond.js';

const USAGE = `Usage:
  aws-sentinel-bridge normalize --source guardduty|cloudtrail|vpcflow [--input FILE]
      Reads one JSON event, a JSON array, JSON lines or a CloudTrail log file ({"Records":[...]}, .gz too)
      from FILE or stdin; each item an EventBridge event or the bare finding / record. Prints one
      {"table":...,"row":{...}} line per valid item; reasons for invalid items go to stderr (exit code 1).
  aws-sentinel-bridge replay --input FILE|DIR [--source auto|guardduty|cloudtrail] [--local] [--batch-size N]
      Sends the events through the real forwarder handler to the workspace configured by
      LOGS_INGESTION_ENDPOINT and DCR_IMMUTABLE_ID (credential: DefaultAzureCredential, e.g. az login),
      or with --local to an in-process local Logs Ingestion server. Prints counts per source.
  aws-sentinel-bridge plan --input INCIDENT.json [--policy FILE] [--account ID]...
      Prints the response plan for a Sentinel incident payload (trigger envelope or incident) as JSON.
  aws-sentinel-bridge respond --action NAME --account ID --region R --target ID [--incident N] [--reason T]
                              [--dry-run] [--option key=value]...
  aws-sentinel-bridge release --action NAME --account ID --region R --target ID [--incident N]
      Run an action (or undo it) with your AWS credentials (default chain; AWS_ENDPOINT_URL honoured) and
      print the outcome as JSON: status done | already-done | dry-run | skipped | refused | failed.
      Exit 0 for done, already-done, dry-run, skipped; 1 failed; 2 refused for bad input; 3 refused otherwise.`;

/** Bad command-line use: the message and the usage go to stderr, exit code 2. */
const UsageError = CliUsageError;

function describeItem(index: number, id: string | undefined): string {
  return id ? `item ${index} (id ${id})` : `item ${index}`;
}

async function normalize(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { source: { type: 'string' }, input: { type: 'string' } },
    strict: true,
  });
  const source = values.source;
  if (source === 'vpcflow') return normalizeFlowLog(await readInput(values.input));
  if (source === undefined || !isSourceName(source)) {
    throw new UsageError(`--source must be one of ${[...SOURCE_NAMES, 'vpcflow'].join(', ')}`);
  }
  const { items, errors } = parseItems(await readInput(values.input));
  for (const error of errors) process.stderr.write(`item ${error.index}: ${error.reason}\n`);
  let invalid = errors.length;
  const out: string[] = [];
  for (const item of items) {
    const outcome = normaliseItem(source, item.value);
    if (outcome.ok) {
      out.push(JSON.stringify({ table: outcome.table, row: outcome.row }));
    } else {
      invalid++;
      const field = outcome.field === '' ? '(the item)' : outcome.field;
      process.stderr.write(`${describeItem(item.index, outcome.id)}: ${field}: ${outcome.reason}\n`);
    }
  }
  if (out.length > 0) process.stdout.write(`${out.join('\n')}\n`);
  return invalid > 0 ? 1 : 0;
}

/** A VPC Flow Log file as delivered (header line first, plain or gzipped) -> one AWSVPCFlow row per line. */
function normalizeFlowLog(text: string): number {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const header = parseFlowLogHeader((lines[0] ?? '').replace(/\r$/, ''));
  if (!header.ok) {
    process.stderr.write(`line 1: not a VPC Flow Log header: ${header.reason}\n`);
    return 1;
  }
  let invalid = 0;
  const out: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = (lines[i] ?? '').replace(/\r$/, '');
    if (line.trim() === '') continue;
    const outcome = normaliseFlowLogLine(header.format, line, i + 1);
    if (outcome.ok) {
      const { json } = applyIngestionLimits(outcome.row, AWS_VPCFLOW.columns);
      out.push(`{"table":"${AWS_VPCFLOW.table}","row":${json}}`);
    } else {
      invalid++;
      process.stderr.write(
        `line ${i + 1}: ${outcome.field === '' ? '(the line)' : outcome.field}: ${outcome.reason}\n`,
      );
    }
  }
  if (out.length > 0) process.stdout.write(`${out.join('\n')}\n`);
  return invalid > 0 ? 1 : 0;
}

async function collectFiles(path: string): Promise<string[]> {
  const info = await stat(path);
  if (!info.isDirectory()) return [path];
  const entries = await readdir(path, { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const full = join(path, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && !entry.name.startsWith('.'))
        files.push(...(await collectFiles(full)));
    } else if (/\.(json|jsonl|ndjson)(\.gz)?$/.test(entry.name)) files.push(full);
  }
  return files;
}

interface Target {
  readonly ingestion: LogsIngestionPort;
  describe(): string;
  close(): Promise<void>;
}

/** The workspace to replay into: an in-process local server, or the configured DCR with DefaultAzureCredential. */
async function openTarget(local: boolean, endpoint: string, ruleId: string): Promise<Target> {
  if (local) {
    const server = await startIngestionServer();
    return {
      ingestion: createLogsIngestionAdapter({
        endpoint: server.endpoint,
        ruleId: server.dcrImmutableId,
        credential: server.credential,
        clientOptions: { tlsOptions: { ca: server.ca } },
      }),
      describe: () => {
        const stats = server.stats();
        const rows = Object.entries(stats.rows).map(([table, n]) => `${table} ${n} rows`);
        return `local Logs Ingestion server ${server.endpoint}: ${rows.join(', ')}, ${stats.requests} requests`;
      },
      close: () => server.close(),
    };
  }
  return {
    ingestion: createLogsIngestionAdapter({ endpoint, ruleId, credential: new DefaultAzureCredential() }),
    describe: () => `${endpoint} (DCR ${ruleId})`,
    close: async () => undefined,
  };
}

async function replay(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      input: { type: 'string' },
      source: { type: 'string', default: 'auto' },
      local: { type: 'boolean', default: false },
      'batch-size': { type: 'string', default: '1000' },
    },
    strict: true,
  });
  if (!values.input) throw new UsageError('--input FILE|DIR is required');
  const wanted = values.source;
  if (wanted !== 'auto' && !isSourceName(wanted))
    throw new UsageError('--source must be auto, guardduty or cloudtrail');
  const batchSize = Number(values['batch-size']);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
    throw new UsageError('--batch-size must be an integer from 1 to 10000 (the SQS batch size limit)');
  }

  const endpoint = process.env.LOGS_INGESTION_ENDPOINT;
  const ruleId = process.env.DCR_IMMUTABLE_ID;
  if (!values.local && (!endpoint || !ruleId)) {
    throw new UsageError('set LOGS_INGESTION_ENDPOINT and DCR_IMMUTABLE_ID (or use --local)');
  }

  const bySource = new Map<SourceName, unknown[]>();
  let unknown = 0;
  for (const file of await collectFiles(values.input)) {
    const { items, errors } = parseItems(await readInput(file));
    for (const error of errors) process.stderr.write(`${file}: item ${error.index}: ${error.reason}\n`);
    unknown += errors.length;
    for (const item of items) {
      const source = wanted === 'auto' ? detectSource(item.value) : wanted;
      if (source === undefined) {
        process.stderr.write(
          `${file}: item ${item.index}: neither a GuardDuty finding nor a CloudTrail record\n`,
        );
        unknown++;
        continue;
      }
      const list = bySource.get(source) ?? [];
      list.push(item.value);
      bySource.set(source, list);
    }
  }

  const target = await openTarget(values.local, endpoint ?? '', ruleId ?? '');
  let failed = unknown;
  try {
    for (const [source, events] of bySource) {
      const report = await replayThroughHandler(source, events, { ingestion: target.ingestion, batchSize });
      console.log(
        `${source}: ${report.sent} sent, ${report.delivered} delivered, ${report.refused.length} refused, ` +
          `${report.undelivered} undelivered, ${report.invocations} handler invocations`,
      );
      for (const r of report.refused) {
        console.log(`  refused ${describeItem(r.index, r.itemId)}: ${r.field || '(the item)'}: ${r.reason}`);
      }
      failed += report.refused.length + report.undelivered;
    }
    console.log(`target: ${target.describe()}`);
  } finally {
    await target.close();
  }
  return failed > 0 ? 1 : 0;
}

export async function main(argv: readonly string[]): Promise<number> {
  const [verb, ...rest] = argv;
  try {
    if (verb === 'normalize') return await normalize(rest);
    if (verb === 'replay') return await replay(rest);
    if (verb === 'plan') return await planCommand(rest);
    if (verb === 'respond') return await respondCommand(rest, false);
    if (verb === 'release') return await respondCommand(rest, true);
    if (verb === undefined || verb === 'help' || verb === '--help' || verb === '-h') {
      console.log(USAGE);
      return verb === undefined ? 2 : 0;
    }
    throw new UsageError(`unknown command "${verb}"`);
  } catch (error) {
    if (
      error instanceof UsageError ||
      (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))
    ) {
      process.stderr.write(`error: ${error.message}\n\n${USAGE}\n`);
      return 2;
    }
    if (error instanceof Error && 'code' in error && (error.code === 'ENOENT' || error.code === 'EISDIR')) {
      process.stderr.write(`error: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
