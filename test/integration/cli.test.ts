import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from '@jest/globals';
import { cloudTrailEvent, cloudTrailRecord, guardDutyEvent, guardDutyFinding } from '../support/events.js';

const ROOT = new URL('../../', import.meta.url).pathname;

function cli(
  args: string[],
  input?: string,
  env: NodeJS.ProcessEnv = process.env,
): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'shared/cli/main.ts', ...args], {
    cwd: ROOT,
    input: input ?? '',
    encoding: 'utf8',
    env: { ...env, NODE_OPTIONS: '' },
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const lines = (text: string): unknown[] =>
  text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as unknown);

describe('cli normalize', () => {
  it('reads a gzipped VPC Flow Log file as delivered and prints one AWSVPCFlow row per line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-'));
    const file = join(dir, '123456789012_vpcflowlogs_us-east-1_fl-0123_20261201T1005Z_abc.log.gz');
    writeFileSync(file, gzipSync(readFileSync(join(ROOT, 'test/fixtures/vpcflow/default-v2.log'))));
    const { code, stdout, stderr } = cli(['normalize', '--source', 'vpcflow', '--input', file]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const rows = lines(stdout) as { table: string; row: Record<string, unknown> }[];
    const fixtureLines = readFileSync(join(ROOT, 'test/fixtures/vpcflow/default-v2.log'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '');
    expect(rows).toHaveLength(fixtureLines.length - 1);
    expect(rows.every((r) => r.table === 'AWSVPCFlow' && typeof r.row.TimeGenerated === 'string')).toBe(true);
    expect(rows.some((r) => r.row.LogStatus === 'NODATA')).toBe(true);
  });

  it('names the line and field of a bad flow log line, prints the others, and exits 1', () => {
    const text =
      'version account-id srcport start\n2 123456789012 443 1764000000\n2 123456789012 https 1764000000\n';
    const { code, stdout, stderr } = cli(['normalize', '--source', 'vpcflow'], text);
    expect(code).toBe(1);
    expect(lines(stdout)).toHaveLength(1);
    expect(stderr).toMatch(/^line 3: srcport: /);
    const notFlowLog = cli(['normalize', '--source', 'vpcflow'], '{"Records":[]}\n');
    expect(notFlowLog.code).toBe(1);
    expect(notFlowLog.stderr).toMatch(/^line 1: not a VPC Flow Log header/);
  });

  it('prints one {table,row} line per event read from stdin', () => {
    const { code, stdout, stderr } = cli(
      ['normalize', '--source', 'guardduty'],
      JSON.stringify(guardDutyEvent(1)),
    );
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const [line] = lines(stdout) as { table: string; row: Record<string, unknown> }[];
    expect(line?.table).toBe('AWSGuardDuty');
    expect(line?.row).toMatchObject({ Id: 'f0000000000000000000000000000001', Severity: 8 });
  });

  it('accepts a JSON array mixing envelopes and bare findings', () => {
    const input = JSON.stringify([guardDutyEvent(1), guardDutyFinding(2)]);
    const { code, stdout } = cli(['normalize', '--source', 'guardduty'], input);
    expect(code).toBe(0);
    expect(lines(stdout)).toHaveLength(2);
  });

  it('reads JSON lines and a gzipped CloudTrail log file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-'));
    const jsonl = join(dir, 'events.jsonl');
    writeFileSync(jsonl, [cloudTrailEvent(1), cloudTrailRecord(2)].map((e) => JSON.stringify(e)).join('\n'));
    expect(lines(cli(['normalize', '--source', 'cloudtrail', '--input', jsonl]).stdout)).toHaveLength(2);
    const trail = join(dir, '111122223333_CloudTrail_us-east-1_20261201T1000Z_abc.json.gz');
    writeFileSync(
      trail,
      gzipSync(JSON.stringify({ Records: [cloudTrailRecord(3), cloudTrailRecord(4), cloudTrailRecord(5)] })),
    );
    const { code, stdout } = cli(['normalize', '--source', 'cloudtrail', '--input', trail]);
    expect(code).toBe(0);
    expect((lines(stdout) as { table: string }[]).map((l) => l.table)).toEqual([
      'AWSCloudTrail',
      'AWSCloudTrail',
      'AWSCloudTrail',
    ]);
  });

  it('names each invalid item, its id and the field on stderr, still prints the valid ones, and exits 1', () => {
    const input = [guardDutyEvent(1), guardDutyEvent(2, { severity: 'high' }), guardDutyEvent(3)]
      .map((e) => JSON.stringify(e))
      .join('\n');
    const { code, stdout, stderr } = cli(['normalize', '--source', 'guardduty'], input);
    expect(code).toBe(1);
    expect(lines(stdout)).toHaveLength(2);
    expect(stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^item 1 \(id f0+2\): severity: .*number/),
    ]);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('reports a line that is not JSON with its line number', () => {
    const { code, stderr } = cli(
      ['normalize', '--source', 'cloudtrail'],
      `${JSON.stringify(cloudTrailRecord(1))}\n{oops\n`,
    );
    expect(code).toBe(1);
    expect(stderr).toMatch(/^item 1: line 2 is not JSON/);
  });

  it('refuses an unknown source and a missing file with a usage message, exit code 2', () => {
    const bad = cli(['normalize', '--source', 'vpc']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--source must be one of guardduty, cloudtrail/);
    const missing = cli(['normalize', '--source', 'guardduty', '--input', '/nonexistent/file.json']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/ENOENT/);
    expect(cli(['frobnicate']).stderr).toMatch(/unknown command "frobnicate"/);
  });
});

describe('cli replay', () => {
  it('sends a folder of events through the real handlers to a local server and prints counts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'replay-'));
    writeFileSync(join(dir, 'gd.json'), JSON.stringify([guardDutyEvent(1), guardDutyEvent(2)]));
    writeFileSync(
      join(dir, 'ct.jsonl'),
      [cloudTrailEvent(1), cloudTrailEvent(2), cloudTrailEvent(3)].map((e) => JSON.stringify(e)).join('\n'),
    );
    const { code, stdout } = cli(['replay', '--input', dir, '--local']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/guardduty: 2 sent, 2 delivered, 0 refused, 0 undelivered/);
    expect(stdout).toMatch(/cloudtrail: 3 sent, 3 delivered, 0 refused, 0 undelivered/);
    expect(stdout).toMatch(/AWSGuardDuty 2 rows, AWSCloudTrail 3 rows/);
  });

  it('reports refused events with their reason and exits 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'replay-'));
    writeFileSync(
      join(dir, 'gd.json'),
      JSON.stringify([guardDutyEvent(1), guardDutyEvent(2, { updatedAt: 'later' })]),
    );
    const { code, stdout } = cli(['replay', '--input', dir, '--local']);
    expect(code).toBe(1);
    expect(stdout).toMatch(/guardduty: 2 sent, 1 delivered, 1 refused/);
    expect(stdout).toMatch(/refused item 1 \(id f0+2\): updatedAt: expected an ISO 8601 timestamp/);
  });

  it('refuses to run without a target', () => {
    const env = { ...process.env };
    delete env.LOGS_INGESTION_ENDPOINT;
    delete env.DCR_IMMUTABLE_ID;
    const dir = mkdtempSync(join(tmpdir(), 'replay-'));
    writeFileSync(join(dir, 'gd.json'), JSON.stringify(guardDutyEvent(1)));
    const { code, stderr } = cli(['replay', '--input', dir], undefined, env);
    expect(code).toBe(2);
    expect(stderr).toMatch(/set LOGS_INGESTION_ENDPOINT and DCR_IMMUTABLE_ID \(or use --local\)/);
  });
});

describe('demo', () => {
  it('runs offline end to end and shows what landed and the reference queries', () => {
    const result = spawnSync('npm', ['run', '-s', 'demo'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/AWSGuardDuty\s+\d+ rows/);
    expect(result.stdout).toMatch(/0 lost/);
    expect(result.stdout).toMatch(/undeclared columns: 0, type errors: 0, values over 64 KB: 0/);
    expect(result.stdout).toContain('AWSGuardDuty | where Severity > 7 | summarize count() by ActivityType');
    expect(result.stdout).toContain(
      'AWSCloudTrail | where EventName == "CreateUser" | summarize count() by AWSRegion',
    );
    expect(result.stdout).toMatch(/AWSVPCFlow\s+100000 rows/);
    expect(result.stdout).toMatch(/the flow log was read in [2-9]\d* parts/);
    expect(result.stdout).toMatch(/, 0 lines to the DLQ/);
    expect(result.stdout).toContain(
      'AWSVPCFlow | where Action == "REJECT" | where TrafficType == "IPv4" | take 10\n      22: 10',
    );
  });
});
