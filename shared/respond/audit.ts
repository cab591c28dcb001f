/**
 * The audit trail of response actions: rows of `AWSResponseAudit_CL`, one per AWS API call an action made
 * (or, in a dry run, would have made) and one summary row per outcome, and the port that stores them.
 *
 * `auditRows` is pure. Request inputs are copied with secret-looking keys redacted (`SecretAccessKey`,
 * `Password`, `UserData`, ...), binary values replaced by their length, and every row is kept within the
 * Logs Ingestion field and record limits.
 */
import { applyIngestionLimits } from '../domain/rows/limits.js';
import type { Row } from '../domain/rows/row.js';
import { AWS_RESPONSE_AUDIT, OUTCOME_OPERATION } from '../domain/tables/audit-columns.js';
import type { LogsIngestionPort } from '../ports/logs-ingestion.js';
import type { ActionOutcome, RecordedCall } from './types.js';

export const AUDIT_STREAM = AWS_RESPONSE_AUDIT.stream;

export interface AuditMeta {
  /** Who asked: user principal name or app id of the caller (or the automation that forwarded the incident). */
  readonly actor: string;
  /** One id per action run; every row of the outcome carries it. */
  readonly correlationId: string;
  /** When the outcome was recorded; the `TimeGenerated` of every row. */
  readonly at: Date;
  /** The run was a dry run; default: the outcome's status is `dry-run` or a call was skipped. */
  readonly dryRun?: boolean;
}

export interface AuditWriteReport {
  /** Rows not stored. */
  readonly failed: number;
  /** Why, one line per distinct cause (no secrets: messages of the ingestion port). */
  readonly errors?: readonly string[];
}

/** Where audit rows go. Implementations never throw: what was not stored is counted in `failed`. */
export interface AuditPort {
  write(rows: readonly Row[]): Promise<AuditWriteReport>;
}

/** Keys whose values are never written to the audit table, whatever their nesting. */
const SECRET_KEY =
  /secret|passw|credential|private.?key|authorization|api.?key|user.?data|certificate.?(body|chain)|^(session|access|refresh|id|auth|bearer|security)?.?token$/i;
export const REDACTED = '[redacted]';
const MAX_DEPTH = 12;

/** A JSON-safe copy of a call input with secrets redacted. */
export function redactRequest(input: unknown): unknown {
  const seen = new WeakSet<object>();
  const copy = (value: unknown, depth: number): unknown => {
    if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
    if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
    if (typeof value === 'bigint') return value.toString();
    if (typeof value === 'undefined' || typeof value === 'function' || typeof value === 'symbol') {
      return undefined;
    }
    if (value instanceof Date) return Number.isNaN(value.getTime()) ? String(value) : value.toISOString();
    if (value instanceof Uint8Array) return `[binary ${value.byteLength} bytes]`;
    if (seen.has(value)) return '[circular]';
    if (depth >= MAX_DEPTH) return '[too deep]';
    seen.add(value);
    try {
      if (Array.isArray(value)) return value.map((item) => copy(item, depth + 1) ?? null);
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) {
        if (SECRET_KEY.test(key)) {
          if (item !== undefined) out[key] = REDACTED;
          continue;
        }
        const copied = copy(item, depth + 1);
        if (copied !== undefined) out[key] = copied;
      }
      return out;
    } finally {
      seen.delete(value);
    }
  };
  return copy(input, 0);
}

function put(row: Row, column: string, value: string | number | boolean | object | undefined): void {
  if (value === undefined) return;
  if (typeof value === 'string' && value === '') return;
  row[column] = value;
}

function commonColumns(outcome: ActionOutcome, meta: AuditMeta, dryRun: boolean): Row {
  const row: Row = { TimeGenerated: meta.at.toISOString() };
  put(row, 'Action', outcome.action);
  put(row, 'Target', outcome.target);
  put(row, 'AccountId', outcome.accountId);
  put(row, 'Region', outcome.region);
  const number = outcome.incident?.number;
  if (number !== undefined && Number.isInteger(number) && number >= 0 && number <= 2_147_483_647) {
    row.IncidentNumber = number;
  }
  put(row, 'IncidentId', outcome.incident?.id);
  put(row, 'Status', outcome.status);
  row.DryRun = dryRun;
  put(row, 'Actor', meta.actor);
  put(row, 'CorrelationId', meta.correlationId);
  return row;
}

/** A mutating call that was actually made and did not fail. */
function changed(call: RecordedCall): boolean {
  return call.mutating && call.skipped !== true && call.error === undefined;
}

/**
 * The audit rows of one outcome: one per recorded call, in call order, then the summary row
 * (`Operation = '(outcome)'`). Rows carry only declared columns and respect the ingestion limits.
 */
export function auditRows(outcome: ActionOutcome, meta: AuditMeta): Row[] {
  const dryRun =
    meta.dryRun ?? (outcome.status === 'dry-run' || outcome.calls.some((call) => call.skipped === true));
  const rows: Row[] = outcome.calls.map((call) => {
    const row = commonColumns(outcome, meta, dryRun);
    put(row, 'Service', call.service);
    put(row, 'Operation', call.operation);
    row.Request = redactRequest(call.input) as object;
    row.Mutating = call.mutating;
    put(row, 'Error', call.error);
    put(row, 'Reason', call.why);
    return row;
  });

  const summary = commonColumns(outcome, meta, dryRun);
  summary.Operation = OUTCOME_OPERATION;
  const details: Record<string, unknown> = {
    calls: outcome.calls.length,
    changes: outcome.calls.filter(changed).length,
  };
  if (outcome.release !== undefined) details.release = outcome.release;
  if (outcome.irreversible === true) details.irreversible = true;
  if (outcome.observed !== undefined) details.observed = redactRequest(outcome.observed);
  summary.Request = details;
  summary.Mutating = outcome.calls.some(changed);
  if (outcome.verified !== undefined) summary.Verified = outcome.verified;
  put(summary, 'Reason', outcome.reason);
  const failedCall = outcome.calls.find((call) => call.error !== undefined);
  if (outcome.status === 'failed') put(summary, 'Error', failedCall?.error);
  rows.push(summary);

  return rows.map((row) => applyIngestionLimits(row, AWS_RESPONSE_AUDIT.columns).row);
}

/** The audit port over the Logs Ingestion port: rows go to the `Custom-AWSResponseAudit_CL` stream. */
export function createIngestionAudit(ingestion: LogsIngestionPort, stream: string = AUDIT_STREAM): AuditPort {
  return {
    async write(rows) {
      if (rows.length === 0) return { failed: 0 };
      try {
        const report = await ingestion.upload(stream, rows);
        if (report.failures.length === 0) return { failed: 0 };
        const failedRows = new Set(report.failures.map((failure) => failure.index));
        return {
          failed: failedRows.size,
          errors: [...new Set(report.failures.map((failure) => failure.message))],
        };
      } catch (error) {
        const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        return { failed: rows.length, errors: [message.replace(/\s+/g, ' ').slice(0, 300)] };
      }
    },
  };
}
