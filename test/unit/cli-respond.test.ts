import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { exitCodeOf, planCommand, respondCommand } from '../../shared/cli/respond.js';
import type { ActionOutcome } from '../../shared/respond/types.js';
import { AwsAccountModel } from '../support/aws-model/index.js';

function harness() {
  const account = new AwsAccountModel('111122223333', 'us-east-1');
  const { vpcId } = account.ec2.addVpc();
  const instance = account.ec2.addInstance({ vpcId, enis: 2, volumes: 1 });
  const lines: string[] = [];
  const deps = { clientsFor: () => account.clients(), out: (line: string) => lines.push(line) };
  const last = (): ActionOutcome => JSON.parse(lines.at(-1) ?? '{}') as ActionOutcome;
  return { account, instance, deps, last };
}

const base = (id: string) => [
  '--action',
  'isolate-ec2-instance',
  '--account',
  '111122223333',
  '--region',
  'us-east-1',
  '--target',
  id,
];

describe('cli respond and release', () => {
  it('dry-runs, runs, reports already-done, and releases, with the exit codes of the contract', async () => {
    const { account, instance, deps, last } = harness();
    const before = account.snapshot();
    expect(
      await respondCommand([...base(instance.instanceId), '--dry-run', '--incident', '4242'], false, deps),
    ).toBe(0);
    expect(last().status).toBe('dry-run');
    expect(account.snapshot()).toEqual(before);
    expect(await respondCommand([...base(instance.instanceId), '--incident', '4242'], false, deps)).toBe(0);
    expect(last()).toMatchObject({ status: 'done', verified: true });
    expect(await respondCommand([...base(instance.instanceId), '--incident', '4242'], false, deps)).toBe(0);
    expect(last().status).toBe('already-done');
    expect(await respondCommand([...base(instance.instanceId), '--incident', '4242'], true, deps)).toBe(0);
    expect(last()).toMatchObject({ status: 'done', verified: true });
  });

  it('refuses malformed ids, accounts, regions and unknown actions before any AWS call (exit 2)', async () => {
    const { account, deps, last } = harness();
    const cases: string[][] = [
      base('i-NOTHEX'),
      [
        '--action',
        'isolate-ec2-instance',
        '--account',
        '1234',
        '--region',
        'us-east-1',
        '--target',
        'i-0123456789abcdef0',
      ],
      [
        '--action',
        'isolate-ec2-instance',
        '--account',
        '111122223333',
        '--region',
        'mars-north-1',
        '--target',
        'i-0123456789abcdef0',
      ],
      [
        '--action',
        'nuke',
        '--account',
        '111122223333',
        '--region',
        'us-east-1',
        '--target',
        'i-0123456789abcdef0',
      ],
      [
        '--action',
        'deactivate-access-key',
        '--account',
        '111122223333',
        '--region',
        'us-east-1',
        '--target',
        'AKIA-short',
      ],
    ];
    for (const args of cases) {
      expect(await respondCommand(args, false, deps)).toBe(2);
      expect(last().status).toBe('refused');
      expect(last().calls).toEqual([]);
    }
    expect(account.ec2.calls()).toEqual([]);
    expect(account.iam.calls).toEqual([]);
  });

  it('exits 3 for a protected target and 1 for a failure', async () => {
    const { account, deps } = harness();
    const { vpcId } = account.ec2.addVpc();
    const guarded = account.ec2.addInstance({ vpcId, tags: { 'ir:protected': 'true' } });
    expect(await respondCommand(base(guarded.instanceId), false, deps)).toBe(3);
    expect(await respondCommand(base('i-0000000000000dead'), false, deps)).toBe(1);
    const outcome = (status: ActionOutcome['status']): ActionOutcome => ({
      status,
      action: 'a',
      target: 't',
      accountId: '1',
      region: 'r',
      calls: [],
    });
    expect(
      ['done', 'already-done', 'dry-run', 'skipped'].map((s) =>
        exitCodeOf(outcome(s as ActionOutcome['status'])),
      ),
    ).toEqual([0, 0, 0, 0]);
  });

  it('prints the plan for an incident payload as JSON', async () => {
    const { deps } = harness();
    const lines: string[] = [];
    const code = await planCommand(
      ['--input', 'test/fixtures/incidents/envelope-ec2-and-key.json', '--account', '111122223333'],
      {
        ...deps,
        out: (line) => lines.push(line),
      },
    );
    expect(code).toBe(0);
    const plan = JSON.parse(lines[0] ?? '{}') as { steps: { action: string; target: string }[] };
    expect(plan.steps.map((s) => s.action)).toEqual([
      'isolate-ec2-instance',
      'deactivate-access-key',
      'archive-guardduty-finding',
    ]);
  });

  it('refuses a payload that is not an incident with the field, exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'plan-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ properties: { incidentNumber: 'x' } }));
    expect(await planCommand(['--input', file], harness().deps)).toBe(2);
  });
});
