import {
  type IncidentResponse,
  type IncidentResponseDeps,
  respondToIncident,
} from '../shared/respond/incident-response.js';
import { actorOf, authorized, type Handler, problem, readJson, type Verifier } from './http.js';

export interface SentinelIncidentDeps {
  readonly verifier: Verifier;
  readonly incident: IncidentResponseDeps;
}

/**
 * `POST /api/incidents` (Responder): the body a Sentinel playbook forwards, the incident trigger envelope or
 * the bare incident. Plans, runs what the policy allows, holds the rest for approval, writes back.
 */
export function createSentinelIncidentHandler(deps: SentinelIncidentDeps): Handler {
  return authorized(deps.verifier, 'Responder', async (request, principal) => {
    const body = await readJson(request);
    if (!body.ok) return body.response;
    const result = await respondToIncident(body.body, deps.incident, actorOf(principal));
    if (!result.ok) {
      return problem(422, 'invalid_incident', `${result.field || '(body)'}: ${result.reason}`);
    }
    return { status: 200, jsonBody: summarizeResponse(result.response) };
  });
}

/** The response body of `POST /api/incidents` and `POST /api/plans/{id}/approve`: one line per plan step. */
export function summarizeResponse(response: IncidentResponse): Record<string, unknown> {
  const { plan, results, awaitingApproval } = response;
  return {
    planId: plan.id,
    incident: plan.incident,
    awaitingApproval,
    steps: results.map((r) => ({
      action: r.step.action,
      target: r.step.target,
      accountId: r.step.accountId,
      region: r.step.region,
      mode: r.step.mode,
      state: r.state,
      status: r.outcome?.status,
      verified: r.outcome?.verified,
      reason: r.outcome?.reason ?? r.note,
      release: r.outcome?.release,
    })),
    skipped: plan.skipped,
    notes: plan.notes,
  };
}
