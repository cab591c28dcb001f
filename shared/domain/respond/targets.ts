/**
 * Target kinds and their id formats, refused before any AWS call when they do not match. Pure data: shared
 * by the incident parser, the planner, the action catalogue and the CLI.
 */
export const TARGET_KINDS = {
  'ec2-instance': { pattern: /^i-[0-9a-f]{8,17}$/, example: 'i-0123456789abcdef0' },
  'access-key': { pattern: /^(AKIA|ASIA)[A-Z0-9]{16}$/, example: 'AKIAIOSFODNN7EXAMPLE' },
  'iam-role': { pattern: /^[\w+=,.@-]{1,64}$/, example: 'web-tier-role' },
  'iam-user': { pattern: /^[\w+=,.@-]{1,64}$/, example: 'alice' },
  'guardduty-finding': { pattern: /^[0-9a-f]{32}$/, example: '90b82273685661b9318f078d0851fe9a' },
} as const;
export type TargetKind = keyof typeof TARGET_KINDS;

export const ACCOUNT_ID = /^\d{12}$/;

/** Real AWS region names (commercial, GovCloud, China, ISO partitions), e.g. us-east-1, us-gov-west-1, cn-north-1. */
export const REGION =
  /^(us|eu|ap|sa|ca|me|af|il|mx|cn|us-gov|us-iso|us-isob|eu-isoe)-(north|south|east|west|central|northeast|northwest|southeast|southwest)-\d$/;

export function isTargetId(kind: TargetKind, id: string): boolean {
  return TARGET_KINDS[kind].pattern.test(id);
}

/** IAM is global; IAM targets without a region are acted on through us-east-1. */
export const IAM_REGION = 'us-east-1';
export const GLOBAL_KINDS: readonly TargetKind[] = ['access-key', 'iam-role', 'iam-user'];
