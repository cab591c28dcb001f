import {
  DescribeAutoScalingInstancesCommand,
  type DescribeAutoScalingInstancesCommandOutput,
  DetachInstancesCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  type CreateSecurityGroupCommandOutput,
  CreateSnapshotsCommand,
  type CreateSnapshotsCommandOutput,
  CreateTagsCommand,
  DeleteTagsCommand,
  DescribeIamInstanceProfileAssociationsCommand,
  type DescribeIamInstanceProfileAssociationsCommandOutput,
  DescribeInstancesCommand,
  type DescribeInstancesCommandOutput,
  DescribeNetworkInterfacesCommand,
  type DescribeNetworkInterfacesCommandOutput,
  DescribeSecurityGroupsCommand,
  type DescribeSecurityGroupsCommandOutput,
  type IamInstanceProfileAssociation,
  type Instance,
  type IpPermission,
  ModifyInstanceAttributeCommand,
  ModifyNetworkInterfaceAttributeCommand,
  type NetworkInterface,
  ReplaceIamInstanceProfileAssociationCommand,
  RevokeSecurityGroupEgressCommand,
  type SecurityGroup,
  type Tag,
} from '@aws-sdk/client-ec2';
import { DeregisterTargetsCommand, RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import * as z from 'zod';
import { TARGET_KINDS } from '../../domain/respond/targets.js';
import { incidentLabel, isProtected, outcome, releaseCommand } from '../context.js';
import type { ActionContext, ActionModule, ActionOutcome } from '../types.js';

const NAME = 'isolate-ec2-instance';

/** Tags the action reads and writes (documented in the action's docs). */
export const ISOLATION_TAGS = {
  status: 'ir:status',
  incident: 'ir:incident',
  isolatedAt: 'ir:isolated-at',
  originalGroups: 'ir:original-groups',
  /** The incident whose snapshots were taken: a resumed run of that incident does not snapshot twice. */
  snapshotsTaken: 'ir:snapshots-taken',
  originalProfile: 'ir:original-profile',
  targetGroups: 'ir:target-groups',
  autoScalingGroup: 'ir:detached-from-asg',
  purpose: 'ir:purpose',
} as const;

const input = z.strictObject({
  target: z
    .string()
    .regex(TARGET_KINDS['ec2-instance'].pattern, 'expected an instance id such as i-0123456789abcdef0'),
  /** Detach the instance from its Auto Scaling group (the group launches a healthy replacement). */
  detachFromAutoScaling: z.boolean().optional(),
  /** Deregister the instance from these target groups (ARNs), so no load balancer sends it traffic. */
  deregisterFromTargetGroups: z
    .array(
      z
        .string()
        .regex(
          /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup\/[\w-]+\/[0-9a-f]+$/,
          'expected a target group ARN',
        ),
    )
    .max(10)
    .optional(),
  /** Replace the instance profile with this one (a deny-all profile), cutting the instance off its role's credentials. */
  replaceInstanceProfile: z
    .string()
    .regex(/^arn:aws[a-z-]*:iam::\d{12}:instance-profile\/[\w+=,.@/-]+$/, 'expected an instance profile ARN')
    .optional(),
});
type Input = z.infer<typeof input>;

const isolationGroupName = (vpcId: string): string => `ir-isolation-${vpcId}`;
const conversionGroupName = (vpcId: string): string => `ir-conversion-${vpcId}`;
const tagValue = (tags: readonly Tag[] | undefined, key: string): string | undefined =>
  tags?.find((t) => t.Key === key)?.Value;

interface InstanceState {
  readonly instance: Instance;
  readonly enis: readonly NetworkInterface[];
}

async function readInstance(ctx: ActionContext, instanceId: string): Promise<InstanceState | undefined> {
  const [instances, enis] = await settled([
    ctx.read<DescribeInstancesCommandOutput>(
      'ec2',
      new DescribeInstancesCommand({ InstanceIds: [instanceId] }),
      'read the instance: state, VPC, tags, volumes',
    ),
    ctx.read<DescribeNetworkInterfacesCommandOutput>(
      'ec2',
      new DescribeNetworkInterfacesCommand({
        Filters: [{ Name: 'attachment.instance-id', Values: [instanceId] }],
      }),
      'read every network interface of the instance with its security groups and tags',
    ),
  ]);
  const instance = instances.Reservations?.flatMap((r) => r.Instances ?? []).find(
    (i) => i.InstanceId === instanceId,
  );
  if (!instance) return undefined;
  return { instance, enis: enis.NetworkInterfaces ?? [] };
}

const groupsOf = (eni: NetworkInterface): string[] =>
  (eni.Groups ?? []).map((g) => g.GroupId ?? '').filter((g) => g !== '');

/** Space-separated values over as many tags as needed (`key`, `key:2`, ...): tag values hold 256 characters. */
function splitTags(key: string, values: readonly string[]): Tag[] {
  const tags: Tag[] = [];
  const name = (): string => (tags.length === 0 ? key : `${key}:${tags.length + 1}`);
  let current = '';
  for (const value of values) {
    if (current !== '' && current.length + value.length + 1 > 255) {
      tags.push({ Key: name(), Value: current });
      current = '';
    }
    current = current === '' ? value : `${current} ${value}`;
  }
  tags.push({ Key: name(), Value: current });
  return tags;
}

/** The values `splitTags` wrote, joined back; undefined when the tag is absent. */
function joinedTag(tags: readonly Tag[] | undefined, key: string): string[] | undefined {
  const parts = (tags ?? [])
    .filter((t) => t.Key === key || t.Key?.startsWith(`${key}:`))
    .sort((a, b) => (a.Key ?? '').localeCompare(b.Key ?? '', 'en', { numeric: true }));
  if (parts.length === 0) return undefined;
  return parts
    .map((t) => t.Value ?? '')
    .join(' ')
    .split(' ')
    .filter((v) => v !== '');
}

/** Original groups recorded on an ENI, across `ir:original-groups`, `ir:original-groups:2`, ... */
const recordedGroups = (eni: NetworkInterface): string[] | undefined =>
  joinedTag(eni.TagSet, ISOLATION_TAGS.originalGroups);
const groupTags = (groups: readonly string[]): Tag[] => splitTags(ISOLATION_TAGS.originalGroups, groups);

/** Throws the first failure among settled results. */
function throwFirstFailure(results: readonly PromiseSettledResult<unknown>[]): void {
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
}

/**
 * Every promise settled before answering, so no call is left running unobserved (the outcome and the audit
 * list all of them, and a failure of one concurrent write never hides what the others changed); then the
 * first failure is thrown.
 */
async function settled<T extends readonly unknown[] | []>(
  promises: T,
): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const results: readonly PromiseSettledResult<unknown>[] = await Promise.allSettled(promises);
  throwFirstFailure(results);
  return results.map((r) => (r.status === 'fulfilled' ? r.value : undefined)) as {
    -readonly [K in keyof T]: Awaited<T[K]>;
  };
}

/** A per-VPC group as found (or just created), with the rules it has. */
interface FoundGroup {
  readonly id: string;
  readonly ingress: readonly IpPermission[];
  readonly egress: readonly IpPermission[];
}

interface LocatedGroups {
  readonly isolation?: FoundGroup;
  readonly conversion?: FoundGroup;
}

/** The egress rule AWS gives every new group (allow all IPv4). */
const DEFAULT_EGRESS: IpPermission = { IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] };

const foundGroup = (group: SecurityGroup | undefined): FoundGroup | undefined =>
  group?.GroupId
    ? { id: group.GroupId, ingress: group.IpPermissions ?? [], egress: group.IpPermissionsEgress ?? [] }
    : undefined;

/**
 * The isolation and conversion groups of every VPC of the region (a few per account), read together with the
 * instance: the VPC is not known before the instance is read, and this saves a round trip.
 */
function listGroups(ctx: ActionContext): Promise<DescribeSecurityGroupsCommandOutput> {
  return ctx.read<DescribeSecurityGroupsCommandOutput>(
    'ec2',
    new DescribeSecurityGroupsCommand({
      Filters: [{ Name: 'group-name', Values: [isolationGroupName('vpc-*'), conversionGroupName('vpc-*')] }],
    }),
    'find the isolation and conversion groups (one pair per VPC, reused across incidents)',
  );
}

/** Reads the groups named `names` in the VPC (group names are unique per VPC). */
function readGroups(
  ctx: ActionContext,
  vpcId: string,
  names: readonly string[],
  why: string,
): Promise<DescribeSecurityGroupsCommandOutput> {
  return ctx.read<DescribeSecurityGroupsCommandOutput>(
    'ec2',
    new DescribeSecurityGroupsCommand({
      Filters: [
        { Name: 'vpc-id', Values: [vpcId] },
        { Name: 'group-name', Values: [...names] },
      ],
    }),
    why,
  );
}

/** The VPC's groups in the region-wide listing; read directly only when the listing had more than a page. */
async function locateGroups(
  ctx: ActionContext,
  vpcId: string,
  listing: DescribeSecurityGroupsCommandOutput,
): Promise<LocatedGroups> {
  const pick = (groups: readonly SecurityGroup[] | undefined, name: string): FoundGroup | undefined =>
    foundGroup(groups?.find((g) => g.VpcId === vpcId && g.GroupName === name));
  let isolation = pick(listing.SecurityGroups, isolationGroupName(vpcId));
  let conversion = pick(listing.SecurityGroups, conversionGroupName(vpcId));
  if ((!isolation || !conversion) && listing.NextToken) {
    const own = await readGroups(
      ctx,
      vpcId,
      [isolationGroupName(vpcId), conversionGroupName(vpcId)],
      'find the isolation and conversion groups of the VPC (the region-wide listing had more than a page)',
    );
    isolation ??= pick(own.SecurityGroups, isolationGroupName(vpcId));
    conversion ??= pick(own.SecurityGroups, conversionGroupName(vpcId));
  }
  return { ...(isolation ? { isolation } : {}), ...(conversion ? { conversion } : {}) };
}

/** Creates a per-VPC group; when another run created it a moment ago, that one is used (never a second). */
async function createGroup(
  ctx: ActionContext,
  vpcId: string,
  name: string,
  purpose: 'isolation' | 'conversion',
): Promise<FoundGroup> {
  try {
    const created = await ctx.write<CreateSecurityGroupCommandOutput>(
      'ec2',
      new CreateSecurityGroupCommand({
        GroupName: name,
        VpcId: vpcId,
        Description:
          purpose === 'isolation'
            ? 'Incident response isolation: no inbound, no outbound'
            : 'Incident response conversion step: all traffic, so tracked connections become untracked',
        TagSpecifications: [
          { ResourceType: 'security-group', Tags: [{ Key: ISOLATION_TAGS.purpose, Value: purpose }] },
        ],
      }),
      `create the ${purpose} group of ${vpcId}`,
    );
    return { id: created?.GroupId ?? `<new ${name}>`, ingress: [], egress: [DEFAULT_EGRESS] };
  } catch (error) {
    // Another run created it a moment ago (two instances of one VPC isolated at once): use that one.
    if (!(error instanceof Error && error.name === 'InvalidGroup.Duplicate')) throw error;
    const again = await readGroups(ctx, vpcId, [name], `read the ${purpose} group another run just created`);
    const found = foundGroup(again.SecurityGroups?.[0]);
    if (!found) throw error;
    return found;
  }
}

const allTraffic = (permission: IpPermission): boolean =>
  permission.IpProtocol === '-1' || permission.IpProtocol === 'all';
const WANTED_INGRESS = { v4: '0.0.0.0/0', v6: '::/0' } as const;

/**
 * The per-VPC isolation (no rules) and conversion (all open) groups, created on first use and reused; their
 * rules are put right from what was read (a group another run has just created may still have its default
 * egress rule), so a reused group costs no call when it is as wanted.
 */
async function prepareGroups(
  ctx: ActionContext,
  vpcId: string,
  located: LocatedGroups,
): Promise<{ isolation: string; conversion: string }> {
  // Rules already as wanted (set by a concurrent run) are fine.
  const tolerate = (error: unknown): void => {
    if (!(error instanceof Error && /^InvalidPermission\.(NotFound|Duplicate)$/.test(error.name)))
      throw error;
  };
  const isolation = async (): Promise<string> => {
    const group =
      located.isolation ?? (await createGroup(ctx, vpcId, isolationGroupName(vpcId), 'isolation'));
    if (group.egress.length > 0) {
      // A new group allows all egress by default: remove it, so the group has no rule at all.
      await ctx
        .write(
          'ec2',
          new RevokeSecurityGroupEgressCommand({ GroupId: group.id, IpPermissions: [...group.egress] }),
          'remove the egress rules of the isolation group (a new group allows all egress by default)',
        )
        .catch(tolerate);
    }
    return group.id;
  };
  const conversion = async (): Promise<string> => {
    const group =
      located.conversion ?? (await createGroup(ctx, vpcId, conversionGroupName(vpcId), 'conversion'));
    const open = group.ingress.filter(allTraffic);
    const v4 = open.some((p) => p.IpRanges?.some((r) => r.CidrIp === WANTED_INGRESS.v4));
    const v6 = open.some((p) => p.Ipv6Ranges?.some((r) => r.CidrIpv6 === WANTED_INGRESS.v6));
    if (!v4 || !v6) {
      await ctx
        .write(
          'ec2',
          new AuthorizeSecurityGroupIngressCommand({
            GroupId: group.id,
            IpPermissions: [
              {
                IpProtocol: '-1',
                ...(v4 ? {} : { IpRanges: [{ CidrIp: WANTED_INGRESS.v4 }] }),
                ...(v6 ? {} : { Ipv6Ranges: [{ CidrIpv6: WANTED_INGRESS.v6 }] }),
              },
            ],
          }),
          'open the conversion group to all inbound traffic (all-open rules make existing flows untracked)',
        )
        .catch(tolerate);
    }
    return group.id;
  };
  const [isolationId, conversionId] = await settled([isolation(), conversion()]);
  return { isolation: isolationId, conversion: conversionId };
}

function observedGroups(enis: readonly NetworkInterface[]): Record<string, string[]> {
  return Object.fromEntries(enis.map((eni) => [eni.NetworkInterfaceId ?? '?', groupsOf(eni)]));
}

/** The instance's current instance profile association, if any. */
async function profileAssociation(
  ctx: ActionContext,
  id: string,
): Promise<IamInstanceProfileAssociation | undefined> {
  const associations = await ctx.read<DescribeIamInstanceProfileAssociationsCommandOutput>(
    'ec2',
    new DescribeIamInstanceProfileAssociationsCommand({
      Filters: [
        { Name: 'instance-id', Values: [id] },
        { Name: 'state', Values: ['associated'] },
      ],
    }),
    'read the instance profile association',
  );
  return associations.IamInstanceProfileAssociations?.[0];
}

/** The optional steps (Auto Scaling, target groups, instance profile), each recording what release needs. */
async function optionalSteps(args: Input, ctx: ActionContext, id: string): Promise<Record<string, unknown>> {
  const observed: Record<string, unknown> = {};
  const tasks: Promise<void>[] = [];
  if (args.detachFromAutoScaling) {
    tasks.push(
      (async () => {
        const found = await ctx.read<DescribeAutoScalingInstancesCommandOutput>(
          'autoscaling',
          new DescribeAutoScalingInstancesCommand({ InstanceIds: [id] }),
          'find the Auto Scaling group of the instance',
        );
        const group = found.AutoScalingInstances?.[0]?.AutoScalingGroupName;
        observed.autoScalingGroup = group ?? null;
        if (!group) return;
        await ctx.write(
          'ec2',
          new CreateTagsCommand({
            Resources: [id],
            Tags: [{ Key: ISOLATION_TAGS.autoScalingGroup, Value: group }],
          }),
          'record the Auto Scaling group the instance is detached from',
        );
        await ctx.write(
          'autoscaling',
          new DetachInstancesCommand({
            AutoScalingGroupName: group,
            InstanceIds: [id],
            ShouldDecrementDesiredCapacity: false,
          }),
          `detach from ${group}, which launches a healthy replacement`,
        );
      })(),
    );
  }
  const targetGroups = args.deregisterFromTargetGroups ?? [];
  if (targetGroups.length > 0) {
    tasks.push(
      (async () => {
        await ctx.write(
          'ec2',
          new CreateTagsCommand({
            Resources: [id],
            Tags: splitTags(ISOLATION_TAGS.targetGroups, targetGroups),
          }),
          'record the target groups for release',
        );
        await settled(
          targetGroups.map((arn) =>
            ctx.write(
              'elbv2',
              new DeregisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: id }] }),
              `deregister from ${arn}`,
            ),
          ),
        );
        observed.targetGroups = targetGroups;
      })(),
    );
  }
  const quarantineProfile = args.replaceInstanceProfile;
  if (quarantineProfile) {
    tasks.push(
      (async () => {
        const current = await profileAssociation(ctx, id);
        const original = current?.IamInstanceProfile?.Arn;
        observed.instanceProfile = original ?? null;
        if (!current?.AssociationId || !original || original === quarantineProfile) return;
        await ctx.write(
          'ec2',
          new CreateTagsCommand({
            Resources: [id],
            Tags: splitTags(ISOLATION_TAGS.originalProfile, [original]),
          }),
          'record the original instance profile for release',
        );
        await ctx.write(
          'ec2',
          new ReplaceIamInstanceProfileAssociationCommand({
            AssociationId: current.AssociationId,
            IamInstanceProfile: { Arn: quarantineProfile },
          }),
          'swap the instance profile for the quarantine profile, cutting the instance off its role',
        );
        observed.instanceProfile = quarantineProfile;
        observed.originalInstanceProfile = original;
      })(),
    );
  }
  await settled(tasks);
  return observed;
}

/** Release of the optional steps: target groups re-registered, the original instance profile put back. */
async function releaseOptional(
  ctx: ActionContext,
  id: string,
  tags: readonly Tag[] | undefined,
): Promise<Tag[]> {
  const cleared: Tag[] = [];
  const targetGroups = joinedTag(tags, ISOLATION_TAGS.targetGroups) ?? [];
  const profile = joinedTag(tags, ISOLATION_TAGS.originalProfile)?.join(' ');
  await settled([
    ...targetGroups.map((arn) =>
      ctx.write(
        'elbv2',
        new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: id }] }),
        `register again in ${arn}`,
      ),
    ),
    (async () => {
      if (!profile) return;
      const current = await profileAssociation(ctx, id);
      if (current?.AssociationId && current.IamInstanceProfile?.Arn !== profile) {
        await ctx.write(
          'ec2',
          new ReplaceIamInstanceProfileAssociationCommand({
            AssociationId: current.AssociationId,
            IamInstanceProfile: { Arn: profile },
          }),
          'put the original instance profile back',
        );
      }
    })(),
  ]);
  for (const tag of tags ?? []) {
    if (
      tag.Key?.startsWith(ISOLATION_TAGS.targetGroups) ||
      tag.Key?.startsWith(ISOLATION_TAGS.originalProfile)
    )
      cleared.push({ Key: tag.Key });
  }
  return cleared;
}

async function execute(args: Input, ctx: ActionContext): Promise<ActionOutcome> {
  const id = args.target;
  const done = (status: ActionOutcome['status'], extra: Parameters<typeof outcome>[4] = {}): ActionOutcome =>
    outcome(ctx, NAME, id, status, { release: releaseCommand(NAME, ctx, id), ...extra });
  try {
    // Round 1, reads only: the instance, its ENIs and the region's isolation groups.
    const [state, listing] = await settled([readInstance(ctx, id), listGroups(ctx)]);
    if (!state)
      return outcome(ctx, NAME, id, 'failed', {
        reason: `instance ${id} not found in ${ctx.accountId}/${ctx.region}`,
      });
    const { instance, enis } = state;
    if (isProtected(instance.Tags, ctx.protectedTag)) {
      return outcome(ctx, NAME, id, 'refused', {
        reason: `instance carries the protected tag ${ctx.protectedTag.key}=${ctx.protectedTag.value}`,
        refusal: 'protected',
      });
    }
    if (instance.State?.Name === 'terminated' || instance.State?.Name === 'shutting-down') {
      return outcome(ctx, NAME, id, 'skipped', { reason: `instance is ${instance.State.Name}` });
    }
    const vpcId = instance.VpcId;
    if (!vpcId || enis.length === 0) {
      return outcome(ctx, NAME, id, 'failed', { reason: 'instance has no VPC network interface to isolate' });
    }

    const located = await locateGroups(ctx, vpcId, listing);
    const isolationId = located.isolation?.id;
    const isolated = (eni: NetworkInterface): boolean => {
      const current = groupsOf(eni);
      return isolationId !== undefined && current.length === 1 && current[0] === isolationId;
    };
    // Inbound rules on the isolation group cannot be removed here (the role may only revoke egress).
    const inbound = located.isolation?.ingress.length ?? 0;
    const status = tagValue(instance.Tags, ISOLATION_TAGS.status);
    if (
      status === 'isolated' &&
      enis.every(isolated) &&
      inbound === 0 &&
      located.isolation?.egress.length === 0
    ) {
      return done('already-done', {
        reason: 'every network interface is already in the isolation group',
        observed: { networkInterfaces: observedGroups(enis), isolationGroup: isolationId },
      });
    }

    const label = incidentLabel(ctx);
    const volumes = (instance.BlockDeviceMappings ?? [])
      .map((b) => b.Ebs?.VolumeId)
      .filter((v): v is string => !!v);
    // A resumed run of the same incident has its snapshots already.
    const snapshot = !(
      tagValue(instance.Tags, ISOLATION_TAGS.snapshotsTaken) === label &&
      (status === 'isolating' || status === 'isolated')
    );
    // Round 2: evidence and the way back, all before the network is touched; at the same time (first
    // isolation in the VPC) the groups are created, which changes nothing for the instance.
    const snapshotting = snapshot
      ? ctx.write<CreateSnapshotsCommandOutput>(
          'ec2',
          new CreateSnapshotsCommand({
            InstanceSpecification: { InstanceId: id, ExcludeBootVolume: false },
            Description: `Incident ${label}: ${ctx.reason}`.slice(0, 255),
            CopyTagsFromSource: 'volume',
            TagSpecifications: [
              {
                ResourceType: 'snapshot',
                Tags: [
                  { Key: ISOLATION_TAGS.incident, Value: label },
                  { Key: 'ir:reason', Value: ctx.reason.slice(0, 255) },
                  { Key: 'ir:instance', Value: id },
                ],
              },
            ],
          }),
          `snapshot every attached volume (${volumes.join(', ') || 'none'}) before cutting the network`,
        )
      : Promise.resolve(undefined);
    // Recorded as soon as the snapshots are taken, whatever else fails: a resumed run does not take them again.
    const markingSnapshots = snapshot
      ? snapshotting.then(() =>
          ctx.write(
            'ec2',
            new CreateTagsCommand({
              Resources: [id],
              Tags: [{ Key: ISOLATION_TAGS.snapshotsTaken, Value: label }],
            }),
            'record that the snapshots of this incident are taken',
          ),
        )
      : Promise.resolve(undefined);
    const evidence = settled([
      snapshotting,
      ctx.write(
        'ec2',
        new ModifyInstanceAttributeCommand({ InstanceId: id, DisableApiTermination: { Value: true } }),
        'enable termination protection so the evidence cannot be destroyed',
      ),
      ...enis
        .filter((eni) => recordedGroups(eni) === undefined && !isolated(eni))
        .map((eni) =>
          ctx.write(
            'ec2',
            new CreateTagsCommand({
              Resources: [eni.NetworkInterfaceId ?? ''],
              Tags: groupTags(groupsOf(eni)),
            }),
            `record the original groups of ${eni.NetworkInterfaceId} for release`,
          ),
        ),
      ctx.write(
        'ec2',
        new CreateTagsCommand({
          Resources: [id],
          Tags: [
            { Key: ISOLATION_TAGS.status, Value: 'isolating' },
            { Key: ISOLATION_TAGS.incident, Value: label },
          ],
        }),
        'mark the instance as being isolated for this incident',
      ),
    ]);
    const [[snapshots], groups] = await settled([evidence, prepareGroups(ctx, vpcId, located)]).catch(
      async (error: unknown) => {
        await Promise.allSettled([markingSnapshots]);
        throw error;
      },
    );

    // Every ENI goes to the conversion group, then to the isolation group. One that reached the all-open
    // conversion group goes on to isolation even when another ENI's move failed: it is never left open.
    const move = (eni: NetworkInterface, groupId: string, why: string): Promise<unknown> =>
      ctx.write(
        'ec2',
        new ModifyNetworkInterfaceAttributeCommand({
          NetworkInterfaceId: eni.NetworkInterfaceId ?? '',
          Groups: [groupId],
        }),
        `${why} (${eni.NetworkInterfaceId})`,
      );
    const cutNetwork = async (): Promise<void> => {
      const pending = enis.filter((eni) => !isolated(eni));
      const converted = await Promise.allSettled(
        pending.map((eni) =>
          move(
            eni,
            groups.conversion,
            'move to the all-open conversion group first, so tracked connections become untracked',
          ),
        ),
      );
      const onward = pending.filter((_, i) => converted[i]?.status === 'fulfilled');
      const moved = await Promise.allSettled(
        onward.map((eni) =>
          move(
            eni,
            groups.isolation,
            'then move to the isolation group, which has no rule: nothing in, nothing out',
          ),
        ),
      );
      throwFirstFailure([...converted, ...moved]);
    };
    const [, , extras] = await settled([cutNetwork(), markingSnapshots, optionalSteps(args, ctx, id)]);

    const markIsolated = ctx.write(
      'ec2',
      new CreateTagsCommand({
        Resources: [id],
        Tags: [
          { Key: ISOLATION_TAGS.status, Value: 'isolated' },
          { Key: ISOLATION_TAGS.isolatedAt, Value: ctx.now().toISOString() },
        ],
      }),
      'mark the instance isolated',
    );
    const snapshotIds = (snapshots?.Snapshots ?? []).map((s) => s.SnapshotId ?? '').filter((s) => s !== '');
    if (ctx.dryRun) {
      await markIsolated;
      return done('dry-run', { observed: { networkInterfaces: observedGroups(enis), volumes, ...extras } });
    }

    // The last round: the status tag and the read-back at once. The tag is taken back unless the read-back
    // shows isolation, so `ir:status=isolated` stays only on a verified instance.
    const final = await Promise.allSettled([
      markIsolated,
      ctx.read<DescribeNetworkInterfacesCommandOutput>(
        'ec2',
        new DescribeNetworkInterfacesCommand({
          NetworkInterfaceIds: enis.map((e) => e.NetworkInterfaceId ?? ''),
        }),
        'verify: read every network interface back',
      ),
    ]);
    const [marked, readBack] = final;
    const seen = readBack.status === 'fulfilled' ? (readBack.value.NetworkInterfaces ?? []) : [];
    const isolatedBack = (eni: NetworkInterface): boolean => {
      const current = groupsOf(eni);
      return current.length === 1 && current[0] === groups.isolation;
    };
    const verified =
      readBack.status === 'fulfilled' &&
      seen.length === enis.length &&
      seen.every(isolatedBack) &&
      inbound === 0;
    if (!verified && marked.status === 'fulfilled') {
      await ctx
        .write(
          'ec2',
          new CreateTagsCommand({
            Resources: [id],
            Tags: [{ Key: ISOLATION_TAGS.status, Value: 'isolating' }],
          }),
          'take the isolated mark back: the read-back does not show isolation',
        )
        .catch(() => undefined);
    }
    throwFirstFailure(final);
    const observed = {
      networkInterfaces: observedGroups(seen),
      isolationGroup: groups.isolation,
      snapshots: snapshotIds,
      ...extras,
    };
    if (verified) return done('done', { verified: true, observed });
    return done('failed', {
      verified: false,
      observed,
      reason:
        inbound > 0
          ? `the isolation group ${groups.isolation} has inbound rules: remove them and run again`
          : 'read-back shows a network interface outside the isolation group',
    });
  } catch (error) {
    // What was changed before the failure is recorded (tags) for release: say how to release it.
    const changed = ctx.calls.some((c) => c.mutating && !c.skipped && c.error === undefined);
    return outcome(ctx, NAME, id, 'failed', {
      reason: `${error instanceof Error ? error.name : 'Error'} while isolating`,
      ...(changed ? { release: releaseCommand(NAME, ctx, id) } : {}),
    });
  }
}

async function release(args: Input, ctx: ActionContext): Promise<ActionOutcome> {
  const id = args.target;
  try {
    const state = await readInstance(ctx, id);
    if (!state)
      return outcome(ctx, NAME, id, 'failed', {
        reason: `instance ${id} not found in ${ctx.accountId}/${ctx.region}`,
      });
    const { instance, enis } = state;
    const recorded = enis.map((eni) => ({ eni, groups: recordedGroups(eni) }));
    if (recorded.every((r) => r.groups === undefined)) {
      return outcome(ctx, NAME, id, 'already-done', {
        reason: 'no network interface carries recorded original groups: the instance is not isolated',
        observed: { networkInterfaces: observedGroups(enis) },
      });
    }
    await settled(
      recorded
        .filter(
          (r): r is { eni: NetworkInterface; groups: string[] } =>
            r.groups !== undefined && r.groups.length > 0,
        )
        .map(({ eni, groups }) =>
          ctx.write(
            'ec2',
            new ModifyNetworkInterfaceAttributeCommand({
              NetworkInterfaceId: eni.NetworkInterfaceId ?? '',
              Groups: groups,
            }),
            `restore the original groups of ${eni.NetworkInterfaceId}`,
          ),
        ),
    );
    const clearedOptional = await releaseOptional(ctx, id, instance.Tags);
    const groupTagKeys = (eni: NetworkInterface): Tag[] =>
      (eni.TagSet ?? [])
        .filter((t) => t.Key?.startsWith(ISOLATION_TAGS.originalGroups))
        .map((t) => ({ Key: t.Key }));
    await settled([
      ...recorded
        .filter((r) => r.groups !== undefined)
        .map(({ eni }) =>
          ctx.write(
            'ec2',
            new DeleteTagsCommand({ Resources: [eni.NetworkInterfaceId ?? ''], Tags: groupTagKeys(eni) }),
            `forget the recorded groups of ${eni.NetworkInterfaceId}`,
          ),
        ),
      ctx.write(
        'ec2',
        new CreateTagsCommand({ Resources: [id], Tags: [{ Key: ISOLATION_TAGS.status, Value: 'released' }] }),
        'mark the instance released (termination protection and snapshots are kept as evidence)',
      ),
      ...(clearedOptional.length > 0
        ? [
            ctx.write(
              'ec2',
              new DeleteTagsCommand({ Resources: [id], Tags: clearedOptional }),
              'forget the recorded target groups and instance profile',
            ),
          ]
        : []),
    ]);
    if (ctx.dryRun)
      return outcome(ctx, NAME, id, 'dry-run', { observed: { networkInterfaces: observedGroups(enis) } });
    const after = await ctx.read<DescribeNetworkInterfacesCommandOutput>(
      'ec2',
      new DescribeNetworkInterfacesCommand({
        NetworkInterfaceIds: enis.map((e) => e.NetworkInterfaceId ?? ''),
      }),
      'verify: read every network interface back',
    );
    const seen = after.NetworkInterfaces ?? [];
    const expected = new Map(recorded.map((r) => [r.eni.NetworkInterfaceId, r.groups ?? groupsOf(r.eni)]));
    const verified = seen.every((eni) => {
      const want = [...(expected.get(eni.NetworkInterfaceId) ?? [])].sort();
      return JSON.stringify(groupsOf(eni).sort()) === JSON.stringify(want);
    });
    return outcome(ctx, NAME, id, verified ? 'done' : 'failed', {
      verified,
      observed: { networkInterfaces: observedGroups(seen) },
      ...(verified ? {} : { reason: 'read-back shows a network interface without its original groups' }),
    });
  } catch (error) {
    return outcome(ctx, NAME, id, 'failed', {
      reason: `${error instanceof Error ? error.name : 'Error'} while releasing`,
    });
  }
}

export const isolateEc2InstanceAction: ActionModule<Input> = {
  name: NAME,
  summary: 'Cut an EC2 instance off the network, keeping evidence and the way back.',
  docs: `Isolates an EC2 instance without stopping it (memory and processes stay for forensics):

1. Reads, in one round, the instance, every network interface (ENI) attached to it and the region's
   \`ir-isolation-*\` / \`ir-conversion-*\` groups. An instance tagged with the protected tag is refused; a
   terminated one is skipped.
2. Finds or creates, once per VPC, the isolation group \`ir-isolation-<vpc>\` (no inbound and no outbound
   rule) and the conversion group \`ir-conversion-<vpc>\` (all traffic in and out); both are reused (two
   runs creating them at once end up with the same pair), and a reused group's rules are put right.
3. Before touching the network, in parallel with step 2: snapshots every attached EBS volume
   (\`CreateSnapshots\`, tagged \`ir:incident\`, \`ir:reason\`, \`ir:instance\`; the instance is then tagged
   \`ir:snapshots-taken=<incident>\`, so a resumed run does not snapshot twice), enables termination
   protection, records each ENI's original groups in its \`ir:original-groups\` tag, and tags the instance
   \`ir:status=isolating\`. No ENI moves unless every one of these succeeded.
4. Moves every ENI to the conversion group, then to the isolation group: security groups do not cut
   tracked connections, but the all-open conversion group makes existing flows untracked first.
5. Verifies by reading every ENI back while tagging the instance \`ir:status=isolated\`,
   \`ir:incident=<incident>\`, \`ir:isolated-at\`: the action is \`done\` only if each ENI is in the isolation
   group alone (otherwise the status tag goes back to \`isolating\` and the action is \`failed\`).

Optional steps, each off unless asked for: \`detachFromAutoScaling\` detaches the instance from its Auto
Scaling group (without decrementing it, so the group launches a healthy replacement; release does not
re-attach it), \`deregisterFromTargetGroups\` (target group ARNs) stops load balancers sending it traffic,
\`replaceInstanceProfile\` (a deny-all instance profile ARN) cuts the instance off its role's credentials. What
they change is recorded in tags (\`ir:detached-from-asg\`, \`ir:target-groups\`, \`ir:original-profile\`).

A second run reports \`already-done\` and changes nothing. **Release** puts every ENI back into its recorded
groups, registers it again in the recorded target groups, puts the original instance profile back, removes the
records and tags the instance \`ir:status=released\`; snapshots and termination protection stay as evidence.`,
  targetKind: 'ec2-instance',
  input,
  permissions: {
    execute: [
      'ec2:DescribeInstances',
      'ec2:DescribeNetworkInterfaces',
      'ec2:DescribeSecurityGroups',
      'ec2:CreateSecurityGroup',
      'ec2:RevokeSecurityGroupEgress',
      'ec2:AuthorizeSecurityGroupIngress',
      'ec2:CreateSnapshots',
      'ec2:CreateTags',
      'ec2:ModifyInstanceAttribute',
      'ec2:ModifyNetworkInterfaceAttribute',
      'ec2:DescribeIamInstanceProfileAssociations',
      'ec2:ReplaceIamInstanceProfileAssociation',
      'iam:PassRole',
      'autoscaling:DescribeAutoScalingInstances',
      'autoscaling:DetachInstances',
      'elasticloadbalancing:DeregisterTargets',
    ],
    release: [
      'ec2:DescribeInstances',
      'ec2:DescribeNetworkInterfaces',
      'ec2:ModifyNetworkInterfaceAttribute',
      'ec2:CreateTags',
      'ec2:DeleteTags',
      'ec2:DescribeIamInstanceProfileAssociations',
      'ec2:ReplaceIamInstanceProfileAssociation',
      'iam:PassRole',
      'elasticloadbalancing:RegisterTargets',
    ],
  },
  containment: true,
  irreversible: false,
  execute,
  release,
};
