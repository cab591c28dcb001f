import type { Row } from '../rows/row.js';
import { toBoolean } from '../schema-helpers.js';
import { toIsoInstant } from '../time.js';
import type { CloudTrailRecord } from './schema.js';

type Value = string | number | boolean | object;

/** Absent, null and empty values leave the column out (Log Analytics reads a missing string as empty). */
function put(row: Row, column: string, value: Value | null | undefined): void {
  if (value !== undefined && value !== null && value !== '') row[column] = value;
}

/** Sentinel's connector stores these record members as JSON text (rules call `parse_json` on them). */
function putJson(row: Row, column: string, value: unknown): void {
  if (value !== undefined && value !== null) row[column] = JSON.stringify(value);
}

function putBoolean(row: Row, column: string, value: boolean | 'true' | 'false' | null | undefined): void {
  if (value !== undefined && value !== null) row[column] = toBoolean(value);
}

function putTime(row: Row, column: string, value: string | null | undefined): void {
  if (value !== undefined && value !== null) put(row, column, toIsoInstant(value));
}

/**
 * One `AWSCloudTrail` row per record, flattened the way Microsoft's connector does
 * (`userIdentity.*` -> `UserIdentity*`, `sessionContext` -> `Session*` / `SessionIssuer*`, `tlsDetails.*`).
 * `raw` is the record as received, so JSON-text columns hold exactly what AWS sent.
 */
export function toCloudTrailRow(record: CloudTrailRecord, raw: Record<string, unknown>): Row {
  const row: Row = {
    TimeGenerated: toIsoInstant(record.eventTime) ?? record.eventTime,
    AwsEventId: record.eventID,
    EventSource: record.eventSource,
    EventName: record.eventName,
    AWSRegion: record.awsRegion,
  };
  put(row, 'AwsRequestId_', record.requestID);
  put(row, 'EventVersion', record.eventVersion);
  put(row, 'EventTypeName', record.eventType);
  put(row, 'Category', record.eventCategory);
  put(row, 'SourceIpAddress', record.sourceIPAddress);
  put(row, 'UserAgent', record.userAgent);
  put(row, 'ErrorCode', record.errorCode);
  put(row, 'ErrorMessage', record.errorMessage);
  putJson(row, 'RequestParameters', raw.requestParameters);
  putJson(row, 'ResponseElements', raw.responseElements);
  putJson(row, 'AdditionalEventData', raw.additionalEventData);
  putJson(row, 'Resources', raw.resources);
  putJson(row, 'ServiceEventDetails', raw.serviceEventDetails);
  put(row, 'APIVersion', record.apiVersion);
  putBoolean(row, 'ReadOnly', record.readOnly);
  putBoolean(row, 'ManagementEvent', record.managementEvent);
  put(row, 'RecipientAccountId', record.recipientAccountId);
  put(row, 'SharedEventId', record.sharedEventID);
  put(row, 'VpcEndpointId', record.vpcEndpointId);

  const identity = record.userIdentity;
  if (identity) {
    put(row, 'UserIdentityType', identity.type);
    put(row, 'UserIdentityPrincipalid', identity.principalId);
    put(row, 'UserIdentityArn', identity.arn);
    put(row, 'UserIdentityAccountId', identity.accountId);
    put(row, 'UserIdentityInvokedBy', identity.invokedBy);
    put(row, 'UserIdentityAccessKeyId', identity.accessKeyId);
    put(row, 'UserIdentityUserName', identity.userName);
    put(row, 'UserIdentityUserId', identity.onBehalfOf?.userId);
    put(row, 'UserIdentityStoreArn', identity.onBehalfOf?.identityStoreArn);
    const session = identity.sessionContext;
    if (session) {
      putBoolean(row, 'SessionMfaAuthenticated', session.attributes?.mfaAuthenticated);
      putTime(row, 'SessionCreationDate', session.attributes?.creationDate);
      const issuer = session.sessionIssuer;
      put(row, 'SessionIssuerType', issuer?.type);
      put(row, 'SessionIssuerPrincipalId', issuer?.principalId);
      put(row, 'SessionIssuerArn', issuer?.arn);
      put(row, 'SessionIssuerAccountId', issuer?.accountId);
      put(row, 'SessionIssuerUserName', issuer?.userName);
      put(row, 'EC2RoleDelivery', session.ec2RoleDelivery);
    }
  }
  const tls = record.tlsDetails;
  put(row, 'TlsVersion', tls?.tlsVersion);
  put(row, 'CipherSuite', tls?.cipherSuite);
  put(row, 'ClientProvidedHostHeader', tls?.clientProvidedHostHeader);
  return row;
}
