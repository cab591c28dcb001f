import * as z from 'zod';
import { awsTimestamp } from '../schema-helpers.js';

/**
 * A GuardDuty finding, schema 2.0, as EventBridge carries it in `detail` (camelCase wire names, the same
 * shape `GetFindings` returns). Unknown fields are accepted everywhere (AWS adds them) and kept verbatim in
 * `resource` and `service`; only fields that feed a column or a response decision are typed.
 * https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_finding-format.html
 */

// `resource` and `service` go into the row verbatim from the raw event (ResourceDetails, ServiceDetails), so
// only their shape is checked here: typing their inner fields would cost more than the rest of the finding
// (GuardDuty findings are mostly these two objects) and a malformed inner field must never refuse a finding.
const jsonObject = z.custom<Record<string, unknown>>(
  (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
  { message: 'expected a JSON object' },
);

// A plain object schema: the parsed copy holds only the typed fields (cheaper than copying every key); the
// row is built from it and from the raw finding, so nothing AWS sent is lost.
export const guardDutyFindingSchema = z.object({
  schemaVersion: z.string().optional(),
  accountId: z.string().min(1),
  region: z.string().min(1),
  partition: z.string().optional(),
  id: z.string().min(1),
  arn: z.string().min(1),
  type: z.string().min(1),
  severity: z.number().min(0).max(10),
  createdAt: awsTimestamp,
  updatedAt: awsTimestamp,
  title: z.string().optional(),
  description: z.string().optional(),
  resource: jsonObject.optional(),
  service: jsonObject.optional(),
});

export type GuardDutyFinding = z.infer<typeof guardDutyFindingSchema>;
export const GUARDDUTY_DETAIL_TYPES: readonly string[] = ['GuardDuty Finding'];
