import {
  ArchiveFindingsCommand,
  type Finding,
  GetFindingsCommand,
  type GetFindingsCommandOutput,
  ListDetectorsCommand,
  type ListDetectorsCommandOutput,
  UnarchiveFindingsCommand,
  UpdateFindingsFeedbackCommand,
} from '@aws-sdk/client-guardduty';
import * as z from 'zod';
import { incidentLabel, outcome, releaseCommand } from '../context.js';
import type { ActionContext, ActionModule, ActionOutcome } from '../types.js';
import { TARGET_KINDS } from '../types.js';
import { failOnAwsError, read, write } from './call-helpers.js';

const NAME = 'archive-guardduty-finding';

const input = z.strictObject({
  target: z
    .string()
    .regex(
      TARGET_KINDS['guardduty-finding'].pattern,
      `a finding id like ${TARGET_KINDS['guardduty-finding'].example}`,
    ),
  /** The detector holding the finding; default: the region's detector (ListDetectors). */
  detectorId: z
    .string()
    .regex(/^[0-9a-zA-Z]{1,300}$/, 'a GuardDuty detector id')
    .optional(),
  /** Feedback recorded with the finding before archiving it; default USEFUL (it led to a containment). */
  feedback: z.enum(['USEFUL', 'NOT_USEFUL']).optional(),
  /** Feedback comment; default: names the incident and the reason. */
  comments: z.string().min(1).max(1000).optional(),
});
export type ArchiveGuardDutyFindingInput = z.infer<typeof input>;

/** The detector to use, or a failed outcome when the region has none. */
async function detectorOf(
  ctx: ActionContext,
  args: ArchiveGuardDutyFindingInput,
): Promise<string | ActionOutcome> {
  if (args.detectorId !== undefined) return args.detectorId;
  const listed = await read<ListDetectorsCommandOutput>(
    ctx,
    'guardduty',
    new ListDetectorsCommand({}),
    'find the GuardDuty detector of the region',
  );
  const first = listed.DetectorIds?.[0];
  if (first === undefined) {
    return outcome(ctx, NAME, args.target, 'failed', {
      reason: `GuardDuty has no detector in ${ctx.region}`,
    });
  }
  return first;
}

async function getFinding(
  ctx: ActionContext,
  detectorId: string,
  findingId: string,
  why: string,
): Promise<Finding | undefined> {
  const found = await read<GetFindingsCommandOutput>(
    ctx,
    'guardduty',
    new GetFindingsCommand({ DetectorId: detectorId, FindingIds: [findingId] }),
    why,
  );
  return found.Findings?.find((f) => f.Id === findingId);
}

function describe(finding: Finding): Record<string, unknown> {
  return {
    type: finding.Type ?? 'unknown',
    severity: finding.Severity ?? 'unknown',
    archived: finding.Service?.Archived ?? false,
    ...(finding.Service?.UserFeedback !== undefined ? { feedback: finding.Service.UserFeedback } : {}),
  };
}

async function setArchived(
  ctx: ActionContext,
  args: ArchiveGuardDutyFindingInput,
  archived: boolean,
): Promise<ActionOutcome> {
  const findingId = args.target;
  const withRelease = archived ? { release: releaseCommand(NAME, ctx, findingId) } : {};
  const detector = await detectorOf(ctx, args);
  if (typeof detector !== 'string') return detector;
  const finding = await getFinding(
    ctx,
    detector,
    findingId,
    'check the finding exists and whether it is archived',
  );
  if (!finding) {
    return outcome(ctx, NAME, findingId, 'failed', {
      reason: `GuardDuty detector ${detector} has no finding ${findingId}`,
    });
  }
  if ((finding.Service?.Archived ?? false) === archived) {
    return outcome(ctx, NAME, findingId, 'already-done', {
      reason: `the finding is already ${archived ? 'archived' : 'not archived'}`,
      observed: { detectorId: detector, ...describe(finding) },
      ...withRelease,
    });
  }
  const ids = { DetectorId: detector, FindingIds: [findingId] };
  if (archived) {
    const comments =
      args.comments ??
      `Contained by incident response (incident ${incidentLabel(ctx)}): ${ctx.reason}`.slice(0, 1000);
    await write(
      ctx,
      'guardduty',
      new UpdateFindingsFeedbackCommand({ ...ids, Feedback: args.feedback ?? 'USEFUL', Comments: comments }),
      'record feedback on the finding',
    );
    await write(ctx, 'guardduty', new ArchiveFindingsCommand(ids), 'archive the finding');
  } else {
    await write(ctx, 'guardduty', new UnarchiveFindingsCommand(ids), 'unarchive the finding');
  }
  if (ctx.dryRun) {
    return outcome(ctx, NAME, findingId, 'dry-run', {
      reason: archived ? 'would give feedback on and archive the finding' : 'would unarchive the finding',
      observed: { detectorId: detector, ...describe(finding) },
      ...withRelease,
    });
  }
  const after = await getFinding(
    ctx,
    detector,
    findingId,
    `verify the finding is ${archived ? '' : 'un'}archived`,
  );
  const observed = { detectorId: detector, ...(after ? describe(after) : { finding: 'absent' }) };
  if ((after?.Service?.Archived ?? !archived) !== archived) {
    return outcome(ctx, NAME, findingId, 'failed', {
      reason: `the call succeeded but the finding does not read back as ${archived ? 'archived' : 'unarchived'}`,
      verified: false,
      observed,
      ...withRelease,
    });
  }
  return outcome(ctx, NAME, findingId, 'done', { verified: true, observed, ...withRelease });
}

export const archiveGuardDutyFindingAction: ActionModule<ArchiveGuardDutyFindingInput> = {
  name: NAME,
  summary:
    'Gives feedback on a GuardDuty finding and archives it (after a containment); release unarchives it.',
  docs: `# archive-guardduty-finding

Target: a GuardDuty finding id. Options: \`detectorId\` (default: the region's detector),
\`feedback\` (\`USEFUL\` or \`NOT_USEFUL\`, default \`USEFUL\`), \`comments\` (default: names the
incident and the reason).

Bookkeeping after a successful containment: it does not count toward the blast-radius cap. In an
organisation only the GuardDuty administrator account may archive findings; run it there.

## Steps

1. \`ListDetectors\` (unless \`detectorId\` is given): the region's detector. None: **failed**.
2. \`GetFindings\`: the finding must exist (otherwise **failed**); an archived finding is
   **already-done** with no write.
3. \`UpdateFindingsFeedback\` with the feedback and comment.
4. \`ArchiveFindings\`.
5. \`GetFindings\` again: **done** with \`verified: true\` when \`service.archived\` is true; otherwise
   **failed**.

A dry run makes the reads and lists the two writes it would make.

## Release

\`npm run -s cli -- release --action archive-guardduty-finding ... --target <finding id>\`:
\`ListDetectors\`, \`GetFindings\`, \`UnarchiveFindings\` and the read-back. A finding that is not
archived is **already-done**. The feedback stays recorded.
`,
  targetKind: 'guardduty-finding',
  input,
  permissions: {
    execute: [
      'guardduty:ListDetectors',
      'guardduty:GetFindings',
      'guardduty:UpdateFindingsFeedback',
      'guardduty:ArchiveFindings',
    ],
    release: ['guardduty:ListDetectors', 'guardduty:GetFindings', 'guardduty:UnarchiveFindings'],
  },
  containment: false,
  irreversible: false,
  execute(args, ctx) {
    return failOnAwsError(ctx, NAME, args.target, 'execute', () => setArchived(ctx, args, true));
  },
  release(args, ctx) {
    return failOnAwsError(ctx, NAME, args.target, 'release', () => setArchived(ctx, args, false));
  },
};
