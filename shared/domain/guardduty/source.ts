import { applyIngestionLimits } from '../rows/limits.js';
import { firstIssue } from '../schema-helpers.js';
import type { NormaliseOptions, NormaliseOutcome, SourceDefinition } from '../sources.js';
import { AWS_GUARDDUTY } from '../tables/columns.js';
import { toGuardDutyRow } from './normalise.js';
import { GUARDDUTY_DETAIL_TYPES, guardDutyFindingSchema } from './schema.js';

export function normaliseGuardDutyFinding(
  raw: Record<string, unknown>,
  options: NormaliseOptions = {},
): NormaliseOutcome {
  const parsed = guardDutyFindingSchema.safeParse(raw);
  const id = typeof raw.id === 'string' && raw.id !== '' ? raw.id : undefined;
  if (!parsed.success) return { ok: false, ...(id ? { id } : {}), ...firstIssue(parsed.error) };
  const { row, trimmed } = applyIngestionLimits(
    toGuardDutyRow(parsed.data, raw),
    AWS_GUARDDUTY.columns,
    options.sourceTextLength,
  );
  return { ok: true, table: 'AWSGuardDuty', id: parsed.data.id, row, trimmed };
}

export const GUARDDUTY_SOURCE: SourceDefinition = {
  name: 'guardduty',
  table: 'AWSGuardDuty',
  detailTypes: GUARDDUTY_DETAIL_TYPES,
  normaliseDetail: normaliseGuardDutyFinding,
};
