import type * as z from 'zod';
import { applyIngestionLimits } from './rows/limits.js';
import type { Row } from './rows/row.js';
import { firstIssue } from './schema-helpers.js';
import type { NormaliseOutcome, SourceDefinition, SourceName, TableName } from './sources.js';
import type { TableDefinition } from './tables/columns.js';

export interface SourceSpec<S extends z.ZodType> {
  readonly name: SourceName;
  readonly table: TableDefinition & { readonly table: TableName };
  readonly detailTypes: readonly string[];
  readonly schema: S;
  /** The item's own id field (`id` of a finding, `eventID` of a record), named in refusals when readable. */
  readonly idField: string;
  readonly idOf: (parsed: z.infer<S>) => string;
  readonly toRow: (parsed: z.infer<S>, raw: Record<string, unknown>) => Row;
}

/** One source: validate the bare item with its schema, build the row, apply the ingestion limits. */
export function defineSource<S extends z.ZodType>(spec: SourceSpec<S>): SourceDefinition {
  return {
    name: spec.name,
    table: spec.table.table,
    detailTypes: spec.detailTypes,
    normaliseDetail(raw: Record<string, unknown>): NormaliseOutcome {
      const parsed = spec.schema.safeParse(raw);
      const rawId = raw[spec.idField];
      const id = typeof rawId === 'string' && rawId !== '' ? rawId : undefined;
      if (!parsed.success) return { ok: false, ...(id ? { id } : {}), ...firstIssue(parsed.error) };
      const { row, trimmed, json, bytes } = applyIngestionLimits(
        spec.toRow(parsed.data, raw),
        spec.table.columns,
      );
      return { ok: true, table: spec.table.table, id: spec.idOf(parsed.data), row, trimmed, json, bytes };
    },
  };
}
