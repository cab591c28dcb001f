import { applyIngestionLimits } from '../rows/limits.js';
import { firstIssue } from '../schema-helpers.js';
import type { NormaliseOutcome, SourceDefinition } from '../sources.js';
import { AWS_CLOUDTRAIL } from '../tables/columns.js';
import { toCloudTrailRow } from './normalise.js';
import { CLOUDTRAIL_DETAIL_TYPES, cloudTrailRecordSchema } from './schema.js';

export function normaliseCloudTrailRecord(raw: Record<string, unknown>): NormaliseOutcome {
  const parsed = cloudTrailRecordSchema.safeParse(raw);
  const id = typeof raw.eventID === 'string' && raw.eventID !== '' ? raw.eventID : undefined;
  if (!parsed.success) return { ok: false, ...(id ? { id } : {}), ...firstIssue(parsed.error) };
  const { row, trimmed, bytes } = applyIngestionLimits(
    toCloudTrailRow(parsed.data, raw),
    AWS_CLOUDTRAIL.columns,
  );
  return { ok: true, table: 'AWSCloudTrail', id: parsed.data.eventID, row, trimmed, bytes };
}

export const CLOUDTRAIL_SOURCE: SourceDefinition = {
  name: 'cloudtrail',
  table: 'AWSCloudTrail',
  detailTypes: CLOUDTRAIL_DETAIL_TYPES,
  normaliseDetail: normaliseCloudTrailRecord,
};
