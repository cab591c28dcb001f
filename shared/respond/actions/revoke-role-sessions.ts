import {
  DeleteRolePolicyCommand,
  GetRoleCommand,
  type GetRoleCommandOutput,
  GetRolePolicyCommand,
  type GetRolePolicyCommandOutput,
  type InstanceProfile,
  ListInstanceProfilesForRoleCommand,
  type ListInstanceProfilesForRoleCommandOutput,
  ListRoleTagsCommand,
  type ListRoleTagsCommandOutput,
  PutRolePolicyCommand,
  type Tag,
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
  read,
  readAllPages,
  readIfExists,
  sameJson,
  write,
} from './call-helpers.js';

const NAME = 'revoke-role-sessions';
/** The inline policy this action owns on the role (the console's equivalent is `AWSRevokeOlderSessions`). */
export const REVOKE_POLICY_NAME = 'ir-revoke-sessions';
/** A revocation issued less than this long ago is not re-issued (a second run is already-done). */
export const REISSUE_AFTER_MS = 60_000;

const input = z.strictObject({
  target: z
    .string()
    .regex(TARGET_KINDS['iam-role'].pattern, `an IAM role name like ${TARGET_KINDS['iam-role'].example}`),
});
export type RevokeRoleSessionsInput = z.infer<typeof input>;

/** Deny everything to credentials of the role issued before `issuedBefore` (temporary credentials only). */
export function revokePolicy(issuedBefore: string): object {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'RevokeSessionsIssuedBefore',
        Effect: 'Deny',
        Action: ['*'],
        Resource: ['*'],
        Condition: { DateLessThan: { 'aws:TokenIssueTime': issuedBefore } },
      },
    ],
  };
}

/** The cut-off time of a revocation policy this action wrote, or undefined when the document is not one. */
function issuedBeforeOf(document: unknown): string | undefined {
  if (typeof document !== 'object' || document === null || !('Statement' in document)) return undefined;
  const statements = Array.isArray(document.Statement) ? document.Statement : [document.Statement];
  const only: unknown = statements.length === 1 ? statements[0] : undefined;
  if (typeof only !== 'object' || only === null || !('Condition' in only)) return undefined;
  const condition = only.Condition;
  if (typeof condition !== 'object' || condition === null || !('DateLessThan' in condition)) return undefined;
  const dateLessThan = condition.DateLessThan;
  if (typeof dateLessThan !== 'object' || dateLessThan === null || !('aws:TokenIssueTime' in dateLessThan)) {
    return undefined;
  }
  const time = dateLessThan['aws:TokenIssueTime'];
  if (typeof time !== 'string' || Number.isNaN(Date.parse(time))) return undefined;
  return sameJson(document, revokePolicy(time)) ? time : undefined;
}

function instanceProfileWarning(profiles: readonly string[]): string | undefined {
  if (profiles.length === 0) return undefined;
  return `warning: the role is the role of instance profile(s) ${profiles.join(', ')}: every EC2 instance using them loses its current role credentials until it fetches new ones from the instance metadata service`;
}

async function readPolicy(ctx: ActionContext, roleName: string, why: string): Promise<unknown> {
  const existing = await readIfExists<GetRolePolicyCommandOutput>(
    ctx,
    'iam',
    new GetRolePolicyCommand({ RoleName: roleName, PolicyName: REVOKE_POLICY_NAME }),
    why,
  );
  return existing === undefined ? undefined : (decodePolicy(existing.PolicyDocument) ?? null);
}

async function guard(ctx: ActionContext, roleName: string): Promise<ActionOutcome | undefined> {
  const tags = await readAllPages<ListRoleTagsCommandOutput, Tag>(
    ctx,
    (marker) => new ListRoleTagsCommand({ RoleName: roleName, ...markerOf(marker) }),
    (page) => page.Tags,
    'check the role for the protected tag',
  );
  if (isProtected(tags, ctx.protectedTag)) {
    return outcome(ctx, NAME, roleName, 'refused', protectedRefusal(ctx, `IAM role ${roleName}`));
  }
  return undefined;
}

async function execute(ctx: ActionContext, roleName: string): Promise<ActionOutcome> {
  const release = releaseCommand(NAME, ctx, roleName);
  const role = await read<GetRoleCommandOutput>(
    ctx,
    'iam',
    new GetRoleCommand({ RoleName: roleName }),
    'check the role exists and is not service-linked',
  );
  if (role.Role?.Path?.startsWith('/aws-service-role/')) {
    return outcome(ctx, NAME, roleName, 'refused', {
      reason: 'a service-linked role: only AWS may change its policies',
      refusal: 'not-allowed',
    });
  }
  const refused = await guard(ctx, roleName);
  if (refused) return refused;
  const profiles = (
    await readAllPages<ListInstanceProfilesForRoleCommandOutput, InstanceProfile>(
      ctx,
      (marker) => new ListInstanceProfilesForRoleCommand({ RoleName: roleName, ...markerOf(marker) }),
      (page) => page.InstanceProfiles,
      'find instance profiles (and so EC2 instances) that use the role',
    )
  ).map((p) => p.InstanceProfileName ?? '');
  const warning = instanceProfileWarning(profiles);
  const withWarning = (text: string | undefined): { reason?: string } => {
    const reason = [text, warning].filter((s) => s !== undefined).join('; ');
    return reason === '' ? {} : { reason };
  };
  const now = ctx.now();
  const current = issuedBeforeOf(await readPolicy(ctx, roleName, 'read an earlier revocation'));
  if (current !== undefined && Date.parse(current) >= now.getTime() - REISSUE_AFTER_MS) {
    return outcome(ctx, NAME, roleName, 'already-done', {
      ...withWarning(`sessions issued before ${current} are already revoked`),
      observed: { policyName: REVOKE_POLICY_NAME, tokenIssuedBefore: current, instanceProfiles: profiles },
      release,
    });
  }
  const issuedBefore = now.toISOString();
  const policy = revokePolicy(issuedBefore);
  await write(
    ctx,
    'iam',
    new PutRolePolicyCommand({
      RoleName: roleName,
      PolicyName: REVOKE_POLICY_NAME,
      PolicyDocument: JSON.stringify(policy),
    }),
    `deny every action to sessions of the role issued before ${issuedBefore}`,
  );
  const observedBase = {
    policyName: REVOKE_POLICY_NAME,
    tokenIssuedBefore: issuedBefore,
    instanceProfiles: profiles,
    ...(current !== undefined ? { previousTokenIssuedBefore: current } : {}),
  };
  if (ctx.dryRun) {
    return outcome(ctx, NAME, roleName, 'dry-run', {
      ...withWarning(`would revoke sessions issued before ${issuedBefore}`),
      observed: observedBase,
      release,
    });
  }
  const after = await readPolicy(ctx, roleName, 'verify the revocation policy is in place');
  const verified = sameJson(after, policy);
  if (!verified) {
    return outcome(ctx, NAME, roleName, 'failed', {
      reason: `PutRolePolicy succeeded but ${REVOKE_POLICY_NAME} does not read back as written`,
      verified: false,
      observed: { ...observedBase, policyRead: after ?? 'absent' },
      release,
    });
  }
  return outcome(ctx, NAME, roleName, 'done', {
    ...withWarning(undefined),
    verified: true,
    observed: observedBase,
    release,
  });
}

async function releaseRole(ctx: ActionContext, roleName: string): Promise<ActionOutcome> {
  const refused = await guard(ctx, roleName);
  if (refused) return refused;
  const existing = await readPolicy(ctx, roleName, 'find the revocation policy');
  if (existing === undefined) {
    return outcome(ctx, NAME, roleName, 'already-done', {
      reason: `the role has no ${REVOKE_POLICY_NAME} policy`,
    });
  }
  await write(
    ctx,
    'iam',
    new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: REVOKE_POLICY_NAME }),
    'remove the revocation policy (sessions issued before it work again unless expired)',
  );
  if (ctx.dryRun) {
    return outcome(ctx, NAME, roleName, 'dry-run', { reason: `would delete ${REVOKE_POLICY_NAME}` });
  }
  const after = await readPolicy(ctx, roleName, 'verify the revocation policy is gone');
  if (after !== undefined) {
    return outcome(ctx, NAME, roleName, 'failed', {
      reason: `DeleteRolePolicy succeeded but ${REVOKE_POLICY_NAME} is still on the role`,
      verified: false,
    });
  }
  return outcome(ctx, NAME, roleName, 'done', {
    verified: true,
    observed: { policyName: REVOKE_POLICY_NAME },
  });
}

export const revokeRoleSessionsAction: ActionModule<RevokeRoleSessionsInput> = {
  name: NAME,
  summary: 'Revokes every session of an IAM role issued before now (inline deny on aws:TokenIssueTime).',
  docs: `# revoke-role-sessions

Target: an IAM role name.

Puts the inline policy \`${REVOKE_POLICY_NAME}\` on the role: \`Deny *\` on \`*\` with
\`DateLessThan aws:TokenIssueTime = <now>\`, the policy the IAM console's "Revoke active sessions"
writes. Every temporary credential of the role issued before that instant is denied everything; new
sessions (issued after it) work. Long-term credentials are unaffected (roles have none).

## Steps

1. \`GetRole\`: the role must exist; a service-linked role (\`/aws-service-role/\`) is **refused**.
2. \`ListRoleTags\`: a role carrying the protected tag (default \`ir:protected=true\`) is **refused**.
   Tag the responder and hub roles themselves: revoking the responder's own sessions cuts the run short.
3. \`ListInstanceProfilesForRole\`: when instance profiles use the role the outcome carries a
   **warning**: every EC2 instance using them loses its current credentials until it fetches new ones.
4. \`GetRolePolicy ${REVOKE_POLICY_NAME}\`: a revocation issued less than ${REISSUE_AFTER_MS / 1000} seconds
   ago makes a second run **already-done** with no write. An older one is re-issued with the new time
   (sessions obtained since the first revocation are cut too); \`observed.previousTokenIssuedBefore\`
   shows the old cut-off.
5. \`PutRolePolicy ${REVOKE_POLICY_NAME}\` with the cut-off time.
6. \`GetRolePolicy\` (the document comes back URL-encoded): **done** with \`verified: true\` only when it
   reads back as written; otherwise **failed**.

A dry run makes the reads and lists the \`PutRolePolicy\` it would make.

## Release

\`npm run -s cli -- release --action revoke-role-sessions ... --target <role>\`: \`ListRoleTags\`
(protected guard), then \`DeleteRolePolicy ${REVOKE_POLICY_NAME}\` (only that policy) and a read-back
that it is gone. No policy: **already-done**. Sessions issued before the cut-off that have not expired
work again.
`,
  targetKind: 'iam-role',
  input,
  permissions: {
    execute: [
      'iam:GetRole',
      'iam:ListRoleTags',
      'iam:ListInstanceProfilesForRole',
      'iam:GetRolePolicy',
      'iam:PutRolePolicy',
    ],
    release: ['iam:ListRoleTags', 'iam:GetRolePolicy', 'iam:DeleteRolePolicy'],
  },
  containment: true,
  irreversible: false,
  execute(args, ctx) {
    return failOnAwsError(ctx, NAME, args.target, 'execute', () => execute(ctx, args.target));
  },
  release(args, ctx) {
    return failOnAwsError(ctx, NAME, args.target, 'release', () => releaseRole(ctx, args.target));
  },
};
