import { defineSource } from '../define-source.js';
import { AWS_GUARDDUTY } from '../tables/columns.js';
import { toGuardDutyRow } from './normalise.js';
import { GUARDDUTY_DETAIL_TYPES, guardDutyFindingSchema } from './schema.js';

export const GUARDDUTY_SOURCE = defineSource({
  name: 'guardduty',
  table: AWS_GUARDDUTY,
  detailTypes: GUARDDUTY_DETAIL_TYPES,
  schema: guardDutyFindingSchema,
  idField: 'id',
  idOf: (finding) => finding.id,
  toRow: toGuardDutyRow,
});
