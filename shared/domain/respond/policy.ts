import * as z from 'zod';
import { issuePath } from '../schema-helpers.js';
import { ACCOUNT_ID, TARGET_KINDS, type TargetKind } from './targets.js';

/**
 * The response policy: which actions apply to which findings and targets, and whether they run at once
 * (`auto`), wait for an approver (`approval`) or are only reported (`notify`). Declarative JSON, validated
 * here with errors that give the path of the bad key.
 */
export const MODES = ['auto', 'approval', 'notify'] as const;
export type Mode = (typeof MODES)[number];

const SEVERITIES = ['Informational', 'Low', 'Medium', 'High', 'Critical'] as const;
export type SeverityName = (typeof SEVERITIES)[number];

const targetKind = z.enum(Object.keys(TARGET_KINDS) as [TargetKind, ...TargetKind[]]);

const ruleSchema = z.strictObject({
  /** Free text shown in plans. */
  name: z.string().min(1),
  match: z.strictObject({
    /** Globs over the GuardDuty finding type / alert `FindingType`, e.g. `Backdoor:EC2/*`; absent = any. */
    findingTypes: z.array(z.string().min(1)).min(1).optional(),
    /** Lowest incident severity the rule applies to (Sentinel's names); absent = any. */
    minSeverity: z.enum(SEVERITIES).optional(),
    targetKinds: z.array(targetKind).min(1),
  }),
  actions: z
    .array(
      z.strictObject({
        action: z.string().min(1),
        mode: z.enum(MODES),
        options: z.looseObject({}).optional(),
      }),
    )
    .min(1),
});

export const policySchema = z.strictObject({
  version: z.literal(1),
  /** Accounts the responder may act in; an empty list refuses every account. */
  accounts: z.strictObject({
    allow: z.array(z.string().regex(ACCOUNT_ID, 'expected a 12-digit AWS account id')),
  }),
  protectedTag: z
    .strictObject({ key: z.string().min(1), value: z.string() })
    .default({ key: 'ir:protected', value: 'true' }),
  blastRadius: z
    .strictObject({ maxContainments: z.number().int().min(0), windowMinutes: z.number().int().min(1) })
    .default({ maxContainments: 5, windowMinutes: 15 }),
  rules: z.array(ruleSchema),
});
export type Policy = z.infer<typeof policySchema>;
export type PolicyRule = Policy['rules'][number];

export class PolicyError extends Error {
  override readonly name = 'PolicyError';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`policy ${path || '(root)'}: ${message}`);
  }
}

/** Validates a policy document; `knownActions` lets it refuse rules naming actions the catalogue lacks. */
export function parsePolicy(input: unknown, knownActions: readonly string[]): Policy {
  const parsed = policySchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PolicyError(issuePath(issue?.path ?? []), issue?.message ?? 'invalid policy');
  }
  parsed.data.rules.forEach((rule, r) => {
    rule.actions.forEach((step, a) => {
      if (!knownActions.includes(step.action)) {
        throw new PolicyError(
          `rules[${r}].actions[${a}].action`,
          `unknown action "${step.action}"; valid actions: ${knownActions.join(', ')}`,
        );
      }
    });
  });
  return parsed.data;
}

/** Glob with `*` (any run of characters) and `?` (one character), case-sensitive like finding types. */
export function globMatches(glob: string, value: string): boolean {
  const pattern = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${pattern}$`).test(value);
}

export function severityRank(severity: string | undefined): number {
  const index = SEVERITIES.findIndex((s) => s.toLowerCase() === (severity ?? '').toLowerCase());
  return index;
}
