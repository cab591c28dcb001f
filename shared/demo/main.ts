/**
 * Offline end-to-end demo (`npm run demo`): a local Logs Ingestion API over HTTPS, the project's sample
 * GuardDuty findings and CloudTrail IAM changes sent through the real Lambda handlers as SQS batches, one
 * injected failure and one poison message to show what happens to them, then what landed per table and the
 * reference queries of Microsoft's zero-trust guidance evaluated over the landed rows.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogsIngestionAdapter } from '../adapters/azure/logs-ingestion.js';
import { replayThroughHandler } from '../cli/replay.js';
import type { SourceName } from '../domain/sources.js';
import { REFERENCE_QUERIES } from '../domain/tables/reference-queries.js';
import { startIngestionServer } from '../local/ingestion-server.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SAMPLES: Readonly<Record<SourceName, string>> = {
  guardduty: join(ROOT, 'test/fixtures/guardduty'),
  cloudtrail: join(ROOT, 'test/fixtures/cloudtrail'),
};

type Rows = readonly Record<string, unknown>[];

/** The reference queries, evaluated in plain code over the rows the local server stored. */
const EVALUATE: Readonly<Record<string, (rows: Rows) => Record<string, number>>> = {
  'high-severity GuardDuty findings by type': (rows) =>
    countBy(
      rows.filter((r) => Number(r.Severity) > 7),
      'ActivityType',
    ),
  'IAM users created by region': (rows) =>
    countBy(
      rows.filter((r) => r.EventName === 'CreateUser'),
      'AWSRegion',
    ),
  'rejected IPv4 flows': (rows) =>
    countBy(rows.filter((r) => r.Action === 'REJECT' && r.TrafficType === 'IPv4').slice(0, 10), 'DstPort'),
};

function countBy(rows: Rows, column: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const row of rows) {
    const key = String(row[column] ?? '');
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

/** Sample files hold EventBridge events or bare findings/records; the queue always carries envelopes. */
function asEnvelope(source: SourceName, value: Record<string, unknown>): Record<string, unknown> {
  if ('detail' in value) return value;
  return source === 'guardduty'
    ? { version: '0', 'detail-type': 'GuardDuty Finding', source: 'aws.guardduty', detail: value }
    : { version: '0', 'detail-type': 'AWS API Call via CloudTrail', source: 'aws.iam', detail: value };
}

async function loadSamples(source: SourceName): Promise<Record<string, unknown>[]> {
  const dir = SAMPLES[source];
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  const events: Record<string, unknown>[] = [];
  for (const file of files) {
    events.push(
      asEnvelope(source, JSON.parse(await readFile(join(dir, file), 'utf8')) as Record<string, unknown>),
    );
  }
  return events;
}

function pick(row: Record<string, unknown>, columns: readonly string[]): string {
  return columns.map((c) => `${c}=${JSON.stringify(row[c] ?? null)}`).join('  ');
}

async function main(): Promise<void> {
  const started = Date.now();
  const server = await startIngestionServer();
  console.log(
    `Local Logs Ingestion API listening on ${server.endpoint} (HTTPS, self-signed certificate, bearer token)`,
  );
  const ingestion = createLogsIngestionAdapter({
    endpoint: server.endpoint,
    ruleId: server.dcrImmutableId,
    credential: server.credential,
    clientOptions: { tlsOptions: { ca: server.ca }, retryOptions: { maxRetries: 0 } },
  });

  try {
    for (const source of ['guardduty', 'cloudtrail'] as const) {
      const events: unknown[] = await loadSamples(source);
      // One message that can never succeed, to show the dead-letter path.
      events.push(
        source === 'guardduty'
          ? {
              'detail-type': 'GuardDuty Finding',
              detail: { id: 'poison-1', type: 'Recon:EC2/Portscan', severity: 'high' },
            }
          : {
              'detail-type': 'AWS API Call via CloudTrail',
              detail: { eventID: 'poison-2', eventName: 'CreateUser' },
            },
      );
      // The first upload fails with a 500: its messages go back to the queue and are redelivered.
      server.injectFaults({ kind: 'server-error' });
      const report = await replayThroughHandler(source, events, { ingestion, batchSize: 1000 });
      console.log(
        `\n${source === 'guardduty' ? 'guardduty-findings' : 'iam-changes'}: ${report.sent} SQS messages, ` +
          `${report.delivered} delivered, ${report.refused.length} to the DLQ, ${report.undelivered} lost, ` +
          `${report.invocations} invocations (the first upload got HTTP 500 and was redelivered)`,
      );
      for (const r of report.refused) {
        console.log(`  DLQ: ${r.itemId ?? '(no id)'}: ${r.field || '(item)'}: ${r.reason}`);
      }
    }

    const stats = server.stats();
    console.log('\nWhat landed in the workspace:');
    for (const table of ['AWSGuardDuty', 'AWSCloudTrail']) {
      console.log(`  ${table.padEnd(14)} ${stats.rows[table] ?? 0} rows`);
    }
    console.log(
      `  ${stats.requests} requests (${stats.acceptedRequests} accepted, ${stats.faultedRequests} failed by injection), ` +
        `${stats.uncompressedBytes} bytes of JSON sent as ${stats.bodyBytes} bytes gzipped`,
    );
    console.log(
      `  undeclared columns: ${stats.unknownColumns.size}, type errors: ${stats.typeErrors.length}, values over 64 KB: ${stats.oversizeFields.length}`,
    );

    console.log('\nA few rows:');
    for (const row of server.rows('AWSGuardDuty').slice(0, 3)) {
      console.log(
        `  AWSGuardDuty   ${pick(row, ['TimeGenerated', 'AccountId', 'Region', 'Severity', 'ActivityType'])}`,
      );
    }
    for (const row of server.rows('AWSCloudTrail').slice(0, 3)) {
      console.log(
        `  AWSCloudTrail  ${pick(row, ['TimeGenerated', 'EventName', 'UserIdentityType', 'UserIdentityArn', 'SourceIpAddress'])}`,
      );
    }

    console.log("\nReference queries (Microsoft's zero-trust guidance for AWS), evaluated over these rows:");
    for (const query of REFERENCE_QUERIES) {
      const evaluate = EVALUATE[query.name];
      console.log(`  ${query.kql}`);
      if (evaluate) {
        const result = evaluate(server.rows(query.table));
        for (const [key, count] of Object.entries(result)) console.log(`      ${key || '(empty)'}: ${count}`);
        if (Object.keys(result).length === 0) console.log('      (no rows)');
      }
      if (query.note) console.log(`      note: ${query.note}`);
    }
    console.log(`\nDone in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  } finally {
    await server.close();
  }
}

main().catch((error: unknown) => {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
