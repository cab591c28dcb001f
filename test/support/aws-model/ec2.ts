/**
 * A stateful model of one AWS account's EC2 (instances, ENIs, security groups, volumes, snapshots, instance
 * profile associations), Auto Scaling groups and ELBv2 target groups, behind the REAL SDK clients
 * (aws-sdk-client-mock on client instances this model creates, so several models can run side by side).
 *
 * Tests of response actions assert the END STATE (`model.groupsOf(instanceId)`, `model.tagsOf(id)`,
 * `model.snapshot()` before/after) rather than lists of calls. Operations follow AWS's documented semantics
 * and error codes; an operation or parameter the model does not cover rejects with `NotModelled` instead of
 * answering `undefined`.
 */
import {
  type Activity,
  AutoScalingClient,
  type AutoScalingGroup,
  AutoScalingServiceException,
  DescribeAutoScalingGroupsCommand,
  type DescribeAutoScalingGroupsCommandInput,
  type DescribeAutoScalingGroupsCommandOutput,
  DescribeAutoScalingInstancesCommand,
  type DescribeAutoScalingInstancesCommandInput,
  type DescribeAutoScalingInstancesCommandOutput,
  DetachInstancesCommand,
  type DetachInstancesCommandInput,
  type DetachInstancesCommandOutput,
  EnterStandbyCommand,
  type EnterStandbyCommandInput,
  type EnterStandbyCommandOutput,
  ExitStandbyCommand,
  type ExitStandbyCommandInput,
  type ExitStandbyCommandOutput,
} from '@aws-sdk/client-auto-scaling';
import {
  type _InstanceType,
  AssociateIamInstanceProfileCommand,
  type AssociateIamInstanceProfileCommandInput,
  type AssociateIamInstanceProfileCommandOutput,
  AuthorizeSecurityGroupEgressCommand,
  type AuthorizeSecurityGroupEgressCommandInput,
  AuthorizeSecurityGroupIngressCommand,
  type AuthorizeSecurityGroupIngressCommandInput,
  type AuthorizeSecurityGroupIngressCommandOutput,
  CreateSecurityGroupCommand,
  type CreateSecurityGroupCommandInput,
  type CreateSecurityGroupCommandOutput,
  CreateSnapshotCommand,
  type CreateSnapshotCommandInput,
  type CreateSnapshotCommandOutput,
  CreateSnapshotsCommand,
  type CreateSnapshotsCommandInput,
  type CreateSnapshotsCommandOutput,
  CreateTagsCommand,
  type CreateTagsCommandInput,
  type CreateTagsCommandOutput,
  DeleteSecurityGroupCommand,
  type DeleteSecurityGroupCommandInput,
  type DeleteSecurityGroupCommandOutput,
  DeleteTagsCommand,
  type DeleteTagsCommandInput,
  type DeleteTagsCommandOutput,
  DescribeIamInstanceProfileAssociationsCommand,
  type DescribeIamInstanceProfileAssociationsCommandInput,
  type DescribeIamInstanceProfileAssociationsCommandOutput,
  DescribeInstanceAttributeCommand,
  type DescribeInstanceAttributeCommandInput,
  type DescribeInstanceAttributeCommandOutput,
  DescribeInstancesCommand,
  type DescribeInstancesCommandInput,
  type DescribeInstancesCommandOutput,
  DescribeNetworkInterfacesCommand,
  type DescribeNetworkInterfacesCommandInput,
  type DescribeNetworkInterfacesCommandOutput,
  DescribeSecurityGroupRulesCommand,
  type DescribeSecurityGroupRulesCommandInput,
  type DescribeSecurityGroupRulesCommandOutput,
  DescribeSecurityGroupsCommand,
  type DescribeSecurityGroupsCommandInput,
  type DescribeSecurityGroupsCommandOutput,
  DescribeSnapshotsCommand,
  type DescribeSnapshotsCommandInput,
  type DescribeSnapshotsCommandOutput,
  DescribeTagsCommand,
  type DescribeTagsCommandInput,
  type DescribeTagsCommandOutput,
  DescribeVolumesCommand,
  type DescribeVolumesCommandInput,
  type DescribeVolumesCommandOutput,
  DescribeVpcsCommand,
  type DescribeVpcsCommandInput,
  type DescribeVpcsCommandOutput,
  DisassociateIamInstanceProfileCommand,
  type DisassociateIamInstanceProfileCommandInput,
  type DisassociateIamInstanceProfileCommandOutput,
  EC2Client,
  EC2ServiceException,
  type Instance as Ec2Instance,
  type Filter,
  type GroupIdentifier,
  type IamInstanceProfileAssociation,
  type IamInstanceProfileSpecification,
  type InstanceNetworkInterface,
  type IpPermission,
  ModifyInstanceAttributeCommand,
  type ModifyInstanceAttributeCommandInput,
  type ModifyInstanceAttributeCommandOutput,
  ModifyNetworkInterfaceAttributeCommand,
  type ModifyNetworkInterfaceAttributeCommandInput,
  type ModifyNetworkInterfaceAttributeCommandOutput,
  type NetworkInterface,
  ReplaceIamInstanceProfileAssociationCommand,
  type ReplaceIamInstanceProfileAssociationCommandInput,
  type ReplaceIamInstanceProfileAssociationCommandOutput,
  type ResourceType,
  type RevokedSecurityGroupRule,
  RevokeSecurityGroupEgressCommand,
  type RevokeSecurityGroupEgressCommandInput,
  RevokeSecurityGroupIngressCommand,
  type RevokeSecurityGroupIngressCommandInput,
  type RevokeSecurityGroupIngressCommandOutput,
  type SecurityGroup,
  type SecurityGroupRule,
  type Snapshot,
  type SnapshotInfo,
  type Tag,
  type TagSpecification,
  type Volume,
} from '@aws-sdk/client-ec2';
import {
  DeregisterTargetsCommand,
  type DeregisterTargetsCommandInput,
  type DeregisterTargetsCommandOutput,
  DescribeTargetGroupsCommand,
  type DescribeTargetGroupsCommandInput,
  type DescribeTargetGroupsCommandOutput,
  DescribeTargetHealthCommand,
  type DescribeTargetHealthCommandInput,
  type DescribeTargetHealthCommandOutput,
  ElasticLoadBalancingV2Client,
  ElasticLoadBalancingV2ServiceException,
  InvalidTargetException,
  LoadBalancerNotFoundException,
  RegisterTargetsCommand,
  type RegisterTargetsCommandInput,
  type RegisterTargetsCommandOutput,
  type TargetGroup,
  TargetGroupNotFoundException,
  type TargetHealthDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';

// ---------------------------------------------------------------------------------------------------------
// State (plain data; `snapshot()` deep-copies it with structuredClone)
// ---------------------------------------------------------------------------------------------------------

export type ModelService = 'ec2' | 'autoscaling' | 'elbv2';
export type InstanceStateName =
  | 'pending'
  | 'running'
  | 'shutting-down'
  | 'terminated'
  | 'stopping'
  | 'stopped';

const STATE_CODES: Readonly<Record<InstanceStateName, number>> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

export interface ModelTag {
  Key: string;
  Value: string;
}

export interface VpcState {
  readonly vpcId: string;
  readonly cidrBlock: string;
  readonly isDefault: boolean;
  tags: ModelTag[];
}

export interface SubnetState {
  readonly subnetId: string;
  readonly vpcId: string;
  readonly availabilityZone: string;
  readonly cidrBlock: string;
  tags: ModelTag[];
  /** Last host number handed out as a private IP. */
  lastHost: number;
}

/** One security group rule, as DescribeSecurityGroupRules shows it: exactly one peer is set. */
export interface RuleState {
  readonly ruleId: string;
  /** Normalised: `tcp`, `udp`, `icmp`, `icmpv6`, `-1` (all) or a protocol number. */
  readonly protocol: string;
  /** -1 when the protocol has no ports. */
  readonly fromPort: number;
  readonly toPort: number;
  readonly cidrIpv4?: string;
  readonly cidrIpv6?: string;
  readonly prefixListId?: string;
  readonly referencedGroupId?: string;
  readonly description?: string;
  tags: ModelTag[];
}

export interface SecurityGroupState {
  readonly groupId: string;
  readonly groupName: string;
  readonly description: string;
  readonly vpcId: string;
  tags: ModelTag[];
  ingress: RuleState[];
  egress: RuleState[];
}

export interface InstanceState {
  readonly instanceId: string;
  readonly reservationId: string;
  readonly vpcId: string;
  readonly subnetId: string;
  readonly availabilityZone: string;
  readonly imageId: string;
  readonly instanceType: _InstanceType;
  readonly launchTime: Date;
  readonly rootDeviceName: string;
  state: InstanceStateName;
  disableApiTermination: boolean;
  disableApiStop: boolean;
  tags: ModelTag[];
}

export interface EniAttachmentState {
  readonly attachmentId: string;
  readonly instanceId: string;
  readonly deviceIndex: number;
  readonly attachTime: Date;
  deleteOnTermination: boolean;
}

export interface NetworkInterfaceState {
  readonly networkInterfaceId: string;
  readonly vpcId: string;
  readonly subnetId: string;
  readonly availabilityZone: string;
  readonly privateIpAddress: string;
  readonly macAddress: string;
  description: string;
  /** Security group ids, in the order they were set. */
  groups: string[];
  sourceDestCheck: boolean;
  tags: ModelTag[];
  attachment?: EniAttachmentState | undefined;
}

export interface VolumeAttachmentState {
  readonly instanceId: string;
  readonly device: string;
  readonly attachTime: Date;
  deleteOnTermination: boolean;
}

export interface VolumeState {
  readonly volumeId: string;
  readonly size: number;
  readonly availabilityZone: string;
  readonly volumeType: 'gp3';
  readonly encrypted: boolean;
  readonly createTime: Date;
  tags: ModelTag[];
  attachment?: VolumeAttachmentState | undefined;
}

export interface SnapshotState {
  readonly snapshotId: string;
  readonly volumeId: string;
  readonly volumeSize: number;
  readonly description: string;
  readonly encrypted: boolean;
  readonly startTime: Date;
  readonly ownerId: string;
  state: 'pending' | 'completed' | 'error';
  tags: ModelTag[];
}

export interface InstanceProfileState {
  readonly name: string;
  readonly arn: string;
  readonly id: string;
}

export interface ProfileAssociationState {
  readonly associationId: string;
  readonly instanceId: string;
  readonly profileArn: string;
  readonly profileId: string;
  readonly timestamp: Date;
}

export type LifecycleStateName = 'InService' | 'Standby' | 'Pending';

export interface AsgMemberState {
  readonly instanceId: string;
  readonly availabilityZone: string;
  lifecycleState: LifecycleStateName;
  healthStatus: 'Healthy' | 'Unhealthy';
  protectedFromScaleIn: boolean;
}

export interface AutoScalingGroupState {
  readonly name: string;
  readonly arn: string;
  readonly vpcId: string;
  readonly subnetIds: string[];
  /** Groups a replacement instance is launched with (the launch template's). */
  readonly launchGroupIds: string[];
  readonly createdTime: Date;
  minSize: number;
  maxSize: number;
  desiredCapacity: number;
  targetGroupArns: string[];
  instances: AsgMemberState[];
}

export type TargetStateName = 'initial' | 'healthy' | 'unhealthy' | 'draining';

export interface TargetState {
  readonly id: string;
  readonly port: number;
  state: TargetStateName;
}

export interface TargetGroupState {
  readonly arn: string;
  readonly name: string;
  readonly protocol: 'HTTP' | 'HTTPS' | 'TCP';
  readonly port: number;
  readonly vpcId: string;
  readonly loadBalancerArns: string[];
  targets: TargetState[];
}

export interface Ec2State {
  readonly vpcs: Map<string, VpcState>;
  readonly subnets: Map<string, SubnetState>;
  readonly securityGroups: Map<string, SecurityGroupState>;
  readonly instances: Map<string, InstanceState>;
  readonly networkInterfaces: Map<string, NetworkInterfaceState>;
  readonly volumes: Map<string, VolumeState>;
  readonly snapshots: Map<string, SnapshotState>;
  /** By profile name. */
  readonly instanceProfiles: Map<string, InstanceProfileState>;
  readonly profileAssociations: Map<string, ProfileAssociationState>;
  /** By group name. */
  readonly autoScalingGroups: Map<string, AutoScalingGroupState>;
  /** By ARN. */
  readonly targetGroups: Map<string, TargetGroupState>;
}

function emptyState(): Ec2State {
  return {
    vpcs: new Map(),
    subnets: new Map(),
    securityGroups: new Map(),
    instances: new Map(),
    networkInterfaces: new Map(),
    volumes: new Map(),
    snapshots: new Map(),
    instanceProfiles: new Map(),
    profileAssociations: new Map(),
    autoScalingGroups: new Map(),
    targetGroups: new Map(),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Seeding options and results
// ---------------------------------------------------------------------------------------------------------

export type TagMap = Readonly<Record<string, string>>;

export interface Ec2ModelOptions {
  readonly region?: string;
  readonly accountId?: string;
  readonly now?: () => Date;
  /** The most items one Describe page holds (AWS: up to 1000); set it small to exercise pagination. */
  readonly pageSize?: number;
}

export interface SeedVpcOptions {
  readonly cidr?: string;
  readonly isDefault?: boolean;
  /** Number of subnets (default 2), one per availability zone a, b, c, ... */
  readonly subnets?: number;
  readonly tags?: TagMap;
}

export interface SeededVpc {
  readonly vpcId: string;
  readonly subnetIds: string[];
  /** The VPC's `default` security group (ingress from itself, egress to anywhere, as AWS creates it). */
  readonly defaultGroupId: string;
}

export interface SeedSecurityGroupOptions {
  readonly vpcId: string;
  readonly name: string;
  readonly description?: string;
  readonly tags?: TagMap;
  readonly ingress?: readonly IpPermission[];
  /** Default: the allow-all IPv4 egress rule AWS gives a new group. */
  readonly egress?: readonly IpPermission[];
}

export interface SeedEni {
  readonly groups?: readonly string[];
  readonly subnetId?: string;
  readonly description?: string;
  readonly tags?: TagMap;
}

export interface SeedVolume {
  readonly size?: number;
  readonly encrypted?: boolean;
  readonly tags?: TagMap;
}

export interface SeedInstanceOptions {
  /** Default: the first VPC (one is created when there is none). */
  readonly vpcId?: string;
  /** Default: the VPC's first subnet. */
  readonly subnetId?: string;
  /**
   * How many ENIs (default 1), or one spec per ENI. Unless given, the primary ENI gets the VPC's `app`
   * group (tcp 443 from anywhere) and every secondary ENI `app` + `mgmt` (tcp 22 from 10.0.0.0/8), so ENIs
   * differ and a restore that mixes them up shows.
   */
  readonly enis?: number | readonly SeedEni[];
  /** Groups for every ENI that has none of its own. */
  readonly groups?: readonly string[];
  /** How many EBS volumes (default 1): the first is the root (/dev/xvda), then /dev/sdf, /dev/sdg, ... */
  readonly volumes?: number | readonly SeedVolume[];
  readonly tags?: TagMap;
  /** Auto Scaling group name: joins it (created when missing), InService, tagged aws:autoscaling:groupName. */
  readonly asg?: string;
  /** Target group names or ARNs (created in the instance's VPC when missing); registered healthy. */
  readonly targetGroups?: readonly string[];
  /** Instance profile name (created when missing), associated. */
  readonly profile?: string;
  readonly state?: InstanceStateName;
  readonly disableApiTermination?: boolean;
  readonly instanceType?: _InstanceType;
}

export interface SeededInstance {
  readonly instanceId: string;
  readonly reservationId: string;
  readonly vpcId: string;
  readonly subnetId: string;
  /** In device-index order. */
  readonly eniIds: string[];
  /** Root first. */
  readonly volumeIds: string[];
  /** Each ENI's groups. */
  readonly eniGroups: Record<string, string[]>;
  readonly associationId?: string;
  readonly targetGroupArns: string[];
}

export interface SeedTargetGroupOptions {
  readonly name: string;
  readonly vpcId: string;
  readonly port?: number;
  readonly protocol?: 'HTTP' | 'HTTPS' | 'TCP';
}

export interface SeedAutoScalingGroupOptions {
  readonly name: string;
  /** Default: the first VPC. */
  readonly vpcId?: string;
  readonly subnetIds?: readonly string[];
  readonly minSize?: number;
  readonly maxSize?: number;
  readonly targetGroupArns?: readonly string[];
  /** Groups replacement instances launch with (default: the VPC's `app` group). */
  readonly launchGroupIds?: readonly string[];
}

/** One call the model answered (or refused), in order. */
export interface ModelCall {
  readonly service: ModelService;
  readonly operation: string;
  readonly input: Readonly<Record<string, unknown>>;
  /** False for Describe*, Get*, List*. */
  readonly mutating: boolean;
  /** Error name when the call was refused. */
  error?: string;
  /** Set when `ignoreNext` made the call answer success without taking effect. */
  ignored?: true;
}

export interface FailOptions {
  readonly message?: string;
  /** Calls of the operation to let through before failing (default 0: the very next one fails). */
  readonly after?: number;
  /** How many consecutive calls fail (default 1). */
  readonly times?: number;
}

interface Fault {
  readonly operation: string;
  readonly code: string;
  readonly message: string;
  after: number;
  times: number;
}

type Out<T> = Omit<T, '$metadata'>;
type Scalar = string | number | boolean | undefined;
type Fields<T> = Readonly<Record<string, (item: T) => readonly Scalar[]>>;

// ---------------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------------

const SERVER_FAULTS = new Set([
  'InternalError',
  'InternalFailure',
  'ServiceUnavailable',
  'Unavailable',
  'HealthUnavailableException',
]);

function metadata(code: string): { httpStatusCode: number } {
  return { httpStatusCode: SERVER_FAULTS.has(code) ? 500 : 400 };
}

/** EC2 errors are not modelled by the SDK: it throws EC2ServiceException named after the error code. */
export function ec2Error(code: string, message: string): EC2ServiceException {
  const $fault = SERVER_FAULTS.has(code) ? 'server' : 'client';
  return new EC2ServiceException({ name: code, $fault, message, $metadata: metadata(code) });
}

function asgError(code: string, message: string): AutoScalingServiceException {
  const $fault = SERVER_FAULTS.has(code) ? 'server' : 'client';
  return new AutoScalingServiceException({ name: code, $fault, message, $metadata: metadata(code) });
}

function elbError(code: string, message: string): ElasticLoadBalancingV2ServiceException {
  const $metadata = metadata(code);
  if (code === 'TargetGroupNotFoundException')
    return new TargetGroupNotFoundException({ message, $metadata });
  if (code === 'InvalidTargetException') return new InvalidTargetException({ message, $metadata });
  if (code === 'LoadBalancerNotFoundException')
    return new LoadBalancerNotFoundException({ message, $metadata });
  const $fault = SERVER_FAULTS.has(code) ? 'server' : 'client';
  return new ElasticLoadBalancingV2ServiceException({ name: code, $fault, message, $metadata });
}

function serviceError(service: ModelService, code: string, message: string): Error {
  if (service === 'ec2') return ec2Error(code, message);
  if (service === 'autoscaling') return asgError(code, message);
  return elbError(code, message);
}

function notModelled(service: ModelService, what: string): Error {
  return Object.assign(new Error(`Ec2Model: operation ${what} not modelled (${service})`), {
    name: 'NotModelled',
  });
}

// ---------------------------------------------------------------------------------------------------------
// Ids
// ---------------------------------------------------------------------------------------------------------

type IdKind =
  | 'instance'
  | 'group'
  | 'eni'
  | 'volume'
  | 'snapshot'
  | 'vpc'
  | 'subnet'
  | 'rule'
  | 'association';

interface KindSpec {
  readonly prefix: string;
  readonly malformed: string;
  readonly notFound: string;
  readonly noun: string;
  readonly plural: string;
  readonly param: string;
}

const KINDS: Readonly<Record<IdKind, KindSpec>> = {
  instance: {
    prefix: 'i',
    malformed: 'InvalidInstanceID.Malformed',
    notFound: 'InvalidInstanceID.NotFound',
    noun: 'instance ID',
    plural: 'instance IDs',
    param: 'InstanceId',
  },
  group: {
    prefix: 'sg',
    malformed: 'InvalidGroupId.Malformed',
    notFound: 'InvalidGroup.NotFound',
    noun: 'security group',
    plural: 'security groups',
    param: 'GroupId',
  },
  eni: {
    prefix: 'eni',
    malformed: 'InvalidNetworkInterfaceID.Malformed',
    notFound: 'InvalidNetworkInterfaceID.NotFound',
    noun: 'networkInterface ID',
    plural: 'networkInterface IDs',
    param: 'NetworkInterfaceId',
  },
  volume: {
    prefix: 'vol',
    malformed: 'InvalidVolumeID.Malformed',
    notFound: 'InvalidVolume.NotFound',
    noun: 'volume',
    plural: 'volumes',
    param: 'VolumeId',
  },
  snapshot: {
    prefix: 'snap',
    malformed: 'InvalidSnapshotID.Malformed',
    notFound: 'InvalidSnapshot.NotFound',
    noun: 'snapshot',
    plural: 'snapshots',
    param: 'SnapshotId',
  },
  vpc: {
    prefix: 'vpc',
    malformed: 'InvalidVpcID.Malformed',
    notFound: 'InvalidVpcID.NotFound',
    noun: 'vpc ID',
    plural: 'vpc IDs',
    param: 'VpcId',
  },
  subnet: {
    prefix: 'subnet',
    malformed: 'InvalidSubnetID.Malformed',
    notFound: 'InvalidSubnetID.NotFound',
    noun: 'subnet ID',
    plural: 'subnet IDs',
    param: 'SubnetId',
  },
  rule: {
    prefix: 'sgr',
    malformed: 'InvalidSecurityGroupRuleId.Malformed',
    notFound: 'InvalidSecurityGroupRuleId.NotFound',
    noun: 'security group rule ID',
    plural: 'security group rule IDs',
    param: 'SecurityGroupRuleId',
  },
  association: {
    prefix: 'iip-assoc',
    malformed: 'InvalidAssociationID.Malformed',
    notFound: 'InvalidAssociationID.NotFound',
    noun: 'association ID',
    plural: 'association IDs',
    param: 'AssociationId',
  },
};

const TAGGABLE_KINDS: readonly IdKind[] = [
  'instance',
  'group',
  'eni',
  'volume',
  'snapshot',
  'vpc',
  'subnet',
  'rule',
];

const RESOURCE_TYPES: Readonly<Record<Exclude<IdKind, 'association'>, ResourceType>> = {
  instance: 'instance',
  group: 'security-group',
  eni: 'network-interface',
  volume: 'volume',
  snapshot: 'snapshot',
  vpc: 'vpc',
  subnet: 'subnet',
  rule: 'security-group-rule',
};

function idPattern(kind: IdKind): RegExp {
  return new RegExp(`^${KINDS[kind].prefix}-[0-9a-f]{8,17}$`);
}

function kindOfId(id: string): IdKind | undefined {
  return TAGGABLE_KINDS.find((kind) => id.startsWith(`${KINDS[kind].prefix}-`));
}

// ---------------------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------------------

const isRead = (operation: string): boolean => /^(Describe|Get|List)/.test(operation);

function isDefined<T>(value: T | undefined): value is T {
  return value !== undefined;
}

function tagsFrom(map: TagMap | undefined): ModelTag[] {
  return Object.entries(map ?? {}).map(([Key, Value]) => ({ Key, Value }));
}

function tagsOut(tags: readonly ModelTag[]): Tag[] {
  return tags.map((t) => ({ Key: t.Key, Value: t.Value }));
}

function withTags(tags: readonly ModelTag[]): { Tags?: Tag[] } {
  return tags.length > 0 ? { Tags: tagsOut(tags) } : {};
}

function setTag(tags: ModelTag[], key: string, value: string): void {
  const existing = tags.find((t) => t.Key === key);
  if (existing) existing.Value = value;
  else tags.push({ Key: key, Value: value });
}

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, 's');
}

function copyInput(input: object): Record<string, unknown> {
  try {
    return structuredClone({ ...input });
  } catch {
    return { ...input };
  }
}

const PROTOCOL_NAMES: Readonly<Record<string, string>> = {
  tcp: 'tcp',
  '6': 'tcp',
  udp: 'udp',
  '17': 'udp',
  icmp: 'icmp',
  '1': 'icmp',
  icmpv6: 'icmpv6',
  '58': 'icmpv6',
  '-1': '-1',
  all: '-1',
};

function normaliseProtocol(protocol: string | undefined): string {
  const raw = (protocol ?? '').toLowerCase();
  if (Object.hasOwn(PROTOCOL_NAMES, raw)) return PROTOCOL_NAMES[raw] ?? raw;
  if (/^\d{1,3}$/.test(raw) && Number(raw) <= 255) return raw;
  throw ec2Error(
    'InvalidParameterValue',
    `Invalid value '${protocol ?? 'null'}' for IP protocol. Unknown protocol.`,
  );
}

function hasPorts(protocol: string): boolean {
  return protocol === 'tcp' || protocol === 'udp' || protocol === 'icmp' || protocol === 'icmpv6';
}

function portsOf(protocol: string, from: number | undefined, to: number | undefined): [number, number] {
  if (protocol === 'tcp' || protocol === 'udp') {
    if (from === undefined || to === undefined) {
      throw ec2Error(
        'InvalidParameterValue',
        'Invalid value for portRange. Must specify both from and to ports with TCP/UDP.',
      );
    }
    if (from < 0 || to > 65535 || from > to) {
      throw ec2Error('InvalidParameterValue', `Invalid port range ${from}-${to}.`);
    }
    return [from, to];
  }
  if (protocol === 'icmp' || protocol === 'icmpv6') {
    const type = from ?? -1;
    const code = to ?? -1;
    if (type < -1 || type > 255 || code < -1 || code > 255) {
      throw ec2Error('InvalidParameterValue', `Invalid ICMP type/code ${type}/${code}.`);
    }
    return [type, code];
  }
  return [-1, -1];
}

function validCidr4(cidr: string): boolean {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!match) return false;
  const parts = match.slice(1, 5).map(Number);
  return parts.every((p) => p <= 255) && Number(match[5]) <= 32;
}

function validCidr6(cidr: string): boolean {
  return /^[0-9a-fA-F:]+\/\d{1,3}$/.test(cidr) && cidr.includes(':') && Number(cidr.split('/')[1]) <= 128;
}

interface RuleDraft {
  readonly protocol: string;
  readonly fromPort: number;
  readonly toPort: number;
  readonly cidrIpv4?: string;
  readonly cidrIpv6?: string;
  readonly prefixListId?: string;
  readonly referencedGroupId?: string;
  readonly description?: string;
}

function peerOf(rule: RuleDraft): string {
  return rule.cidrIpv4 ?? rule.cidrIpv6 ?? rule.prefixListId ?? rule.referencedGroupId ?? '';
}

function ruleKey(rule: RuleDraft): string {
  const peer = rule.cidrIpv4
    ? `v4:${rule.cidrIpv4}`
    : rule.cidrIpv6
      ? `v6:${rule.cidrIpv6.toLowerCase()}`
      : rule.prefixListId
        ? `pl:${rule.prefixListId}`
        : `sg:${rule.referencedGroupId ?? ''}`;
  return `${rule.protocol}|${rule.fromPort}|${rule.toPort}|${peer}`;
}

const ALLOW_ALL_EGRESS: IpPermission = { IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] };

// ---------------------------------------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------------------------------------

export class Ec2Model {
  readonly region: string;
  readonly accountId: string;
  /** The most items one Describe page holds. */
  pageSize: number;
  /** Every call the model answered or refused, in order. */
  readonly log: ModelCall[] = [];
  /** The aws-sdk-client-mock stubs (for the rare test that needs sinon's view). */
  readonly stubs: {
    readonly ec2: AwsClientStub<EC2Client>;
    readonly autoscaling: AwsClientStub<AutoScalingClient>;
    readonly elbv2: AwsClientStub<ElasticLoadBalancingV2Client>;
  };

  private readonly clock: () => Date;
  private data: Ec2State = emptyState();
  private readonly counters = new Map<string, number>();
  private readonly faults: Fault[] = [];
  private readonly ignores = new Map<string, number>();
  private readonly sdk: {
    readonly ec2: EC2Client;
    readonly autoscaling: AutoScalingClient;
    readonly elbv2: ElasticLoadBalancingV2Client;
  };

  constructor(options: Ec2ModelOptions = {}) {
    this.region = options.region ?? 'eu-west-1';
    this.accountId = options.accountId ?? '111122223333';
    this.clock = options.now ?? (() => new Date());
    this.pageSize = options.pageSize ?? 1000;
    const config = {
      region: this.region,
      credentials: { accessKeyId: 'AKIAEC2MODEL00000000', secretAccessKey: 'model' },
    };
    this.sdk = {
      ec2: new EC2Client(config),
      autoscaling: new AutoScalingClient(config),
      elbv2: new ElasticLoadBalancingV2Client(config),
    };
    this.stubs = {
      ec2: this.installEc2(),
      autoscaling: this.installAutoScaling(),
      elbv2: this.installElbv2(),
    };
  }

  /** The real SDK clients this model answers for (region from the model). */
  clients(): {
    readonly ec2: EC2Client;
    readonly autoscaling: AutoScalingClient;
    readonly elbv2: ElasticLoadBalancingV2Client;
  } {
    return { ...this.sdk };
  }

  // ------------------------------------------------------------------------------------------ inspection

  /** The live state (treat as read-only; use `snapshot()` for a copy). */
  get state(): Ec2State {
    return this.data;
  }

  /** A deep copy of the whole state, for before/after equality (e.g. a dry run changed nothing). */
  snapshot(): Ec2State {
    return structuredClone(this.data);
  }

  /** Each attached ENI's security groups, by ENI id. */
  groupsOf(instanceId: string): Record<string, string[]> {
    return Object.fromEntries(this.enisOf(instanceId).map((e) => [e.networkInterfaceId, [...e.groups]]));
  }

  /** Any taggable resource's tags as a record (throws for an unknown id). */
  tagsOf(resourceId: string): Record<string, string> {
    const resource = this.taggable(resourceId);
    if (!resource) throw new Error(`Ec2Model: no resource ${resourceId}`);
    return Object.fromEntries(resource.tags.map((t) => [t.Key, t.Value]));
  }

  snapshotsOf(volumeId: string): SnapshotState[] {
    return [...this.data.snapshots.values()].filter((s) => s.volumeId === volumeId);
  }

  /** The security group with that name in the VPC. */
  findGroup(vpcId: string, name: string): SecurityGroupState | undefined {
    return [...this.data.securityGroups.values()].find((g) => g.vpcId === vpcId && g.groupName === name);
  }

  /** Targets registered with (or draining from) a target group. */
  targetsOf(targetGroupArn: string): TargetState[] {
    return this.data.targetGroups.get(targetGroupArn)?.targets ?? [];
  }

  /** The Auto Scaling group the instance belongs to, if any. */
  asgOf(instanceId: string): AutoScalingGroupState | undefined {
    return [...this.data.autoScalingGroups.values()].find((g) =>
      g.instances.some((m) => m.instanceId === instanceId),
    );
  }

  /** The instance profile associated with the instance, if any. */
  profileOf(instanceId: string): InstanceProfileState | undefined {
    const association = this.associationOf(instanceId);
    return [...this.data.instanceProfiles.values()].find((p) => p.arn === association?.profileArn);
  }

  /** Calls made so far, optionally of one operation. */
  calls(operation?: string): readonly ModelCall[] {
    return operation === undefined ? this.log : this.log.filter((c) => c.operation === operation);
  }

  /** How many mutating calls (anything but Describe/Get/List) were made, refused ones included. */
  mutatingCalls(operation?: string): number {
    return this.calls(operation).filter((c) => c.mutating).length;
  }

  // ---------------------------------------------------------------------------------------- fault control

  /** Makes the next call(s) of an operation reject with that error code (e.g. RequestLimitExceeded). */
  failNext(operation: string, code = 'InternalError', options: FailOptions = {}): void {
    this.faults.push({
      operation,
      code,
      message: options.message ?? `Injected ${code} for ${operation}`,
      after: options.after ?? 0,
      times: options.times ?? 1,
    });
  }

  /** Makes the next call(s) of an operation answer success but change nothing (a write that did not stick). */
  ignoreNext(operation: string, times = 1): void {
    this.ignores.set(operation, (this.ignores.get(operation) ?? 0) + times);
  }

  /**
   * Completes in-flight transitions: draining targets leave their group, initial ones turn healthy, pending
   * instances (Auto Scaling replacements) run and go InService.
   */
  settle(): void {
    for (const instance of this.data.instances.values()) {
      if (instance.state === 'pending') instance.state = 'running';
    }
    for (const asg of this.data.autoScalingGroups.values()) {
      for (const m of asg.instances) if (m.lifecycleState === 'Pending') m.lifecycleState = 'InService';
    }
    for (const tg of this.data.targetGroups.values()) {
      tg.targets = tg.targets.filter((t) => t.state !== 'draining');
      for (const t of tg.targets) if (t.state === 'initial') t.state = 'healthy';
    }
  }

  // ------------------------------------------------------------------------------------------- seeding

  addVpc(options: SeedVpcOptions = {}): SeededVpc {
    const index = this.data.vpcs.size;
    const cidrBlock = options.cidr ?? `10.${index}.0.0/16`;
    const isDefault = options.isDefault ?? false;
    if (isDefault && [...this.data.vpcs.values()].some((v) => v.isDefault)) {
      throw new Error('Ec2Model: there is already a default VPC');
    }
    const vpcId = this.id('vpc');
    this.data.vpcs.set(vpcId, { vpcId, cidrBlock, isDefault, tags: tagsFrom(options.tags) });
    const [a = '10', b = '0'] = cidrBlock.split('.');
    const subnetIds: string[] = [];
    for (let k = 0; k < (options.subnets ?? 2); k++) {
      const subnetId = this.id('subnet');
      this.data.subnets.set(subnetId, {
        subnetId,
        vpcId,
        availabilityZone: `${this.region}${'abcdef'[k % 6] ?? 'a'}`,
        cidrBlock: `${a}.${b}.${k}.0/24`,
        tags: [],
        lastHost: 9,
      });
      subnetIds.push(subnetId);
    }
    const defaultGroupId = this.id('sg');
    this.data.securityGroups.set(defaultGroupId, {
      groupId: defaultGroupId,
      groupName: 'default',
      description: 'default VPC security group',
      vpcId,
      tags: [],
      ingress: [],
      egress: [],
    });
    this.seedRules(defaultGroupId, 'ingress', [
      { IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: defaultGroupId }] },
    ]);
    this.seedRules(defaultGroupId, 'egress', [ALLOW_ALL_EGRESS]);
    return { vpcId, subnetIds, defaultGroupId };
  }

  addSecurityGroup(options: SeedSecurityGroupOptions): string {
    this.vpcOf(options.vpcId);
    if (this.findGroup(options.vpcId, options.name)) {
      throw new Error(`Ec2Model: group ${options.name} already exists in ${options.vpcId}`);
    }
    const groupId = this.id('sg');
    this.data.securityGroups.set(groupId, {
      groupId,
      groupName: options.name,
      description: options.description ?? options.name,
      vpcId: options.vpcId,
      tags: tagsFrom(options.tags),
      ingress: [],
      egress: [],
    });
    this.seedRules(groupId, 'ingress', options.ingress ?? []);
    this.seedRules(groupId, 'egress', options.egress ?? [ALLOW_ALL_EGRESS]);
    return groupId;
  }

  addInstanceProfile(name: string): InstanceProfileState {
    const existing = this.data.instanceProfiles.get(name);
    if (existing) return existing;
    const n = this.next('profile');
    const profile: InstanceProfileState = {
      name,
      arn: `arn:aws:iam::${this.accountId}:instance-profile/${name}`,
      id: `AIPA${n.toString(36).toUpperCase().padStart(17, '0')}`,
    };
    this.data.instanceProfiles.set(name, profile);
    return profile;
  }

  addTargetGroup(options: SeedTargetGroupOptions): string {
    this.vpcOf(options.vpcId);
    if ([...this.data.targetGroups.values()].some((t) => t.name === options.name)) {
      throw new Error(`Ec2Model: target group ${options.name} already exists`);
    }
    const suffix = this.next('tg').toString(16).padStart(16, '0');
    const arn = `arn:aws:elasticloadbalancing:${this.region}:${this.accountId}:targetgroup/${options.name}/${suffix}`;
    this.data.targetGroups.set(arn, {
      arn,
      name: options.name,
      protocol: options.protocol ?? 'HTTP',
      port: options.port ?? 80,
      vpcId: options.vpcId,
      loadBalancerArns: [
        `arn:aws:elasticloadbalancing:${this.region}:${this.accountId}:loadbalancer/app/${options.name}-lb/${suffix}`,
      ],
      targets: [],
    });
    return arn;
  }

  addAutoScalingGroup(options: SeedAutoScalingGroupOptions): string {
    if (this.data.autoScalingGroups.has(options.name)) {
      throw new Error(`Ec2Model: Auto Scaling group ${options.name} already exists`);
    }
    const vpcId = options.vpcId ?? this.defaultSeedVpc();
    const subnetIds =
      options.subnetIds ??
      [...this.data.subnets.values()].filter((s) => s.vpcId === vpcId).map((s) => s.subnetId);
    for (const arn of options.targetGroupArns ?? []) {
      if (!this.data.targetGroups.has(arn)) throw new Error(`Ec2Model: no target group ${arn}`);
    }
    this.data.autoScalingGroups.set(options.name, {
      name: options.name,
      arn: `arn:aws:autoscaling:${this.region}:${this.accountId}:autoScalingGroup:${this.uuid()}:autoScalingGroupName/${options.name}`,
      vpcId,
      subnetIds: [...subnetIds],
      launchGroupIds: [...(options.launchGroupIds ?? [this.defaultGroup(vpcId, 'app')])],
      createdTime: this.clock(),
      minSize: options.minSize ?? 1,
      maxSize: options.maxSize ?? 10,
      desiredCapacity: 0,
      targetGroupArns: [...(options.targetGroupArns ?? [])],
      instances: [],
    });
    return options.name;
  }

  addInstance(options: SeedInstanceOptions = {}): SeededInstance {
    return this.launch(options, { grow: true, targetState: 'healthy' });
  }

  /** Sets tags on any resource directly (seeding: no validation, `aws:` keys allowed). */
  tag(resourceId: string, tags: TagMap): void {
    const resource = this.taggable(resourceId);
    if (!resource) throw new Error(`Ec2Model: no resource ${resourceId}`);
    for (const [key, value] of Object.entries(tags)) setTag(resource.tags, key, value);
  }

  // ------------------------------------------------------------------------------------ internal seeding

  private launch(
    options: SeedInstanceOptions,
    how: { readonly grow: boolean; readonly targetState: TargetStateName },
  ): SeededInstance {
    const subnet = options.subnetId ? this.data.subnets.get(options.subnetId) : undefined;
    if (options.subnetId && !subnet) throw new Error(`Ec2Model: no subnet ${options.subnetId}`);
    const vpcId = subnet?.vpcId ?? options.vpcId ?? this.defaultSeedVpc();
    this.vpcOf(vpcId);
    const home = subnet ?? [...this.data.subnets.values()].find((s) => s.vpcId === vpcId);
    if (!home) throw new Error(`Ec2Model: VPC ${vpcId} has no subnet`);
    const state = options.state ?? 'running';
    const instanceId = this.id('i');
    const reservationId = this.id('r');
    const now = this.clock();
    const instance: InstanceState = {
      instanceId,
      reservationId,
      vpcId,
      subnetId: home.subnetId,
      availabilityZone: home.availabilityZone,
      imageId: 'ami-0abcdef1234567890',
      instanceType: options.instanceType ?? 't3.micro',
      launchTime: now,
      rootDeviceName: '/dev/xvda',
      state,
      disableApiTermination: options.disableApiTermination ?? false,
      disableApiStop: false,
      tags: tagsFrom(options.tags),
    };
    this.data.instances.set(instanceId, instance);

    const eniSpecs: readonly SeedEni[] =
      typeof options.enis === 'number' || options.enis === undefined
        ? Array.from({ length: options.enis ?? 1 }, () => ({}))
        : options.enis;
    const eniIds: string[] = [];
    const eniGroups: Record<string, string[]> = {};
    if (state !== 'terminated') {
      eniSpecs.forEach((spec, deviceIndex) => {
        const eniSubnet = spec.subnetId ? this.data.subnets.get(spec.subnetId) : home;
        if (!eniSubnet || eniSubnet.vpcId !== vpcId) throw new Error(`Ec2Model: bad subnet ${spec.subnetId}`);
        const groups = [
          ...(spec.groups ??
            options.groups ??
            (deviceIndex === 0
              ? [this.defaultGroup(vpcId, 'app')]
              : [this.defaultGroup(vpcId, 'app'), this.defaultGroup(vpcId, 'mgmt')])),
        ];
        for (const g of groups) {
          if (this.data.securityGroups.get(g)?.vpcId !== vpcId)
            throw new Error(`Ec2Model: group ${g} not in ${vpcId}`);
        }
        const eniId = this.id('eni');
        const n = this.next('mac');
        this.data.networkInterfaces.set(eniId, {
          networkInterfaceId: eniId,
          vpcId,
          subnetId: eniSubnet.subnetId,
          availabilityZone: eniSubnet.availabilityZone,
          privateIpAddress: this.allocateIp(eniSubnet),
          macAddress: `02:00:00:${[n >> 16, n >> 8, n].map((x) => (x & 255).toString(16).padStart(2, '0')).join(':')}`,
          description: spec.description ?? (deviceIndex === 0 ? 'Primary network interface' : ''),
          groups,
          sourceDestCheck: true,
          tags: tagsFrom(spec.tags),
          attachment: {
            attachmentId: this.id('eni-attach'),
            instanceId,
            deviceIndex,
            attachTime: now,
            deleteOnTermination: deviceIndex === 0,
          },
        });
        eniIds.push(eniId);
        eniGroups[eniId] = [...groups];
      });
    }

    const volumeSpecs: readonly SeedVolume[] =
      typeof options.volumes === 'number' || options.volumes === undefined
        ? Array.from({ length: options.volumes ?? 1 }, () => ({}))
        : options.volumes;
    const volumeIds: string[] = [];
    if (state !== 'terminated') {
      volumeSpecs.forEach((spec, index) => {
        const volumeId = this.id('vol');
        this.data.volumes.set(volumeId, {
          volumeId,
          size: spec.size ?? (index === 0 ? 8 : 100),
          availabilityZone: home.availabilityZone,
          volumeType: 'gp3',
          encrypted: spec.encrypted ?? true,
          createTime: now,
          tags: tagsFrom(spec.tags),
          attachment: {
            instanceId,
            device: index === 0 ? '/dev/xvda' : `/dev/sd${'fghijklmnop'[(index - 1) % 11] ?? 'f'}`,
            attachTime: now,
            deleteOnTermination: index === 0,
          },
        });
        volumeIds.push(volumeId);
      });
    }

    let associationId: string | undefined;
    if (options.profile !== undefined) {
      const profile = this.addInstanceProfile(options.profile);
      associationId = this.associate(instanceId, profile);
    }

    const targetGroupArns: string[] = [];
    if (options.asg !== undefined) {
      if (!this.data.autoScalingGroups.has(options.asg)) {
        this.addAutoScalingGroup({
          name: options.asg,
          vpcId,
          launchGroupIds: eniGroups[eniIds[0] ?? ''] ?? [this.defaultGroup(vpcId, 'app')],
        });
      }
      const asg = this.data.autoScalingGroups.get(options.asg);
      if (asg) {
        asg.instances.push({
          instanceId,
          availabilityZone: home.availabilityZone,
          lifecycleState: state === 'pending' ? 'Pending' : 'InService',
          healthStatus: 'Healthy',
          protectedFromScaleIn: false,
        });
        if (how.grow) {
          asg.desiredCapacity += 1;
          asg.maxSize = Math.max(asg.maxSize, asg.desiredCapacity);
        }
        setTag(instance.tags, 'aws:autoscaling:groupName', asg.name);
        targetGroupArns.push(...asg.targetGroupArns);
      }
    }
    for (const ref of options.targetGroups ?? []) {
      const found =
        this.data.targetGroups.get(ref) ?? [...this.data.targetGroups.values()].find((t) => t.name === ref);
      targetGroupArns.push(found?.arn ?? this.addTargetGroup({ name: ref, vpcId }));
    }
    for (const arn of new Set(targetGroupArns)) {
      const tg = this.data.targetGroups.get(arn);
      if (tg && !tg.targets.some((t) => t.id === instanceId)) {
        tg.targets.push({ id: instanceId, port: tg.port, state: how.targetState });
      }
    }

    return {
      instanceId,
      reservationId,
      vpcId,
      subnetId: home.subnetId,
      eniIds,
      volumeIds,
      eniGroups,
      ...(associationId !== undefined ? { associationId } : {}),
      targetGroupArns: [...new Set(targetGroupArns)],
    };
  }

  private seedRules(
    groupId: string,
    direction: 'ingress' | 'egress',
    permissions: readonly IpPermission[],
  ): void {
    const group = this.data.securityGroups.get(groupId);
    if (!group) throw new Error(`Ec2Model: no group ${groupId}`);
    for (const draft of this.draftsOf(permissions, group)) {
      group[direction].push({ ruleId: this.id('sgr'), ...draft, tags: [] });
    }
  }

  private defaultSeedVpc(): string {
    const first = this.data.vpcs.values().next();
    return first.done ? this.addVpc().vpcId : first.value.vpcId;
  }

  private defaultGroup(vpcId: string, name: 'app' | 'mgmt'): string {
    const existing = this.findGroup(vpcId, name);
    if (existing) return existing.groupId;
    return this.addSecurityGroup({
      vpcId,
      name,
      description: name === 'app' ? 'application tier' : 'management access',
      ingress: [
        name === 'app'
          ? { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }
          : { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '10.0.0.0/8' }] },
      ],
    });
  }

  private allocateIp(subnet: SubnetState): string {
    subnet.lastHost += 1;
    const [a, b, c] = subnet.cidrBlock.split('.');
    return `${a}.${b}.${c}.${subnet.lastHost}`;
  }

  private associate(instanceId: string, profile: InstanceProfileState): string {
    const associationId = this.id('iip-assoc');
    this.data.profileAssociations.set(associationId, {
      associationId,
      instanceId,
      profileArn: profile.arn,
      profileId: profile.id,
      timestamp: this.clock(),
    });
    return associationId;
  }

  private next(counter: string): number {
    const n = (this.counters.get(counter) ?? 0) + 1;
    this.counters.set(counter, n);
    return n;
  }

  private id(prefix: string): string {
    return `${prefix}-${this.next(prefix).toString(16).padStart(17, '0')}`;
  }

  private uuid(): string {
    return `00000000-0000-4000-8000-${this.next('uuid').toString(16).padStart(12, '0')}`;
  }

  // -------------------------------------------------------------------------------------- call plumbing

  private async call<O extends object>(
    service: ModelService,
    operation: string,
    input: object,
    run: () => O,
  ): Promise<O & { $metadata: { httpStatusCode: number } }> {
    const entry: ModelCall = { service, operation, input: copyInput(input), mutating: !isRead(operation) };
    this.log.push(entry);
    try {
      const fault = this.takeFault(operation);
      if (fault) throw serviceError(service, fault.code, fault.message);
      if (service === 'ec2' && Reflect.get(input, 'DryRun') === true) {
        throw ec2Error('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.');
      }
      const ignored = this.takeIgnore(operation);
      const saved = ignored ? structuredClone(this.data) : undefined;
      try {
        return { ...run(), $metadata: { httpStatusCode: 200 } };
      } finally {
        if (saved) {
          this.data = saved;
          entry.ignored = true;
        }
      }
    } catch (error) {
      entry.error = error instanceof Error ? error.name : 'Error';
      throw error;
    }
  }

  private takeFault(operation: string): Fault | undefined {
    const index = this.faults.findIndex((f) => f.operation === operation);
    const fault = this.faults[index];
    if (!fault) return undefined;
    if (fault.after > 0) {
      fault.after -= 1;
      return undefined;
    }
    fault.times -= 1;
    if (fault.times <= 0) this.faults.splice(index, 1);
    return fault;
  }

  private takeIgnore(operation: string): boolean {
    const left = this.ignores.get(operation) ?? 0;
    if (left <= 0) return false;
    this.ignores.set(operation, left - 1);
    return true;
  }

  private installEc2(): AwsClientStub<EC2Client> {
    const m = mockClient(this.sdk.ec2);
    m.send.callsFake((command) =>
      Promise.reject(notModelled('ec2', command.constructor.name.replace(/Command$/, ''))),
    );
    const op =
      <I extends object>(name: string, run: (input: I) => object) =>
      (input: I) =>
        this.call('ec2', name, input, () => run(input));
    m.on(DescribeInstancesCommand).callsFake(
      op('DescribeInstances', (i: DescribeInstancesCommandInput) => this.describeInstances(i)),
    );
    m.on(DescribeNetworkInterfacesCommand).callsFake(
      op('DescribeNetworkInterfaces', (i: DescribeNetworkInterfacesCommandInput) =>
        this.describeNetworkInterfaces(i),
      ),
    );
    m.on(ModifyNetworkInterfaceAttributeCommand).callsFake(
      op('ModifyNetworkInterfaceAttribute', (i: ModifyNetworkInterfaceAttributeCommandInput) =>
        this.modifyNetworkInterfaceAttribute(i),
      ),
    );
    m.on(DescribeSecurityGroupsCommand).callsFake(
      op('DescribeSecurityGroups', (i: DescribeSecurityGroupsCommandInput) => this.describeSecurityGroups(i)),
    );
    m.on(CreateSecurityGroupCommand).callsFake(
      op('CreateSecurityGroup', (i: CreateSecurityGroupCommandInput) => this.createSecurityGroup(i)),
    );
    m.on(DeleteSecurityGroupCommand).callsFake(
      op('DeleteSecurityGroup', (i: DeleteSecurityGroupCommandInput) => this.deleteSecurityGroup(i)),
    );
    m.on(AuthorizeSecurityGroupIngressCommand).callsFake(
      op('AuthorizeSecurityGroupIngress', (i: AuthorizeSecurityGroupIngressCommandInput) =>
        this.authorize('ingress', i),
      ),
    );
    m.on(AuthorizeSecurityGroupEgressCommand).callsFake(
      op('AuthorizeSecurityGroupEgress', (i: AuthorizeSecurityGroupEgressCommandInput) =>
        this.authorize('egress', i),
      ),
    );
    m.on(RevokeSecurityGroupIngressCommand).callsFake(
      op('RevokeSecurityGroupIngress', (i: RevokeSecurityGroupIngressCommandInput) =>
        this.revoke('ingress', i),
      ),
    );
    m.on(RevokeSecurityGroupEgressCommand).callsFake(
      op('RevokeSecurityGroupEgress', (i: RevokeSecurityGroupEgressCommandInput) => this.revoke('egress', i)),
    );
    m.on(DescribeSecurityGroupRulesCommand).callsFake(
      op('DescribeSecurityGroupRules', (i: DescribeSecurityGroupRulesCommandInput) =>
        this.describeSecurityGroupRules(i),
      ),
    );
    m.on(CreateSnapshotCommand).callsFake(
      op('CreateSnapshot', (i: CreateSnapshotCommandInput) => this.createSnapshot(i)),
    );
    m.on(CreateSnapshotsCommand).callsFake(
      op('CreateSnapshots', (i: CreateSnapshotsCommandInput) => this.createSnapshots(i)),
    );
    m.on(DescribeSnapshotsCommand).callsFake(
      op('DescribeSnapshots', (i: DescribeSnapshotsCommandInput) => this.describeSnapshots(i)),
    );
    m.on(DescribeVolumesCommand).callsFake(
      op('DescribeVolumes', (i: DescribeVolumesCommandInput) => this.describeVolumes(i)),
    );
    m.on(DescribeVpcsCommand).callsFake(
      op('DescribeVpcs', (i: DescribeVpcsCommandInput) => this.describeVpcs(i)),
    );
    m.on(CreateTagsCommand).callsFake(op('CreateTags', (i: CreateTagsCommandInput) => this.createTags(i)));
    m.on(DeleteTagsCommand).callsFake(op('DeleteTags', (i: DeleteTagsCommandInput) => this.deleteTags(i)));
    m.on(DescribeTagsCommand).callsFake(
      op('DescribeTags', (i: DescribeTagsCommandInput) => this.describeTags(i)),
    );
    m.on(ModifyInstanceAttributeCommand).callsFake(
      op('ModifyInstanceAttribute', (i: ModifyInstanceAttributeCommandInput) =>
        this.modifyInstanceAttribute(i),
      ),
    );
    m.on(DescribeInstanceAttributeCommand).callsFake(
      op('DescribeInstanceAttribute', (i: DescribeInstanceAttributeCommandInput) =>
        this.describeInstanceAttribute(i),
      ),
    );
    m.on(DescribeIamInstanceProfileAssociationsCommand).callsFake(
      op('DescribeIamInstanceProfileAssociations', (i: DescribeIamInstanceProfileAssociationsCommandInput) =>
        this.describeIamInstanceProfileAssociations(i),
      ),
    );
    m.on(AssociateIamInstanceProfileCommand).callsFake(
      op('AssociateIamInstanceProfile', (i: AssociateIamInstanceProfileCommandInput) =>
        this.associateIamInstanceProfile(i),
      ),
    );
    m.on(ReplaceIamInstanceProfileAssociationCommand).callsFake(
      op('ReplaceIamInstanceProfileAssociation', (i: ReplaceIamInstanceProfileAssociationCommandInput) =>
        this.replaceIamInstanceProfileAssociation(i),
      ),
    );
    m.on(DisassociateIamInstanceProfileCommand).callsFake(
      op('DisassociateIamInstanceProfile', (i: DisassociateIamInstanceProfileCommandInput) =>
        this.disassociateIamInstanceProfile(i),
      ),
    );
    return m;
  }

  private installAutoScaling(): AwsClientStub<AutoScalingClient> {
    const m = mockClient(this.sdk.autoscaling);
    m.send.callsFake((command) =>
      Promise.reject(notModelled('autoscaling', command.constructor.name.replace(/Command$/, ''))),
    );
    const op =
      <I extends object>(name: string, run: (input: I) => object) =>
      (input: I) =>
        this.call('autoscaling', name, input, () => run(input));
    m.on(DescribeAutoScalingInstancesCommand).callsFake(
      op('DescribeAutoScalingInstances', (i: DescribeAutoScalingInstancesCommandInput) =>
        this.describeAutoScalingInstances(i),
      ),
    );
    m.on(DescribeAutoScalingGroupsCommand).callsFake(
      op('DescribeAutoScalingGroups', (i: DescribeAutoScalingGroupsCommandInput) =>
        this.describeAutoScalingGroups(i),
      ),
    );
    m.on(DetachInstancesCommand).callsFake(
      op('DetachInstances', (i: DetachInstancesCommandInput) => this.detachInstances(i)),
    );
    m.on(EnterStandbyCommand).callsFake(
      op('EnterStandby', (i: EnterStandbyCommandInput) => this.enterStandby(i)),
    );
    m.on(ExitStandbyCommand).callsFake(
      op('ExitStandby', (i: ExitStandbyCommandInput) => this.exitStandby(i)),
    );
    return m;
  }

  private installElbv2(): AwsClientStub<ElasticLoadBalancingV2Client> {
    const m = mockClient(this.sdk.elbv2);
    m.send.callsFake((command) =>
      Promise.reject(notModelled('elbv2', command.constructor.name.replace(/Command$/, ''))),
    );
    const op =
      <I extends object>(name: string, run: (input: I) => object) =>
      (input: I) =>
        this.call('elbv2', name, input, () => run(input));
    m.on(DescribeTargetGroupsCommand).callsFake(
      op('DescribeTargetGroups', (i: DescribeTargetGroupsCommandInput) => this.describeTargetGroups(i)),
    );
    m.on(DescribeTargetHealthCommand).callsFake(
      op('DescribeTargetHealth', (i: DescribeTargetHealthCommandInput) => this.describeTargetHealth(i)),
    );
    m.on(DeregisterTargetsCommand).callsFake(
      op('DeregisterTargets', (i: DeregisterTargetsCommandInput) => this.deregisterTargets(i)),
    );
    m.on(RegisterTargetsCommand).callsFake(
      op('RegisterTargets', (i: RegisterTargetsCommandInput) => this.registerTargets(i)),
    );
    return m;
  }

  // --------------------------------------------------------------------------------- lookups & filters

  private many<T>(kind: IdKind, ids: readonly string[], items: ReadonlyMap<string, T>): T[] {
    const spec = KINDS[kind];
    const pattern = idPattern(kind);
    for (const id of ids) {
      if (!pattern.test(id)) throw ec2Error(spec.malformed, `Invalid id: "${id}"`);
    }
    const missing = [...new Set(ids.filter((id) => !items.has(id)))];
    if (missing.length === 1)
      throw ec2Error(spec.notFound, `The ${spec.noun} '${missing[0]}' does not exist`);
    if (missing.length > 1)
      throw ec2Error(spec.notFound, `The ${spec.plural} '${missing.join(', ')}' do not exist`);
    return [...new Set(ids)].map((id) => items.get(id)).filter(isDefined);
  }

  private one<T>(kind: IdKind, id: string | undefined, items: ReadonlyMap<string, T>): T {
    if (id === undefined || id === '') {
      throw ec2Error('MissingParameter', `The request must contain the parameter ${KINDS[kind].param}`);
    }
    const [item] = this.many(kind, [id], items);
    if (item === undefined)
      throw ec2Error(KINDS[kind].notFound, `The ${KINDS[kind].noun} '${id}' does not exist`);
    return item;
  }

  private vpcOf(vpcId: string): VpcState {
    const vpc = this.data.vpcs.get(vpcId);
    if (!vpc) throw new Error(`Ec2Model: no VPC ${vpcId}`);
    return vpc;
  }

  private filter<T>(
    items: readonly T[],
    filters: readonly Filter[] | undefined,
    fields: Fields<T>,
    tags: (item: T) => readonly ModelTag[],
  ): T[] {
    const tests = (filters ?? []).map((f) => {
      const name = f.Name ?? '';
      const values = f.Values ?? [];
      if (values.length === 0) {
        throw ec2Error('InvalidParameterValue', `The filter '${name}' requires at least one value`);
      }
      let get: (item: T) => readonly Scalar[];
      if (name.startsWith('tag:')) {
        const key = name.slice(4);
        get = (item) =>
          tags(item)
            .filter((t) => t.Key === key)
            .map((t) => t.Value);
      } else if (name === 'tag-key') {
        get = (item) => tags(item).map((t) => t.Key);
      } else if (name === 'tag-value') {
        get = (item) => tags(item).map((t) => t.Value);
      } else {
        const field = Object.hasOwn(fields, name) ? fields[name] : undefined;
        if (!field) throw ec2Error('InvalidParameterValue', `The filter '${name}' is invalid`);
        get = field;
      }
      const patterns = values.map(globToRegExp);
      return (item: T): boolean =>
        get(item).some((v) => v !== undefined && patterns.some((p) => p.test(String(v))));
    });
    return items.filter((item) => tests.every((test) => test(item)));
  }

  private page<T>(
    items: readonly T[],
    max: number | undefined,
    token: string | undefined,
    invalid: (message: string) => Error,
  ): { items: T[]; next?: string } {
    let start = 0;
    if (token !== undefined && token !== '') {
      const match = /^model-token-(\d+)$/.exec(token);
      start = match ? Number(match[1]) : -1;
      if (start < 0 || start > items.length) throw invalid(`Invalid NextToken: ${token}`);
    }
    const size = Math.max(1, Math.min(max ?? this.pageSize, this.pageSize));
    const end = start + size;
    return {
      items: items.slice(start, end),
      ...(end < items.length ? { next: `model-token-${end}` } : {}),
    };
  }

  private enisOf(instanceId: string): NetworkInterfaceState[] {
    return [...this.data.networkInterfaces.values()]
      .filter((e) => e.attachment?.instanceId === instanceId)
      .sort((a, b) => (a.attachment?.deviceIndex ?? 0) - (b.attachment?.deviceIndex ?? 0));
  }

  private volumesOf(instanceId: string): VolumeState[] {
    return [...this.data.volumes.values()].filter((v) => v.attachment?.instanceId === instanceId);
  }

  private associationOf(instanceId: string): ProfileAssociationState | undefined {
    return [...this.data.profileAssociations.values()].find((a) => a.instanceId === instanceId);
  }

  private allRules(): { group: SecurityGroupState; rule: RuleState; egress: boolean }[] {
    return [...this.data.securityGroups.values()].flatMap((group) => [
      ...group.ingress.map((rule) => ({ group, rule, egress: false })),
      ...group.egress.map((rule) => ({ group, rule, egress: true })),
    ]);
  }

  private taggable(id: string): { tags: ModelTag[] } | undefined {
    return (
      this.data.instances.get(id) ??
      this.data.securityGroups.get(id) ??
      this.data.networkInterfaces.get(id) ??
      this.data.volumes.get(id) ??
      this.data.snapshots.get(id) ??
      this.data.vpcs.get(id) ??
      this.data.subnets.get(id) ??
      this.allRules().find((r) => r.rule.ruleId === id)?.rule
    );
  }

  private groupRef(groupId: string): GroupIdentifier {
    return { GroupId: groupId, GroupName: this.data.securityGroups.get(groupId)?.groupName };
  }

  // ----------------------------------------------------------------------------------------- instances

  private describeInstances(input: DescribeInstancesCommandInput): Out<DescribeInstancesCommandOutput> {
    if (input.InstanceIds?.length && input.MaxResults !== undefined) {
      throw ec2Error(
        'InvalidParameterCombination',
        'The parameter instancesSet cannot be used with the parameter maxResults',
      );
    }
    let items = [...this.data.instances.values()];
    if (input.InstanceIds?.length) items = this.many('instance', input.InstanceIds, this.data.instances);
    const enis = (i: InstanceState) => this.enisOf(i.instanceId);
    const fields: Fields<InstanceState> = {
      'instance-id': (i) => [i.instanceId],
      'instance-state-name': (i) => [i.state],
      'instance-state-code': (i) => [STATE_CODES[i.state]],
      'instance-type': (i) => [i.instanceType],
      'vpc-id': (i) => [i.vpcId],
      'subnet-id': (i) => [i.subnetId],
      'availability-zone': (i) => [i.availabilityZone],
      'reservation-id': (i) => [i.reservationId],
      'image-id': (i) => [i.imageId],
      'network-interface.network-interface-id': (i) => enis(i).map((e) => e.networkInterfaceId),
      'network-interface.group-id': (i) => enis(i).flatMap((e) => e.groups),
      'instance.group-id': (i) => enis(i).find((e) => e.attachment?.deviceIndex === 0)?.groups ?? [],
      'private-ip-address': (i) => enis(i).map((e) => e.privateIpAddress),
      'block-device-mapping.volume-id': (i) => this.volumesOf(i.instanceId).map((v) => v.volumeId),
      'iam-instance-profile.arn': (i) => [this.associationOf(i.instanceId)?.profileArn],
    };
    items = this.filter(items, input.Filters, fields, (i) => i.tags);
    const page = this.page(items, input.MaxResults, input.NextToken, (m) =>
      ec2Error('InvalidParameterValue', m),
    );
    return {
      Reservations: page.items.map((i) => ({
        ReservationId: i.reservationId,
        OwnerId: this.accountId,
        Groups: [],
        Instances: [this.instanceOut(i)],
      })),
      ...(page.next ? { NextToken: page.next } : {}),
    };
  }

  private instanceOut(i: InstanceState): Ec2Instance {
    const enis = this.enisOf(i.instanceId);
    const primary = enis.find((e) => e.attachment?.deviceIndex === 0);
    const association = this.associationOf(i.instanceId);
    const live = i.state !== 'terminated';
    return {
      InstanceId: i.instanceId,
      ImageId: i.imageId,
      InstanceType: i.instanceType,
      State: { Code: STATE_CODES[i.state], Name: i.state },
      LaunchTime: i.launchTime,
      Placement: { AvailabilityZone: i.availabilityZone, Tenancy: 'default' },
      ...(live ? { VpcId: i.vpcId, SubnetId: i.subnetId } : {}),
      ...(primary ? { PrivateIpAddress: primary.privateIpAddress } : {}),
      Architecture: 'x86_64',
      RootDeviceType: 'ebs',
      RootDeviceName: i.rootDeviceName,
      BlockDeviceMappings: this.volumesOf(i.instanceId).map((v) => ({
        DeviceName: v.attachment?.device,
        Ebs: {
          VolumeId: v.volumeId,
          Status: 'attached',
          AttachTime: v.attachment?.attachTime,
          DeleteOnTermination: v.attachment?.deleteOnTermination,
        },
      })),
      NetworkInterfaces: enis.map((e) => this.instanceEniOut(e)),
      /** The primary ENI's groups, as AWS reports an instance's groups. */
      SecurityGroups: (primary?.groups ?? []).map((g) => this.groupRef(g)),
      SourceDestCheck: primary?.sourceDestCheck,
      ...withTags(i.tags),
      ...(association
        ? { IamInstanceProfile: { Arn: association.profileArn, Id: association.profileId } }
        : {}),
    };
  }

  private instanceEniOut(e: NetworkInterfaceState): InstanceNetworkInterface {
    return {
      NetworkInterfaceId: e.networkInterfaceId,
      SubnetId: e.subnetId,
      VpcId: e.vpcId,
      Description: e.description,
      OwnerId: this.accountId,
      Status: 'in-use',
      MacAddress: e.macAddress,
      PrivateIpAddress: e.privateIpAddress,
      SourceDestCheck: e.sourceDestCheck,
      Groups: e.groups.map((g) => this.groupRef(g)),
      InterfaceType: 'interface',
      ...(e.attachment
        ? {
            Attachment: {
              AttachmentId: e.attachment.attachmentId,
              DeviceIndex: e.attachment.deviceIndex,
              NetworkCardIndex: 0,
              Status: 'attached',
              AttachTime: e.attachment.attachTime,
              DeleteOnTermination: e.attachment.deleteOnTermination,
            },
          }
        : {}),
    };
  }

  private modifyInstanceAttribute(
    input: ModifyInstanceAttributeCommandInput,
  ): Out<ModifyInstanceAttributeCommandOutput> {
    const instance = this.one('instance', input.InstanceId, this.data.instances);
    for (const key of [
      'InstanceType',
      'UserData',
      'BlockDeviceMappings',
      'Kernel',
      'Ramdisk',
      'EbsOptimized',
      'SriovNetSupport',
      'EnaSupport',
      'InstanceInitiatedShutdownBehavior',
      'EnclaveOptions',
    ] as const) {
      if (input[key] !== undefined) throw notModelled('ec2', `ModifyInstanceAttribute ${key}`);
    }
    const given = [
      input.DisableApiTermination !== undefined ? 'disableApiTermination' : undefined,
      input.DisableApiStop !== undefined ? 'disableApiStop' : undefined,
      input.SourceDestCheck !== undefined ? 'sourceDestCheck' : undefined,
      input.Groups !== undefined ? 'groupSet' : undefined,
      input.Attribute,
    ].filter(isDefined);
    if (given.length === 0) throw ec2Error('MissingParameter', 'No attributes specified.');
    if (given.length > 1) {
      throw ec2Error(
        'InvalidParameterCombination',
        `Fields for multiple attribute types specified: ${given.join(', ')}`,
      );
    }
    const flag = (value: boolean | string | undefined): boolean => {
      if (typeof value === 'boolean') return value;
      if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
      throw ec2Error('InvalidParameterValue', `Value (${String(value)}) for parameter value is invalid.`);
    };
    const attributeValue = (
      attr: { Value?: boolean | undefined } | undefined,
    ): boolean | string | undefined => (input.Attribute !== undefined ? input.Value : attr?.Value);
    const enis = this.enisOf(instance.instanceId);
    const single = (): NetworkInterfaceState => {
      const [primary, ...others] = enis;
      if (!primary || others.length > 0) {
        throw ec2Error(
          'InvalidInstanceID',
          `There are multiple interfaces attached to instance '${instance.instanceId}'. Please specify an interface ID for the operation instead.`,
        );
      }
      return primary;
    };
    switch (given[0]) {
      case 'disableApiTermination':
        instance.disableApiTermination = flag(attributeValue(input.DisableApiTermination));
        break;
      case 'disableApiStop':
        instance.disableApiStop = flag(attributeValue(input.DisableApiStop));
        break;
      case 'sourceDestCheck': {
        const value = flag(attributeValue(input.SourceDestCheck));
        single().sourceDestCheck = value;
        break;
      }
      case 'groupSet': {
        const eni = single();
        eni.groups = this.validGroupsFor(eni, input.Groups ?? []);
        break;
      }
      default:
        throw notModelled('ec2', `ModifyInstanceAttribute Attribute=${given[0] ?? ''}`);
    }
    return {};
  }

  private describeInstanceAttribute(
    input: DescribeInstanceAttributeCommandInput,
  ): Out<DescribeInstanceAttributeCommandOutput> {
    const instance = this.one('instance', input.InstanceId, this.data.instances);
    const InstanceId = instance.instanceId;
    const primary = this.enisOf(InstanceId).find((e) => e.attachment?.deviceIndex === 0);
    switch (input.Attribute) {
      case undefined:
        throw ec2Error('MissingParameter', 'The request must contain the parameter attribute');
      case 'disableApiTermination':
        return { InstanceId, DisableApiTermination: { Value: instance.disableApiTermination } };
      case 'disableApiStop':
        return { InstanceId, DisableApiStop: { Value: instance.disableApiStop } };
      case 'groupSet':
        return { InstanceId, Groups: (primary?.groups ?? []).map((g) => this.groupRef(g)) };
      case 'sourceDestCheck':
        return { InstanceId, SourceDestCheck: { Value: primary?.sourceDestCheck } };
      case 'instanceType':
        return { InstanceId, InstanceType: { Value: instance.instanceType } };
      case 'blockDeviceMapping':
        return {
          InstanceId,
          BlockDeviceMappings: this.volumesOf(InstanceId).map((v) => ({
            DeviceName: v.attachment?.device,
            Ebs: {
              VolumeId: v.volumeId,
              Status: 'attached',
              AttachTime: v.attachment?.attachTime,
              DeleteOnTermination: v.attachment?.deleteOnTermination,
            },
          })),
        };
      default:
        throw notModelled('ec2', `DescribeInstanceAttribute Attribute=${input.Attribute}`);
    }
  }

  // ---------------------------------------------------------------------------------------------- ENIs

  private describeNetworkInterfaces(
    input: DescribeNetworkInterfacesCommandInput,
  ): Out<DescribeNetworkInterfacesCommandOutput> {
    let items = [...this.data.networkInterfaces.values()];
    if (input.NetworkInterfaceIds?.length) {
      items = this.many('eni', input.NetworkInterfaceIds, this.data.networkInterfaces);
    }
    const fields: Fields<NetworkInterfaceState> = {
      'network-interface-id': (e) => [e.networkInterfaceId],
      'attachment.instance-id': (e) => [e.attachment?.instanceId],
      'attachment.attachment-id': (e) => [e.attachment?.attachmentId],
      'attachment.device-index': (e) => [e.attachment?.deviceIndex],
      'attachment.status': (e) => [e.attachment ? 'attached' : undefined],
      'attachment.delete-on-termination': (e) => [e.attachment?.deleteOnTermination],
      'vpc-id': (e) => [e.vpcId],
      'subnet-id': (e) => [e.subnetId],
      'availability-zone': (e) => [e.availabilityZone],
      'group-id': (e) => e.groups,
      'group-name': (e) => e.groups.map((g) => this.data.securityGroups.get(g)?.groupName),
      status: (e) => [e.attachment ? 'in-use' : 'available'],
      description: (e) => [e.description],
      'private-ip-address': (e) => [e.privateIpAddress],
      'mac-address': (e) => [e.macAddress],
      'owner-id': () => [this.accountId],
      'interface-type': () => ['interface'],
    };
    items = this.filter(items, input.Filters, fields, (e) => e.tags);
    const page = this.page(items, input.MaxResults, input.NextToken, (m) =>
      ec2Error('InvalidParameterValue', m),
    );
    return {
      NetworkInterfaces: page.items.map((e) => this.eniOut(e)),
      ...(page.next ? { NextToken: page.next } : {}),
    };
  }

  private eniOut(e: NetworkInterfaceState): NetworkInterface {
    return {
      NetworkInterfaceId: e.networkInterfaceId,
      AvailabilityZone: e.availabilityZone,
      Description: e.description,
      Groups: e.groups.map((g) => this.groupRef(g)),
      InterfaceType: 'interface',
      MacAddress: e.macAddress,
      OwnerId: this.accountId,
      PrivateIpAddress: e.privateIpAddress,
      PrivateIpAddresses: [{ Primary: true, PrivateIpAddress: e.privateIpAddress }],
      RequesterManaged: false,
      SourceDestCheck: e.sourceDestCheck,
      Status: e.attachment ? 'in-use' : 'available',
      SubnetId: e.subnetId,
      VpcId: e.vpcId,
      TagSet: tagsOut(e.tags),
      ...(e.attachment
        ? {
            Attachment: {
              AttachmentId: e.attachment.attachmentId,
              AttachTime: e.attachment.attachTime,
              DeleteOnTermination: e.attachment.deleteOnTermination,
              DeviceIndex: e.attachment.deviceIndex,
              NetworkCardIndex: 0,
              InstanceId: e.attachment.instanceId,
              InstanceOwnerId: this.accountId,
              Status: 'attached',
            },
          }
        : {}),
    };
  }

  private modifyNetworkInterfaceAttribute(
    input: ModifyNetworkInterfaceAttributeCommandInput,
  ): Out<ModifyNetworkInterfaceAttributeCommandOutput> {
    const eni = this.one('eni', input.NetworkInterfaceId, this.data.networkInterfaces);
    for (const key of [
      'EnaSrdSpecification',
      'EnablePrimaryIpv6',
      'ConnectionTrackingSpecification',
      'AssociatePublicIpAddress',
      'AssociatedSubnetIds',
    ] as const) {
      if (input[key] !== undefined) throw notModelled('ec2', `ModifyNetworkInterfaceAttribute ${key}`);
    }
    const given = [
      input.Groups !== undefined ? 'groupSet' : undefined,
      input.Description !== undefined ? 'description' : undefined,
      input.SourceDestCheck !== undefined ? 'sourceDestCheck' : undefined,
      input.Attachment !== undefined ? 'attachment' : undefined,
    ].filter(isDefined);
    if (given.length === 0) throw ec2Error('MissingParameter', 'You must specify an attribute to modify.');
    if (given.length > 1) {
      throw ec2Error('InvalidParameterCombination', 'Only one attribute can be modified at a time');
    }
    if (input.Groups !== undefined) eni.groups = this.validGroupsFor(eni, input.Groups);
    if (input.Description !== undefined) eni.description = input.Description.Value ?? '';
    if (input.SourceDestCheck !== undefined) {
      if (input.SourceDestCheck.Value === undefined) {
        throw ec2Error('MissingParameter', 'The request must contain the parameter sourceDestCheck.value');
      }
      eni.sourceDestCheck = input.SourceDestCheck.Value;
    }
    if (input.Attachment !== undefined) {
      if (!eni.attachment || eni.attachment.attachmentId !== input.Attachment.AttachmentId) {
        throw ec2Error(
          'InvalidAttachmentID.NotFound',
          `The attachment ID '${input.Attachment.AttachmentId ?? ''}' does not exist`,
        );
      }
      if (input.Attachment.DeleteOnTermination !== undefined) {
        eni.attachment.deleteOnTermination = input.Attachment.DeleteOnTermination;
      }
    }
    return {};
  }

  /** Groups an ENI may be given: they exist, sit in the ENI's VPC, at most 5 (the default quota). */
  private validGroupsFor(eni: NetworkInterfaceState, ids: readonly string[]): string[] {
    const unique = [...new Set(ids)];
    if (unique.length === 0) {
      throw ec2Error('InvalidParameterValue', 'A network interface must have at least one security group.');
    }
    const groups = this.many('group', unique, this.data.securityGroups);
    if (groups.some((g) => g.vpcId !== eni.vpcId)) {
      throw ec2Error(
        'InvalidGroup.NotFound',
        'You have specified two resources that belong to different networks.',
      );
    }
    if (unique.length > 5) {
      throw ec2Error(
        'SecurityGroupsPerInterfaceLimitExceeded',
        'The maximum number of security groups per interface has been reached.',
      );
    }
    return unique;
  }

  // ----------------------------------------------------------------------------------- security groups

  private describeSecurityGroups(
    input: DescribeSecurityGroupsCommandInput,
  ): Out<DescribeSecurityGroupsCommandOutput> {
    let items = [...this.data.securityGroups.values()];
    if (input.GroupIds?.length) items = this.many('group', input.GroupIds, this.data.securityGroups);
    if (input.GroupNames?.length) {
      const vpc = this.defaultVpc();
      items = input.GroupNames.map((name) => {
        const group = this.findGroup(vpc.vpcId, name);
        if (!group) {
          throw ec2Error(
            'InvalidGroup.NotFound',
            `The security group '${name}' does not exist in default VPC '${vpc.vpcId}'`,
          );
        }
        return group;
      }).filter((g) => items.includes(g));
    }
    const cidrs = (rules: readonly RuleState[]) => rules.flatMap((r) => [r.cidrIpv4, r.cidrIpv6]);
    const fields: Fields<SecurityGroupState> = {
      'group-id': (g) => [g.groupId],
      'group-name': (g) => [g.groupName],
      'vpc-id': (g) => [g.vpcId],
      description: (g) => [g.description],
      'owner-id': () => [this.accountId],
      'ip-permission.cidr': (g) => cidrs(g.ingress),
      'ip-permission.group-id': (g) => g.ingress.map((r) => r.referencedGroupId),
      'ip-permission.protocol': (g) => g.ingress.map((r) => r.protocol),
      'ip-permission.from-port': (g) => g.ingress.map((r) => r.fromPort),
      'ip-permission.to-port': (g) => g.ingress.map((r) => r.toPort),
      'egress.ip-permission.cidr': (g) => cidrs(g.egress),
      'egress.ip-permission.group-id': (g) => g.egress.map((r) => r.referencedGroupId),
      'egress.ip-permission.protocol': (g) => g.egress.map((r) => r.protocol),
    };
    items = this.filter(items, input.Filters, fields, (g) => g.tags);
    const page = this.page(items, input.MaxResults, input.NextToken, (m) =>
      ec2Error('InvalidParameterValue', m),
    );
    return {
      SecurityGroups: page.items.map((g) => this.groupOut(g)),
      ...(page.next ? { NextToken: page.next } : {}),
    };
  }

  private defaultVpc(): VpcState {
    const vpc = [...this.data.vpcs.values()].find((v) => v.isDefault);
    if (!vpc) throw ec2Error('VPCIdNotSpecified', 'No default VPC for this user');
    return vpc;
  }

  private groupOut(g: SecurityGroupState): SecurityGroup {
    return {
      GroupId: g.groupId,
      GroupName: g.groupName,
      Description: g.description,
      VpcId: g.vpcId,
      OwnerId: this.accountId,
      SecurityGroupArn: `arn:aws:ec2:${this.region}:${this.accountId}:security-group/${g.groupId}`,
      IpPermissions: this.permissionsOut(g.ingress),
      IpPermissionsEgress: this.permissionsOut(g.egress),
      ...withTags(g.tags),
    };
  }

  /** Rules folded into IpPermissions the way DescribeSecurityGroups shows them (one per protocol+ports). */
  private permissionsOut(rules: readonly RuleDraft[]): IpPermission[] {
    interface Folded {
      readonly head: Pick<IpPermission, 'IpProtocol' | 'FromPort' | 'ToPort'>;
      readonly v4: NonNullable<IpPermission['IpRanges']>;
      readonly v6: NonNullable<IpPermission['Ipv6Ranges']>;
      readonly lists: NonNullable<IpPermission['PrefixListIds']>;
      readonly pairs: NonNullable<IpPermission['UserIdGroupPairs']>;
    }
    const byRange = new Map<string, Folded>();
    for (const r of rules) {
      const key = `${r.protocol}|${r.fromPort}|${r.toPort}`;
      let folded = byRange.get(key);
      if (!folded) {
        folded = {
          head: {
            IpProtocol: r.protocol,
            ...(hasPorts(r.protocol) ? { FromPort: r.fromPort, ToPort: r.toPort } : {}),
          },
          v4: [],
          v6: [],
          lists: [],
          pairs: [],
        };
        byRange.set(key, folded);
      }
      const description = r.description !== undefined ? { Description: r.description } : {};
      if (r.cidrIpv4 !== undefined) folded.v4.push({ CidrIp: r.cidrIpv4, ...description });
      if (r.cidrIpv6 !== undefined) folded.v6.push({ CidrIpv6: r.cidrIpv6, ...description });
      if (r.prefixListId !== undefined) folded.lists.push({ PrefixListId: r.prefixListId, ...description });
      if (r.referencedGroupId !== undefined) {
        folded.pairs.push({ GroupId: r.referencedGroupId, UserId: this.accountId, ...description });
      }
    }
    return [...byRange.values()].map((f) => ({
      ...f.head,
      IpRanges: f.v4,
      Ipv6Ranges: f.v6,
      PrefixListIds: f.lists,
      UserIdGroupPairs: f.pairs,
    }));
  }

  private ruleOut(group: SecurityGroupState, r: RuleState, egress: boolean): SecurityGroupRule {
    return {
      SecurityGroupRuleId: r.ruleId,
      GroupId: group.groupId,
      GroupOwnerId: this.accountId,
      IsEgress: egress,
      IpProtocol: r.protocol,
      FromPort: r.fromPort,
      ToPort: r.toPort,
      ...(r.cidrIpv4 !== undefined ? { CidrIpv4: r.cidrIpv4 } : {}),
      ...(r.cidrIpv6 !== undefined ? { CidrIpv6: r.cidrIpv6 } : {}),
      ...(r.prefixListId !== undefined ? { PrefixListId: r.prefixListId } : {}),
      ...(r.referencedGroupId !== undefined
        ? { ReferencedGroupInfo: { GroupId: r.referencedGroupId, UserId: this.accountId } }
        : {}),
      ...(r.description !== undefined ? { Description: r.description } : {}),
      Tags: tagsOut(r.tags),
      SecurityGroupRuleArn: `arn:aws:ec2:${this.region}:${this.accountId}:security-group-rule/${r.ruleId}`,
    };
  }

  private revokedOut(group: SecurityGroupState, r: RuleState, egress: boolean): RevokedSecurityGroupRule {
    const {
      Tags: _tags,
      GroupOwnerId: _owner,
      SecurityGroupRuleArn: _arn,
      ReferencedGroupInfo,
      ...rest
    } = this.ruleOut(group, r, egress);
    return {
      ...rest,
      ...(ReferencedGroupInfo?.GroupId !== undefined
        ? { ReferencedGroupId: ReferencedGroupInfo.GroupId }
        : {}),
    };
  }

  private createSecurityGroup(input: CreateSecurityGroupCommandInput): Out<CreateSecurityGroupCommandOutput> {
    const name = input.GroupName ?? '';
    if (name === '') throw ec2Error('MissingParameter', 'The request must contain the parameter groupName');
    if (input.Description === undefined || input.Description === '') {
      throw ec2Error('MissingParameter', 'The request must contain the parameter groupDescription');
    }
    if (/^sg-/i.test(name))
      throw ec2Error('InvalidParameterValue', 'Group names may not be in the format sg-*');
    if (name.length > 255 || input.Description.length > 255) {
      throw ec2Error('InvalidParameterValue', 'Group name and description are at most 255 characters');
    }
    const vpc = input.VpcId !== undefined ? this.one('vpc', input.VpcId, this.data.vpcs) : this.defaultVpc();
    if (this.findGroup(vpc.vpcId, name)) {
      throw ec2Error(
        'InvalidGroup.Duplicate',
        `The security group '${name}' already exists for VPC '${vpc.vpcId}'`,
      );
    }
    const tags = this.tagsFromSpecs(input.TagSpecifications, 'security-group');
    const groupId = this.id('sg');
    const group: SecurityGroupState = {
      groupId,
      groupName: name,
      description: input.Description,
      vpcId: vpc.vpcId,
      tags,
      ingress: [],
      egress: [],
    };
    this.data.securityGroups.set(groupId, group);
    group.egress.push({
      ruleId: this.id('sgr'),
      protocol: '-1',
      fromPort: -1,
      toPort: -1,
      cidrIpv4: '0.0.0.0/0',
      tags: [],
    });
    return {
      GroupId: groupId,
      SecurityGroupArn: `arn:aws:ec2:${this.region}:${this.accountId}:security-group/${groupId}`,
      ...withTags(tags),
    };
  }

  private deleteSecurityGroup(input: DeleteSecurityGroupCommandInput): Out<DeleteSecurityGroupCommandOutput> {
    const group = this.ruleTarget(input.GroupId, input.GroupName, true);
    if (group.groupName === 'default') {
      throw ec2Error(
        'CannotDelete',
        `the specified group: "${group.groupId}" name: "default" cannot be deleted by a user`,
      );
    }
    const inUse = [...this.data.networkInterfaces.values()].some((e) => e.groups.includes(group.groupId));
    const referenced = this.allRules().some(
      (r) => r.group.groupId !== group.groupId && r.rule.referencedGroupId === group.groupId,
    );
    if (inUse || referenced) {
      throw ec2Error('DependencyViolation', `resource ${group.groupId} has a dependent object`);
    }
    this.data.securityGroups.delete(group.groupId);
    return { Return: true, GroupId: group.groupId };
  }

  /** The group a rule call names: GroupId, or (ingress only, default VPC) GroupName. */
  private ruleTarget(
    groupId: string | undefined,
    groupName: string | undefined,
    byName: boolean,
  ): SecurityGroupState {
    if (groupId !== undefined && groupId !== '') return this.one('group', groupId, this.data.securityGroups);
    if (byName && groupName !== undefined && groupName !== '') {
      const vpc = this.defaultVpc();
      const group = this.findGroup(vpc.vpcId, groupName);
      if (!group) {
        throw ec2Error(
          'InvalidGroup.NotFound',
          `The security group '${groupName}' does not exist in default VPC '${vpc.vpcId}'`,
        );
      }
      return group;
    }
    throw ec2Error('MissingParameter', 'The request must contain the parameter groupId');
  }

  private ingressPermissions(input: AuthorizeSecurityGroupIngressCommandInput): IpPermission[] {
    const flat =
      input.IpProtocol !== undefined ||
      input.CidrIp !== undefined ||
      input.FromPort !== undefined ||
      input.ToPort !== undefined ||
      input.SourceSecurityGroupName !== undefined;
    if (flat && input.IpPermissions?.length) {
      throw ec2Error(
        'InvalidParameterCombination',
        'The parameter IpPermissions cannot be used with the individual rule parameters',
      );
    }
    if (!flat) return input.IpPermissions ?? [];
    return [
      {
        IpProtocol: input.IpProtocol ?? '-1',
        ...(input.FromPort !== undefined ? { FromPort: input.FromPort } : {}),
        ...(input.ToPort !== undefined ? { ToPort: input.ToPort } : {}),
        IpRanges: input.CidrIp !== undefined ? [{ CidrIp: input.CidrIp }] : [],
        UserIdGroupPairs:
          input.SourceSecurityGroupName !== undefined ? [{ GroupName: input.SourceSecurityGroupName }] : [],
      },
    ];
  }

  /** IpPermissions expanded into one draft per peer, validated like AWS. */
  private draftsOf(permissions: readonly IpPermission[], group: SecurityGroupState): RuleDraft[] {
    const drafts: RuleDraft[] = [];
    for (const p of permissions) {
      const protocol = normaliseProtocol(p.IpProtocol);
      const [fromPort, toPort] = portsOf(protocol, p.FromPort, p.ToPort);
      const base = { protocol, fromPort, toPort };
      const described = (d: string | undefined) => (d !== undefined ? { description: d } : {});
      const before = drafts.length;
      for (const range of p.IpRanges ?? []) {
        const cidr = range.CidrIp ?? '';
        if (!validCidr4(cidr)) throw ec2Error('InvalidParameterValue', `CIDR block ${cidr} is malformed`);
        drafts.push({ ...base, cidrIpv4: cidr, ...described(range.Description) });
      }
      for (const range of p.Ipv6Ranges ?? []) {
        const cidr = range.CidrIpv6 ?? '';
        if (!validCidr6(cidr)) throw ec2Error('InvalidParameterValue', `CIDR block ${cidr} is malformed`);
        drafts.push({ ...base, cidrIpv6: cidr, ...described(range.Description) });
      }
      for (const list of p.PrefixListIds ?? []) {
        const id = list.PrefixListId ?? '';
        if (!/^pl-[0-9a-f]{8,17}$/.test(id)) {
          throw ec2Error('InvalidPrefixListId.Malformed', `The prefix list ID '${id}' is malformed`);
        }
        drafts.push({ ...base, prefixListId: id, ...described(list.Description) });
      }
      for (const pair of p.UserIdGroupPairs ?? []) {
        let referenced: SecurityGroupState | undefined;
        if (pair.GroupId !== undefined)
          referenced = this.one('group', pair.GroupId, this.data.securityGroups);
        else if (pair.GroupName !== undefined) {
          referenced = this.findGroup(group.vpcId, pair.GroupName);
          if (!referenced) {
            throw ec2Error('InvalidGroup.NotFound', `The security group '${pair.GroupName}' does not exist`);
          }
        } else throw ec2Error('MissingParameter', 'A UserIdGroupPair needs a GroupId');
        drafts.push({ ...base, referencedGroupId: referenced.groupId, ...described(pair.Description) });
      }
      if (drafts.length === before) {
        throw ec2Error(
          'MissingParameter',
          'An IpPermission must name a source or destination (CIDR, prefix list or security group)',
        );
      }
    }
    return drafts;
  }

  private authorize(
    direction: 'ingress' | 'egress',
    input: AuthorizeSecurityGroupIngressCommandInput | AuthorizeSecurityGroupEgressCommandInput,
  ): Out<AuthorizeSecurityGroupIngressCommandOutput> {
    const group = this.ruleTarget(
      input.GroupId,
      'GroupName' in input ? input.GroupName : undefined,
      direction === 'ingress',
    );
    const permissions =
      direction === 'ingress' ? this.ingressPermissions(input) : [...(input.IpPermissions ?? [])];
    if (permissions.length === 0) throw ec2Error('MissingParameter', 'No IpPermissions specified');
    const drafts = this.draftsOf(permissions, group);
    const existing = new Set(group[direction].map(ruleKey));
    for (const d of drafts) {
      const key = ruleKey(d);
      if (existing.has(key)) {
        const ports = hasPorts(d.protocol) ? `, from port: ${d.fromPort}, to port: ${d.toPort}` : '';
        throw ec2Error(
          'InvalidPermission.Duplicate',
          `the specified rule "peer: ${peerOf(d)}, ${d.protocol === '-1' ? 'ALL' : d.protocol.toUpperCase()}${ports}, ALLOW" already exists`,
        );
      }
      existing.add(key);
    }
    if (group[direction].length + drafts.length > 60) {
      throw ec2Error(
        'RulesPerSecurityGroupLimitExceeded',
        'The maximum number of rules per security group has been reached.',
      );
    }
    const tags = this.tagsFromSpecs(input.TagSpecifications, 'security-group-rule');
    const rules: RuleState[] = drafts.map((d) => ({
      ruleId: this.id('sgr'),
      ...d,
      tags: tags.map((t) => ({ ...t })),
    }));
    group[direction].push(...rules);
    return {
      Return: true,
      SecurityGroupRules: rules.map((r) => this.ruleOut(group, r, direction === 'egress')),
    };
  }

  private revoke(
    direction: 'ingress' | 'egress',
    input: RevokeSecurityGroupIngressCommandInput | RevokeSecurityGroupEgressCommandInput,
  ): Out<RevokeSecurityGroupIngressCommandOutput> {
    const group = this.ruleTarget(
      input.GroupId,
      'GroupName' in input ? input.GroupName : undefined,
      direction === 'ingress',
    );
    const egress = direction === 'egress';
    const ids = input.SecurityGroupRuleIds ?? [];
    const permissions =
      direction === 'ingress' ? this.ingressPermissions(input) : [...(input.IpPermissions ?? [])];
    if (ids.length > 0 && permissions.length > 0) {
      throw ec2Error(
        'InvalidParameterCombination',
        'The parameter SecurityGroupRuleIds cannot be used with the parameter IpPermissions',
      );
    }
    const list = group[direction];
    if (ids.length > 0) {
      const own = new Map(list.map((r) => [r.ruleId, r]));
      const rules = this.many('rule', ids, own);
      group[direction] = list.filter((r) => !rules.includes(r));
      return { Return: true, RevokedSecurityGroupRules: rules.map((r) => this.revokedOut(group, r, egress)) };
    }
    if (permissions.length === 0) throw ec2Error('MissingParameter', 'No IpPermissions specified');
    const drafts = this.draftsOf(permissions, group);
    const matched: RuleState[] = [];
    const unknown: RuleDraft[] = [];
    for (const d of drafts) {
      const rule = list.find((r) => ruleKey(r) === ruleKey(d));
      if (rule) matched.push(rule);
      else unknown.push(d);
    }
    const isDefaultVpc = this.data.vpcs.get(group.vpcId)?.isDefault ?? false;
    if (unknown.length > 0 && !isDefaultVpc) {
      throw ec2Error(
        'InvalidPermission.NotFound',
        'The specified rule does not exist in this security group.',
      );
    }
    group[direction] = list.filter((r) => !matched.includes(r));
    return {
      Return: true,
      RevokedSecurityGroupRules: matched.map((r) => this.revokedOut(group, r, egress)),
      ...(unknown.length > 0 ? { UnknownIpPermissions: this.permissionsOut(unknown) } : {}),
    };
  }

  private describeSecurityGroupRules(
    input: DescribeSecurityGroupRulesCommandInput,
  ): Out<DescribeSecurityGroupRulesCommandOutput> {
    let items = this.allRules();
    if (input.SecurityGroupRuleIds?.length) {
      const byId = new Map(items.map((r) => [r.rule.ruleId, r]));
      items = this.many('rule', input.SecurityGroupRuleIds, byId);
    }
    const fields: Fields<(typeof items)[number]> = {
      'group-id': (r) => [r.group.groupId],
      'security-group-rule-id': (r) => [r.rule.ruleId],
    };
    items = this.filter(items, input.Filters, fields, (r) => r.rule.tags);
    const page = this.page(items, input.MaxResults, input.NextToken, (m) =>
      ec2Error('InvalidParameterValue', m),
    );
    return {
      SecurityGroupRules: page.items.map((r) => this.ruleOut(r.group, r.rule, r.egress)),
      ...(page.next ? { NextToken: page.next } : {}),
    };
  }

  // ------------------------------------------------------------------------------- volumes & snapshots

  private describeVolumes(input: DescribeVolumesCommandInput): Out<DescribeVolumesCommandOutput> {
    let items = [...this.data.volumes.values()];
    if (input.VolumeIds?.length) items = this.many('volume', input.VolumeIds, this.data.volumes);
    const fields: Fields<VolumeState> = {
      'volume-id': (v) => [v.volumeId],
      'attachment.instance-id': (v) => [v.attachment?.instanceId],
      'attachment.device': (v) => [v.attachment?.device],
      'attachment.status': (v) => [v.attachment ? 'attached' : undefined],
      'attachment.delete-on-termination': (v) => [v.attachment?.deleteOnTermination],
      status: (v) => [v.attachment ? 'in-use' : 'available'],
      'availability-zone': (v) => [v.availabilityZone],
      size: (v) => [v.size],
      'volume-type': (v) => [v.volumeType],
      encrypted: (v) => [v.encrypted],
    };
    items = this.filter(items, input.Filters, fields, (v) => v.tags);
    const page = this.page(items, input.MaxResults, input.NextToken, (m) =>
      ec2Error('InvalidParameterValue', m),
    );
    return {
      Volumes: page.items.map((v) => this.volumeOut(v)),
      ...(page.next ? { NextToken: page.next } : {}),
    };
  }

  private volumeOut(v: VolumeState): Volume {
    return {
      VolumeId: v.volumeId,
      Size: v.size,
      AvailabilityZone: v.availabilityZone,
      State: v.attachment ? 'in-use' : 'available',
      VolumeType: v.volumeType,
      Iops: 3000,
      Throughput: 125,
      Encrypted: v.encrypted,
      CreateTime: v.createTime,
      SnapshotId: '',
      MultiAttachEnabled: false,
      Attachments: v.attachment
        ? [
            {
              VolumeId: v.volumeId,
              InstanceId: v.attachment.instanceId,
              Device: v.attachment.device,
              State: 'attached',
              AttachTime: v.attachment.attachTime,
              DeleteOnTermination: v.attachment.deleteOnTermination,
            },
          ]
        : [],
      ...withTags(v.tags),
    };
  }

  private newSnapshot(volume: VolumeState, description: string, tags: ModelTag[]): SnapshotState {
    const snapshot: SnapshotState = {
      snapshotId: this.id('snap'),
      volumeId: volume.volumeId,
      volumeSize: volume.size,
      description,
      encrypted: volume.encrypted,
      startTime: this.clock(),
      ownerId: this.accountId,
      state: 'completed',
      tags,
    };
    this.data.snapshots.set(snapshot.snapshotId, snapshot);
    return snapshot;
  }

  private snapshotOut(s: SnapshotState): Snapshot {
    return {
      SnapshotId: s.snapshotId,
      VolumeId: s.volumeId,
      State: s.state,
      StartTime: s.startTime,
      Progress: s.state === 'completed' ? '100%' : '0%',
      OwnerId: s.ownerId,
      Description: s.description,
      VolumeSize: s.volumeSize,
      Encrypted: s.encrypted,
      StorageTier: 'standard',
      ...withTags(s.tags),
    };
  }

  private createSnapshot(input: CreateSnapshotCommandInput): Out<CreateSnapshotCommandOutput> {
    if (input.OutpostArn !== undefined || input.Location !== undefined) {
      throw notModelled('ec2', 'CreateSnapshot OutpostArn/Location');
    }
    const volume = this.one('volume', input.VolumeId, this.data.volumes);
    const tags = this.tagsFromSpecs(input.TagSpecifications, 'snapshot');
    return this.snapshotOut(this.newSnapshot(volume, input.Description ?? '', tags));
  }

  private createSnapshots(input: CreateSnapshotsCommandInput): Out<CreateSnapshotsCommandOutput> {
    if (input.OutpostArn !== undefined || input.Location !== undefined) {
      throw notModelled('ec2', 'CreateSnapshots OutpostArn/Location');
    }
    const spec = input.InstanceSpecification;
    if (spec === undefined)
      throw ec2Error('MissingParameter', 'The request must contain the parameter InstanceSpecification');
    const instance = this.one('instance', spec.InstanceId, this.data.instances);
    const excluded = new Set(spec.ExcludeDataVolumeIds ?? []);
    const volumes = this.volumesOf(instance.instanceId).filter((v) => {
      const boot = v.attachment?.device === instance.rootDeviceName;
      return boot ? spec.ExcludeBootVolume !== true : !excluded.has(v.volumeId);
    });
    const specTags = this.tagsFromSpecs(input.TagSpecifications, 'snapshot');
    const snapshots = volumes.map((v) => {
      const tags: ModelTag[] = [];
      if (input.CopyTagsFromSource === 'volume') {
        for (const t of v.tags) if (!t.Key.startsWith('aws:')) setTag(tags, t.Key, t.Value);
      }
      for (const t of specTags) setTag(tags, t.Key, t.Value);
      return this.newSnapshot(v, input.Description ?? '', tags);
    });
    return {
      Snapshots: snapshots.map(
        (s): SnapshotInfo => ({
          SnapshotId: s.snapshotId,
          VolumeId: s.volumeId,
          State: s.state,
          StartTime: s.startTime,
          Progress: s.state === 'completed' ? '100%' : '0%',
          OwnerId: s.ownerId,
          Description: s.description,
          VolumeSize: s.volumeSize,
          Encrypted: s.encrypted,
          AvailabilityZone: this.data.volumes.get(s.volumeId)?.availabilityZone,
          ...withTags(s.tags),
        }),
      ),
    };
  }

  private describeSnapshots(input: DescribeSnapshotsCommandInput): Out<DescribeSnapshotsCommandOutput> {
    let items = [...this.data.snapshots.values()];
    if (input.SnapshotIds?.length) items = this.many('snapshot', input.SnapshotIds, this.data.snapshots);
    if (input.OwnerIds?.length) {
      const mine = input.OwnerIds.some((o) => o === 'self' || o === this.accountId);
      items = mine ? items : [];
    }
    const fields: Fields<SnapshotState> = {
      'snapshot-id': (s) => [s.snapshotId],
      'volume-id': (s) => [s.volumeId],
      status: (s) => [s.state],
      description: (s) => [s.description],
      'owner-id': (s) => [s.ownerId],
      'volume-size': (s) => [s.volumeSize],
      encrypted: (s) => [s.encrypted],
      'start-time': (s) => [s.startTime.toISOString()],
    };
    items = this.filter(items, input.Filters, fields, (s) => s.tags);
    const page = this.page(items, input.MaxResults, input.NextToken, (m) =>
      ec2Error('InvalidParameterValue', m),
    );
    return {
      Snapshots: page.items.map((s) => this.snapshotOut(s)),
      ...(page.next ? { NextToken: page.next } : {}),
    };
  }

  // ---------------------------------------------------------------------------------------- VPCs, tags

  private describeVpcs(input: DescribeVpcsCommandInput): Out<DescribeVpcsCommandOutput> {
    let items = [...this.data.vpcs.values()];
    if (input.VpcIds?.length) items = this.many('vpc', input.VpcIds, this.data.vpcs);
    const fields: Fields<VpcState> = {
      'vpc-id': (v) => [v.vpcId],
      'is-default': (v) => [v.isDefault],
      'cidr-block': (v) => [v.cidrBlock],
      cidr: (v) => [v.cidrBlock],
      state: () => ['available'],
      'owner-id': () => [this.accountId],
    };
    items = this.filter(items, input.Filters, fields, (v) => v.tags);
    const page = this.page(items, input.MaxResults, input.NextToken, (m) =>
      ec2Error('InvalidParameterValue', m),
    );
    return {
      Vpcs: page.items.map((v) => ({
        VpcId: v.vpcId,
        CidrBlock: v.cidrBlock,
        IsDefault: v.isDefault,
        State: 'available',
        OwnerId: this.accountId,
        InstanceTenancy: 'default',
        ...withTags(v.tags),
      })),
      ...(page.next ? { NextToken: page.next } : {}),
    };
  }

  /** Resolves every id of a tagging call, refusing with the error its kind's Describe would give. */
  private taggables(ids: readonly string[]): { tags: ModelTag[] }[] {
    if (ids.length === 0)
      throw ec2Error('MissingParameter', 'The request must contain the parameter resourceIdSet');
    return ids.map((id) => {
      const kind = kindOfId(id);
      if (!kind) throw ec2Error('InvalidID', `The ID '${id}' is not valid`);
      if (!idPattern(kind).test(id)) throw ec2Error(KINDS[kind].malformed, `Invalid id: "${id}"`);
      const resource = this.taggable(id);
      if (!resource) throw ec2Error(KINDS[kind].notFound, `The ${KINDS[kind].noun} '${id}' does not exist`);
      return resource;
    });
  }

  private validTags(tags: readonly Tag[]): ModelTag[] {
    return tags.map((t) => {
      const key = t.Key ?? '';
      const value = t.Value ?? '';
      if (key === '' || key.length > 128) {
        throw ec2Error('InvalidParameterValue', `Tag key '${key}' must be 1 to 128 characters`);
      }
      if (key.toLowerCase().startsWith('aws:')) {
        throw ec2Error(
          'InvalidParameterValue',
          `Value ( ${key} ) for parameter key is invalid. Tag keys starting with 'aws:' are reserved for internal use`,
        );
      }
      if (value.length > 256)
        throw ec2Error('InvalidParameterValue', `Tag value for '${key}' exceeds 256 characters`);
      return { Key: key, Value: value };
    });
  }

  private tagsFromSpecs(specs: readonly TagSpecification[] | undefined, resourceType: string): ModelTag[] {
    const tags: ModelTag[] = [];
    for (const spec of specs ?? []) {
      if (spec.ResourceType !== resourceType) {
        throw ec2Error(
          'InvalidParameterValue',
          `'${spec.ResourceType ?? 'null'}' is not a valid taggable resource type for this operation.`,
        );
      }
      for (const t of this.validTags(spec.Tags ?? [])) setTag(tags, t.Key, t.Value);
    }
    if (tags.length > 50)
      throw ec2Error('TagLimitExceeded', 'The maximum number of Tags for a resource has been reached.');
    return tags;
  }

  private createTags(input: CreateTagsCommandInput): Out<CreateTagsCommandOutput> {
    const resources = this.taggables(input.Resources ?? []);
    if (!input.Tags?.length)
      throw ec2Error('MissingParameter', 'The request must contain the parameter tagSet');
    const tags = this.validTags(input.Tags);
    for (const resource of resources) {
      const keys = new Set([...resource.tags.map((t) => t.Key), ...tags.map((t) => t.Key)]);
      if (keys.size > 50) {
        throw ec2Error('TagLimitExceeded', 'The maximum number of Tags for a resource has been reached.');
      }
    }
    for (const resource of resources) for (const t of tags) setTag(resource.tags, t.Key, t.Value);
    return {};
  }

  private deleteTags(input: DeleteTagsCommandInput): Out<DeleteTagsCommandOutput> {
    const resources = this.taggables(input.Resources ?? []);
    for (const t of input.Tags ?? []) {
      if ((t.Key ?? '').toLowerCase().startsWith('aws:')) {
        throw ec2Error(
          'InvalidParameterValue',
          `Value ( ${t.Key ?? ''} ) for parameter key is invalid. Tag keys starting with 'aws:' are reserved for internal use`,
        );
      }
    }
    for (const resource of resources) {
      const spec = input.Tags;
      resource.tags.splice(
        0,
        resource.tags.length,
        ...resource.tags.filter((tag) => {
          // No Tags: delete every tag (but AWS-owned aws: ones). A Tag with a Value deletes only that value.
          if (spec === undefined || spec.length === 0) return tag.Key.startsWith('aws:');
          return !spec.some((s) => s.Key === tag.Key && (s.Value === undefined || s.Value === tag.Value));
        }),
      );
    }
    return {};
  }

  private describeTags(input: DescribeTagsCommandInput): Out<DescribeTagsCommandOutput> {
    const rows: { ResourceId: string; ResourceType: ResourceType; Key: string; Value: string }[] = [];
    const add = (kind: Exclude<IdKind, 'association'>, id: string, tags: readonly ModelTag[]) => {
      for (const t of tags) rows.push({ ResourceId: id, ResourceType: RESOURCE_TYPES[kind], ...t });
    };
    for (const i of this.data.instances.values()) add('instance', i.instanceId, i.tags);
    for (const g of this.data.securityGroups.values()) add('group', g.groupId, g.tags);
    for (const e of this.data.networkInterfaces.values()) add('eni', e.networkInterfaceId, e.tags);
    for (const v of this.data.volumes.values()) add('volume', v.volumeId, v.tags);
    for (const s of this.data.snapshots.values()) add('snapshot', s.snapshotId, s.tags);
    for (const v of this.data.vpcs.values()) add('vpc', v.vpcId, v.tags);
    for (const s of this.data.subnets.values()) add('subnet', s.subnetId, s.tags);
    for (const r of this.allRules()) add('rule', r.rule.ruleId, r.rule.tags);
    const fields: Fields<(typeof rows)[number]> = {
      'resource-id': (r) => [r.ResourceId],
      'resource-type': (r) => [r.ResourceType],
      key: (r) => [r.Key],
      value: (r) => [r.Value],
    };
    const items = this.filter(rows, input.Filters, fields, (r) => [{ Key: r.Key, Value: r.Value }]);
    const page = this.page(items, input.MaxResults, input.NextToken, (m) =>
      ec2Error('InvalidParameterValue', m),
    );
    return {
      Tags: page.items.map((r) => ({ ...r })),
      ...(page.next ? { NextToken: page.next } : {}),
    };
  }

  // --------------------------------------------------------------------------- instance profiles (EC2)

  private profileFrom(spec: IamInstanceProfileSpecification | undefined): InstanceProfileState {
    if (spec?.Arn === undefined && spec?.Name === undefined) {
      throw ec2Error('MissingParameter', 'The request must contain the parameter IamInstanceProfile');
    }
    const profiles = [...this.data.instanceProfiles.values()];
    const profile =
      spec.Arn !== undefined
        ? profiles.find((p) => p.arn === spec.Arn)
        : profiles.find((p) => p.name === spec.Name);
    if (!profile) {
      const [param, shown, what] =
        spec.Arn !== undefined ? ['arn', spec.Arn, 'ARN'] : ['name', spec.Name ?? '', 'name'];
      throw ec2Error(
        'InvalidParameterValue',
        `Value (${shown}) for parameter iamInstanceProfile.${param} is invalid. Invalid IAM Instance Profile ${what}`,
      );
    }
    return profile;
  }

  private associationOut(
    a: ProfileAssociationState,
    state: IamInstanceProfileAssociation['State'],
  ): IamInstanceProfileAssociation {
    return {
      AssociationId: a.associationId,
      InstanceId: a.instanceId,
      IamInstanceProfile: { Arn: a.profileArn, Id: a.profileId },
      State: state,
      Timestamp: a.timestamp,
    };
  }

  private describeIamInstanceProfileAssociations(
    input: DescribeIamInstanceProfileAssociationsCommandInput,
  ): Out<DescribeIamInstanceProfileAssociationsCommandOutput> {
    let items = [...this.data.profileAssociations.values()];
    if (input.AssociationIds?.length) {
      items = this.many('association', input.AssociationIds, this.data.profileAssociations);
    }
    const fields: Fields<ProfileAssociationState> = {
      'instance-id': (a) => [a.instanceId],
      state: () => ['associated'],
    };
    items = this.filter(items, input.Filters, fields, () => []);
    const page = this.page(items, input.MaxResults, input.NextToken, (m) =>
      ec2Error('InvalidParameterValue', m),
    );
    return {
      IamInstanceProfileAssociations: page.items.map((a) => this.associationOut(a, 'associated')),
      ...(page.next ? { NextToken: page.next } : {}),
    };
  }

  private associateIamInstanceProfile(
    input: AssociateIamInstanceProfileCommandInput,
  ): Out<AssociateIamInstanceProfileCommandOutput> {
    const instance = this.one('instance', input.InstanceId, this.data.instances);
    const profile = this.profileFrom(input.IamInstanceProfile);
    if (this.associationOf(instance.instanceId)) {
      throw ec2Error(
        'IncorrectState',
        `There is an existing association for instance ${instance.instanceId}`,
      );
    }
    if (instance.state !== 'running' && instance.state !== 'stopped') {
      throw ec2Error(
        'IncorrectInstanceState',
        `The instance '${instance.instanceId}' is not in the 'running' or 'stopped' state.`,
      );
    }
    const associationId = this.associate(instance.instanceId, profile);
    const association = this.data.profileAssociations.get(associationId);
    return association
      ? { IamInstanceProfileAssociation: this.associationOut(association, 'associating') }
      : {};
  }

  private replaceIamInstanceProfileAssociation(
    input: ReplaceIamInstanceProfileAssociationCommandInput,
  ): Out<ReplaceIamInstanceProfileAssociationCommandOutput> {
    const old = this.one('association', input.AssociationId, this.data.profileAssociations);
    const profile = this.profileFrom(input.IamInstanceProfile);
    this.data.profileAssociations.delete(old.associationId);
    const associationId = this.associate(old.instanceId, profile);
    const association = this.data.profileAssociations.get(associationId);
    return association
      ? { IamInstanceProfileAssociation: this.associationOut(association, 'associating') }
      : {};
  }

  private disassociateIamInstanceProfile(
    input: DisassociateIamInstanceProfileCommandInput,
  ): Out<DisassociateIamInstanceProfileCommandOutput> {
    const association = this.one('association', input.AssociationId, this.data.profileAssociations);
    this.data.profileAssociations.delete(association.associationId);
    return { IamInstanceProfileAssociation: this.associationOut(association, 'disassociating') };
  }

  // -------------------------------------------------------------------------------------- Auto Scaling

  private asgNamed(name: string | undefined): AutoScalingGroupState {
    const asg = this.data.autoScalingGroups.get(name ?? '');
    if (!asg) {
      throw asgError(
        'ValidationError',
        `AutoScalingGroup name not found - AutoScalingGroup '${name ?? ''}' not found`,
      );
    }
    return asg;
  }

  private members(asg: AutoScalingGroupState, ids: readonly string[]): AsgMemberState[] {
    return ids.map((id) => {
      const member = asg.instances.find((m) => m.instanceId === id);
      if (!member)
        throw asgError(
          'ValidationError',
          `The instance ${id} is not part of Auto Scaling group ${asg.name}.`,
        );
      return member;
    });
  }

  private activity(asg: AutoScalingGroupState, description: string, cause: string): Activity {
    return {
      ActivityId: this.uuid(),
      AutoScalingGroupName: asg.name,
      AutoScalingGroupARN: asg.arn,
      Description: description,
      Cause: cause,
      StartTime: this.clock(),
      StatusCode: 'InProgress',
      Progress: 50,
      Details: `{"Subnet ID":"${asg.subnetIds[0] ?? ''}"}`,
    };
  }

  /** Drains the instance from the group's target groups (what Auto Scaling does on detach and standby). */
  private leaveTargetGroups(asg: AutoScalingGroupState, instanceId: string): void {
    for (const arn of asg.targetGroupArns) {
      for (const t of this.data.targetGroups.get(arn)?.targets ?? []) {
        if (t.id === instanceId) t.state = 'draining';
      }
    }
  }

  private launchReplacements(asg: AutoScalingGroupState, count: number): void {
    for (let k = 0; k < count; k++) {
      this.launch(
        {
          vpcId: asg.vpcId,
          ...(asg.subnetIds[0] !== undefined ? { subnetId: asg.subnetIds[0] } : {}),
          groups: asg.launchGroupIds,
          asg: asg.name,
          state: 'pending',
        },
        { grow: false, targetState: 'initial' },
      );
    }
  }

  private describeAutoScalingInstances(
    input: DescribeAutoScalingInstancesCommandInput,
  ): Out<DescribeAutoScalingInstancesCommandOutput> {
    const ids = input.InstanceIds;
    if (ids && ids.length > 50) {
      throw asgError('ValidationError', 'The number of instance ids that may be passed in is limited to 50');
    }
    const rows = [...this.data.autoScalingGroups.values()].flatMap((asg) =>
      asg.instances.map((m) => ({ asg, m })),
    );
    const wanted = ids?.length ? rows.filter((r) => ids.includes(r.m.instanceId)) : rows;
    const page = this.page(wanted, input.MaxRecords, input.NextToken, (m) => asgError('InvalidNextToken', m));
    return {
      AutoScalingInstances: page.items.map(({ asg, m }) => ({
        InstanceId: m.instanceId,
        InstanceType: this.data.instances.get(m.instanceId)?.instanceType,
        AutoScalingGroupName: asg.name,
        AvailabilityZone: m.availabilityZone,
        LifecycleState: m.lifecycleState,
        HealthStatus: m.healthStatus.toUpperCase(),
        ProtectedFromScaleIn: m.protectedFromScaleIn,
      })),
      ...(page.next ? { NextToken: page.next } : {}),
    };
  }

  private describeAutoScalingGroups(
    input: DescribeAutoScalingGroupsCommandInput,
  ): Out<DescribeAutoScalingGroupsCommandOutput> {
    if (input.Filters?.length) throw notModelled('autoscaling', 'DescribeAutoScalingGroups Filters');
    const names = input.AutoScalingGroupNames;
    const groups = [...this.data.autoScalingGroups.values()].filter(
      (g) => !names?.length || names.includes(g.name),
    );
    const page = this.page(groups, input.MaxRecords, input.NextToken, (m) => asgError('InvalidNextToken', m));
    return {
      AutoScalingGroups: page.items.map(
        (g): AutoScalingGroup => ({
          AutoScalingGroupName: g.name,
          AutoScalingGroupARN: g.arn,
          MinSize: g.minSize,
          MaxSize: g.maxSize,
          DesiredCapacity: g.desiredCapacity,
          DefaultCooldown: 300,
          AvailabilityZones: [
            ...new Set(g.subnetIds.map((s) => this.data.subnets.get(s)?.availabilityZone).filter(isDefined)),
          ],
          LoadBalancerNames: [],
          TargetGroupARNs: [...g.targetGroupArns],
          HealthCheckType: 'EC2',
          HealthCheckGracePeriod: 300,
          Instances: g.instances.map((m) => ({
            InstanceId: m.instanceId,
            InstanceType: this.data.instances.get(m.instanceId)?.instanceType,
            AvailabilityZone: m.availabilityZone,
            LifecycleState: m.lifecycleState,
            HealthStatus: m.healthStatus,
            ProtectedFromScaleIn: m.protectedFromScaleIn,
          })),
          CreatedTime: g.createdTime,
          VPCZoneIdentifier: g.subnetIds.join(','),
          Tags: [],
          TerminationPolicies: ['Default'],
          NewInstancesProtectedFromScaleIn: false,
        }),
      ),
      ...(page.next ? { NextToken: page.next } : {}),
    };
  }

  private requireDecrementFlag(value: boolean | undefined): boolean {
    if (value === undefined) {
      throw asgError(
        'ValidationError',
        "1 validation error detected: Value null at 'shouldDecrementDesiredCapacity' failed to satisfy constraint: Member must not be null",
      );
    }
    return value;
  }

  private detachInstances(input: DetachInstancesCommandInput): Out<DetachInstancesCommandOutput> {
    const asg = this.asgNamed(input.AutoScalingGroupName);
    const decrement = this.requireDecrementFlag(input.ShouldDecrementDesiredCapacity);
    const members = this.members(asg, [...new Set(input.InstanceIds ?? [])]);
    const before = asg.desiredCapacity;
    if (decrement && before - members.length < asg.minSize) {
      throw asgError(
        'ValidationError',
        `Currently, desiredSize equals minSize (${asg.minSize}). Detaching instance(s) with decrement desired capacity will result in desiredSize below minSize.`,
      );
    }
    asg.instances = asg.instances.filter((m) => !members.includes(m));
    for (const m of members) this.leaveTargetGroups(asg, m.instanceId);
    if (decrement) asg.desiredCapacity -= members.length;
    else this.launchReplacements(asg, members.length);
    const now = this.clock().toISOString();
    return {
      Activities: members.map((m) =>
        this.activity(
          asg,
          `Detaching EC2 instance: ${m.instanceId}`,
          `At ${now} instance ${m.instanceId} was detached in response to a user request${
            decrement ? `, shrinking the capacity from ${before} to ${asg.desiredCapacity}` : ''
          }.`,
        ),
      ),
    };
  }

  private enterStandby(input: EnterStandbyCommandInput): Out<EnterStandbyCommandOutput> {
    const asg = this.asgNamed(input.AutoScalingGroupName);
    const decrement = this.requireDecrementFlag(input.ShouldDecrementDesiredCapacity);
    const members = this.members(asg, [...new Set(input.InstanceIds ?? [])]);
    for (const m of members) {
      if (m.lifecycleState !== 'InService') {
        throw asgError('ValidationError', `The instance ${m.instanceId} is not in InService.`);
      }
    }
    const before = asg.desiredCapacity;
    if (decrement && before - members.length < asg.minSize) {
      throw asgError(
        'ValidationError',
        `Cannot move instances into standby: desired capacity would go below the group's min size (${asg.minSize}).`,
      );
    }
    for (const m of members) {
      m.lifecycleState = 'Standby';
      this.leaveTargetGroups(asg, m.instanceId);
    }
    if (decrement) asg.desiredCapacity -= members.length;
    else this.launchReplacements(asg, members.length);
    const now = this.clock().toISOString();
    return {
      Activities: members.map((m) =>
        this.activity(
          asg,
          `Moving EC2 instance to Standby: ${m.instanceId}`,
          `At ${now} instance ${m.instanceId} was moved to standby in response to a user request${
            decrement ? `, shrinking the capacity from ${before} to ${asg.desiredCapacity}` : ''
          }.`,
        ),
      ),
    };
  }

  private exitStandby(input: ExitStandbyCommandInput): Out<ExitStandbyCommandOutput> {
    const asg = this.asgNamed(input.AutoScalingGroupName);
    const members = this.members(asg, [...new Set(input.InstanceIds ?? [])]);
    for (const m of members) {
      if (m.lifecycleState !== 'Standby') {
        throw asgError('ValidationError', `The instance ${m.instanceId} is not in Standby.`);
      }
    }
    if (asg.desiredCapacity + members.length > asg.maxSize) {
      throw asgError(
        'ValidationError',
        `Desired capacity would exceed the group's max size (${asg.maxSize}).`,
      );
    }
    const before = asg.desiredCapacity;
    asg.desiredCapacity += members.length;
    for (const m of members) {
      m.lifecycleState = 'InService';
      for (const arn of asg.targetGroupArns) {
        const tg = this.data.targetGroups.get(arn);
        if (!tg) continue;
        const target = tg.targets.find((t) => t.id === m.instanceId);
        if (target) target.state = 'initial';
        else tg.targets.push({ id: m.instanceId, port: tg.port, state: 'initial' });
      }
    }
    const now = this.clock().toISOString();
    return {
      Activities: members.map((m) =>
        this.activity(
          asg,
          `Moving EC2 instance out of Standby: ${m.instanceId}`,
          `At ${now} instance ${m.instanceId} was moved out of standby in response to a user request, increasing the capacity from ${before} to ${asg.desiredCapacity}.`,
        ),
      ),
    };
  }

  // ----------------------------------------------------------------------------------- ELBv2 targets

  private targetGroupOf(arn: string | undefined): TargetGroupState {
    const tg = this.data.targetGroups.get(arn ?? '');
    if (!tg) throw elbError('TargetGroupNotFoundException', 'One or more target groups not found');
    return tg;
  }

  private describeTargetGroups(
    input: DescribeTargetGroupsCommandInput,
  ): Out<DescribeTargetGroupsCommandOutput> {
    if (input.TargetGroupArns?.length && input.Names?.length) {
      throw elbError(
        'ValidationError',
        'Target group names and target group ARNs cannot be specified at the same time',
      );
    }
    let groups = [...this.data.targetGroups.values()];
    if (input.TargetGroupArns?.length) groups = input.TargetGroupArns.map((arn) => this.targetGroupOf(arn));
    if (input.Names?.length) {
      groups = input.Names.map((name) => {
        const tg = groups.find((g) => g.name === name);
        if (!tg) throw elbError('TargetGroupNotFoundException', 'One or more target groups not found');
        return tg;
      });
    }
    if (input.LoadBalancerArn !== undefined) {
      const lb = input.LoadBalancerArn;
      if (![...this.data.targetGroups.values()].some((g) => g.loadBalancerArns.includes(lb))) {
        throw elbError('LoadBalancerNotFoundException', 'One or more load balancers not found');
      }
      groups = groups.filter((g) => g.loadBalancerArns.includes(lb));
    }
    const page = this.page(groups, input.PageSize, input.Marker, (m) => elbError('ValidationError', m));
    return {
      TargetGroups: page.items.map(
        (g): TargetGroup => ({
          TargetGroupArn: g.arn,
          TargetGroupName: g.name,
          Protocol: g.protocol,
          Port: g.port,
          VpcId: g.vpcId,
          HealthCheckProtocol: g.protocol,
          HealthCheckPort: 'traffic-port',
          HealthCheckEnabled: true,
          HealthCheckIntervalSeconds: 30,
          HealthCheckTimeoutSeconds: 5,
          HealthyThresholdCount: 5,
          UnhealthyThresholdCount: 2,
          ...(g.protocol === 'TCP' ? {} : { HealthCheckPath: '/', Matcher: { HttpCode: '200' } }),
          LoadBalancerArns: [...g.loadBalancerArns],
          TargetType: 'instance',
          IpAddressType: 'ipv4',
        }),
      ),
      ...(page.next ? { NextMarker: page.next } : {}),
    };
  }

  private healthOut(t: TargetState): TargetHealthDescription {
    const base = { Target: { Id: t.id, Port: t.port }, HealthCheckPort: String(t.port) };
    switch (t.state) {
      case 'healthy':
        return { ...base, TargetHealth: { State: 'healthy' } };
      case 'initial':
        return {
          ...base,
          TargetHealth: {
            State: 'initial',
            Reason: 'Elb.RegistrationInProgress',
            Description: 'Target registration is in progress',
          },
        };
      case 'draining':
        return {
          ...base,
          TargetHealth: {
            State: 'draining',
            Reason: 'Target.DeregistrationInProgress',
            Description: 'Target deregistration is in progress',
          },
        };
      default:
        return {
          ...base,
          TargetHealth: {
            State: 'unhealthy',
            Reason: 'Target.FailedHealthChecks',
            Description: 'Health checks failed',
          },
        };
    }
  }

  /** Instance targets must be instances the account has (ELBv2 answers InvalidTarget otherwise). */
  private knownInstance(id: string | undefined): InstanceState {
    const instance = this.data.instances.get(id ?? '');
    if (!instance)
      throw elbError(
        'InvalidTargetException',
        `The following targets are not valid instances: '${id ?? ''}'`,
      );
    return instance;
  }

  private describeTargetHealth(
    input: DescribeTargetHealthCommandInput,
  ): Out<DescribeTargetHealthCommandOutput> {
    const tg = this.targetGroupOf(input.TargetGroupArn);
    if (!input.Targets?.length) return { TargetHealthDescriptions: tg.targets.map((t) => this.healthOut(t)) };
    return {
      TargetHealthDescriptions: input.Targets.flatMap((wanted) => {
        this.knownInstance(wanted.Id);
        const found = tg.targets.filter(
          (t) => t.id === wanted.Id && (wanted.Port === undefined || t.port === wanted.Port),
        );
        if (found.length > 0) return found.map((t) => this.healthOut(t));
        const port = wanted.Port ?? tg.port;
        return [
          {
            Target: { Id: wanted.Id, Port: port },
            HealthCheckPort: String(port),
            TargetHealth: {
              State: 'unused',
              Reason: 'Target.NotRegistered',
              Description: 'Target is not registered to the target group',
            },
          },
        ];
      }),
    };
  }

  private deregisterTargets(input: DeregisterTargetsCommandInput): Out<DeregisterTargetsCommandOutput> {
    const tg = this.targetGroupOf(input.TargetGroupArn);
    if (!input.Targets?.length) throw elbError('ValidationError', 'Targets must not be empty');
    for (const wanted of input.Targets) this.knownInstance(wanted.Id);
    for (const wanted of input.Targets) {
      // A target registered on another port than the one named (default: the group's) is silently left alone.
      const port = wanted.Port ?? tg.port;
      for (const t of tg.targets) if (t.id === wanted.Id && t.port === port) t.state = 'draining';
    }
    return {};
  }

  private registerTargets(input: RegisterTargetsCommandInput): Out<RegisterTargetsCommandOutput> {
    const tg = this.targetGroupOf(input.TargetGroupArn);
    if (!input.Targets?.length) throw elbError('ValidationError', 'Targets must not be empty');
    for (const wanted of input.Targets) {
      const instance = this.knownInstance(wanted.Id);
      if (instance.state !== 'running') {
        throw elbError(
          'InvalidTargetException',
          `The following targets are not in a running state and can not be registered: '${instance.instanceId}'`,
        );
      }
      if (instance.vpcId !== tg.vpcId) {
        throw elbError(
          'InvalidTargetException',
          `The following targets are not in the target group VPC '${tg.vpcId}': '${instance.instanceId}'`,
        );
      }
    }
    for (const wanted of input.Targets) {
      const port = wanted.Port ?? tg.port;
      const existing = tg.targets.find((t) => t.id === wanted.Id && t.port === port);
      if (existing) {
        if (existing.state === 'draining') existing.state = 'initial';
      } else tg.targets.push({ id: wanted.Id ?? '', port, state: 'initial' });
    }
    return {};
  }
}
