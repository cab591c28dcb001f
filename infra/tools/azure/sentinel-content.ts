/**
 * Sentinel content shipped with the Azure template: scheduled analytic rules over the rows the forwarder
 * writes, and the workbook. Pure data; `template.ts` turns it into ARM resources and the tests compile every
 * query with Microsoft's Kusto language service against the column definitions.
 *
 * The rules hand the responder exactly what it reads (shared/domain/respond/incident.ts): alert custom details
 * `AwsAccountId`, `AwsRegion`, `InstanceId`, `AccessKeyId`, `UserName`, `RoleName`, `FindingId`, `FindingType`,
 * and Host / Account / IP entities. Every rule is `AlertPerResult`, so each alert's custom details hold the
 * values of one row.
 *
 * Ingestion delay: each rule runs every 5 minutes over a 1-hour period and keeps only the rows ingested since
 * the previous run (`ingestion_time() > ago(5m)`), so a row that arrives late is still seen exactly once
 * (Microsoft's recommended pattern for scheduled rules).
 */

import { OUTCOME_OPERATION } from '../../../shared/domain/tables/audit-columns.js';

/** The alert custom details the responder reads (shared/domain/respond/incident.ts). */
export const RESPONDER_CUSTOM_DETAILS = [
  'AwsAccountId',
  'AwsRegion',
  'InstanceId',
  'AccessKeyId',
  'UserName',
  'RoleName',
  'FindingId',
  'FindingType',
] as const;
export type ResponderDetail = (typeof RESPONDER_CUSTOM_DETAILS)[number];

export type EntityType = 'Host' | 'Account' | 'IP';

export interface EntityMapping {
  readonly entityType: EntityType;
  readonly fieldMappings: readonly { readonly identifier: string; readonly columnName: string }[];
}

export interface AnalyticRule {
  /** Stable key: the rule's ARM name is `guid(workspace, key)`, so redeploying updates the same rule. */
  readonly key: string;
  readonly displayName: string;
  readonly description: string;
  readonly severity: 'High' | 'Medium' | 'Low' | 'Informational';
  readonly tactics: readonly string[];
  readonly techniques: readonly string[];
  readonly query: string;
  /** Custom detail name -> projected column; the names are the ones the responder reads. */
  readonly customDetails: Readonly<Partial<Record<ResponderDetail, string>>>;
  readonly entityMappings: readonly EntityMapping[];
  readonly alertDisplayNameFormat: string;
  readonly alertDescriptionFormat: string;
  /** Alerts with the same values of these custom details (within a day) join one incident. */
  readonly groupByCustomDetails: readonly ResponderDetail[];
}

const entity = (entityType: EntityType, identifier: string, columnName: string): EntityMapping => ({
  entityType,
  fieldMappings: [{ identifier, columnName }],
});

/** A CloudTrail source address as an IP entity, or empty when CloudTrail names a service ("AWS Internal", "iam.amazonaws.com"). */
const SOURCE_IP = `SourceIp = iff(SourceIpAddress matches regex @'^[0-9.]+$' or SourceIpAddress contains ':', SourceIpAddress, '')`;

export const GUARDDUTY_HIGH_SEVERITY: AnalyticRule = {
  key: 'aws-guardduty-high-severity',
  displayName: 'AWS GuardDuty high-severity finding (aws-sentinel-bridge)',
  description:
    'A GuardDuty finding of severity 7.0 or above (High and Critical; AWSGuardDuty.Severity holds the floor of the finding severity). Sample and archived findings are left out. The alert names the account, region, finding and the instance, IAM user access key or role it is about, for the automated response.',
  severity: 'High',
  tactics: ['InitialAccess', 'Execution', 'Persistence', 'CredentialAccess', 'Impact'],
  techniques: ['T1078', 'T1190', 'T1496'],
  query: `AWSGuardDuty
| where ingestion_time() > ago(5m)
| where Severity >= 7
| where tostring(ServiceDetails.additionalInfo['sample']) != 'true'
| where tostring(ServiceDetails.archived) != 'true'
| extend KeyType = tostring(ResourceDetails.accessKeyDetails.userType)
| extend
    AwsAccountId = AccountId,
    AwsRegion = Region,
    FindingId = Id,
    FindingType = ActivityType,
    InstanceId = tostring(ResourceDetails.instanceDetails.instanceId),
    AccessKeyId = iff(KeyType == 'IAMUser', tostring(ResourceDetails.accessKeyDetails.accessKeyId), ''),
    UserName = iff(KeyType == 'IAMUser', tostring(ResourceDetails.accessKeyDetails.userName), ''),
    RoleName = iff(KeyType == 'AssumedRole', tostring(ResourceDetails.accessKeyDetails.userName), ''),
    RemoteIp = coalesce(
        tostring(ServiceDetails.action.networkConnectionAction.remoteIpDetails.ipAddressV4),
        tostring(ServiceDetails.action.awsApiCallAction.remoteIpDetails.ipAddressV4),
        tostring(ServiceDetails.action.kubernetesApiCallAction.remoteIpDetails.ipAddressV4),
        tostring(ServiceDetails.action.rdsLoginAttemptAction.remoteIpDetails.ipAddressV4),
        tostring(ServiceDetails.action.portProbeAction.portProbeDetails[0].remoteIpDetails.ipAddressV4))
| project TimeGenerated, AwsAccountId, AwsRegion, FindingId, FindingType, Severity, Title, Description,
    InstanceId, AccessKeyId, UserName, RoleName, RemoteIp`,
  customDetails: {
    AwsAccountId: 'AwsAccountId',
    AwsRegion: 'AwsRegion',
    FindingId: 'FindingId',
    FindingType: 'FindingType',
    InstanceId: 'InstanceId',
    AccessKeyId: 'AccessKeyId',
    UserName: 'UserName',
    RoleName: 'RoleName',
  },
  entityMappings: [
    entity('Host', 'HostName', 'InstanceId'),
    entity('Account', 'Name', 'AccessKeyId'),
    entity('Account', 'Name', 'UserName'),
    entity('IP', 'Address', 'RemoteIp'),
  ],
  alertDisplayNameFormat: 'AWS GuardDuty - {{FindingType}}',
  alertDescriptionFormat: '{{Title}}',
  // GuardDuty updates an active finding every 6 hours: the updates join the finding's incident.
  groupByCustomDetails: ['FindingId'],
};

export const ROOT_IAM_CHANGE: AnalyticRule = {
  key: 'aws-root-iam-change',
  displayName: 'AWS IAM change made by the root user (aws-sentinel-bridge)',
  description:
    'A successful IAM change made with the root user of an AWS account. The root user should not be used for day-to-day changes; the alert names the IAM user, role or access key the change was about (FindingType CloudTrail:Root/<event name>), for investigation or a response policy rule.',
  severity: 'High',
  tactics: ['Persistence', 'PrivilegeEscalation'],
  techniques: ['T1078', 'T1098'],
  query: `AWSCloudTrail
| where ingestion_time() > ago(5m)
| where EventSource == 'iam.amazonaws.com' and UserIdentityType == 'Root'
| where isempty(ErrorCode)
| extend Request = parse_json(RequestParameters), Response = parse_json(ResponseElements)
| extend
    AwsAccountId = coalesce(RecipientAccountId, UserIdentityAccountId),
    AwsRegion = AWSRegion,
    UserName = tostring(Request.userName),
    RoleName = tostring(Request.roleName),
    FindingType = strcat('CloudTrail:Root/', EventName)
| extend
    AccessKeyId = iff(EventName == 'CreateAccessKey' and isnotempty(UserName), tostring(Response.accessKey.accessKeyId), ''),
    ${SOURCE_IP}
| project TimeGenerated, AwsAccountId, AwsRegion, EventName, FindingType, UserName, RoleName, AccessKeyId,
    SourceIp, SourceIpAddress, UserAgent, CallerArn = UserIdentityArn, AwsEventId`,
  customDetails: {
    AwsAccountId: 'AwsAccountId',
    AwsRegion: 'AwsRegion',
    FindingType: 'FindingType',
    UserName: 'UserName',
    RoleName: 'RoleName',
    AccessKeyId: 'AccessKeyId',
  },
  entityMappings: [
    entity('Account', 'Name', 'UserName'),
    entity('Account', 'Name', 'AccessKeyId'),
    entity('IP', 'Address', 'SourceIp'),
  ],
  alertDisplayNameFormat: 'AWS root user: {{EventName}} in {{AwsAccountId}}',
  alertDescriptionFormat: 'The root user of AWS account {{AwsAccountId}} called {{EventName}}.',
  groupByCustomDetails: [],
};

export const ACCESS_KEY_FOR_ANOTHER_USER: AnalyticRule = {
  key: 'aws-access-key-for-another-user',
  displayName: 'AWS access key created for another IAM user (aws-sentinel-bridge)',
  description:
    'A principal created an access key for a different IAM user, a common way to plant a backdoor credential. The alert names the new key and its user (FindingType CloudTrail:IAMUser/AccessKeyCreatedForAnotherUser), so a response policy rule can deactivate the key; the caller is in the CallerArn column. Root callers are covered by the root IAM change rule.',
  severity: 'Medium',
  tactics: ['Persistence'],
  techniques: ['T1098'],
  query: `AWSCloudTrail
| where ingestion_time() > ago(5m)
| where EventSource == 'iam.amazonaws.com' and EventName == 'CreateAccessKey' and isempty(ErrorCode)
| where UserIdentityType != 'Root'
| extend Request = parse_json(RequestParameters), Response = parse_json(ResponseElements)
| extend UserName = tostring(Request.userName)
| where isnotempty(UserName) and UserName != UserIdentityUserName
| extend
    AwsAccountId = coalesce(RecipientAccountId, UserIdentityAccountId),
    AwsRegion = AWSRegion,
    AccessKeyId = tostring(Response.accessKey.accessKeyId),
    FindingType = 'CloudTrail:IAMUser/AccessKeyCreatedForAnotherUser',
    ${SOURCE_IP}
| project TimeGenerated, AwsAccountId, AwsRegion, FindingType, UserName, AccessKeyId, CallerArn = UserIdentityArn,
    CallerType = UserIdentityType, SourceIp, SourceIpAddress, UserAgent, AwsEventId`,
  customDetails: {
    AwsAccountId: 'AwsAccountId',
    AwsRegion: 'AwsRegion',
    FindingType: 'FindingType',
    UserName: 'UserName',
    AccessKeyId: 'AccessKeyId',
  },
  entityMappings: [
    entity('Account', 'Name', 'UserName'),
    entity('Account', 'Name', 'AccessKeyId'),
    entity('IP', 'Address', 'SourceIp'),
  ],
  alertDisplayNameFormat: 'AWS access key created for IAM user {{UserName}}',
  alertDescriptionFormat: '{{CallerArn}} created access key {{AccessKeyId}} for IAM user {{UserName}}.',
  groupByCustomDetails: [],
};

export const ANALYTIC_RULES: readonly AnalyticRule[] = [
  GUARDDUTY_HIGH_SEVERITY,
  ROOT_IAM_CHANGE,
  ACCESS_KEY_FOR_ANOTHER_USER,
];

// --- Workbook -------------------------------------------------------------------------------------------

export type WorkbookVisualization = 'timechart' | 'barchart' | 'piechart' | 'table';

export interface WorkbookQuery {
  readonly name: string;
  readonly title: string;
  readonly query: string;
  readonly visualization: WorkbookVisualization;
  /** Percentage of the row the tile takes (workbook `customWidth`). */
  readonly width: 50 | 100;
}

/** The remote address of a GuardDuty finding, whichever action type it has. */
const GUARDDUTY_REMOTE_IP = `coalesce(
    tostring(ServiceDetails.action.networkConnectionAction.remoteIpDetails.ipAddressV4),
    tostring(ServiceDetails.action.awsApiCallAction.remoteIpDetails.ipAddressV4),
    tostring(ServiceDetails.action.kubernetesApiCallAction.remoteIpDetails.ipAddressV4),
    tostring(ServiceDetails.action.rdsLoginAttemptAction.remoteIpDetails.ipAddressV4),
    tostring(ServiceDetails.action.portProbeAction.portProbeDetails[0].remoteIpDetails.ipAddressV4))`;

/** The views of Microsoft's zero-trust guidance for AWS, plus delivery latency and the response audit. */
export const WORKBOOK_QUERIES: readonly WorkbookQuery[] = [
  {
    name: 'cloudtrail-over-time',
    title: 'CloudTrail events over time, by event source',
    query: 'AWSCloudTrail\n| summarize Events = count() by bin(TimeGenerated, 1h), EventSource',
    visualization: 'timechart',
    width: 100,
  },
  {
    name: 'cloudtrail-accounts',
    title: 'CloudTrail events by AWS account',
    query:
      'AWSCloudTrail\n| extend AwsAccountId = coalesce(RecipientAccountId, UserIdentityAccountId)\n| summarize Events = count(), Failed = countif(isnotempty(ErrorCode)) by AwsAccountId\n| sort by Events desc',
    visualization: 'table',
    width: 50,
  },
  {
    name: 'cloudtrail-event-sources',
    title: 'CloudTrail event sources',
    query: 'AWSCloudTrail\n| summarize Events = count() by EventSource\n| sort by Events desc',
    visualization: 'piechart',
    width: 50,
  },
  {
    name: 'cloudtrail-event-names',
    title: 'Most frequent CloudTrail events',
    query:
      'AWSCloudTrail\n| summarize Events = count(), Failed = countif(isnotempty(ErrorCode)) by EventSource, EventName\n| top 20 by Events',
    visualization: 'table',
    width: 100,
  },
  {
    name: 'guardduty-regions',
    title: 'GuardDuty findings by region',
    query: 'AWSGuardDuty\n| summarize Findings = dcount(Id) by Region\n| sort by Findings desc',
    visualization: 'barchart',
    width: 50,
  },
  {
    name: 'guardduty-remote-ips',
    title: 'GuardDuty findings by remote IP address',
    query: `AWSGuardDuty\n| extend RemoteIp = ${GUARDDUTY_REMOTE_IP}\n| where isnotempty(RemoteIp)\n| summarize Findings = dcount(Id), Types = make_set(ActivityType, 10) by RemoteIp\n| top 20 by Findings`,
    visualization: 'table',
    width: 50,
  },
  {
    name: 'guardduty-types',
    title: 'GuardDuty finding types and their highest severity',
    query:
      'AWSGuardDuty\n| summarize Findings = dcount(Id), MaxSeverity = max(Severity) by ActivityType\n| top 20 by Findings',
    visualization: 'table',
    width: 100,
  },
  {
    name: 'delivery-latency',
    title: 'Delivery latency (seconds from event time to ingestion)',
    query:
      'union withsource = Table AWSCloudTrail, AWSGuardDuty\n| extend LatencySeconds = (ingestion_time() - TimeGenerated) / 1s\n| summarize Rows = count(), P50 = percentile(LatencySeconds, 50), P95 = percentile(LatencySeconds, 95) by Table',
    visualization: 'table',
    width: 50,
  },
  {
    name: 'response-outcomes',
    title: 'Automated response outcomes',
    query: `AWSResponseAudit_CL\n| where Operation == '${OUTCOME_OPERATION}'\n| summarize Runs = count() by Action, Status\n| sort by Runs desc`,
    visualization: 'table',
    width: 50,
  },
];
