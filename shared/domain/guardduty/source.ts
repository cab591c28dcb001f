import { applyIngestionLimits } from '../rows/limits.js';
import { firstIssue } from '../schema-helpers.js';
import type { NormaliseOutcome, SourceDefinition } from '../sources.js';
import { AWS_GUARDDUTY } from '../tables/columns.js';
import { toGuardDutyRow } from './normalise.js';
import { GUARDDUTY_DETAIL_TYPES, guardDutyFindingSchema } from './schema.js';

export function normaliseGuardDutyFinding(raw: Record<string, unknown>): NormaliseOutcome {
  const parsed = guardDutyFindingSchema.safeParse(raw);
  const id = typeof raw.id === 'string' && raw.id !== '' ? raw.id : undefined;
  if (!parsed.success) return { ok: false, ...(id ? { id } : {}), ...firstIssue(parsed.error) };
  const { row, trimmed, bytes } = applyIngestionLimits(
    toGuardDutyRow(parsed.data, raw),
    AWS_GUARDDUTY.columns,
  );
  return { ok: true, table: 'AWSGuardDuty', id: parsed.data.id, row, trimmed, bytes };
}

export const GUARDDUTY_SOURCE: SourceDefinition = {
  name: 'guardduty',
  table: 'AWSGuardDuty',
  detailTypes: GUARDDUTY_DETAIL_TYPES,
  normaliseDetail: normaliseGuardDutyFinding,
};
