import type { Row } from '../rows/row.js';
import { toIsoInstant } from '../time.js';
import type { GuardDutyFinding } from './schema.js';

/**
 * GuardDuty severity is a float (Low 1.0-3.9, Medium 4.0-6.9, High 7.0-8.9, Critical 9.0-10.0) while
 * `AWSGuardDuty.Severity` is an int. We floor: every finding keeps its band (6.9 stays Medium, 8.9 stays High),
 * which rounding would break (6.9 -> 7 would turn Medium into High). What is lost is only the fraction.
 * Consequences for queries: `Severity >= 7` selects exactly High and Critical; the reference query's
 * `Severity > 7` selects findings of 8.0 and above.
 */
export function severityColumn(severity: number): number {
  return Math.floor(severity);
}

/**
 * One `AWSGuardDuty` row per finding event. `raw` is the finding object as received: `resource` and `service`
 * go into the dynamic columns verbatim (camelCase keys), not the parsed copy, so nothing AWS sent is lost
 * or renamed.
 */
export function toGuardDutyRow(finding: GuardDutyFinding, raw: Record<string, unknown>): Row {
  const row: Row = {
    TimeGenerated: toIsoInstant(finding.updatedAt) ?? finding.updatedAt,
    TimeCreated: toIsoInstant(finding.createdAt) ?? finding.createdAt,
    AccountId: finding.accountId,
    ActivityType: finding.type,
    Arn: finding.arn,
    Id: finding.id,
    Region: finding.region,
    Severity: severityColumn(finding.severity),
  };
  if (finding.description) row.Description = finding.description;
  if (finding.partition) row.Partition = finding.partition;
  if (finding.schemaVersion) row.SchemaVersion = finding.schemaVersion;
  if (finding.title) row.Title = finding.title;
  const resource = raw.resource;
  if (typeof resource === 'object' && resource !== null) row.ResourceDetails = resource;
  const service = raw.service;
  if (typeof service === 'object' && service !== null) row.ServiceDetails = service;
  return row;
}
