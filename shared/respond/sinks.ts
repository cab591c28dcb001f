import { type AuditPort, auditRows } from './audit.js';
import type { AuditSink } from './executor.js';
import type { IncidentResponse, WritebackPort } from './incident-response.js';
import { chooseLabels, type IncidentWriteback, renderIncidentComment } from './incident-writeback.js';
import type { ActionOutcome } from './types.js';

/** The executor's audit sink over the audit table: one row per AWS call plus a summary row per outcome. */
export function auditSink(port: AuditPort, onFailure?: (failed: number) => void): AuditSink {
  return {
    async record(outcome, meta) {
      const report = await port.write(auditRows(outcome, meta));
      if (report.failed > 0) onFailure?.(report.failed);
    },
  };
}

export function outcomesOf(response: IncidentResponse): ActionOutcome[] {
  return response.results.flatMap((r) => (r.outcome ? [r.outcome] : []));
}

/**
 * Writes a response back to its incident: one comment (what was planned or done per target, with the release
 * command) and the labels `aws-contained`, `aws-response-failed`, `awaiting-approval`. A failed write-back is
 * reported to `onFailure`, never thrown: the containment already happened and is in the audit table.
 */
export function sentinelWriteback(
  writeback: IncidentWriteback,
  onFailure?: (error: unknown) => void,
): WritebackPort {
  return {
    async write(incident, response) {
      const name = incident.name ?? incident.id?.split('/').pop();
      if (!name) return;
      const outcomes = outcomesOf(response);
      const labels = chooseLabels(outcomes, response.plan);
      try {
        await writeback.writeBack(name, {
          comment: renderIncidentComment(outcomes, response.plan),
          addLabels: labels.add,
          removeLabels: labels.remove,
        });
      } catch (error) {
        onFailure?.(error);
      }
    },
  };
}
