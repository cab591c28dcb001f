import {
  DeleteLoginProfileCommand,
  GetLoginProfileCommand,
  type GetLoginProfileCommandOutput,
  ListUserTagsCommand,
  type ListUserTagsCommandOutput,
  type Tag,
} from '@aws-sdk/client-iam';
import * as z from 'zod';
import { isProtected, outcome } from '../context.js';
import type { ActionContext, ActionModule, ActionOutcome } from '../types.js';
import { TARGET_KINDS } from '../types.js';
import {
  failOnAwsError,
  markerOf,
  protectedRefusal,
  readAllPages,
  readIfExists,
  write,
} from './call-helpers.js';

const NAME = 'disable-console-login';

const input = z.strictObject({
  target: z
    .string()
    .regex(TARGET_KINDS['iam-user'].pattern, `an IAM user name like ${TARGET_KINDS['iam-user'].example}`),
});
export type DisableConsoleLoginInput = z.infer<typeof input>;

const IRREVERSIBLE = { irreversible: true } as const;

function readProfile(ctx: ActionContext, userName: string, why: string) {
  return readIfExists<GetLoginProfileCommandOutput>(
    ctx,
    'iam',
    new GetLoginProfileCommand({ UserName: userName }),
    why,
  );
}

async function disable(ctx: ActionContext, userName: string): Promise<ActionOutcome> {
  // ListUserTags also proves the user exists, so a missing login profile below means "no password".
  const tags = await readAllPages<ListUserTagsCommandOutput, Tag>(
    ctx,
    (marker) => new ListUserTagsCommand({ UserName: userName, ...markerOf(marker) }),
    (page) => page.Tags,
    'check the user for the protected tag',
  );
  if (isProtected(tags, ctx.protectedTag)) {
    return outcome(ctx, NAME, userName, 'refused', {
      ...protectedRefusal(ctx, `IAM user ${userName}`),
      ...IRREVERSIBLE,
    });
  }
  const profile = await readProfile(ctx, userName, 'find the console password (login profile)');
  if (profile === undefined) {
    return outcome(ctx, NAME, userName, 'already-done', {
      reason: 'the user has no console password (login profile)',
      ...IRREVERSIBLE,
    });
  }
  const observed = {
    loginProfileCreated: profile.LoginProfile?.CreateDate?.toISOString() ?? 'unknown',
    passwordResetRequired: profile.LoginProfile?.PasswordResetRequired ?? false,
  };
  await write(
    ctx,
    'iam',
    new DeleteLoginProfileCommand({ UserName: userName }),
    'delete the console password (irreversible: a new password has to be set to restore console access)',
  );
  if (ctx.dryRun) {
    return outcome(ctx, NAME, userName, 'dry-run', {
      reason: 'would delete the console password (irreversible)',
      observed,
      ...IRREVERSIBLE,
    });
  }
  const after = await readProfile(ctx, userName, 'verify the login profile is gone');
  if (after !== undefined) {
    return outcome(ctx, NAME, userName, 'failed', {
      reason: 'DeleteLoginProfile succeeded but the login profile still exists',
      verified: false,
      observed,
      ...IRREVERSIBLE,
    });
  }
  return outcome(ctx, NAME, userName, 'done', {
    verified: true,
    observed: { ...observed, loginProfile: 'absent' },
    ...IRREVERSIBLE,
  });
}

export const disableConsoleLoginAction: ActionModule<DisableConsoleLoginInput> = {
  name: NAME,
  summary: 'Deletes the console password (login profile) of an IAM user. Irreversible: approval only.',
  docs: `# disable-console-login

Target: an IAM user name. **Irreversible**: the password is gone; it only ever runs after an approval.

Deletes the user's login profile, so nobody can sign in to the console as that user. Sessions already
open in the console are not ended by this; quarantine the user (\`quarantine-iam-user\`) for that.

## Steps

1. \`ListUserTags\`: the user must exist; a user carrying the protected tag (default
   \`ir:protected=true\`) is **refused**.
2. \`GetLoginProfile\`: no login profile (\`NoSuchEntity\`) means **already-done**, nothing written.
3. \`DeleteLoginProfile\`.
4. \`GetLoginProfile\` again: **done** with \`verified: true\` when it answers \`NoSuchEntity\`;
   otherwise **failed**.

A dry run makes the reads and lists the \`DeleteLoginProfile\` it would make.

## Release

None. Restoring console access means setting a new password (\`CreateLoginProfile\`), which an
administrator does by hand after the incident, with a password reset required.
`,
  targetKind: 'iam-user',
  input,
  permissions: {
    execute: ['iam:ListUserTags', 'iam:GetLoginProfile', 'iam:DeleteLoginProfile'],
    release: [],
  },
  containment: true,
  irreversible: true,
  execute(args, ctx) {
    return failOnAwsError(ctx, NAME, args.target, 'irreversible', () => disable(ctx, args.target));
  },
};
