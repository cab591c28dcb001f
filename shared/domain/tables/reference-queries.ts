/**
 * The reference queries of Microsoft's zero-trust guidance for AWS IaaS ("Monitor AWS with
 * Microsoft Sentinel"), which must keep working on the rows this project writes. The demo prints
 * them and the KQL tests compile them against the column definitions in `./columns.ts`.
 */
import { AWS_CLOUDTRAIL, AWS_GUARDDUTY, AWS_VPCFLOW } from './columns.js';

export interface ReferenceQuery {
  /** Short stable name, used in test names and the demo output. */
  readonly name: string;
  /** The table the query reads. */
  readonly table: string;
  readonly kql: string;
  /** What the query selects on our rows, where that is not obvious. */
  readonly note?: string;
}

export const REFERENCE_QUERIES: readonly ReferenceQuery[] = [
  {
    name: 'high-severity GuardDuty findings by type',
    table: AWS_GUARDDUTY.table,
    kql: 'AWSGuardDuty | where Severity > 7 | summarize count() by ActivityType',
    note:
      'Severity is an int column holding the floor of the finding severity (see columns.ts), so ' +
      '`Severity > 7` selects findings of severity 8.0 and above (upper High and Critical); ' +
      '`Severity >= 7` selects every High and Critical finding.',
  },
  {
    name: 'IAM users created by region',
    table: AWS_CLOUDTRAIL.table,
    kql: 'AWSCloudTrail | where EventName == "CreateUser" | summarize count() by AWSRegion',
  },
  {
    name: 'rejected IPv4 flows',
    table: AWS_VPCFLOW.table,
    kql: 'AWSVPCFlow | where Action == "REJECT" | where TrafficType == "IPv4" | take 10',
    note:
      'The guidance publishes `where Type == "Ipv4"`, which matches nothing: `Type` is the table name. ' +
      'The IP version of a flow is in `TrafficType` (the flow log field `type`, written by AWS as IPv4, IPv6 or EFA).',
  },
];
