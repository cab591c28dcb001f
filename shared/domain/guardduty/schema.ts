import { z } from 'zod';
import { awsTimestamp } from '../schema-helpers.js';

/**
 * A GuardDuty finding, schema 2.0, as EventBridge carries it in `detail` (camelCase wire names, the same
 * shape `GetFindings` returns). Unknown fields are accepted everywhere (AWS adds them) and kept verbatim in
 * `resource` and `service`; only fields that feed a column or a response decision are typed.
 * https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_finding-format.html
 */

// Inner fields are typed for the response side, but a malformed one never refuses the finding: it feeds no
// column (resource and service go into the row verbatim), and a lost High-severity finding is worse than an
// untyped field. `.catch(undefined)` drops the bad value from the parsed copy only.
const loose = <T extends z.ZodRawShape>(shape: T) => z.looseObject(shape).nullish().catch(undefined);
const str = z.string().nullish().catch(undefined);

const networkInterfaceSchema = z.looseObject({
  networkInterfaceId: str,
  vpcId: str,
  subnetId: str,
  privateIpAddress: str,
  publicIp: str,
  securityGroups: z
    .array(z.looseObject({ groupId: str, groupName: str }))
    .nullish()
    .catch(undefined),
});

const tagsSchema = z
  .array(z.looseObject({ key: str, value: str }))
  .nullish()
  .catch(undefined);

/** Per-resource-type details; each block is optional because one finding may carry several. */
export const guardDutyResourceSchema = z.looseObject({
  resourceType: str,
  instanceDetails: loose({
    instanceId: str,
    instanceType: str,
    availabilityZone: str,
    networkInterfaces: z.array(networkInterfaceSchema).nullish().catch(undefined),
    iamInstanceProfile: loose({ arn: str, id: str }),
    tags: tagsSchema,
  }),
  accessKeyDetails: loose({ accessKeyId: str, principalId: str, userName: str, userType: str }),
  s3BucketDetails: z
    .array(z.looseObject({ arn: str, name: str, type: str }))
    .nullish()
    .catch(undefined),
  eksClusterDetails: loose({ name: str, arn: str, vpcId: str }),
  kubernetesDetails: loose({}),
  rdsDbInstanceDetails: loose({ dbInstanceIdentifier: str, dbClusterIdentifier: str, engine: str }),
  rdsDbUserDetails: loose({ user: str, application: str, database: str }),
  rdsLimitlessDbDetails: loose({ dbShardGroupIdentifier: str, dbClusterIdentifier: str }),
  containerDetails: loose({ id: str, name: str, image: str }),
  ecsClusterDetails: loose({ name: str, arn: str }),
  lambdaDetails: loose({ functionName: str, functionArn: str, role: str }),
  ebsVolumeDetails: loose({}),
});

export const guardDutyServiceSchema = z.looseObject({
  serviceName: str,
  detectorId: str,
  archived: z.boolean().nullish().catch(undefined),
  count: z.number().nullish().catch(undefined),
  resourceRole: str,
  featureName: str,
  action: loose({ actionType: str }),
  additionalInfo: z.looseObject({ sample: z.unknown().optional() }).nullish().catch(undefined),
});

export const guardDutyFindingSchema = z.looseObject({
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
  resource: guardDutyResourceSchema.optional(),
  service: guardDutyServiceSchema.optional(),
});

export type GuardDutyFinding = z.infer<typeof guardDutyFindingSchema>;
export type GuardDutyResource = z.infer<typeof guardDutyResourceSchema>;

export const GUARDDUTY_DETAIL_TYPES: readonly string[] = ['GuardDuty Finding'];

/** GuardDuty's sample findings (CreateSampleFindings) carry `service.additionalInfo.sample = true`. */
export function isSampleFinding(finding: GuardDutyFinding): boolean {
  const sample = finding.service?.additionalInfo?.sample;
  return sample === true || sample === 'true';
}
