/**
 * The IAM and GuardDuty response actions against stateful models of the account behind the real SDK clients.
 * Every test asserts the end state of the account (model snapshots), not only the calls; `run` also checks
 * on every run that each AWS call went through the action context and is covered by the module's declared
 * IAM permissions, and that a dry run made no write.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { archiveGuardDutyFindingAction } from '../../shared/respond/actions/archive-guardduty-finding.js';
import { deactivateAccessKeyAction } from '../../shared/respond/actions/deactivate-access-key.js';
import { disableConsoleLoginAction } from '../../shared/respond/actions/disable-console-login.js';
import {
  DEACTIVATED_KEYS_TAG,
  QUARANTINE_POLICY,
  QUARANTINE_POLICY_NAME,
  quarantineIamUserAction,
} from '../../shared/respond/actions/quarantine-iam-user.js';
import {
  REVOKE_POLICY_NAME,
  revokePolicy,
  revokeRoleSessionsAction,
} from '../../shared/respond/actions/revoke-role-sessions.js';
import { type ContextOptions, createActionContext } from '../../shared/respond/context.js';
import type { ActionInput, ActionModule, ActionOutcome, AwsClients } from '../../shared/respond/types.js';
import { GuardDutyModel } from '../support/aws-model/guardduty.js';
import { IamModel } from '../support/aws-model/iam.js';

const REGION = 'eu-west-1';
const NOW = new Date('2026-03-01T12:00:00.000Z');
const KEY_A = 'AKIAALICE00000000001';
const KEY_B = 'AKIAALICE00000000002';
const KEY_MALLORY = 'AKIAMALLORY000000001';
const KEY_OPS = 'AKIAOPS0000000000001';
const ROOT_KEY = 'AKIAROOT000000000001';
const FINDING = '16afba5c5c43e07c9e3e5e2e544e95df';
const DETECTOR = '3caf4e0aaa46ce4ccbcef949a8785353';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'guardduty');
const fixture = (name: string): unknown => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8'));

/** These actions must not touch EC2, Auto Scaling or ELB: every call to them fails. */
const notModelled = (): never => {
  throw new Error('this service is not modelled in the IAM action tests');
};

interface World {
  readonly iam: IamModel;
  readonly gd: GuardDutyModel;
  readonly clients: AwsClients;
}

function world(): World {
  const iam = new IamModel()
    .addUser('alice', { tags: { team: 'web' }, loginProfile: true })
    .addAccessKey('alice', KEY_A, { lastUsed: { date: NOW, service: 'ec2', region: REGION } })
    .addAccessKey('alice', KEY_B)
    .addUser('mallory', {
      loginProfile: true,
      policies: { 'read-s3': { Version: '2012-10-17', Statement: [] } },
    })
    .addAccessKey('mallory', KEY_MALLORY)
    .addUser('ops', { tags: { 'ir:protected': 'TRUE' }, loginProfile: true })
    .addAccessKey('ops', KEY_OPS)
    .addRootAccessKey(ROOT_KEY)
    .addRole('web-role', { policies: { s3: { Version: '2012-10-17', Statement: [] } } })
    .addRole('batch-role')
    .addRole('responder', { tags: { 'ir:protected': 'true' } })
    .addRole('AWSServiceRoleForSupport', { path: '/aws-service-role/support.amazonaws.com/' })
    .addInstanceProfile('web-profile', ['web-role']);
  const gd = new GuardDutyModel({ accountId: iam.accountId, region: REGION });
  gd.addFinding(fixture('gdar-sample-ec2-finding-detail.json'));
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  const ec2 = new EC2Client({ region: REGION, credentials });
  const autoscaling = new AutoScalingClient({ region: REGION, credentials });
  const elbv2 = new ElasticLoadBalancingV2Client({ region: REGION, credentials });
  mockClient(ec2).callsFake(notModelled);
  mockClient(autoscaling).callsFake(notModelled);
  mockClient(elbv2).callsFake(notModelled);
  const clients: AwsClients = { ...iam.clients(), ...gd.clients(), ec2, autoscaling, elbv2 };
  return { iam, gd, clients };
}

type RunOptions = Partial<Pick<ContextOptions, 'dryRun' | 'now' | 'incident'>>;

async function run<I extends ActionInput>(
  w: World,
  module: ActionModule<I>,
  input: unknown,
  phase: 'execute' | 'release' = 'execute',
  options: RunOptions = {},
): Promise<ActionOutcome> {
  const ctx = createActionContext({
    accountId: w.iam.accountId,
    region: REGION,
    clients: w.clients,
    reason: 'credentials used from a Tor exit node',
    incident: { number: 4242 },
    now: () => NOW,
    ...options,
  });
  const args = module.input.parse(input);
  const callsBefore = w.iam.calls.length + w.gd.calls.length;
  let result: ActionOutcome;
  if (phase === 'execute') {
    result = await module.execute(args, ctx);
  } else {
    if (!module.release) throw new Error(`${module.name} has no release`);
    result = await module.release(args, ctx);
  }
  // Every AWS call went through the context (none sent to a client directly) ...
  const made = w.iam.calls.length + w.gd.calls.length - callsBefore;
  expect(result.calls.filter((c) => c.skipped === undefined)).toHaveLength(made);
  // ... and is one the module declares it needs.
  for (const call of result.calls)
    expect(module.permissions[phase]).toContain(`${call.service}:${call.operation}`);
  if (options.dryRun) expect(result.calls.filter((c) => c.mutating && c.skipped === undefined)).toEqual([]);
  expect(result.action).toBe(module.name);
  expect(result.accountId).toBe(w.iam.accountId);
  return result;
}

function writes(result: ActionOutcome): { operation: string; input: Readonly<Record<string, unknown>> }[] {
  return result.calls.filter((c) => c.mutating).map((c) => ({ operation: c.operation, input: c.input }));
}

const releaseOf = (action: string, target: string): string =>
  `npm run -s cli -- release --action ${action} --account 111122223333 --region ${REGION} --target ${target} --incident 4242`;

describe('deactivate-access-key', () => {
  const action = deactivateAccessKeyAction;

  it('deactivates only the named key of a user with two keys, and verifies it', async () => {
    const w = world();
    const before = w.iam.snapshot();
    const result = await run(w, action, { target: KEY_A });
    expect(result).toMatchObject({
      status: 'done',
      target: KEY_A,
      verified: true,
      observed: { userName: 'alice', keys: { [KEY_A]: 'Inactive', [KEY_B]: 'Active' } },
      release: releaseOf('deactivate-access-key', KEY_A),
    });
    const expected = structuredClone(before);
    const alice = expected.users.alice;
    if (alice) alice.accessKeys[KEY_A] = 'Inactive';
    expect(w.iam.snapshot()).toEqual(expected);
    expect(writes(result)).toEqual([
      { operation: 'UpdateAccessKey', input: { UserName: 'alice', AccessKeyId: KEY_A, Status: 'Inactive' } },
    ]);
  });

  it('changes nothing in a dry run and lists the exact write it would make', async () => {
    const w = world();
    const before = w.iam.snapshot();
    const result = await run(w, action, { target: KEY_A }, 'execute', { dryRun: true });
    expect(result.status).toBe('dry-run');
    expect(result.release).toBe(releaseOf('deactivate-access-key', KEY_A));
    expect(result.verified).toBeUndefined();
    expect(w.iam.snapshot()).toEqual(before);
    expect(result.calls.map((c) => [c.operation, c.mutating, c.skipped ?? false])).toEqual([
      ['GetAccessKeyLastUsed', false, false],
      ['ListUserTags', false, false],
      ['ListAccessKeys', false, false],
      ['UpdateAccessKey', true, true],
    ]);
    expect(result.calls.at(-1)?.input).toEqual({ UserName: 'alice', AccessKeyId: KEY_A, Status: 'Inactive' });
    expect(w.iam.writeCalls()).toEqual([]);
  });

  it('reports already-done on a second run and writes nothing', async () => {
    const w = world();
    await run(w, action, { target: KEY_A });
    const after = w.iam.snapshot();
    const writesBefore = w.iam.writeCalls().length;
    const second = await run(w, action, { target: KEY_A });
    expect(second.status).toBe('already-done');
    expect(second.release).toBe(releaseOf('deactivate-access-key', KEY_A));
    expect(writes(second)).toEqual([]);
    expect(w.iam.writeCalls()).toHaveLength(writesBefore);
    expect(w.iam.snapshot()).toEqual(after);
  });

  it('refuses a key of a user carrying the protected tag and leaves it untouched', async () => {
    const w = world();
    const before = w.iam.snapshot();
    const result = await run(w, action, { target: KEY_OPS });
    expect(result.status).toBe('refused');
    expect(result.reason).toMatch(/protected/);
    expect(result.refusal).toBe('protected');
    expect(writes(result)).toEqual([]);
    expect(w.iam.snapshot()).toEqual(before);
  });

  it('refuses a root access key, whether IAM names no user or `root`', async () => {
    const w = world();
    w.iam.addRootAccessKey('AKIAROOT000000000002', { reportedUserName: 'root' });
    const before = w.iam.snapshot();
    for (const target of [ROOT_KEY, 'AKIAROOT000000000002']) {
      const result = await run(w, action, { target });
      expect(result.status).toBe('refused');
      expect(result.reason).toMatch(/root/);
      expect(result.calls.map((c) => c.operation)).toEqual(['GetAccessKeyLastUsed']);
    }
    expect(w.iam.snapshot()).toEqual(before);
  });

  it('fails with NoSuchEntity for a key the account does not have', async () => {
    const w = world();
    const result = await run(w, action, { target: 'AKIAUNKNOWN000000001' });
    expect(result.status).toBe('failed');
    expect(result.reason).toMatch(/^GetAccessKeyLastUsed failed: NoSuchEntityException/);
    expect(result.calls[0]?.error).toBe('NoSuchEntityException');
    expect(result.release).toBeUndefined();
  });

  it('fails, unverified, when the write does not take effect', async () => {
    const w = world();
    w.iam.ignoreNext('UpdateAccessKey');
    const result = await run(w, action, { target: KEY_A });
    expect(result).toMatchObject({
      status: 'failed',
      verified: false,
      observed: { keys: { [KEY_A]: 'Active' } },
    });
    expect(w.iam.keyStatus(KEY_A)).toBe('Active');
  });

  it('fails with the error name when IAM denies the write', async () => {
    const w = world();
    w.iam.failNext('UpdateAccessKey', 'AccessDenied');
    const result = await run(w, action, { target: KEY_A });
    expect(result.status).toBe('failed');
    expect(result.reason).toMatch(/UpdateAccessKey failed: AccessDenied/);
    expect(w.iam.keyStatus(KEY_A)).toBe('Active');
  });

  it('release reactivates the key, restoring the account, and is already-done after that', async () => {
    const w = world();
    const before = w.iam.snapshot();
    await run(w, action, { target: KEY_A });
    const released = await run(w, action, { target: KEY_A }, 'release');
    expect(released).toMatchObject({
      status: 'done',
      verified: true,
      observed: { keys: { [KEY_A]: 'Active' } },
    });
    expect(writes(released)).toEqual([
      { operation: 'UpdateAccessKey', input: { UserName: 'alice', AccessKeyId: KEY_A, Status: 'Active' } },
    ]);
    expect(w.iam.snapshot()).toEqual(before);
    const again = await run(w, action, { target: KEY_A }, 'release');
    expect(again.status).toBe('already-done');
    expect(writes(again)).toEqual([]);
  });

  it('refuses malformed key ids and unknown options before any call', () => {
    expect(action.input.safeParse({ target: 'AKIA123' }).success).toBe(false);
    expect(action.input.safeParse({ target: 'akiaalice00000000001' }).success).toBe(false);
    expect(action.input.safeParse({ target: KEY_A, deleteKey: true }).success).toBe(false);
    expect(action.input.safeParse({ target: KEY_A }).success).toBe(true);
  });
});

describe('revoke-role-sessions', () => {
  const action = revokeRoleSessionsAction;

  it('puts a deny-all on sessions issued before now, verified, and touches nothing else', async () => {
    const w = world();
    const before = w.iam.snapshot();
    const result = await run(w, action, { target: 'batch-role' });
    expect(result).toMatchObject({
      status: 'done',
      verified: true,
      observed: {
        policyName: REVOKE_POLICY_NAME,
        tokenIssuedBefore: NOW.toISOString(),
        instanceProfiles: [],
      },
      release: releaseOf('revoke-role-sessions', 'batch-role'),
    });
    expect(result.reason).toBeUndefined();
    expect(w.iam.rolePolicy('batch-role', REVOKE_POLICY_NAME)).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'RevokeSessionsIssuedBefore',
          Effect: 'Deny',
          Action: ['*'],
          Resource: ['*'],
          Condition: { DateLessThan: { 'aws:TokenIssueTime': '2026-03-01T12:00:00.000Z' } },
        },
      ],
    });
    const expected = structuredClone(before);
    const role = expected.roles['batch-role'];
    if (role) role.policies[REVOKE_POLICY_NAME] = JSON.stringify(revokePolicy(NOW.toISOString()));
    expect(w.iam.snapshot()).toEqual(expected);
  });

  it('warns when instance profiles use the role, since every instance using it is cut', async () => {
    const w = world();
    const result = await run(w, action, { target: 'web-role' });
    expect(result.status).toBe('done');
    expect(result.reason).toMatch(/warning: .*instance profile\(s\) web-profile.*every EC2 instance/);
    expect(result.observed).toMatchObject({ instanceProfiles: ['web-profile'] });
  });

  it('is already-done on a second run within a minute, and re-issues with the new time after that', async () => {
    const w = world();
    await run(w, action, { target: 'batch-role' });
    const after = w.iam.snapshot();
    const soon = await run(w, action, { target: 'batch-role' }, 'execute', {
      now: () => new Date(NOW.getTime() + 30_000),
    });
    expect(soon.status).toBe('already-done');
    expect(soon.release).toBe(releaseOf('revoke-role-sessions', 'batch-role'));
    expect(writes(soon)).toEqual([]);
    expect(w.iam.snapshot()).toEqual(after);
    const later = new Date(NOW.getTime() + 5 * 60_000);
    const reissued = await run(w, action, { target: 'batch-role' }, 'execute', { now: () => later });
    expect(reissued).toMatchObject({
      status: 'done',
      verified: true,
      observed: { tokenIssuedBefore: later.toISOString(), previousTokenIssuedBefore: NOW.toISOString() },
    });
    expect(w.iam.rolePolicy('batch-role', REVOKE_POLICY_NAME)).toEqual(revokePolicy(later.toISOString()));
  });

  it('refuses a protected role and a service-linked role, untouched', async () => {
    const w = world();
    const before = w.iam.snapshot();
    const protectedRole = await run(w, action, { target: 'responder' });
    expect(protectedRole).toMatchObject({ status: 'refused', refusal: 'protected' });
    expect(protectedRole.reason).toMatch(/protected/);
    const linked = await run(w, action, { target: 'AWSServiceRoleForSupport' });
    expect(linked.status).toBe('refused');
    expect(linked.reason).toMatch(/service-linked/);
    expect(w.iam.snapshot()).toEqual(before);
  });

  it('changes nothing in a dry run and lists the PutRolePolicy it would make', async () => {
    const w = world();
    const before = w.iam.snapshot();
    const result = await run(w, action, { target: 'web-role' }, 'execute', { dryRun: true });
    expect(result.status).toBe('dry-run');
    expect(result.reason).toMatch(/warning/);
    expect(w.iam.snapshot()).toEqual(before);
    expect(writes(result)).toEqual([
      {
        operation: 'PutRolePolicy',
        input: {
          RoleName: 'web-role',
          PolicyName: REVOKE_POLICY_NAME,
          PolicyDocument: JSON.stringify(revokePolicy(NOW.toISOString())),
        },
      },
    ]);
    expect(result.calls.at(-1)?.skipped).toBe(true);
  });

  it('fails, unverified, when the policy does not take effect', async () => {
    const w = world();
    w.iam.ignoreNext('PutRolePolicy');
    const result = await run(w, action, { target: 'batch-role' });
    expect(result).toMatchObject({ status: 'failed', verified: false });
    expect(w.iam.rolePolicy('batch-role', REVOKE_POLICY_NAME)).toBeUndefined();
  });

  it('fails with NoSuchEntity for an unknown role', async () => {
    const w = world();
    const result = await run(w, action, { target: 'no-such-role' });
    expect(result.status).toBe('failed');
    expect(result.reason).toMatch(/GetRole failed: NoSuchEntityException/);
  });

  it('release deletes exactly its policy (other inline policies stay), then is already-done', async () => {
    const w = world();
    const before = w.iam.snapshot();
    await run(w, action, { target: 'web-role' });
    const released = await run(w, action, { target: 'web-role' }, 'release');
    expect(released).toMatchObject({ status: 'done', verified: true });
    expect(writes(released)).toEqual([
      { operation: 'DeleteRolePolicy', input: { RoleName: 'web-role', PolicyName: REVOKE_POLICY_NAME } },
    ]);
    expect(w.iam.snapshot()).toEqual(before);
    expect(w.iam.rolePolicy('web-role', 's3')).toEqual({ Version: '2012-10-17', Statement: [] });
    const again = await run(w, action, { target: 'web-role' }, 'release');
    expect(again.status).toBe('already-done');
  });
});

describe('quarantine-iam-user', () => {
  const action = quarantineIamUserAction;

  it('attaches the inline deny-all policy and, unless asked, leaves keys and console login alone', async () => {
    const w = world();
    const before = w.iam.snapshot();
    const result = await run(w, action, { target: 'mallory' });
    expect(result).toMatchObject({
      status: 'done',
      verified: true,
      observed: { policyName: QUARANTINE_POLICY_NAME, deactivatedKeys: [] },
      release: releaseOf('quarantine-iam-user', 'mallory'),
    });
    expect(w.iam.userPolicy('mallory', QUARANTINE_POLICY_NAME)).toEqual(QUARANTINE_POLICY);
    const expected = structuredClone(before);
    const mallory = expected.users.mallory;
    if (mallory) mallory.policies[QUARANTINE_POLICY_NAME] = JSON.stringify(QUARANTINE_POLICY);
    expect(w.iam.snapshot()).toEqual(expected);
  });

  it('with deactivateKeys deactivates the Active keys, records them, and release reactivates exactly those', async () => {
    const w = world();
    // alice: KEY_A Active, KEY_B inactive before the incident.
    await w.iam.client.send(
      new UpdateAccessKeyCommand({ UserName: 'alice', AccessKeyId: KEY_B, Status: 'Inactive' }),
    );
    const before = w.iam.snapshot();
    const result = await run(w, action, { target: 'alice', deactivateKeys: true });
    expect(result).toMatchObject({
      status: 'done',
      verified: true,
      observed: {
        deactivatedKeys: [KEY_A],
        keysReactivatedOnRelease: [KEY_A],
        keys: { [KEY_A]: 'Inactive', [KEY_B]: 'Inactive' },
      },
    });
    expect(w.iam.snapshot().users.alice?.tags).toEqual({ team: 'web', [DEACTIVATED_KEYS_TAG]: KEY_A });
    expect(w.iam.snapshot().users.alice?.loginProfile).toBe(true);
    const released = await run(w, action, { target: 'alice' }, 'release');
    expect(released).toMatchObject({
      status: 'done',
      verified: true,
      observed: { reactivatedKeys: [KEY_A] },
    });
    expect(w.iam.keyStatus(KEY_A)).toBe('Active');
    expect(w.iam.keyStatus(KEY_B)).toBe('Inactive');
    expect(w.iam.snapshot()).toEqual(before);
  });

  it('records every key it deactivates across runs, in a tag value IAM accepts', async () => {
    const w = world();
    const result = await run(w, action, { target: 'alice', deactivateKeys: true });
    expect(result.observed).toMatchObject({ deactivatedKeys: [KEY_A, KEY_B] });
    expect(w.iam.snapshot().users.alice?.tags[DEACTIVATED_KEYS_TAG]).toBe(`${KEY_A} ${KEY_B}`);
    await run(w, action, { target: 'alice' }, 'release');
    expect([w.iam.keyStatus(KEY_A), w.iam.keyStatus(KEY_B)]).toEqual(['Active', 'Active']);
    expect(w.iam.snapshot().users.alice?.tags).toEqual({ team: 'web' });
  });

  it('refuses disableConsole before any call, pointing to disable-console-login', async () => {
    const w = world();
    const before = w.iam.snapshot();
    const result = await run(w, action, { target: 'mallory', disableConsole: true });
    expect(result.status).toBe('refused');
    expect(result.reason).toMatch(/disable-console-login/);
    expect(result.calls).toEqual([]);
    expect(w.iam.snapshot()).toEqual(before);
  });

  it('reports already-done on a second run, with or without deactivateKeys, and writes nothing', async () => {
    const w = world();
    await run(w, action, { target: 'alice', deactivateKeys: true });
    const after = w.iam.snapshot();
    for (const input of [{ target: 'alice' }, { target: 'alice', deactivateKeys: true }]) {
      const again = await run(w, action, input);
      expect(again.status).toBe('already-done');
      expect(again.release).toBe(releaseOf('quarantine-iam-user', 'alice'));
      expect(writes(again)).toEqual([]);
    }
    expect(w.iam.snapshot()).toEqual(after);
  });

  it('refuses a protected user and leaves it untouched', async () => {
    const w = world();
    const before = w.iam.snapshot();
    const result = await run(w, action, { target: 'ops', deactivateKeys: true });
    expect(result).toMatchObject({ status: 'refused', refusal: 'protected' });
    expect(writes(result)).toEqual([]);
    expect(w.iam.snapshot()).toEqual(before);
  });

  it('changes nothing in a dry run and lists every write in order', async () => {
    const w = world();
    const before = w.iam.snapshot();
    const result = await run(w, action, { target: 'alice', deactivateKeys: true }, 'execute', {
      dryRun: true,
    });
    expect(result.status).toBe('dry-run');
    expect(w.iam.snapshot()).toEqual(before);
    expect(writes(result)).toEqual([
      {
        operation: 'PutUserPolicy',
        input: {
          UserName: 'alice',
          PolicyName: QUARANTINE_POLICY_NAME,
          PolicyDocument: JSON.stringify(QUARANTINE_POLICY),
        },
      },
      {
        operation: 'TagUser',
        input: { UserName: 'alice', Tags: [{ Key: DEACTIVATED_KEYS_TAG, Value: `${KEY_A} ${KEY_B}` }] },
      },
      { operation: 'UpdateAccessKey', input: { UserName: 'alice', AccessKeyId: KEY_A, Status: 'Inactive' } },
      { operation: 'UpdateAccessKey', input: { UserName: 'alice', AccessKeyId: KEY_B, Status: 'Inactive' } },
    ]);
  });

  it('fails, unverified, when a key deactivation does not take effect, and stays releasable', async () => {
    const w = world();
    const before = w.iam.snapshot();
    w.iam.ignoreNext('UpdateAccessKey');
    const result = await run(w, action, { target: 'alice', deactivateKeys: true });
    expect(result).toMatchObject({ status: 'failed', verified: false });
    expect(result.reason).toMatch(new RegExp(`keys still Active: ${KEY_A}`));
    expect(result.release).toBe(releaseOf('quarantine-iam-user', 'alice'));
    await run(w, action, { target: 'alice' }, 'release');
    expect(w.iam.snapshot()).toEqual(before);
  });

  it('fails with the IAM error when the policy would exceed the inline size limit', async () => {
    const w = world();
    const big = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'x'.repeat(1990), Resource: '*' }],
    };
    w.iam.addUser('carol', { policies: { big } });
    const before = w.iam.snapshot();
    const result = await run(w, action, { target: 'carol' });
    expect(result.status).toBe('failed');
    expect(result.reason).toMatch(/PutUserPolicy failed: LimitExceededException/);
    expect(w.iam.snapshot()).toEqual(before);
  });

  it('fails with NoSuchEntity for an unknown user', async () => {
    const w = world();
    const result = await run(w, action, { target: 'nobody' });
    expect(result.status).toBe('failed');
    expect(result.reason).toMatch(/ListUserTags failed: NoSuchEntityException/);
  });

  it('release with nothing to undo is already-done', async () => {
    const w = world();
    const result = await run(w, action, { target: 'mallory' }, 'release');
    expect(result.status).toBe('already-done');
    expect(writes(result)).toEqual([]);
  });
});

describe('disable-console-login', () => {
  const action = disableConsoleLoginAction;

  it('is irreversible: no release, and every outcome says so', () => {
    expect(action.irreversible).toBe(true);
    expect(action.release).toBeUndefined();
    expect(action.permissions.release).toEqual([]);
  });

  it('deletes the login profile and verifies it is gone, touching nothing else', async () => {
    const w = world();
    const before = w.iam.snapshot();
    const result = await run(w, action, { target: 'mallory' });
    expect(result).toMatchObject({ status: 'done', verified: true, irreversible: true });
    expect(result.release).toBeUndefined();
    const expected = structuredClone(before);
    const mallory = expected.users.mallory;
    if (mallory) mallory.loginProfile = false;
    expect(w.iam.snapshot()).toEqual(expected);
  });

  it('reports already-done for a user without a console password', async () => {
    const w = world();
    await run(w, action, { target: 'mallory' });
    const again = await run(w, action, { target: 'mallory' });
    expect(again).toMatchObject({ status: 'already-done', irreversible: true });
    expect(writes(again)).toEqual([]);
  });

  it('refuses a protected user', async () => {
    const w = world();
    const result = await run(w, action, { target: 'ops' });
    expect(result).toMatchObject({ status: 'refused', refusal: 'protected', irreversible: true });
    expect(w.iam.snapshot().users.ops?.loginProfile).toBe(true);
  });

  it('changes nothing in a dry run', async () => {
    const w = world();
    const before = w.iam.snapshot();
    const result = await run(w, action, { target: 'mallory' }, 'execute', { dryRun: true });
    expect(result).toMatchObject({ status: 'dry-run', irreversible: true });
    expect(writes(result)).toEqual([{ operation: 'DeleteLoginProfile', input: { UserName: 'mallory' } }]);
    expect(w.iam.snapshot()).toEqual(before);
  });

  it('fails, unverified, when the deletion does not take effect', async () => {
    const w = world();
    w.iam.ignoreNext('DeleteLoginProfile');
    const result = await run(w, action, { target: 'mallory' });
    expect(result).toMatchObject({ status: 'failed', verified: false, irreversible: true });
  });

  it('fails with NoSuchEntity for an unknown user', async () => {
    const w = world();
    const result = await run(w, action, { target: 'nobody' });
    expect(result).toMatchObject({ status: 'failed', irreversible: true });
    expect(result.reason).toMatch(/NoSuchEntityException/);
  });
});

describe('archive-guardduty-finding', () => {
  const action = archiveGuardDutyFindingAction;

  it('gives USEFUL feedback naming the incident, archives the finding and verifies it', async () => {
    const w = world();
    const result = await run(w, action, { target: FINDING });
    expect(result).toMatchObject({
      status: 'done',
      verified: true,
      observed: { detectorId: DETECTOR, archived: true, feedback: 'USEFUL' },
      release: releaseOf('archive-guardduty-finding', FINDING),
    });
    expect(w.gd.finding(FINDING)?.Service?.Archived).toBe(true);
    expect(w.gd.feedback).toEqual([
      {
        detectorId: DETECTOR,
        findingIds: [FINDING],
        feedback: 'USEFUL',
        comments: 'Contained by incident response (incident 4242): credentials used from a Tor exit node',
      },
    ]);
    expect(result.calls.map((c) => c.operation)).toEqual([
      'ListDetectors',
      'GetFindings',
      'UpdateFindingsFeedback',
      'ArchiveFindings',
      'GetFindings',
    ]);
  });

  it('uses the given detector, feedback and comment', async () => {
    const w = world();
    const result = await run(w, action, {
      target: FINDING,
      detectorId: DETECTOR,
      feedback: 'NOT_USEFUL',
      comments: 'expected scanner',
    });
    expect(result.status).toBe('done');
    expect(result.calls.map((c) => c.operation)).not.toContain('ListDetectors');
    expect(w.gd.feedback).toEqual([
      { detectorId: DETECTOR, findingIds: [FINDING], feedback: 'NOT_USEFUL', comments: 'expected scanner' },
    ]);
  });

  it('is already-done for an archived finding and writes nothing', async () => {
    const w = world();
    await run(w, action, { target: FINDING });
    const after = w.gd.snapshot();
    const again = await run(w, action, { target: FINDING });
    expect(again.status).toBe('already-done');
    expect(writes(again)).toEqual([]);
    expect(w.gd.snapshot()).toEqual(after);
  });

  it('changes nothing in a dry run and lists both writes', async () => {
    const w = world();
    const before = w.gd.snapshot();
    const result = await run(w, action, { target: FINDING }, 'execute', { dryRun: true });
    expect(result.status).toBe('dry-run');
    expect(writes(result).map((c) => c.operation)).toEqual(['UpdateFindingsFeedback', 'ArchiveFindings']);
    expect(w.gd.snapshot()).toEqual(before);
  });

  it('fails for an unknown finding, and when the region has no detector', async () => {
    const w = world();
    const unknown = await run(w, action, { target: 'f'.repeat(32) });
    expect(unknown.status).toBe('failed');
    expect(unknown.reason).toMatch(/has no finding/);
    const empty = { ...w, gd: new GuardDutyModel({ region: REGION }) };
    const bare = { ...empty, clients: { ...w.clients, ...empty.gd.clients() } };
    const none = await run(bare, action, { target: FINDING });
    expect(none.status).toBe('failed');
    expect(none.reason).toMatch(/no detector/);
  });

  it('fails with the GuardDuty error for a detector the account does not own', async () => {
    const w = world();
    const result = await run(w, action, { target: FINDING, detectorId: 'a'.repeat(32) });
    expect(result.status).toBe('failed');
    expect(result.reason).toMatch(/GetFindings failed: BadRequestException/);
  });

  it('fails, unverified, when archiving does not take effect', async () => {
    const w = world();
    w.gd.ignoreNext('ArchiveFindings');
    const result = await run(w, action, { target: FINDING });
    expect(result).toMatchObject({ status: 'failed', verified: false, observed: { archived: false } });
  });

  it('release unarchives the finding, then is already-done', async () => {
    const w = world();
    await run(w, action, { target: FINDING });
    const released = await run(w, action, { target: FINDING }, 'release');
    expect(released).toMatchObject({ status: 'done', verified: true, observed: { archived: false } });
    expect(writes(released).map((c) => c.operation)).toEqual(['UnarchiveFindings']);
    expect(w.gd.finding(FINDING)?.Service?.Archived).toBe(false);
    const again = await run(w, action, { target: FINDING }, 'release');
    expect(again.status).toBe('already-done');
  });
});

describe('the five modules', () => {
  const modules: readonly ActionModule<ActionInput>[] = [
    deactivateAccessKeyAction,
    revokeRoleSessionsAction,
    quarantineIamUserAction,
    disableConsoleLoginAction,
    archiveGuardDutyFindingAction,
  ];

  it('declare docs with steps and release, permissions, and release exactly when reversible', () => {
    for (const module of modules) {
      expect(module.docs).toMatch(new RegExp(`^# ${module.name}\\n`));
      expect(module.docs).toMatch(/## Steps/);
      expect(module.docs).toMatch(/## Release/);
      expect(module.permissions.execute.length).toBeGreaterThan(0);
      expect(module.release === undefined).toBe(module.irreversible);
      expect(module.irreversible || module.permissions.release.length > 0).toBe(true);
    }
    expect(modules.filter((m) => !m.containment).map((m) => m.name)).toEqual(['archive-guardduty-finding']);
  });
});
