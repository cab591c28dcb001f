import { defineSource } from '../define-source.js';
import { AWS_CLOUDTRAIL } from '../tables/columns.js';
import { toCloudTrailRow } from './normalise.js';
import { CLOUDTRAIL_DETAIL_TYPES, cloudTrailRecordSchema } from './schema.js';

export const CLOUDTRAIL_SOURCE = defineSource({
  name: 'cloudtrail',
  table: AWS_CLOUDTRAIL,
  detailTypes: CLOUDTRAIL_DETAIL_TYPES,
  schema: cloudTrailRecordSchema,
  idField: 'eventID',
  idOf: (record) => record.eventID,
  toRow: toCloudTrailRow,
});
