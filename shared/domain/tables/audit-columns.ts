/**
 * The audit trail of the response side: the custom table `AWSResponseAudit_CL`.
 *
 * One row per AWS API call an action made (or, in a dry run, would have made), plus one summary row per
 * action outcome with `Operation = '(outcome)'`. All rows of one action run share a `CorrelationId`, so
 * `AWSResponseAudit_CL | where CorrelationId == '...'` shows the whole run, in order of `TimeGenerated`.
 *
 * A custom table: the DCR stream is `Custom-AWSResponseAudit_CL` and its output stream has the same name.
 */
import type { ColumnDefinition, ColumnType, TableDefinition } from './columns.js';

const c = (name: string, type: ColumnType, source: string): ColumnDefinition => ({ name, type, source });

/** `Operation` of the summary row of an outcome (no AWS operation has parentheses in its name). */
export const OUTCOME_OPERATION = '(outcome)';

export const AWS_RESPONSE_AUDIT = {
  table: 'AWSResponseAudit_CL' as const,
  stream: 'Custom-AWSResponseAudit_CL',
  outputStream: 'Custom-AWSResponseAudit_CL',
  columns: [
    c('TimeGenerated', 'datetime', 'when the outcome was recorded (one value for all rows of a run)'),
    c('Action', 'string', 'catalogue action name, e.g. isolate-ec2-instance'),
    c('Target', 'string', 'the resource acted on: instance id, access key id, role or user name, finding id'),
    c('AccountId', 'string', 'AWS account of the target'),
    c('Region', 'string', 'AWS region of the target'),
    c('IncidentNumber', 'int', 'Sentinel incident number, when the run comes from an incident'),
    c('IncidentId', 'string', 'Sentinel incident ARM id or name, when the run comes from an incident'),
    c('Status', 'string', 'the outcome status: done, already-done, dry-run, skipped, refused or failed'),
    c('Service', 'string', 'AWS SDK client of the call: ec2, iam, guardduty, autoscaling, elbv2'),
    c(
      'Operation',
      'string',
      "API operation, e.g. ModifyNetworkInterfaceAttribute; '(outcome)' on the summary row",
    ),
    c(
      'Request',
      'dynamic',
      'input of the call, secrets redacted; on the summary row: { calls, changes, release, irreversible, observed }',
    ),
    c('Mutating', 'boolean', 'the call changes state; on the summary row: some change was actually made'),
    c('DryRun', 'boolean', 'the run was a dry run (mutating calls were recorded, not made)'),
    c('Error', 'string', 'error name of a failed call'),
    c('Verified', 'boolean', 'summary row: reading the resource back showed the intended state'),
    c('Reason', 'string', "why the call was made; on the summary row: the outcome's reason"),
    c(
      'Actor',
      'string',
      'who asked: user principal name or app id of the caller, or the incident automation',
    ),
    c('CorrelationId', 'string', 'one id per action run, shared by its call rows and its summary row'),
  ],
} satisfies TableDefinition;
