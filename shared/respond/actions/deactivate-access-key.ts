import {
  type AccessKeyMetadata,
  GetAccessKeyLastUsedCommand,
  type GetAccessKeyLastUsedCommandOutput,
  ListAccessKeysCommand,
  type ListAccessKeysCommandOutput,
  ListUserTagsCommand,
  type ListUserTagsCommandOutput,
  type Tag,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import * as z from 'zod';
import { isProtected, outcome, releaseCommand } from '../context.js';
import type { ActionContext, ActionModule, ActionOutcome } from '../types.js';
import { TARGET_KINDS } from '../types.js';
import { failOnAwsError, markerOf, protectedRefusal, read, readAllPages, write } from './call-helpers.js';

const NAME = 'deactivate-access-key';

const input = z.strictObject({
  target: z
    .string()
    .regex(TARGET_KINDS['access-key'].pattern, `an access key id like ${TARGET_KINDS['access-key'].example}`),
});
export type DeactivateAccessKeyInput = z.infer<typeof input>;

type KeyStatus = 'Active' | 'Inactive';

/** Who owns the key and what its user's keys look like; or why nothing may be done. */
type Resolved =
  | { readonly kind: 'stop'; readonly outcome: ActionOutcome }
  | { readonly kind: 'key'; readonly userName: string; readonly keys: readonly AccessKeyMetadata[] };

async function resolve(ctx: ActionContext, accessKeyId: string): Promise<Resolved> {
  const lastUsed = await read<GetAccessKeyLastUsedCommandOutput>(
    ctx,
    'iam',
    new GetAccessKeyLastUsedCommand({ AccessKeyId: accessKeyId }),
    'find the IAM user that owns the access key',
  );
  const userName = lastUsed.UserName;
  if (userName === undefined || userName === '' || userName === 'root' || userName === '<root_account>') {
    return {
      kind: 'stop',
      outcome: outcome(ctx, NAME, accessKeyId, 'refused', {
        reason:
          'the access key belongs to the account root user: IAM actions cannot manage root access keys and automation must not; rotate them by hand as root',
        refusal: 'not-allowed',
      }),
    };
  }
  const tags = await readAllPages<ListUserTagsCommandOutput, Tag>(
    ctx,
    (marker) => new ListUserTagsCommand({ UserName: userName, ...markerOf(marker) }),
    (page) => page.Tags,
    'check the owning user for the protected tag',
  );
  if (isProtected(tags, ctx.protectedTag)) {
    return {
      kind: 'stop',
      outcome: outcome(ctx, NAME, accessKeyId, 'refused', {
        ...protectedRefusal(ctx, `IAM user ${userName} (owner of the key)`),
        observed: { userName },
      }),
    };
  }
  const keys = await listKeys(ctx, userName, 'read the status of the access key');
  return { kind: 'key', userName, keys };
}

function listKeys(ctx: ActionContext, userName: string, why: string): Promise<AccessKeyMetadata[]> {
  return readAllPages<ListAccessKeysCommandOutput, AccessKeyMetadata>(
    ctx,
    (marker) => new ListAccessKeysCommand({ UserName: userName, ...markerOf(marker) }),
    (page) => page.AccessKeyMetadata,
    why,
  );
}

function statuses(keys: readonly AccessKeyMetadata[]): Record<string, string> {
  return Object.fromEntries(keys.map((k) => [k.AccessKeyId ?? '', k.Status ?? 'unknown']));
}

/** Sets the key to `wanted`, idempotently, and reads it back. Shared by execute (Inactive) and release (Active). */
async function setStatus(ctx: ActionContext, accessKeyId: string, wanted: KeyStatus): Promise<ActionOutcome> {
  const release = releaseCommand(NAME, ctx, accessKeyId);
  const withRelease = wanted === 'Inactive' ? { release } : {};
  const resolved = await resolve(ctx, accessKeyId);
  if (resolved.kind === 'stop') return resolved.outcome;
  const { userName, keys } = resolved;
  const key = keys.find((k) => k.AccessKeyId === accessKeyId);
  if (!key) {
    return outcome(ctx, NAME, accessKeyId, 'failed', {
      reason: `ListAccessKeys for ${userName} does not list the key that GetAccessKeyLastUsed attributes to that user`,
      observed: { userName, keys: statuses(keys) },
    });
  }
  if (key.Status === wanted) {
    return outcome(ctx, NAME, accessKeyId, 'already-done', {
      reason: `access key of ${userName} is already ${wanted}`,
      observed: { userName, keys: statuses(keys) },
      ...withRelease,
    });
  }
  await write(
    ctx,
    'iam',
    new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: accessKeyId, Status: wanted }),
    wanted === 'Inactive'
      ? `deactivate access key ${accessKeyId} of ${userName} (only this key; it is not deleted)`
      : `reactivate access key ${accessKeyId} of ${userName}`,
  );
  if (ctx.dryRun) {
    return outcome(ctx, NAME, accessKeyId, 'dry-run', {
      reason: `would set access key of ${userName} ${wanted}`,
      observed: { userName, keys: statuses(keys) },
      ...withRelease,
    });
  }
  const after = await listKeys(ctx, userName, `verify the access key is ${wanted}`);
  const verified = after.some((k) => k.AccessKeyId === accessKeyId && k.Status === wanted);
  const observed = { userName, keys: statuses(after) };
  if (!verified) {
    return outcome(ctx, NAME, accessKeyId, 'failed', {
      reason: `UpdateAccessKey succeeded but the key does not read back as ${wanted}`,
      verified: false,
      observed,
      ...withRelease,
    });
  }
  return outcome(ctx, NAME, accessKeyId, 'done', { verified: true, observed, ...withRelease });
}

export const deactivateAccessKeyAction: ActionModule<DeactivateAccessKeyInput> = {
  name: NAME,
  summary: 'Deactivates one IAM access key (only the named key, never deleted); release reactivates it.',
  docs: `# deactivate-access-key

Target: an access key id (\`AKIA...\` or \`ASIA...\`).

Makes exactly the named key \`Inactive\`. Other keys of the same user are not touched, and the key is
never deleted: deletion cannot be undone and loses the trail (CloudTrail and last-used information
keep pointing at the key id).

## Steps

1. \`GetAccessKeyLastUsed\` finds the IAM user that owns the key. A key of the account root user (no
   user, or \`root\`) is **refused**: IAM cannot manage root keys and automation must not.
2. \`ListUserTags\` on that user: a user carrying the protected tag (default \`ir:protected=true\`) is
   **refused**.
3. \`ListAccessKeys\` on that user: when the key is already \`Inactive\` the outcome is
   **already-done** and nothing is written.
4. \`UpdateAccessKey Status=Inactive\` for that key, with the user name given explicitly (without it
   IAM would act on the caller).
5. \`ListAccessKeys\` again: the outcome is **done** (\`verified: true\`, with every key's status in
   \`observed\`) only when the key reads back \`Inactive\`; otherwise **failed**.

A dry run makes the reads of steps 1-3 and lists the \`UpdateAccessKey\` it would make.

## Release

\`npm run -s cli -- release --action deactivate-access-key ... --target <key id>\`: the same checks,
then \`UpdateAccessKey Status=Active\` and the same read-back. A key that is already active is
**already-done**.

## Notes

Deactivating a key does not end sessions already obtained with it through \`sts:GetSessionToken\` or
\`sts:AssumeRole\`; quarantine the user (\`quarantine-iam-user\`) or revoke role sessions
(\`revoke-role-sessions\`) for those.
`,
  targetKind: 'access-key',
  input,
  permissions: {
    execute: ['iam:GetAccessKeyLastUsed', 'iam:ListUserTags', 'iam:ListAccessKeys', 'iam:UpdateAccessKey'],
    release: ['iam:GetAccessKeyLastUsed', 'iam:ListUserTags', 'iam:ListAccessKeys', 'iam:UpdateAccessKey'],
  },
  containment: true,
  irreversible: false,
  execute(args, ctx) {
    return failOnAwsError(ctx, NAME, args.target, 'execute', () => setStatus(ctx, args.target, 'Inactive'));
  },
  release(args, ctx) {
    return failOnAwsError(ctx, NAME, args.target, 'release', () => setStatus(ctx, args.target, 'Active'));
  },
};
