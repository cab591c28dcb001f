/**
 * VPC flow log records -> AWSVPCFlow rows: the header, the mapping of each field, `-`, NODATA / SKIPDATA,
 * whitespace tolerance and the refusals. Flow log files are in `test/fixtures/vpcflow/` (see SOURCES.md).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { Row } from '../../shared/domain/rows/row.js';
import {
  DEFAULT_FLOW_LOG_HEADER,
  DEFAULT_FORMAT_FIELDS,
  type FlowLogFormat,
  type FlowLogLineOutcome,
  flowLogRowId,
  normaliseFlowLogLine,
  parseFlowLogHeader,
} from '../../shared/domain/vpcflow/index.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'vpcflow');

function formatOf(header: string): FlowLogFormat {
  const outcome = parseFlowLogHeader(header);
  if (!outcome.ok) throw new Error(`header refused: ${outcome.reason}`);
  return outcome.format;
}

/** The header's format and the record lines (line 2 onwards) of a fixture file. */
function flowLogFile(name: string): { format: FlowLogFormat; records: string[] } {
  const [header = '', ...records] = readFileSync(join(FIXTURES, name), 'utf8').split('\n');
  return { format: formatOf(header), records: records.filter((line) => line !== '') };
}

function rowOf(outcome: FlowLogLineOutcome): Row {
  if (!outcome.ok) throw new Error(`line ${outcome.line} refused: ${outcome.field}: ${outcome.reason}`);
  return outcome.row;
}

/** The row of record `index` (0-based, after the header) of a fixture file. */
function fixtureRow(name: string, index: number): Row {
  const { format, records } = flowLogFile(name);
  return rowOf(normaliseFlowLogLine(format, records[index] ?? '', index + 2));
}

const DEFAULT = formatOf(DEFAULT_FLOW_LOG_HEADER);
const SSH_ACCEPT =
  '2 123456789010 eni-0f2a4c6e8b1d3f5a7 198.51.100.23 10.0.1.45 51544 22 6 18 3944 1766395200 1766395258 ACCEPT OK';
const SSH_ACCEPT_ROW: Row = {
  TimeGenerated: '2025-12-22T09:20:00.000Z',
  Version: 2,
  AccountId: '123456789010',
  InterfaceId: 'eni-0f2a4c6e8b1d3f5a7',
  SrcAddr: '198.51.100.23',
  DstAddr: '10.0.1.45',
  SrcPort: 51544,
  DstPort: 22,
  Protocol: 6,
  Packets: 18,
  Bytes: 3944,
  Start: '2025-12-22T09:20:00.000Z',
  End: '2025-12-22T09:20:58.000Z',
  Action: 'ACCEPT',
  LogStatus: 'OK',
};

/** The default-format record with one value replaced. */
function withValue(field: string, value: string): string {
  const values = SSH_ACCEPT.split(' ');
  values[DEFAULT_FORMAT_FIELDS.indexOf(field)] = value;
  return values.join(' ');
}

function refusalOf(format: FlowLogFormat, line: string, lineNumber = 7) {
  const outcome = normaliseFlowLogLine(format, line, lineNumber);
  if (outcome.ok) throw new Error(`accepted: ${JSON.stringify(outcome.row)}`);
  return outcome;
}

describe('parseFlowLogHeader', () => {
  it('reads the default format', () => {
    const format = formatOf(DEFAULT_FLOW_LOG_HEADER);
    expect(format.fields).toEqual(DEFAULT_FORMAT_FIELDS);
    expect(format.dropped).toEqual([]);
    expect(format.unknown).toEqual([]);
    expect(DEFAULT_FLOW_LOG_HEADER).toBe(
      'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status',
    );
  });

  it('lists the known fields that AWSVPCFlow has no column for as dropped', () => {
    const { format } = flowLogFile('all-fields-v10.log');
    expect(format.fields).toHaveLength(42);
    expect(format.dropped).toEqual(['reject-reason', 'resource-id', 'encryption-status']);
    expect(format.unknown).toEqual([]);
  });

  it('keeps field names it does not know in place and drops their values', () => {
    const format = formatOf(`${DEFAULT_FLOW_LOG_HEADER} some-future-field`);
    expect(format.unknown).toEqual(['some-future-field']);
    expect(rowOf(normaliseFlowLogLine(format, `${SSH_ACCEPT} 42`, 2))).toEqual(SSH_ACCEPT_ROW);
  });

  it("reads a flow log's LogFormat placeholders, Parquet-style names and extra whitespace", () => {
    const placeholder = (name: string): string => ['$', '{', name, '}'].join('');
    const format = formatOf(
      ` ${placeholder('version')} ${placeholder('account-id')} ${placeholder('interface_id')} srcaddr dstaddr srcport dstport protocol packets bytes start end action LOG_STATUS\r`,
    );
    expect(format.fields).toEqual(DEFAULT_FORMAT_FIELDS);
  });

  it('refuses a header it cannot read, naming what is wrong', () => {
    const refused = (line: string): string => {
      const outcome = parseFlowLogHeader(line);
      if (outcome.ok) throw new Error(`accepted: ${outcome.format.fields.join(' ')}`);
      return outcome.reason;
    };
    expect(refused('')).toMatch(/empty header/);
    expect(refused('  \r')).toMatch(/empty header/);
    expect(refused('version account-id srcaddr start srcaddr')).toBe('duplicate field "srcaddr"');
    expect(refused('version account_id account-id start')).toBe('duplicate field "account-id"');
    // A record where the header should be: the addresses cannot be field names.
    expect(refused(SSH_ACCEPT)).toBe('"198.51.100.23" is not a flow log field name (such as account-id)');
    expect(refused('timestamp message level')).toMatch(/^not a flow log header: none of its 3 names/);
    expect(refused('version srcaddr dstaddr end action')).toBe(
      'the format has no "start" field, which TimeGenerated is taken from',
    );
  });
});

describe('normaliseFlowLogLine', () => {
  it('maps a default-format record to its row', () => {
    expect(rowOf(normaliseFlowLogLine(DEFAULT, SSH_ACCEPT, 2))).toEqual(SSH_ACCEPT_ROW);
    expect(fixtureRow('default-v2.log', 0)).toEqual(SSH_ACCEPT_ROW);
  });

  it('puts TimeGenerated first and takes it from start, wherever start is in the format', () => {
    const row = fixtureRow('custom-v5.log', 0);
    expect(Object.keys(row)[0]).toBe('TimeGenerated');
    expect(row.TimeGenerated).toBe('2025-12-22T09:22:00.000Z');
    expect(row.Start).toBe(row.TimeGenerated);
  });

  it('keeps byte counts above 2^31 as exact numbers', () => {
    const row = fixtureRow('default-v2.log', 5);
    expect(row.Bytes).toBe(5_368_709_120);
    expect(row.Packets).toBe(3_728_270);
    const max = rowOf(normaliseFlowLogLine(DEFAULT, withValue('bytes', '9007199254740991'), 2));
    expect(max.Bytes).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('reads IPv6 addresses verbatim', () => {
    const row = fixtureRow('default-v2.log', 4);
    expect(row.SrcAddr).toBe('2001:db8:4e1f:a100:8d6e:3477:df66:f105');
    expect(row.DstAddr).toBe('2001:db8:4e1f:a102:3304:8879:34cf:4071');
  });

  it('leaves a column absent for "-" and keeps NODATA and SKIPDATA records', () => {
    expect(fixtureRow('default-v2.log', 7)).toEqual({
      TimeGenerated: '2025-12-22T09:21:00.000Z',
      Version: 2,
      AccountId: '123456789010',
      InterfaceId: 'eni-0c9e8d7f6a5b4c3d2',
      Start: '2025-12-22T09:21:00.000Z',
      End: '2025-12-22T09:21:58.000Z',
      LogStatus: 'NODATA',
    });
    expect(fixtureRow('default-v2.log', 8)).toEqual({
      TimeGenerated: '2025-12-22T09:21:00.000Z',
      Version: 2,
      AccountId: '123456789010',
      InterfaceId: 'eni-0b1a2c3d4e5f60718',
      Start: '2025-12-22T09:21:00.000Z',
      End: '2025-12-22T09:21:58.000Z',
      LogStatus: 'SKIPDATA',
    });
  });

  it('maps every version 3 to 5 field of a custom format', () => {
    expect(fixtureRow('custom-v5.log', 1)).toEqual({
      TimeGenerated: '2025-12-22T09:22:00.000Z',
      Version: 5,
      SrcAddr: '10.0.0.71',
      DstAddr: '52.95.150.66',
      SrcPort: 38212,
      DstPort: 443,
      Protocol: 6,
      Start: '2025-12-22T09:22:00.000Z',
      End: '2025-12-22T09:22:58.000Z',
      TrafficType: 'IPv4',
      Packets: 7,
      Bytes: 471,
      AccountId: '123456789012',
      VpcId: 'vpc-0a1b2c3d4e5f67890',
      SubnetId: 'subnet-0aa11bb22cc33dd44',
      InstanceId: 'i-0c50d5961bcb2d47b',
      InterfaceId: 'eni-0d1e2f3a4b5c6d7e8',
      Region: 'eu-west-1',
      AzId: 'euw1-az2',
      Action: 'ACCEPT',
      TcpFlags: 3,
      PktSrcAddr: '10.0.0.71',
      PktDstAddr: '52.95.150.66',
      PktDstAwsService: 'S3',
      TrafficPath: '8',
      FlowDirection: 'egress',
      LogStatus: 'OK',
    });
  });

  it('maps the sublocation of a Local Zone record and the original addresses behind a NAT gateway', () => {
    const localZone = fixtureRow('custom-v5.log', 4);
    expect(localZone).toMatchObject({ SublocationType: 'localzone', SublocationId: 'usw2-lax1-az1' });
    expect(localZone).not.toHaveProperty('AzId');
    const nat = fixtureRow('custom-v5.log', 2);
    expect(nat).toMatchObject({ DstAddr: '10.0.0.220', PktDstAddr: '203.0.113.5' });
    expect(nat).not.toHaveProperty('InstanceId');
  });

  it('maps the Amazon ECS fields of a Fargate task with two containers', () => {
    expect(fixtureRow('ecs-v7.log', 1)).toEqual({
      TimeGenerated: '2025-12-22T09:24:01.000Z',
      Version: 7,
      AccountId: '123456789012',
      InterfaceId: 'eni-0a7b6c5d4e3f21098',
      SrcAddr: '10.0.5.40',
      DstAddr: '10.0.4.88',
      SrcPort: 35002,
      DstPort: 8080,
      Protocol: 6,
      Packets: 8,
      Bytes: 1450,
      Start: '2025-12-22T09:24:01.000Z',
      End: '2025-12-22T09:24:59.000Z',
      Action: 'ACCEPT',
      LogStatus: 'OK',
      EcsClusterName: 'checkout',
      EcsClusterArn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/checkout',
      EcsServiceName: 'payments',
      EcsTaskDefinitionArn: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/payments:7',
      EcsTaskId: '5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a',
      EcsTaskArn: 'arn:aws:ecs:eu-west-1:123456789012:task/checkout/5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a',
      EcsContainerId: '5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a-1111111111',
      EcsSecondContainerId: '5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a-2222222222',
    });
  });

  it('drops reject-reason, resource-id and encryption-status, which AWSVPCFlow has no column for', () => {
    const row = fixtureRow('all-fields-v10.log', 1);
    expect(row).toMatchObject({ Version: 10, Action: 'REJECT', FlowDirection: 'ingress', TcpFlags: 2 });
    expect(Object.values(row)).not.toContain('BPA');
    expect(Object.keys(row)).toHaveLength(25);
  });

  it('tolerates runs of spaces, tabs, surrounding spaces and a CRLF line end', () => {
    for (const line of [
      `${SSH_ACCEPT}\r`,
      `${SSH_ACCEPT} `,
      ` ${SSH_ACCEPT}`,
      SSH_ACCEPT.replace(' 22 ', '  22 '),
      SSH_ACCEPT.replaceAll(' ', '\t'),
      SSH_ACCEPT.replace(' ACCEPT ', ' \t ACCEPT   '),
    ]) {
      expect(rowOf(normaliseFlowLogLine(DEFAULT, line, 2))).toEqual(SSH_ACCEPT_ROW);
    }
  });

  it('converts every unix second to the instant Date gives, whatever came before at that position', () => {
    const header = 'start end';
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(253_402_300_799), fc.nat(120)), { minLength: 1 }), (pairs) => {
        const format = formatOf(header);
        for (const [start, duration] of pairs) {
          const end = Math.min(start + duration, 253_402_300_799);
          const row = rowOf(normaliseFlowLogLine(format, `${start} ${end}`, 2));
          expect(row).toEqual({
            TimeGenerated: new Date(start * 1000).toISOString(),
            Start: new Date(start * 1000).toISOString(),
            End: new Date(end * 1000).toISOString(),
          });
        }
      }),
    );
    const format = formatOf(header);
    for (const seconds of [
      0, 59, 60, 1766395199, 1766395200, 1766395200, 1766395259, 1766395260, 1766395199,
    ]) {
      const iso = new Date(seconds * 1000).toISOString();
      expect(rowOf(normaliseFlowLogLine(format, `${seconds} ${seconds}`, 2))).toEqual({
        TimeGenerated: iso,
        Start: iso,
        End: iso,
      });
    }
  });
});

describe('refusals', () => {
  it('refuses a record without as many values as the header, for the line as a whole', () => {
    const fewer = refusalOf(DEFAULT, SSH_ACCEPT.replace(' 22 ', ' '));
    expect(fewer).toEqual({
      ok: false,
      line: 7,
      field: '',
      reason: 'expected 14 space-separated values (as in the header), got 13',
    });
    expect(refusalOf(DEFAULT, `${SSH_ACCEPT} extra`).reason).toBe(
      'expected 14 space-separated values (as in the header), got 15',
    );
    expect(refusalOf(DEFAULT, '').reason).toBe('empty line');
    expect(refusalOf(DEFAULT, ' \r').reason).toBe('empty line');
  });

  it('refuses a non-numeric, negative or fractional integer, naming the field', () => {
    expect(refusalOf(DEFAULT, withValue('dstport', 'ssh'))).toEqual({
      ok: false,
      line: 7,
      field: 'dstport',
      reason: 'expected a non-negative integer (digits only), got "ssh"',
    });
    expect(refusalOf(DEFAULT, withValue('bytes', '-4249')).field).toBe('bytes');
    expect(refusalOf(DEFAULT, withValue('packets', '1.5')).field).toBe('packets');
    expect(refusalOf(DEFAULT, withValue('version', '+2')).field).toBe('version');
    expect(refusalOf(DEFAULT, withValue('protocol', '0x6')).field).toBe('protocol');
  });

  it('refuses integers beyond what the column or a JS number holds', () => {
    expect(refusalOf(DEFAULT, withValue('srcport', '2147483648'))).toMatchObject({
      field: 'srcport',
      reason: '"2147483648" is above 2147483647, the largest value of the column',
    });
    expect(refusalOf(DEFAULT, withValue('bytes', '9007199254740992'))).toMatchObject({
      field: 'bytes',
      reason: '"9007199254740992" is above 2^53 - 1, the largest integer sent exactly',
    });
    expect(refusalOf(DEFAULT, withValue('packets', '123456789012345678901234567890')).field).toBe('packets');
  });

  it('refuses a record without a usable start, which TimeGenerated needs', () => {
    expect(refusalOf(DEFAULT, withValue('start', '-'))).toMatchObject({
      field: 'start',
      reason: '"-": TimeGenerated is taken from start',
    });
    expect(refusalOf(DEFAULT, withValue('start', '2025-12-22T09:20:00Z'))).toMatchObject({
      field: 'start',
      reason: 'expected unix seconds (digits only), got "2025-12-22T09:20:00Z"',
    });
    expect(refusalOf(DEFAULT, withValue('start', '1766395200000000')).reason).toMatch(/after 9999-12-31/);
    expect(refusalOf(DEFAULT, withValue('end', '1766395258.5')).field).toBe('end');
  });

  it('reports a shifted record by its count, not by the value that landed in a numeric field', () => {
    // `srcaddr` missing: every later value is one place to the left, and "ACCEPT" lands in `end`.
    const line = SSH_ACCEPT.replace(' 198.51.100.23 ', ' ');
    expect(refusalOf(DEFAULT, line)).toMatchObject({ field: '', reason: expect.stringMatching(/got 13$/) });
  });

  it('carries nothing from a refused line into the next one', () => {
    expect(rowOf(normaliseFlowLogLine(DEFAULT, SSH_ACCEPT, 2))).toEqual(SSH_ACCEPT_ROW);
    expect(refusalOf(DEFAULT, withValue('srcport', 'x'), 3).line).toBe(3);
    expect(rowOf(normaliseFlowLogLine(DEFAULT, SSH_ACCEPT, 4))).toEqual(SSH_ACCEPT_ROW);
  });
});

describe('flowLogRowId', () => {
  it('names a record by its object key and line number', () => {
    expect(
      flowLogRowId(
        'AWSLogs/123456789010/vpcflowlogs/eu-west-1/2025/12/22/123456789010_vpcflowlogs_eu-west-1_fl-0a1b2c3d_20251222T0925Z_3f2e1d0c.log.gz',
        17,
      ),
    ).toBe(
      'AWSLogs/123456789010/vpcflowlogs/eu-west-1/2025/12/22/123456789010_vpcflowlogs_eu-west-1_fl-0a1b2c3d_20251222T0925Z_3f2e1d0c.log.gz:17',
    );
  });
});
