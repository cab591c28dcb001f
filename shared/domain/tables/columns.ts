import { AWS_VPCFLOW } from './vpcflow-columns.js';

/**
 * Column definitions of the Sentinel tables this project writes to.
 *
 * This file is the single source of truth for:
 *  - the normalisers (a row may only carry these columns, with these types),
 *  - the DCR stream declarations (`Custom-<Table>` -> `Microsoft-<Table>`),
 *  - the local Logs Ingestion server (which streams exist and what they accept),
 *  - the KQL checks of the reference queries and Sentinel's built-in rules.
 *
 * Names and types follow Microsoft's table reference for the built-in tables. Types use the DCR
 * stream vocabulary (`boolean`, not Kusto's `bool`). `Type`, `TenantId`, `_BilledSize`,
 * `_IsBillable` and `SourceSystem` are set by Log Analytics and are never sent.
 */

export type ColumnType = 'string' | 'int' | 'long' | 'real' | 'boolean' | 'dynamic' | 'datetime';

export interface ColumnDefinition {
  readonly name: string;
  readonly type: ColumnType;
  /** Where the value comes from (documentation; rendered into the README). */
  readonly source: string;
  /** A string column holding JSON text (rules `parse_json` it): trimmed inside the JSON, never through it. */
  readonly json?: true;
}

export interface TableDefinition {
  /** Log Analytics table name, e.g. `AWSGuardDuty`. */
  readonly table: string;
  /** DCR input stream, e.g. `Custom-AWSGuardDuty`. */
  readonly stream: string;
  /** DCR output stream, e.g. `Microsoft-AWSGuardDuty`. */
  readonly outputStream: string;
  readonly columns: readonly ColumnDefinition[];
}

/** Columns that Log Analytics owns; a row that carries one is refused. */
export const RESERVED_COLUMNS: readonly string[] = [
  'Type',
  'TenantId',
  '_BilledSize',
  '_IsBillable',
  'SourceSystem',
];

const c = (name: string, type: ColumnType, source: string): ColumnDefinition => ({ name, type, source });
const jsonText = (name: string, source: string): ColumnDefinition => ({
  name,
  type: 'string',
  source,
  json: true,
});

export const AWS_GUARDDUTY = {
  table: 'AWSGuardDuty' as const,
  stream: 'Custom-AWSGuardDuty',
  outputStream: 'Microsoft-AWSGuardDuty',
  columns: [
    c('TimeGenerated', 'datetime', 'finding.updatedAt'),
    c('TimeCreated', 'datetime', 'finding.createdAt'),
    c('AccountId', 'string', 'finding.accountId'),
    c('ActivityType', 'string', 'finding.type'),
    c('Arn', 'string', 'finding.arn'),
    c('Description', 'string', 'finding.description'),
    c('Id', 'string', 'finding.id'),
    c('Partition', 'string', 'finding.partition'),
    c('Region', 'string', 'finding.region'),
    c(
      'ResourceDetails',
      'dynamic',
      'finding.resource, verbatim (camelCase keys); absent when the finding has none',
    ),
    c('SchemaVersion', 'string', 'finding.schemaVersion'),
    c('ServiceDetails', 'dynamic', 'finding.service, verbatim (camelCase keys)'),
    c(
      'Severity',
      'int',
      'floor(finding.severity): keeps the band (Low 1-3, Medium 4-6, High 7-8, Critical 9-10)',
    ),
    c('Title', 'string', 'finding.title'),
  ],
} satisfies TableDefinition;

export const AWS_CLOUDTRAIL = {
  table: 'AWSCloudTrail' as const,
  stream: 'Custom-AWSCloudTrail',
  outputStream: 'Microsoft-AWSCloudTrail',
  columns: [
    c('TimeGenerated', 'datetime', 'record.eventTime'),
    c('AwsEventId', 'string', 'record.eventID'),
    c('AwsRequestId_', 'string', 'record.requestID (AwsRequestId is deprecated by Microsoft and left empty)'),
    c('EventVersion', 'string', 'record.eventVersion'),
    c('EventSource', 'string', 'record.eventSource'),
    c('EventName', 'string', 'record.eventName'),
    c('EventTypeName', 'string', 'record.eventType'),
    c('Category', 'string', 'record.eventCategory'),
    c('AWSRegion', 'string', 'record.awsRegion'),
    c('SourceIpAddress', 'string', 'record.sourceIPAddress'),
    c('UserAgent', 'string', 'record.userAgent'),
    c('ErrorCode', 'string', 'record.errorCode'),
    c('ErrorMessage', 'string', 'record.errorMessage'),
    jsonText('RequestParameters', 'JSON text of record.requestParameters'),
    jsonText('ResponseElements', 'JSON text of record.responseElements'),
    jsonText('AdditionalEventData', 'JSON text of record.additionalEventData'),
    jsonText('Resources', 'JSON text of record.resources'),
    jsonText('ServiceEventDetails', 'JSON text of record.serviceEventDetails'),
    c('APIVersion', 'string', 'record.apiVersion'),
    c('ReadOnly', 'boolean', 'record.readOnly (also accepts "true"/"false")'),
    c('ManagementEvent', 'boolean', 'record.managementEvent'),
    c('RecipientAccountId', 'string', 'record.recipientAccountId'),
    c('SharedEventId', 'string', 'record.sharedEventID'),
    c('VpcEndpointId', 'string', 'record.vpcEndpointId'),
    c('UserIdentityType', 'string', 'record.userIdentity.type'),
    c('UserIdentityPrincipalid', 'string', 'record.userIdentity.principalId'),
    c('UserIdentityArn', 'string', 'record.userIdentity.arn'),
    c('UserIdentityAccountId', 'string', 'record.userIdentity.accountId'),
    c('UserIdentityInvokedBy', 'string', 'record.userIdentity.invokedBy'),
    c('UserIdentityAccessKeyId', 'string', 'record.userIdentity.accessKeyId'),
    c('UserIdentityUserName', 'string', 'record.userIdentity.userName'),
    c('UserIdentityUserId', 'string', 'record.userIdentity.onBehalfOf.userId (IAM Identity Center users)'),
    c(
      'UserIdentityStoreArn',
      'string',
      'record.userIdentity.onBehalfOf.identityStoreArn (IAM Identity Center users)',
    ),
    c(
      'SessionMfaAuthenticated',
      'boolean',
      'record.userIdentity.sessionContext.attributes.mfaAuthenticated ("true"/"false")',
    ),
    c('SessionCreationDate', 'datetime', 'record.userIdentity.sessionContext.attributes.creationDate'),
    c('SessionIssuerType', 'string', 'record.userIdentity.sessionContext.sessionIssuer.type'),
    c('SessionIssuerPrincipalId', 'string', 'record.userIdentity.sessionContext.sessionIssuer.principalId'),
    c('SessionIssuerArn', 'string', 'record.userIdentity.sessionContext.sessionIssuer.arn'),
    c('SessionIssuerAccountId', 'string', 'record.userIdentity.sessionContext.sessionIssuer.accountId'),
    c('SessionIssuerUserName', 'string', 'record.userIdentity.sessionContext.sessionIssuer.userName'),
    c('EC2RoleDelivery', 'string', 'record.userIdentity.sessionContext.ec2RoleDelivery'),
    c('TlsVersion', 'string', 'record.tlsDetails.tlsVersion'),
    c('CipherSuite', 'string', 'record.tlsDetails.cipherSuite'),
    c('ClientProvidedHostHeader', 'string', 'record.tlsDetails.clientProvidedHostHeader'),
  ],
} satisfies TableDefinition;

export { AWS_VPCFLOW } from './vpcflow-columns.js';

/** Every table the bridge writes to through the ingest DCR (the audit table has its own DCR). */
export const TABLES: readonly TableDefinition[] = [AWS_GUARDDUTY, AWS_CLOUDTRAIL, AWS_VPCFLOW];

export function tableByStream(stream: string): TableDefinition | undefined {
  return TABLES.find((t) => t.stream === stream);
}
