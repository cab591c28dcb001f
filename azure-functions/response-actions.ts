import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import * as z from 'zod';
import type { Principal } from '../shared/adapters/azure/entra-auth.js';
import type { Plan } from '../shared/domain/respond/planner.js';
import { type ActionRequest, type Registry, runAction } from '../shared/respond/executor.js';
import { approvePlan, type IncidentResponseDeps } from '../shared/respond/incident-response.js';
import type { ActionOutcome } from '../shared/respond/types.js';
import { actorOf, authorized, type Handler, problem, readJson, type Verifier } from './http.js';
import { summarizeResponse } from './sentinel-incident.js';

/** Body of `POST /api/actions/{name}` and `.../release`. */
const runBodySchema = z.strictObject({
  accountId: z.string(),
  region: z.string(),
  target: z.string(),
  reason: z.string().min(3, 'say why (it goes into the audit and the session name trail)').max(500),
  dryRun: z.boolean().optional(),
  incidentNumber: z.number().int().nonnegative().optional(),
  options: z.looseObject({}).optional(),
});

/** HTTP status for an outcome: the body always carries the full outcome. */
export function statusOf(outcome: ActionOutcome): number {
  if (outcome.status === 'failed') return 502;
  if (outcome.status !== 'refused') return 200;
  switch (outcome.refusal) {
    case 'unknown-action':
      return 404;
    case 'invalid-input':
      return 422;
    case 'not-allowed':
      return 403;
    case 'approval-required':
      return 202;
    default:
      return 409;
  }
}

/** The catalogue as `GET /api/actions` shows it: everything a caller needs to build a valid request. */
export function describeCatalogue(registry: Registry): unknown[] {
  return registry.names().map((name) => {
    const module = registry.get(name);
    if (!module) return { name };
    return {
      name,
      summary: module.summary,
      targetKind: module.targetKind,
      input: z.toJSONSchema(module.input, { io: 'input' }),
      permissions: module.permissions,
      containment: module.containment,
      irreversible: module.irreversible,
      releasable: module.release !== undefined,
      docs: module.docs,
    };
  });
}

export interface ResponseActionsDeps {
  readonly verifier: Verifier;
  readonly incident: IncidentResponseDeps;
}

function issueMessage(error: z.ZodError): string {
  const issue = error.issues[0];
  return `${issue?.path.length ? `${issue.path.join('.')}: ` : ''}${issue?.message ?? 'invalid body'}`;
}

async function run(
  request: HttpRequest,
  principal: Principal,
  deps: ResponseActionsDeps,
  release: boolean,
): Promise<HttpResponseInit> {
  const name = request.params.name ?? '';
  const body = await readJson(request);
  if (!body.ok) return body.response;
  const parsed = runBodySchema.safeParse(body.body);
  if (!parsed.success) return problem(422, 'invalid_request', issueMessage(parsed.error));
  const { accountId, region, target, reason, dryRun, incidentNumber, options } = parsed.data;
  const actionRequest: ActionRequest = {
    action: name,
    accountId,
    region,
    target,
    reason,
    actor: actorOf(principal),
    release,
    ...(dryRun !== undefined ? { dryRun } : {}),
    ...(incidentNumber !== undefined ? { incident: { number: incidentNumber } } : {}),
    ...(options ? { options } : {}),
  };
  const outcome = await runAction(actionRequest, deps.incident);
  if (outcome.awaitingApproval && deps.incident.plans) {
    // Held (irreversible action, blast-radius cap): store it as a one-step plan an Approver can approve.
    const planId = await holdForApproval(actionRequest, deps.incident, principal);
    if (planId) return { status: 202, jsonBody: { ...outcome, planId } };
  }
  return { status: statusOf(outcome), jsonBody: outcome };
}

async function holdForApproval(
  request: ActionRequest,
  deps: IncidentResponseDeps,
  principal: Principal,
): Promise<string | undefined> {
  const module = deps.registry.get(request.action);
  if (!module || !deps.plans) return undefined;
  const now = deps.now?.() ?? new Date();
  const id = deps.newId?.() ?? `plan-${now.getTime().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const plan: Plan = {
    id,
    createdAt: now.toISOString(),
    incident: request.incident?.number !== undefined ? { number: request.incident.number } : {},
    steps: [
      {
        action: module.name,
        target: request.target,
        targetKind: module.targetKind,
        accountId: request.accountId,
        region: request.region,
        mode: 'approval',
        rule: `manual request by ${actorOf(principal)}`,
        containment: module.containment,
        irreversible: module.irreversible,
        ...(request.options ? { options: request.options } : {}),
      },
    ],
    skipped: [],
    notes: [],
  };
  const saved = await deps.plans.save({
    id,
    status: 'awaiting-approval',
    body: { plan, reason: request.reason },
    createdAt: now,
    expiresAt: new Date(now.getTime() + (deps.planTtlMs ?? 86_400_000)),
  });
  return saved ? id : undefined;
}

/** `GET /api/actions` (Reader), `POST /api/actions/{name}` and `.../release` (Responder), `POST /api/plans/{id}/approve` (Approver). */
export function createResponseActionsHandlers(deps: ResponseActionsDeps): {
  list: Handler;
  run: Handler;
  release: Handler;
  approve: Handler;
} {
  return {
    list: authorized(deps.verifier, 'Reader', async () => ({
      status: 200,
      jsonBody: { actions: describeCatalogue(deps.incident.registry) },
    })),
    run: authorized(deps.verifier, 'Responder', (request, principal) => run(request, principal, deps, false)),
    release: authorized(deps.verifier, 'Responder', (request, principal) =>
      run(request, principal, deps, true),
    ),
    approve: authorized(deps.verifier, 'Approver', async (request, principal) => {
      const id = request.params.id ?? '';
      if (!/^[\w.-]{1,100}$/.test(id))
        return problem(422, 'invalid_plan_id', 'the plan id has an invalid format');
      const result = await approvePlan(id, actorOf(principal), deps.incident);
      if (!result.ok) {
        const code =
          result.status === 404
            ? 'plan_not_found'
            : result.status === 410
              ? 'plan_expired'
              : 'plan_not_awaiting_approval';
        return problem(result.status, code, result.reason);
      }
      return { status: 200, jsonBody: summarizeResponse(result.response) };
    }),
  };
}
