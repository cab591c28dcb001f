import {
  GetFindingsCommand,
  type GetFindingsCommandOutput,
  ListDetectorsCommand,
  type ListDetectorsCommandOutput,
} from '@aws-sdk/client-guardduty';
import { type ExtractedIncident, type ExtractedTarget, extractIncident } from '../domain/respond/incident.js';
import { type CatalogueEntry, type Plan, type PlanStep, planResponse } from '../domain/respond/planner.js';
import type { Policy } from '../domain/respond/policy.js';
import { GLOBAL_KINDS, IAM_REGION } from '../domain/respond/targets.js';
import type { PlanStorePort } from '../ports/response-state.js';
import { type ActionRequest, type ExecutorDeps, runAction } from './executor.js';
import type { ActionOutcome, AwsClients, IncidentRef } from './types.js';

/** What happened to one plan step. */
export interface StepResult {
  readonly step: PlanStep;
  readonly outcome?: ActionOutcome;
  /** `awaiting-approval` for approval steps and steps held by the blast-radius cap; `notify` steps only report. */
  readonly state: 'ran' | 'awaiting-approval' | 'notify' | 'not-run';
  readonly note?: string;
}

export interface IncidentResponse {
  readonly plan: Plan;
  readonly results: readonly StepResult[];
  /** True when some step waits for an Approver (`POST /api/plans/{plan.id}/approve`). */
  readonly awaitingApproval: boolean;
}

export interface WritebackPort {
  /** Comment and labels on the incident; failures are reported, not thrown (the response already happened). */
  write(incident: ExtractedIncident['incident'], response: IncidentResponse): Promise<void>;
}

export interface IncidentResponseDeps extends ExecutorDeps {
  readonly policy: Policy;
  readonly catalogue: readonly CatalogueEntry[];
  readonly plans?: PlanStorePort;
  readonly writeback?: WritebackPort;
  /** How long a plan can wait for approval (default 24 h). */
  readonly planTtlMs?: number;
}

export type IncidentInputError = { readonly ok: false; readonly field: string; readonly reason: string };

/**
 * When an alert names only a GuardDuty finding, the finding itself says what it is about: GetFindings in the
 * finding's account and region (through the responder role) gives the instance or access key.
 */
export async function resolveFindingTargets(
  extracted: ExtractedIncident,
  clientsFor: (accountId: string, region: string, session: string) => AwsClients,
  session: string,
): Promise<ExtractedIncident> {
  const known = new Set(extracted.targets.map((t) => `${t.accountId}|${t.findingType ?? ''}`));
  const extra: ExtractedTarget[] = [];
  const notes: string[] = [];
  for (const finding of extracted.findings) {
    if (!finding.accountId || !finding.region) continue;
    if (known.has(`${finding.accountId}|${finding.type ?? ''}`) && extracted.targets.length > 0) continue;
    try {
      const { guardduty } = clientsFor(finding.accountId, finding.region, session);
      const detectors = (await guardduty.send(new ListDetectorsCommand({}))) as ListDetectorsCommandOutput;
      // One detector per region in practice; look in each until the finding turns up.
      let found: GetFindingsCommandOutput | undefined;
      for (const detectorId of detectors.DetectorIds ?? []) {
        found = (await guardduty.send(
          new GetFindingsCommand({ DetectorId: detectorId, FindingIds: [finding.id] }),
        )) as GetFindingsCommandOutput;
        if ((found.Findings ?? []).length > 0) break;
      }
      if (!found) continue;
      for (const f of found.Findings ?? []) {
        const base = {
          accountId: f.AccountId ?? finding.accountId,
          source: 'finding' as const,
          ...(f.Type ? { findingType: f.Type } : {}),
        };
        const instanceId = f.Resource?.InstanceDetails?.InstanceId;
        if (instanceId)
          extra.push({ kind: 'ec2-instance', id: instanceId, region: f.Region ?? finding.region, ...base });
        const key = f.Resource?.AccessKeyDetails?.AccessKeyId;
        if (key) extra.push({ kind: 'access-key', id: key, region: IAM_REGION, ...base });
      }
    } catch (error) {
      notes.push(
        `finding ${finding.id} could not be read (${error instanceof Error ? error.name : 'error'})`,
      );
    }
  }
  const targets = [...extracted.targets];
  for (const t of extra) {
    if (!targets.some((x) => x.kind === t.kind && x.id === t.id && x.accountId === t.accountId)) {
      targets.push(GLOBAL_KINDS.includes(t.kind) ? { ...t, region: IAM_REGION } : t);
    }
  }
  return { ...extracted, targets, ignored: [...extracted.ignored, ...notes] };
}

function requestFor(
  step: PlanStep,
  incident: IncidentRef,
  actor: string,
  approved: boolean,
  reason: string,
): ActionRequest {
  return {
    action: step.action,
    accountId: step.accountId,
    region: step.region,
    target: step.target,
    incident,
    reason,
    actor,
    approved,
    ...(step.options ? { options: step.options } : {}),
  };
}

const SUCCESS = new Set(['done', 'already-done']);

/**
 * Runs the steps of a plan that may run now: `auto` steps (and, when `approved`, `approval` steps). Containment
 * runs first; bookkeeping steps (archiving the finding) run only when every containment step succeeded.
 */
async function runSteps(
  plan: Plan,
  deps: IncidentResponseDeps,
  options: { readonly actor: string; readonly approved: boolean; readonly reason: string },
): Promise<StepResult[]> {
  const incident: IncidentRef = {
    ...((plan.incident.id ?? plan.incident.name) ? { id: plan.incident.id ?? plan.incident.name ?? '' } : {}),
    ...(plan.incident.number !== undefined ? { number: plan.incident.number } : {}),
  };
  const results: StepResult[] = [];
  const runnable = (step: PlanStep): boolean =>
    step.mode === 'auto' || (options.approved && step.mode === 'approval');
  const containment = plan.steps.filter((s) => s.containment);
  const bookkeeping = plan.steps.filter((s) => !s.containment);

  const runStep = async (step: PlanStep): Promise<StepResult> => {
    if (step.mode === 'notify') return { step, state: 'notify' };
    if (!runnable(step)) return { step, state: 'awaiting-approval' };
    try {
      const outcome = await runAction(
        requestFor(step, incident, options.actor, options.approved, options.reason),
        deps,
      );
      return { step, outcome, state: outcome.awaitingApproval ? 'awaiting-approval' : 'ran' };
    } catch {
      // A broken store or a bug must not leave other steps running unseen: the step is reported as not run.
      return { step, state: 'not-run', note: 'could not run: internal error (see the function logs)' };
    }
  };
  // Accounts in parallel; within an account one step after the other, so the blast-radius cap counts
  // exactly (parallel steps of one plan would each see the other's reservation).
  const byAccount = new Map<string, PlanStep[]>();
  for (const step of containment)
    byAccount.set(step.accountId, [...(byAccount.get(step.accountId) ?? []), step]);
  const perAccount = await Promise.all(
    [...byAccount.values()].map(async (steps) => {
      const done: StepResult[] = [];
      for (const step of steps) done.push(await runStep(step));
      return done;
    }),
  );
  const containmentResults = containment.map(
    (step) => perAccount.flat().find((r) => r.step === step) ?? { step, state: 'not-run' as const },
  );
  results.push(...containmentResults);
  const contained = containmentResults.every(
    (r) => r.state === 'notify' || (r.outcome !== undefined && SUCCESS.has(r.outcome.status)),
  );
  for (const step of bookkeeping) {
    if (step.mode === 'notify') results.push({ step, state: 'notify' });
    else if (!runnable(step)) results.push({ step, state: 'awaiting-approval' });
    else if (!contained)
      results.push({ step, state: 'not-run', note: 'waits until every containment step succeeded' });
    else results.push(await runStep(step));
  }
  return results;
}

/** Plans the response to an incident payload without acting (the CLI's `plan`, and the first half of `respond`). */
export async function planIncident(
  payload: unknown,
  deps: Pick<IncidentResponseDeps, 'policy' | 'catalogue' | 'clientsFor' | 'now' | 'newId'>,
  options: { readonly resolveFindings?: boolean } = {},
): Promise<{ ok: true; plan: Plan; extracted: ExtractedIncident } | IncidentInputError> {
  const parsed = extractIncident(payload);
  if (!parsed.ok) return parsed;
  const now = deps.now?.() ?? new Date();
  const extracted =
    options.resolveFindings === false
      ? parsed.value
      : await resolveFindingTargets(
          parsed.value,
          deps.clientsFor,
          `sentinel-${parsed.value.incident.number ?? 'plan'}`,
        );
  const id = deps.newId?.() ?? `plan-${now.getTime().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  return { ok: true, plan: planResponse(extracted, deps.policy, deps.catalogue, { id, now }), extracted };
}

/** The `sentinel-incident` use case: plan, run what may run, hold the rest for approval, write back. */
export async function respondToIncident(
  payload: unknown,
  deps: IncidentResponseDeps,
  actor: string,
): Promise<{ ok: true; response: IncidentResponse } | IncidentInputError> {
  const planned = await planIncident(payload, deps);
  if (!planned.ok) return planned;
  const { plan, extracted } = planned;
  const reason =
    `Sentinel incident ${extracted.incident.number ?? extracted.incident.name ?? ''}: ${extracted.incident.title ?? ''}`.trim();
  const results = await runSteps(plan, deps, { actor, approved: false, reason });
  const awaitingApproval = results.some((r) => r.state === 'awaiting-approval');
  if (awaitingApproval && deps.plans) {
    const now = deps.now?.() ?? new Date();
    await deps.plans.save({
      id: plan.id,
      status: 'awaiting-approval',
      body: { plan, reason },
      createdAt: now,
      expiresAt: new Date(now.getTime() + (deps.planTtlMs ?? 86_400_000)),
    });
  }
  const response: IncidentResponse = { plan, results, awaitingApproval };
  await deps.writeback?.write(extracted.incident, response);
  return { ok: true, response };
}

export type ApprovalResult =
  | { readonly ok: true; readonly response: IncidentResponse }
  | { readonly ok: false; readonly status: 404 | 409 | 410; readonly reason: string };

/** `POST /api/plans/{id}/approve`: runs the held steps of a stored plan, once. */
export async function approvePlan(
  id: string,
  approver: string,
  deps: IncidentResponseDeps,
): Promise<ApprovalResult> {
  if (!deps.plans) return { ok: false, status: 404, reason: 'no plan store is configured' };
  const stored = await deps.plans.get(id);
  if (!stored) return { ok: false, status: 404, reason: `no plan ${id}` };
  const now = deps.now?.() ?? new Date();
  if (stored.expiresAt.getTime() < now.getTime())
    return { ok: false, status: 410, reason: `plan ${id} expired at ${stored.expiresAt.toISOString()}` };
  if (!(await deps.plans.transition(id, 'awaiting-approval', 'approved', approver))) {
    return { ok: false, status: 409, reason: `plan ${id} is ${stored.status}, not awaiting approval` };
  }
  const body = stored.body as { plan: Plan; reason: string };
  const results = await runSteps(body.plan, deps, {
    actor: approver,
    approved: true,
    reason: `${body.reason} (approved by ${approver})`,
  });
  await deps.plans.transition(id, 'approved', 'executed', approver);
  const response: IncidentResponse = { plan: body.plan, results, awaitingApproval: false };
  await deps.writeback?.write(body.plan.incident, response);
  return { ok: true, response };
}
