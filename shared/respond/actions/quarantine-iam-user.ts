import {
  type AccessKeyMetadata,
  DeleteUserPolicyCommand,
  GetUserPolicyCommand,
  type GetUserPolicyCommandOutput,
  ListAccessKeysCommand,
  type ListAccessKeysCommandOutput,
  ListUserTagsCommand,
  type ListUserTagsCommandOutput,
  PutUserPolicyCommand,
  type Tag,
  TagUserCommand,
  UntagUserCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import * as z from 'zod';
import { isProtected, outcome, releaseCommand } from '../context.js';
import type { ActionContext, ActionModule, ActionOutcome } from '../types.js';
import { TARGET_KINDS } from '../types.js';
import {
  decodePolicy,
  failOnAwsError,
  markerOf,
  protectedRefusal,
  readAllPages,
  readIfExists,
  sameJson,
  write,
} from './call-helpers.js';

const NAME = 'quarantine-iam-user';
/** The inline deny-all policy this action owns on the user. */
export const QUARANTINE_POLICY_NAME = 'ir-quarantine';
/**
 * The user tag recording the keys this action deactivated, space-separated (IAM tag values may not hold
 * commas), so release reactivates exactly those.
 */
export const DEACTIVATED_KEYS_TAG = 'ir:deactivated-keys';

export const QUARANTINE_POLICY = {
  Version: '2012-10-17',
  Statement: [{ Sid: 'IncidentResponseQuarantine', Effect: 'Deny', Action: '*', Resource: '*' }],
} as const;

const input = z.strictObject({
  target: z
    .string()
    .regex(TARGET_KINDS['iam-user'].pattern, `an IAM user name like ${TARGET_KINDS['iam-user'].example}`),
  /** Also make every Active access key of the user Inactive (recorded, so release reactivates exactly those). */
  deactivateKeys: z.boolean().optional(),
  /** Refused: deleting the login profile is irreversible; that is `disable-console-login` (approval only). */
  disableConsole: z.boolean().optional(),
});
export type QuarantineIamUserInput = z.infer<typeof input>;

interface UserState {
  readonly recorded: readonly string[];
  readonly policy: unknown;
}

function recordedKeys(tags: readonly Tag[]): string[] {
  const value = tags.find((t) => t.Key === DEACTIVATED_KEYS_TAG)?.Value ?? '';
  return value.split(/\s+/).filter((id) => id !== '');
}

function statuses(keys: readonly AccessKeyMetadata[]): Record<string, string> {
  return Object.fromEntries(keys.map((k) => [k.AccessKeyId ?? '', k.Status ?? 'unknown']));
}

function listKeys(ctx: ActionContext, userName: string, why: string): Promise<AccessKeyMetadata[]> {
  return readAllPages<ListAccessKeysCommandOutput, AccessKeyMetadata>(
    ctx,
    (marker) => new ListAccessKeysCommand({ UserName: userName, ...markerOf(marker) }),
    (page) => page.AccessKeyMetadata,
    why,
  );
}

async function readPolicy(ctx: ActionContext, userName: string, why: string): Promise<unknown> {
  const existing = await readIfExists<GetUserPolicyCommandOutput>(
    ctx,
    'iam',
    new GetUserPolicyCommand({ UserName: userName, PolicyName: QUARANTINE_POLICY_NAME }),
    why,
  );
  return existing === undefined ? undefined : (decodePolicy(existing.PolicyDocument) ?? null);
}

/** Protected guard, the recorded keys and the current policy; or the refusal. */
async function readUser(ctx: ActionContext, userName: string): Promise<UserState | ActionOutcome> {
  const tags = await readAllPages<ListUserTagsCommandOutput, Tag>(
    ctx,
    (marker) => new ListUserTagsCommand({ UserName: userName, ...markerOf(marker) }),
    (page) => page.Tags,
    'check the user for the protected tag and read the keys an earlier quarantine deactivated',
  );
  if (isProtected(tags, ctx.protectedTag)) {
    return outcome(ctx, NAME, userName, 'refused', protectedRefusal(ctx, `IAM user ${userName}`));
  }
  const policy = await readPolicy(ctx, userName, 'read an earlier quarantine policy');
  return { recorded: recordedKeys(tags), policy };
}

function isOutcome(value: UserState | ActionOutcome): value is ActionOutcome {
  return 'status' in value;
}

async function quarantine(ctx: ActionContext, args: QuarantineIamUserInput): Promise<ActionOutcome> {
  const userName = args.target;
  const release = releaseCommand(NAME, ctx, userName);
  if (args.disableConsole) {
    return outcome(ctx, NAME, userName, 'refused', {
      reason:
        'disableConsole: deleting the login profile cannot be undone, so it is not part of this reversible action; run disable-console-login (approval only)',
      refusal: 'invalid-input',
    });
  }
  const user = await readUser(ctx, userName);
  if (isOutcome(user)) return user;
  const policyInPlace = sameJson(user.policy, QUARANTINE_POLICY);
  const keys = args.deactivateKeys
    ? await listKeys(ctx, userName, 'find the Active access keys of the user')
    : [];
  const active = keys.filter((k) => k.Status === 'Active').map((k) => k.AccessKeyId ?? '');
  const toReactivate = [...new Set([...user.recorded, ...active])];
  const observedBase = {
    policyName: QUARANTINE_POLICY_NAME,
    deactivatedKeys: active,
    keysReactivatedOnRelease: toReactivate,
    ...(args.deactivateKeys ? { keys: statuses(keys) } : {}),
  };
  if (policyInPlace && active.length === 0) {
    return outcome(ctx, NAME, userName, 'already-done', {
      reason: `the user already has the ${QUARANTINE_POLICY_NAME} deny-all policy${args.deactivateKeys ? ' and no Active key' : ''}`,
      observed: observedBase,
      release,
    });
  }
  if (!policyInPlace) {
    await write(
      ctx,
      'iam',
      new PutUserPolicyCommand({
        UserName: userName,
        PolicyName: QUARANTINE_POLICY_NAME,
        PolicyDocument: JSON.stringify(QUARANTINE_POLICY),
      }),
      'attach the inline deny-all quarantine policy',
    );
  }
  if (active.length > 0) {
    // Record first: if a deactivation fails half-way, release still knows every key it may have to reactivate.
    await write(
      ctx,
      'iam',
      new TagUserCommand({
        UserName: userName,
        Tags: [{ Key: DEACTIVATED_KEYS_TAG, Value: toReactivate.join(' ') }],
      }),
      'record which keys the quarantine deactivates, so release reactivates exactly those',
    );
    for (const id of active) {
      await write(
        ctx,
        'iam',
        new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: id, Status: 'Inactive' }),
        `deactivate access key ${id} (not deleted)`,
      );
    }
  }
  if (ctx.dryRun) {
    return outcome(ctx, NAME, userName, 'dry-run', {
      reason: `would quarantine ${userName}${active.length > 0 ? ` and deactivate ${active.join(', ')}` : ''}`,
      observed: observedBase,
      release,
    });
  }
  const policyAfter = await readPolicy(ctx, userName, 'verify the quarantine policy');
  const keysAfter = active.length > 0 ? await listKeys(ctx, userName, 'verify the keys are Inactive') : keys;
  const stillActive = active.filter((id) =>
    keysAfter.some((k) => k.AccessKeyId === id && k.Status !== 'Inactive'),
  );
  const policyOk = sameJson(policyAfter, QUARANTINE_POLICY);
  const observed = { ...observedBase, ...(args.deactivateKeys ? { keys: statuses(keysAfter) } : {}) };
  if (!policyOk || stillActive.length > 0) {
    const problems = [
      ...(policyOk ? [] : [`${QUARANTINE_POLICY_NAME} does not read back as written`]),
      ...(stillActive.length > 0 ? [`keys still Active: ${stillActive.join(', ')}`] : []),
    ];
    return outcome(ctx, NAME, userName, 'failed', {
      reason: `the writes succeeded but ${problems.join('; ')}`,
      verified: false,
      observed,
      release,
    });
  }
  return outcome(ctx, NAME, userName, 'done', { verified: true, observed, release });
}

async function releaseUser(ctx: ActionContext, userName: string): Promise<ActionOutcome> {
  const user = await readUser(ctx, userName);
  if (isOutcome(user)) return user;
  if (user.policy === undefined && user.recorded.length === 0) {
    return outcome(ctx, NAME, userName, 'already-done', {
      reason: `the user has no ${QUARANTINE_POLICY_NAME} policy and no keys recorded as deactivated`,
    });
  }
  if (user.policy !== undefined) {
    await write(
      ctx,
      'iam',
      new DeleteUserPolicyCommand({ UserName: userName, PolicyName: QUARANTINE_POLICY_NAME }),
      'remove the quarantine policy',
    );
  }
  const keys = user.recorded.length > 0 ? await listKeys(ctx, userName, 'read the recorded keys') : [];
  const gone = user.recorded.filter((id) => !keys.some((k) => k.AccessKeyId === id));
  const reactivate = keys.filter(
    (k) => user.recorded.includes(k.AccessKeyId ?? '') && k.Status === 'Inactive',
  );
  for (const key of reactivate) {
    await write(
      ctx,
      'iam',
      new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: key.AccessKeyId, Status: 'Active' }),
      `reactivate access key ${key.AccessKeyId ?? ''}, which the quarantine deactivated`,
    );
  }
  if (user.recorded.length > 0) {
    await write(
      ctx,
      'iam',
      new UntagUserCommand({ UserName: userName, TagKeys: [DEACTIVATED_KEYS_TAG] }),
      'drop the record of deactivated keys',
    );
  }
  const observedBase = {
    policyName: QUARANTINE_POLICY_NAME,
    reactivatedKeys: reactivate.map((k) => k.AccessKeyId ?? ''),
    ...(gone.length > 0 ? { recordedKeysNoLongerExisting: gone } : {}),
  };
  if (ctx.dryRun) {
    return outcome(ctx, NAME, userName, 'dry-run', {
      reason: 'would lift the quarantine',
      observed: observedBase,
    });
  }
  const policyAfter = await readPolicy(ctx, userName, 'verify the quarantine policy is gone');
  const keysAfter =
    user.recorded.length > 0 ? await listKeys(ctx, userName, 'verify the keys are Active') : [];
  const notActive = user.recorded.filter((id) =>
    keysAfter.some((k) => k.AccessKeyId === id && k.Status !== 'Active'),
  );
  const observed = { ...observedBase, ...(keysAfter.length > 0 ? { keys: statuses(keysAfter) } : {}) };
  if (policyAfter !== undefined || notActive.length > 0) {
    const problems = [
      ...(policyAfter === undefined ? [] : [`${QUARANTINE_POLICY_NAME} is still on the user`]),
      ...(notActive.length > 0 ? [`keys not Active: ${notActive.join(', ')}`] : []),
    ];
    return outcome(ctx, NAME, userName, 'failed', {
      reason: `the writes succeeded but ${problems.join('; ')}`,
      verified: false,
      observed,
    });
  }
  return outcome(ctx, NAME, userName, 'done', { verified: true, observed });
}

export const quarantineIamUserAction: ActionModule<QuarantineIamUserInput> = {
  name: NAME,
  summary:
    'Quarantines an IAM user with an inline deny-all policy, optionally deactivating its access keys; release lifts it.',
  docs: `# quarantine-iam-user

Target: an IAM user name. Options: \`deactivateKeys\` (default false), \`disableConsole\` (refused).

Puts the inline policy \`${QUARANTINE_POLICY_NAME}\` (\`Deny *\` on \`*\`) on the user. An explicit deny
wins over every allow, so every request signed with the user's keys or made in its console session is
denied from then on, and the policy can simply be removed again.

## Steps

1. \`disableConsole: true\` is **refused** before any call: deleting the login profile cannot be undone,
   so it is the separate \`disable-console-login\` action, which only runs after an approval.
2. \`ListUserTags\`: a user carrying the protected tag (default \`ir:protected=true\`) is **refused**.
   The tag \`${DEACTIVATED_KEYS_TAG}\` holds the keys an earlier run deactivated.
3. \`GetUserPolicy ${QUARANTINE_POLICY_NAME}\` (URL-encoded document, decoded and compared).
4. With \`deactivateKeys\`: \`ListAccessKeys\` finds the user's \`Active\` keys.
5. Policy already in place and no \`Active\` key to deactivate: **already-done**, nothing written.
6. \`PutUserPolicy ${QUARANTINE_POLICY_NAME}\` (when missing or different).
7. With keys to deactivate: \`TagUser ${DEACTIVATED_KEYS_TAG}=<key ids, space-separated>\` (the earlier
   record plus these keys; written before deactivating, so a failure half-way is still releasable), then
   \`UpdateAccessKey Status=Inactive\` for each of them. Keys are never deleted. Keys that were already
   inactive are not recorded, so release leaves them inactive.
8. Read-back: \`GetUserPolicy\` and (with keys) \`ListAccessKeys\`. **done** with \`verified: true\` only
   when the policy reads back as written and every deactivated key is \`Inactive\`; otherwise **failed**.

\`observed.deactivatedKeys\` lists the keys this run deactivated; \`observed.keysReactivatedOnRelease\`
the ones release will reactivate. A dry run makes the reads and lists the writes it would make.

## Release

\`npm run -s cli -- release --action quarantine-iam-user ... --target <user>\`: \`ListUserTags\`
(protected guard and the recorded keys), \`GetUserPolicy\`, \`DeleteUserPolicy ${QUARANTINE_POLICY_NAME}\`,
\`UpdateAccessKey Status=Active\` for exactly the recorded keys that still exist and are inactive,
\`UntagUser ${DEACTIVATED_KEYS_TAG}\`, then the read-back. Nothing to undo: **already-done**.
`,
  targetKind: 'iam-user',
  input,
  permissions: {
    execute: [
      'iam:ListUserTags',
      'iam:GetUserPolicy',
      'iam:PutUserPolicy',
      'iam:ListAccessKeys',
      'iam:TagUser',
      'iam:UpdateAccessKey',
    ],
    release: [
      'iam:ListUserTags',
      'iam:GetUserPolicy',
      'iam:DeleteUserPolicy',
      'iam:ListAccessKeys',
      'iam:UpdateAccessKey',
      'iam:UntagUser',
    ],
  },
  containment: true,
  irreversible: false,
  execute(args, ctx) {
    return failOnAwsError(ctx, NAME, args.target, 'execute', () => quarantine(ctx, args));
  },
  release(args, ctx) {
    return failOnAwsError(ctx, NAME, args.target, 'release', () => releaseUser(ctx, args.target));
  },
};
