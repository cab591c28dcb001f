import { describe, expect, it } from '@jest/globals';
import { MAX_FIELD_BYTES } from '../../shared/domain/rows/limits.js';
import type { Row } from '../../shared/domain/rows/row.js';
import { AWS_RESPONSE_AUDIT, OUTCOME_OPERATION } from '../../shared/domain/tables/audit-columns.js';
import { RESERVED_COLUMNS } from '../../shared/domain/tables/columns.js';
import { typeMismatch } from '../../shared/local/ingestion-server.js';
import type { LogsIngestionPort } from '../../shared/ports/logs-ingestion.js';
import {
  AUDIT_STREAM,
  auditRows,
  createIngestionAudit,
  REDACTED,
  redactRequest,
} from '../../shared/respond/audit.js';
import type { ActionOutcome } from '../../shared/respond/types.js';
import { InMemoryIngestion } from '../support/fakes.js';

const at = new Date('2026-12-01T10:00:00.000Z');
const meta = { actor: 'alice@contoso.com', correlationId: 'run-1', at };

const isolated: ActionOutcome = {
  status: 'done',
  action: 'isolate-ec2-instance',
  target: 'i-0123456789abcdef0',
  accountId: '123456789012',
  region: 'eu-west-1',
  incident: { id: 'incident-guid', number: 4242 },
  reason: 'GuardDuty UnauthorizedAccess:EC2/SSHBruteForce',
  calls: [
    {
      service: 'ec2',
      operation: 'DescribeInstances',
      input: { InstanceIds: ['i-0123456789abcdef0'] },
      why: 'find the network interfaces',
      mutating: false,
    },
    {
      service: 'ec2',
      operation: 'CreateSnapshot',
      input: { VolumeId: 'vol-1', Description: 'incident 4242' },
      why: 'snapshot the volume before isolating',
      mutating: true,
    },
    {
      service: 'ec2',
      operation: 'ModifyNetworkInterfaceAttribute',
      input: { NetworkInterfaceId: 'eni-1', Groups: ['sg-isolation'] },
      why: 'move the interface to the isolation group',
      mutating: true,
    },
  ],
  verified: true,
  observed: { 'eni-1': ['sg-isolation'] },
  release:
    'npm run -s cli -- release --action isolate-ec2-instance --account 123456789012 --region eu-west-1 --target i-0123456789abcdef0',
};

function declaredTypesHold(rows: readonly Row[]): void {
  const columns = new Map(AWS_RESPONSE_AUDIT.columns.map((c) => [c.name, c.type]));
  for (const row of rows) {
    for (const [name, value] of Object.entries(row)) {
      const type = columns.get(name);
      expect(type).toBeDefined();
      if (type !== undefined) expect([name, typeMismatch(type, value)]).toEqual([name, undefined]);
    }
  }
}

describe('AWSResponseAudit_CL table definition', () => {
  it('declares a custom table with the same input and output stream and no reserved column', () => {
    expect(AWS_RESPONSE_AUDIT.table).toBe('AWSResponseAudit_CL');
    expect(AWS_RESPONSE_AUDIT.stream).toBe('Custom-AWSResponseAudit_CL');
    expect(AWS_RESPONSE_AUDIT.outputStream).toBe('Custom-AWSResponseAudit_CL');
    const names = AWS_RESPONSE_AUDIT.columns.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.filter((n) => RESERVED_COLUMNS.includes(n))).toEqual([]);
    expect(names[0]).toBe('TimeGenerated');
  });
});

describe('auditRows', () => {
  it('writes one row per call in order, then the summary row, all of the same run', () => {
    const rows = auditRows(isolated, meta);
    expect(rows.map((r) => r.Operation)).toEqual([
      'DescribeInstances',
      'CreateSnapshot',
      'ModifyNetworkInterfaceAttribute',
      OUTCOME_OPERATION,
    ]);
    for (const row of rows) {
      expect(row).toMatchObject({
        TimeGenerated: '2026-12-01T10:00:00.000Z',
        Action: 'isolate-ec2-instance',
        Target: 'i-0123456789abcdef0',
        AccountId: '123456789012',
        Region: 'eu-west-1',
        IncidentNumber: 4242,
        IncidentId: 'incident-guid',
        Status: 'done',
        DryRun: false,
        Actor: 'alice@contoso.com',
        CorrelationId: 'run-1',
      });
    }
    declaredTypesHold(rows);
  });

  it('records each call with its service, input, purpose and whether it changes state', () => {
    const [read, snapshot] = auditRows(isolated, meta);
    expect(read).toMatchObject({
      Service: 'ec2',
      Request: { InstanceIds: ['i-0123456789abcdef0'] },
      Mutating: false,
      Reason: 'find the network interfaces',
    });
    expect(snapshot).toMatchObject({ Mutating: true, Reason: 'snapshot the volume before isolating' });
    expect(read).not.toHaveProperty('Verified');
    expect(read).not.toHaveProperty('Error');
  });

  it('summarises the outcome: verified, what was seen, the release command, changes made', () => {
    const summary = auditRows(isolated, meta).at(-1);
    expect(summary).toMatchObject({
      Operation: '(outcome)',
      Verified: true,
      Mutating: true,
      Reason: 'GuardDuty UnauthorizedAccess:EC2/SSHBruteForce',
      Request: {
        calls: 3,
        changes: 2,
        release: isolated.release,
        observed: { 'eni-1': ['sg-isolation'] },
      },
    });
    expect(summary).not.toHaveProperty('Service');
  });

  it('marks every row of a dry run and reports that nothing was changed', () => {
    const dry: ActionOutcome = {
      ...isolated,
      status: 'dry-run',
      calls: isolated.calls.map((call) => (call.mutating ? { ...call, skipped: true as const } : call)),
    };
    const { verified: _verified, ...unverified } = dry;
    const rows = auditRows(unverified, meta);
    expect(rows.every((r) => r.DryRun === true && r.Status === 'dry-run')).toBe(true);
    expect(rows.at(-1)).toMatchObject({ Mutating: false, Request: { changes: 0 } });
    expect(rows.at(-1)).not.toHaveProperty('Verified');
  });

  it('carries the error name on the failed call and on the summary of a failed outcome', () => {
    const failed: ActionOutcome = {
      ...isolated,
      status: 'failed',
      verified: false,
      reason: 'ModifyNetworkInterfaceAttribute failed',
      calls: [
        ...isolated.calls.slice(0, 2),
        {
          service: 'ec2',
          operation: 'ModifyNetworkInterfaceAttribute',
          input: { NetworkInterfaceId: 'eni-1', Groups: ['sg-isolation'] },
          why: 'move the interface to the isolation group',
          mutating: true,
          error: 'UnauthorizedOperation',
        },
      ],
    };
    const rows = auditRows(failed, meta);
    expect(rows.map((r) => r.Error)).toEqual([
      undefined,
      undefined,
      'UnauthorizedOperation',
      'UnauthorizedOperation',
    ]);
    expect(rows.at(-1)).toMatchObject({ Status: 'failed', Verified: false, Mutating: true });
  });

  it('writes a refused outcome without calls as a single summary row, with no incident columns when there is none', () => {
    const refused: ActionOutcome = {
      status: 'refused',
      action: 'deactivate-access-key',
      target: 'AKIAIOSFODNN7EXAMPLE',
      accountId: '123456789012',
      region: 'us-east-1',
      reason: 'protected by tag ir:protected=true',
      calls: [],
    };
    const rows = auditRows(refused, meta);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ Operation: '(outcome)', Status: 'refused', Mutating: false });
    expect(rows[0]).not.toHaveProperty('IncidentNumber');
    expect(rows[0]).not.toHaveProperty('IncidentId');
    declaredTypesHold(rows);
  });

  it('redacts secrets at any depth, keeps pagination and idempotency tokens, and replaces binary values', () => {
    const outcome: ActionOutcome = {
      ...isolated,
      calls: [
        {
          service: 'ec2',
          operation: 'ModifyInstanceAttribute',
          input: {
            InstanceId: 'i-0123456789abcdef0',
            UserData: { Value: 'IyEvYmluL2Jhc2gKZXhwb3J0IFBBU1M9aHVudGVyMg==' },
            Nested: [{ SecretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxrfiCYEXAMPLEKEY', SessionToken: 'FwoG' }],
            Password: 'hunter2',
            NextToken: 'page-2',
            ClientToken: 'idem-1',
            Blob: new Uint8Array([1, 2, 3]),
            When: new Date('2026-01-01T00:00:00Z'),
          },
          why: 'swap the instance profile',
          mutating: true,
        },
      ],
    };
    const [row] = auditRows(outcome, meta);
    expect(row?.Request).toEqual({
      InstanceId: 'i-0123456789abcdef0',
      UserData: REDACTED,
      Nested: [{ SecretAccessKey: REDACTED, SessionToken: REDACTED }],
      Password: REDACTED,
      NextToken: 'page-2',
      ClientToken: 'idem-1',
      Blob: '[binary 3 bytes]',
      When: '2026-01-01T00:00:00.000Z',
    });
    expect(JSON.stringify(row)).not.toContain('hunter2');
    expect(JSON.stringify(row)).not.toContain('wJalrXUtnFEMI');
  });

  it('copies cyclic and deeply nested inputs without failing', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    let deep: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < 20; i++) deep = { deep };
    expect(redactRequest(cyclic)).toEqual({ a: 1, self: '[circular]' });
    expect(JSON.stringify(redactRequest(deep))).toContain('[too deep]');
  });

  it('keeps a huge input within the 64 KB field limit', () => {
    const outcome: ActionOutcome = {
      ...isolated,
      calls: [
        {
          service: 'iam',
          operation: 'PutUserPolicy',
          input: { UserName: 'alice', PolicyDocument: 'x'.repeat(200_000) },
          why: 'deny all',
          mutating: true,
        },
      ],
    };
    const [row] = auditRows(outcome, meta);
    expect(Buffer.byteLength(JSON.stringify(row?.Request))).toBeLessThanOrEqual(MAX_FIELD_BYTES);
    expect(row?.Request).toMatchObject({ UserName: 'alice' });
  });

  it('leaves the incident number out when it does not fit an int column', () => {
    const rows = auditRows({ ...isolated, incident: { number: 2 ** 40 } }, meta);
    expect(rows[0]).not.toHaveProperty('IncidentNumber');
  });
});

describe('createIngestionAudit', () => {
  it('uploads the rows to the audit stream and reports none failed', async () => {
    const ingestion = new InMemoryIngestion();
    const rows = auditRows(isolated, meta);
    const report = await createIngestionAudit(ingestion).write(rows);
    expect(report).toEqual({ failed: 0 });
    expect(ingestion.rows(AUDIT_STREAM)).toEqual(rows);
    expect(AUDIT_STREAM).toBe('Custom-AWSResponseAudit_CL');
  });

  it('counts the rows the ingestion port did not accept, with their reasons', async () => {
    const ingestion = new InMemoryIngestion();
    ingestion.failWhen = (_row, index) =>
      index === 1 ? { message: '503 ServiceUnavailable', permanent: false } : undefined;
    const report = await createIngestionAudit(ingestion).write(auditRows(isolated, meta));
    expect(report).toEqual({ failed: 1, errors: ['503 ServiceUnavailable'] });
    expect(ingestion.rows(AUDIT_STREAM)).toHaveLength(3);
  });

  it('reports every row failed instead of throwing when the port throws', async () => {
    const broken: LogsIngestionPort = {
      upload: async () => {
        throw new TypeError('fetch failed');
      },
      uploadTexts: async () => {
        throw new TypeError('fetch failed');
      },
    };
    const rows = auditRows(isolated, meta);
    await expect(createIngestionAudit(broken).write(rows)).resolves.toEqual({
      failed: rows.length,
      errors: ['TypeError: fetch failed'],
    });
  });

  it('makes no request for no rows', async () => {
    const ingestion = new InMemoryIngestion();
    await expect(createIngestionAudit(ingestion).write([])).resolves.toEqual({ failed: 0 });
    expect(ingestion.calls).toBe(0);
  });
});
