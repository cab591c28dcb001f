import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { extractIncident } from '../../shared/domain/respond/incident.js';
import { type CatalogueEntry, planResponse } from '../../shared/domain/respond/planner.js';
import { globMatches, type Policy, PolicyError, parsePolicy } from '../../shared/domain/respond/policy.js';

const envelope = JSON.parse(
  readFileSync(new URL('../fixtures/incidents/envelope-ec2-and-key.json', import.meta.url), 'utf8'),
) as {
  object: Record<string, unknown>;
};
const defaultPolicy = JSON.parse(
  readFileSync(new URL('../../shared/respond/default-policy.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;

const CATALOGUE: CatalogueEntry[] = [
  { name: 'isolate-ec2-instance', targetKind: 'ec2-instance', irreversible: false, containment: true },
  { name: 'deactivate-access-key', targetKind: 'access-key', irreversible: false, containment: true },
  { name: 'revoke-role-sessions', targetKind: 'iam-role', irreversible: false, containment: true },
  { name: 'quarantine-iam-user', targetKind: 'iam-user', irreversible: false, containment: true },
  { name: 'disable-console-login', targetKind: 'iam-user', irreversible: true, containment: true },
  {
    name: 'archive-guardduty-finding',
    targetKind: 'guardduty-finding',
    irreversible: false,
    containment: false,
  },
];
const NAMES = CATALOGUE.map((c) => c.name);
const policy = (overrides: Partial<Policy> = {}): Policy =>
  parsePolicy({ ...defaultPolicy, accounts: { allow: ['111122223333'] }, ...overrides }, NAMES);

describe('incident payloads', () => {
  it('reads targets from the trigger envelope: custom details with account and region, entities, findings, IPs', () => {
    const parsed = extractIncident(envelope);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const { incident, targets, findings, ips, ignored } = parsed.value;
    expect(incident).toMatchObject({
      number: 4242,
      severity: 'High',
      name: '2f4d8c52-6a63-4c55-9d7e-7b0a3f1e9b10',
    });
    expect(targets.map((t) => [t.kind, t.id, t.accountId, t.region, t.source])).toEqual([
      ['ec2-instance', 'i-0123456789abcdef0', '111122223333', 'us-east-1', 'custom-details'],
      ['access-key', 'AKIAIOSFODNN7EXAMPLE', '111122223333', 'us-east-1', 'custom-details'],
      ['iam-user', 'alice', '111122223333', 'us-east-1', 'custom-details'],
      ['ec2-instance', 'i-0fedcba9876543210', '111122223333', 'us-east-1', 'entity'],
      ['iam-user', 'bob', '111122223333', 'us-east-1', 'entity'],
    ]);
    expect(targets[0]?.findingType).toBe('Backdoor:EC2/C&CActivity.B!DNS');
    expect(findings).toEqual([
      {
        id: '90b82273685661b9318f078d0851fe9a',
        accountId: '111122223333',
        region: 'us-east-1',
        type: 'Backdoor:EC2/C&CActivity.B!DNS',
      },
    ]);
    expect(ips).toEqual(['198.51.100.23']);
    expect(ignored).toEqual([]);
  });

  it('reads the bare incident object the same way as the envelope', () => {
    const bare = extractIncident(envelope.object);
    const wrapped = extractIncident(envelope);
    expect(bare).toEqual(wrapped);
  });

  it('accepts an incident without alerts or entities, and one whose custom details are not JSON', () => {
    const minimal = extractIncident({
      name: 'x',
      properties: {
        incidentNumber: 1,
        alerts: [{ properties: { additionalData: { 'Custom Details': '{oops' } } }],
      },
    });
    expect(minimal).toMatchObject({ ok: true, value: { targets: [], findings: [] } });
  });

  it('ignores malformed ids and accounts with a note instead of planning on them', () => {
    const parsed = extractIncident({
      properties: {
        alerts: [
          {
            properties: {
              additionalData: {
                'Custom Details': JSON.stringify({ AwsAccountId: ['12345'], InstanceId: ['i-xyz'] }),
              },
            },
          },
        ],
      },
    });
    expect(parsed.ok && parsed.value.targets).toEqual([]);
    expect(parsed.ok && parsed.value.ignored).toEqual([
      'account "12345" is not a 12-digit AWS account id',
      'ec2-instance "i-xyz" is not a valid id',
    ]);
  });

  it('refuses a payload that is not an incident, naming the field', () => {
    expect(extractIncident({ object: { properties: 'nope' } })).toMatchObject({
      ok: false,
      field: 'object.properties',
    });
    expect(extractIncident([])).toMatchObject({ ok: false });
    expect(extractIncident({ object: '' })).toMatchObject({ ok: false, field: 'object' });
    expect(extractIncident({ properties: { incidentNumber: 'four' } })).toMatchObject({
      ok: false,
      field: 'properties.incidentNumber',
    });
  });
});

describe('policy', () => {
  it('accepts the shipped default policy', () => {
    expect(() => parsePolicy(defaultPolicy, NAMES)).not.toThrow();
  });

  it('refuses a bad policy with the path of the bad key', () => {
    const bad = (doc: unknown): string => {
      try {
        parsePolicy(doc, NAMES);
      } catch (error) {
        expect(error).toBeInstanceOf(PolicyError);
        return (error as Error).message;
      }
      throw new Error('expected a PolicyError');
    };
    expect(bad({ ...defaultPolicy, accounts: { allow: ['1234'] } })).toMatch(
      /^policy accounts\.allow\[0\]: expected a 12-digit/,
    );
    expect(
      bad({
        ...defaultPolicy,
        rules: [
          {
            name: 'x',
            match: { targetKinds: ['vm'] },
            actions: [{ action: 'isolate-ec2-instance', mode: 'auto' }],
          },
        ],
      }),
    ).toMatch(/^policy rules\[0\]\.match\.targetKinds\[0\]/);
    expect(
      bad({
        ...defaultPolicy,
        rules: [
          {
            name: 'x',
            match: { targetKinds: ['ec2-instance'] },
            actions: [{ action: 'nuke', mode: 'auto' }],
          },
        ],
      }),
    ).toMatch(
      /^policy rules\[0\]\.actions\[0\]\.action: unknown action "nuke"; valid actions: isolate-ec2-instance/,
    );
    expect(bad({ ...defaultPolicy, surprise: true })).toMatch(/^policy \(root\)|^policy surprise/);
  });

  it('matches finding types with globs', () => {
    expect(globMatches('Backdoor:EC2/*', 'Backdoor:EC2/C&CActivity.B!DNS')).toBe(true);
    expect(globMatches('Backdoor:EC2/*', 'Backdoor:Lambda/C&CActivity.B')).toBe(false);
    expect(
      globMatches(
        'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.*',
        'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS',
      ),
    ).toBe(true);
  });
});

describe('planning', () => {
  const plan = (p: Policy) => {
    const parsed = extractIncident(envelope);
    if (!parsed.ok) throw new Error('fixture');
    return planResponse(parsed.value, p, CATALOGUE, { id: 'plan-1', now: new Date('2026-12-03T12:00:00Z') });
  };

  it('plans containment first, then archiving, as the default policy says', () => {
    const result = plan(policy());
    expect(result.steps.map((s) => [s.action, s.target, s.mode])).toEqual([
      ['isolate-ec2-instance', 'i-0123456789abcdef0', 'auto'],
      ['deactivate-access-key', 'AKIAIOSFODNN7EXAMPLE', 'auto'],
      ['archive-guardduty-finding', '90b82273685661b9318f078d0851fe9a', 'auto'],
    ]);
    expect(result.skipped.map((s) => [s.target, s.reason])).toEqual([
      ['alice', 'no policy rule applies'],
      ['i-0fedcba9876543210', 'no policy rule applies'],
      ['bob', 'no policy rule applies'],
    ]);
  });

  it('skips targets in accounts outside the allowlist', () => {
    const result = plan(policy({ accounts: { allow: ['999999999999'] } }));
    expect(result.steps).toEqual([]);
    expect(result.skipped.filter((s) => s.reason.includes('allowlist'))).toHaveLength(3);
  });

  it('never runs an irreversible action without approval, whatever the policy says', () => {
    const p = policy({
      rules: [
        {
          name: 'all users',
          match: { targetKinds: ['iam-user'] },
          actions: [{ action: 'disable-console-login', mode: 'auto' }],
        },
      ],
    });
    expect(plan(p).steps.map((s) => [s.target, s.mode])).toEqual([
      ['alice', 'approval'],
      ['bob', 'approval'],
    ]);
  });

  it('applies a rule only from its minimum severity', () => {
    const p = policy({
      rules: [
        {
          name: 'critical only',
          match: { minSeverity: 'Critical', targetKinds: ['ec2-instance'] },
          actions: [{ action: 'isolate-ec2-instance', mode: 'auto' }],
        },
      ],
    });
    expect(plan(p).steps).toEqual([]);
  });
});
