import { CLOUDTRAIL_SOURCE } from './cloudtrail/source.js';
import { isEnvelope } from './eventbridge.js';
import { GUARDDUTY_SOURCE } from './guardduty/source.js';
import type { Row } from './rows/row.js';

export type { Row } from './rows/row.js';

export const SOURCE_NAMES = ['guardduty', 'cloudtrail'] as const;
export type SourceName = (typeof SOURCE_NAMES)[number];
export type TableName = 'AWSGuardDuty' | 'AWSCloudTrail';

export type NormaliseOutcome =
  | {
      ok: true;
      table: TableName;
      id: string;
      row: Row;
      trimmed: string[];
      /** The row's JSON text (sent as is) and its UTF-8 bytes. */
      json: string;
      bytes: number;
    }
  | { ok: false; id?: string; field: string; reason: string };

export interface SourceDefinition {
  readonly name: SourceName;
  readonly table: TableName;
  /** EventBridge `detail-type`s this source accepts. */
  readonly detailTypes: readonly string[];
  /** Normalises the bare finding / record (the envelope's `detail`). */
  normaliseDetail(detail: Record<string, unknown>): NormaliseOutcome;
}

export const SOURCES: Readonly<Record<SourceName, SourceDefinition>> = {
  guardduty: GUARDDUTY_SOURCE,
  cloudtrail: CLOUDTRAIL_SOURCE,
};

export function isSourceName(value: string): value is SourceName {
  return (SOURCE_NAMES as readonly string[]).includes(value);
}

function stringField(value: unknown, key: string): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const field = (value as Record<string, unknown>)[key];
  return typeof field === 'string' && field !== '' ? field : undefined;
}

/**
 * Validates and normalises one item: an EventBridge event, or the bare GuardDuty finding / CloudTrail record.
 * A refusal names the offending field (relative to the finding / record) and says why. Throws only
 * RangeError, for values nested too deeply to serialise (callers treat that as a refusal of the item).
 */
export function normaliseItem(source: SourceName, input: unknown): NormaliseOutcome {
  const definition = SOURCES[source];
  let detail: unknown = input;
  let envelopeId: string | undefined;
  if (isEnvelope(input)) {
    envelopeId = stringField(input, 'id');
    const detailType = input['detail-type'];
    if (
      detailType !== undefined &&
      (typeof detailType !== 'string' || !definition.detailTypes.includes(detailType))
    ) {
      return {
        ok: false,
        ...(envelopeId ? { id: envelopeId } : {}),
        field: 'detail-type',
        reason: `expected ${definition.detailTypes.map((t) => `"${t}"`).join(' or ')} for source ${source}, got ${JSON.stringify(detailType)}`,
      };
    }
    detail = input.detail;
  }
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
    return {
      ok: false,
      ...(envelopeId ? { id: envelopeId } : {}),
      field: envelopeId !== undefined || isEnvelope(input) ? 'detail' : '',
      reason: `expected a JSON object, got ${Array.isArray(detail) ? 'an array' : detail === null ? 'null' : typeof detail}`,
    };
  }
  const outcome = definition.normaliseDetail(detail as Record<string, unknown>);
  if (!outcome.ok && outcome.id === undefined && envelopeId !== undefined)
    return { ...outcome, id: envelopeId };
  return outcome;
}
