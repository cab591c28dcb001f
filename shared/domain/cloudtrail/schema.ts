import * as z from 'zod';
import { awsTimestamp, looseBoolean } from '../schema-helpers.js';

/**
 * A CloudTrail record (management event) as EventBridge carries it in `detail` and as trail files hold it in
 * `Records[]`. https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html
 * Unknown fields are accepted (AWS adds them); fields that feed a column are typed.
 */

// Optional string fields that are not strings are left out of the row rather than refusing the record: a lost
// IAM change is worse than one empty column. Booleans stay strict (AWS only ever sends true/false).
const str = z.string().nullish().catch(undefined);
/** Some records carry an empty creation date; it is simply absent. */
const optionalTimestamp = z.union([z.literal(''), awsTimestamp]).nullish();

/** Every `userIdentity.type` CloudTrail documents; unknown future types are accepted as strings. */
export const USER_IDENTITY_TYPES = [
  'Root',
  'IAMUser',
  'AssumedRole',
  'Role',
  'FederatedUser',
  'Directory',
  'AWSAccount',
  'AWSService',
  'IdentityCenterUser',
  'Unknown',
  'SAMLUser',
  'WebIdentityUser',
] as const;

export const sessionContextSchema = z.looseObject({
  sessionIssuer: z
    .looseObject({ type: str, principalId: str, arn: str, accountId: str, userName: str })
    .nullish()
    .catch(undefined),
  webIdFederationData: z.looseObject({}).nullish().catch(undefined),
  attributes: z
    .looseObject({ creationDate: optionalTimestamp, mfaAuthenticated: looseBoolean.nullish() })
    .nullish(),
  sourceIdentity: str,
  ec2RoleDelivery: str,
});

export const userIdentitySchema = z.looseObject({
  type: str,
  principalId: str,
  arn: str,
  accountId: str,
  accessKeyId: str,
  userName: str,
  invokedBy: str,
  identityProvider: str,
  credentialId: str,
  sessionContext: sessionContextSchema.nullish(),
  onBehalfOf: z.looseObject({ userId: str, identityStoreArn: str }).nullish().catch(undefined),
});

export const tlsDetailsSchema = z.looseObject({
  tlsVersion: str,
  cipherSuite: str,
  clientProvidedHostHeader: str,
});

export const cloudTrailRecordSchema = z.looseObject({
  eventVersion: str,
  eventTime: awsTimestamp,
  eventSource: z.string().min(1),
  eventName: z.string().min(1),
  awsRegion: z.string().min(1),
  eventID: z.string().min(1),
  eventType: str,
  eventCategory: str,
  userIdentity: userIdentitySchema.nullish(),
  sourceIPAddress: str,
  userAgent: str,
  errorCode: str,
  errorMessage: str,
  requestParameters: z.unknown().optional(),
  responseElements: z.unknown().optional(),
  additionalEventData: z.unknown().optional(),
  resources: z.unknown().optional(),
  serviceEventDetails: z.unknown().optional(),
  requestID: str,
  apiVersion: str,
  readOnly: looseBoolean.nullish(),
  managementEvent: looseBoolean.nullish(),
  recipientAccountId: str,
  sharedEventID: str,
  vpcEndpointId: str,
  tlsDetails: tlsDetailsSchema.nullish().catch(undefined),
});

export type CloudTrailRecord = z.infer<typeof cloudTrailRecordSchema>;

export const CLOUDTRAIL_DETAIL_TYPES: readonly string[] = [
  'AWS API Call via CloudTrail',
  'AWS Console Sign In via CloudTrail',
  'AWS Service Event via CloudTrail',
];
