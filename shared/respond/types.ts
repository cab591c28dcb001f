/**
 * The response side's vocabulary: what an action is asked to do, the AWS calls it makes (or, in a dry run,
 * would make), and how it ended. Shared by the catalogue, the executor, the Azure Functions and the CLI.
 */
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { GuardDutyClient } from '@aws-sdk/client-guardduty';
import type { IAMClient } from '@aws-sdk/client-iam';
import type * as z from 'zod';

/** SDK clients for one account and region, built with that account's responder credentials. */
export interface AwsClients {
  readonly ec2: EC2Client;
  readonly iam: IAMClient;
  readonly guardduty: GuardDutyClient;
  readonly autoscaling: AutoScalingClient;
  readonly elbv2: ElasticLoadBalancingV2Client;
}
export type AwsService = keyof AwsClients;

/** One AWS API call an action made or, in a dry run, would make. */
export interface RecordedCall {
  readonly service: AwsService;
  /** API operation name, e.g. `ModifyNetworkInterfaceAttribute`. */
  readonly operation: string;
  readonly input: Readonly<Record<string, unknown>>;
  /** Why the call is made, in one line (shown in dry runs and incident comments). */
  readonly why: string;
  /** False for reads (Describe*, Get*, List*), which run in dry runs too. */
  readonly mutating: boolean;
  /** Set for a mutating call in a dry run: it was not made. */
  readonly skipped?: true;
  /** Error name when the call failed. */
  readonly error?: string;
}

export type OutcomeStatus = 'done' | 'already-done' | 'dry-run' | 'skipped' | 'refused' | 'failed';

export interface IncidentRef {
  /** ARM id or name of the incident, when the run comes from one. */
  readonly id?: string;
  /** The incident number shown in Sentinel (e.g. 4242), used in session names and tags. */
  readonly number?: number;
}

/** The result of one action on one target. */
export interface ActionOutcome {
  readonly status: OutcomeStatus;
  readonly action: string;
  readonly target: string;
  readonly accountId: string;
  readonly region: string;
  readonly incident?: IncidentRef;
  /** Why it was refused, skipped or failed; what was found for already-done. */
  readonly reason?: string;
  readonly calls: readonly RecordedCall[];
  /** After executing: whether reading the resource back showed the intended state. */
  readonly verified?: boolean;
  /** What the read-back saw (e.g. each ENI's security groups). */
  readonly observed?: Readonly<Record<string, unknown>>;
  /** How to undo it: the CLI command, or that it cannot be undone. */
  readonly release?: string;
  readonly irreversible?: true;
  /** Set when the run was held back for an approver (irreversible action, blast-radius cap). */
  readonly awaitingApproval?: true;
  /** Why the executor refused before any call (the HTTP layer maps it to a status). */
  readonly refusal?: RefusalCode;
}

export type RefusalCode =
  | 'unknown-action'
  | 'invalid-input'
  | 'not-allowed'
  | 'approval-required'
  | 'conflict'
  | 'protected';

/** The protected-resource guard: a resource carrying this tag is never touched. */
export interface ProtectedTag {
  readonly key: string;
  readonly value: string;
}
export const DEFAULT_PROTECTED_TAG: ProtectedTag = { key: 'ir:protected', value: 'true' };

/**
 * What an action module gets to do its work. `read` always runs; `write` runs the call, or in a dry run
 * records it as skipped and returns undefined. Both record the call for the outcome and the audit.
 */
export interface ActionContext {
  readonly accountId: string;
  readonly region: string;
  readonly incident?: IncidentRef;
  readonly reason: string;
  readonly dryRun: boolean;
  readonly protectedTag: ProtectedTag;
  readonly clients: AwsClients;
  readonly now: () => Date;
  read<O>(service: AwsService, command: SdkCommand, why: string): Promise<O>;
  write<O>(service: AwsService, command: SdkCommand, why: string): Promise<O | undefined>;
  /** Calls recorded so far, in order. */
  readonly calls: readonly RecordedCall[];
}

/** An AWS SDK v3 command object (`new XCommand(input)`). */
export interface SdkCommand {
  readonly input: object;
}

export { TARGET_KINDS, type TargetKind } from '../domain/respond/targets.js';

import type { TargetKind } from '../domain/respond/targets.js';

/** The common input of every action; modules extend it with their own options. */
export interface ActionInput {
  readonly target: string;
}

/** One module per response action: everything the registry, the executor, the docs and IAM need. */
export interface ActionModule<I extends ActionInput = ActionInput> {
  readonly name: string;
  /** One line, for the catalogue. */
  readonly summary: string;
  /** Markdown: what it does, step by step, and how release undoes it (rendered into docs/actions). */
  readonly docs: string;
  readonly targetKind: TargetKind;
  /** Validates the input (target plus the action's options). */
  readonly input: z.ZodType<I>;
  /** The exact IAM actions execute and release need; the responder role policy is generated from these. */
  readonly permissions: { readonly execute: readonly string[]; readonly release: readonly string[] };
  /** Counts toward the blast-radius cap (containment of a resource, as opposed to bookkeeping). */
  readonly containment: boolean;
  /** Cannot be undone; such an action only ever runs after an approval. */
  readonly irreversible: boolean;
  execute(input: I, ctx: ActionContext): Promise<ActionOutcome>;
  /** Absent exactly when `irreversible` is true. */
  release?(input: I, ctx: ActionContext): Promise<ActionOutcome>;
}
