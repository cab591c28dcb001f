import {
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  DetachInstancesCommand,
  EnterStandbyCommand,
  ExitStandbyCommand,
  SetDesiredCapacityCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  AssociateIamInstanceProfileCommand,
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateSnapshotCommand,
  CreateSnapshotsCommand,
  CreateTagsCommand,
  DeleteSecurityGroupCommand,
  DeleteTagsCommand,
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  DescribeTagsCommand,
  DescribeVolumesCommand,
  DescribeVpcsCommand,
  DisassociateIamInstanceProfileCommand,
  EC2ServiceException,
  ModifyInstanceAttributeCommand,
  ModifyNetworkInterfaceAttributeCommand,
  paginateDescribeInstances,
  ReplaceIamInstanceProfileAssociationCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import {
  CreateLoadBalancerCommand,
  DeregisterTargetsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  RegisterTargetsCommand,
  TargetGroupNotFoundException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { Ec2Model } from '../support/aws-model/ec2.js';

const FIXED = new Date('2025-06-01T12:00:00.000Z');

function seeded() {
  const model = new Ec2Model({ region: 'eu-west-1', accountId: '123456789012', now: () => FIXED });
  const vpc = model.addVpc();
  const web = model.addInstance({
    enis: 2,
    volumes: 2,
    tags: { Name: 'web-1', env: 'prod' },
    profile: 'web-profile',
  });
  const { ec2, autoscaling, elbv2 } = model.clients();
  return { model, vpc, web, ec2, autoscaling, elbv2 };
}

describe('Ec2Model plumbing', () => {
  it('answers through real SDK clients in the model region, each model with its own state', async () => {
    const a = new Ec2Model({ region: 'us-west-2' });
    const b = new Ec2Model();
    const seededA = a.addInstance();
    expect(await a.clients().ec2.config.region()).toBe('us-west-2');
    const fromA = await a.clients().ec2.send(new DescribeInstancesCommand({}));
    const fromB = await b.clients().ec2.send(new DescribeInstancesCommand({}));
    expect(fromA.Reservations?.[0]?.Instances?.[0]?.InstanceId).toBe(seededA.instanceId);
    expect(fromA.$metadata.httpStatusCode).toBe(200);
    expect(fromB.Reservations).toEqual([]);
  });

  it('rejects an operation it does not model with a clear NotModelled error, for every service', async () => {
    const { ec2, autoscaling, elbv2, web } = seeded();
    await expect(ec2.send(new StopInstancesCommand({ InstanceIds: [web.instanceId] }))).rejects.toMatchObject(
      {
        name: 'NotModelled',
        message: 'Ec2Model: operation StopInstances not modelled (ec2)',
      },
    );
    await expect(
      autoscaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'x', DesiredCapacity: 1 })),
    ).rejects.toMatchObject({ name: 'NotModelled', message: expect.stringContaining('SetDesiredCapacity') });
    await expect(elbv2.send(new CreateLoadBalancerCommand({ Name: 'lb' }))).rejects.toMatchObject({
      name: 'NotModelled',
      message: expect.stringContaining('CreateLoadBalancer'),
    });
  });

  it('rejects a modelled operation used with a parameter it does not model', async () => {
    const { ec2, web } = seeded();
    await expect(
      ec2.send(
        new ModifyInstanceAttributeCommand({
          InstanceId: web.instanceId,
          InstanceType: { Value: 't3.large' },
        }),
      ),
    ).rejects.toMatchObject({ name: 'NotModelled' });
  });

  it('fails the next call of an operation with an injected error, then behaves again', async () => {
    const { model, ec2, web } = seeded();
    const [eni] = web.eniIds;
    const isolation = model.addSecurityGroup({ vpcId: web.vpcId, name: 'isolation' });
    model.failNext('ModifyNetworkInterfaceAttribute', 'RequestLimitExceeded');
    const modify = new ModifyNetworkInterfaceAttributeCommand({
      NetworkInterfaceId: eni,
      Groups: [isolation],
    });
    const failure = await ec2.send(modify).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(EC2ServiceException);
    expect(failure).toMatchObject({ name: 'RequestLimitExceeded', $fault: 'client' });
    expect(model.groupsOf(web.instanceId)[eni ?? '']).toEqual(web.eniGroups[eni ?? '']);
    await ec2.send(modify);
    expect(model.groupsOf(web.instanceId)[eni ?? '']).toEqual([isolation]);
    expect(model.calls('ModifyNetworkInterfaceAttribute').map((c) => c.error)).toEqual([
      'RequestLimitExceeded',
      undefined,
    ]);
  });

  it('lets calls through before an injected failure when asked, and fails several in a row', async () => {
    const { model, ec2, web } = seeded();
    model.failNext('DescribeInstances', 'InternalError', { after: 1, times: 2 });
    const describe = new DescribeInstancesCommand({ InstanceIds: [web.instanceId] });
    await expect(ec2.send(describe)).resolves.toBeDefined();
    await expect(ec2.send(describe)).rejects.toMatchObject({ name: 'InternalError', $fault: 'server' });
    await expect(ec2.send(describe)).rejects.toMatchObject({ name: 'InternalError' });
    await expect(ec2.send(describe)).resolves.toBeDefined();
  });

  it('answers success for an ignored write without changing anything, so read-back catches it', async () => {
    const { model, ec2, web } = seeded();
    const isolation = model.addSecurityGroup({ vpcId: web.vpcId, name: 'isolation' });
    const before = model.snapshot();
    model.ignoreNext('ModifyNetworkInterfaceAttribute');
    const answer = await ec2.send(
      new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: web.eniIds[0], Groups: [isolation] }),
    );
    expect(answer.$metadata.httpStatusCode).toBe(200);
    expect(model.snapshot()).toEqual(before);
    expect(model.calls('ModifyNetworkInterfaceAttribute')[0]?.ignored).toBe(true);
    const read = await ec2.send(
      new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [web.eniIds[0] ?? ''] }),
    );
    expect(read.NetworkInterfaces?.[0]?.Groups?.map((g) => g.GroupId)).toEqual(
      web.eniGroups[web.eniIds[0] ?? ''],
    );
  });

  it('deep-copies the state in snapshot() and counts mutating calls only', async () => {
    const { model, ec2, web } = seeded();
    const before = model.snapshot();
    await ec2.send(new DescribeInstancesCommand({}));
    await ec2.send(new DescribeSecurityGroupsCommand({}));
    expect(model.snapshot()).toEqual(before);
    expect(model.mutatingCalls()).toBe(0);
    await ec2.send(
      new CreateTagsCommand({ Resources: [web.instanceId], Tags: [{ Key: 'ir:status', Value: 'isolated' }] }),
    );
    expect(model.mutatingCalls()).toBe(1);
    expect(model.mutatingCalls('CreateTags')).toBe(1);
    expect(model.snapshot()).not.toEqual(before);
    expect(before.instances.get(web.instanceId)?.tags).toEqual([
      { Key: 'Name', Value: 'web-1' },
      { Key: 'env', Value: 'prod' },
    ]);
  });

  it('refuses an EC2 call with DryRun set with DryRunOperation and changes nothing', async () => {
    const { model, ec2, web } = seeded();
    const before = model.snapshot();
    await expect(
      ec2.send(
        new CreateTagsCommand({
          DryRun: true,
          Resources: [web.instanceId],
          Tags: [{ Key: 'a', Value: 'b' }],
        }),
      ),
    ).rejects.toMatchObject({ name: 'DryRunOperation' });
    expect(model.snapshot()).toEqual(before);
  });

  it('pages Describe results by NextToken, so SDK paginators see every item', async () => {
    const model = new Ec2Model({ pageSize: 2 });
    const ids = [1, 2, 3, 4, 5].map(() => model.addInstance().instanceId);
    const first = await model.clients().ec2.send(new DescribeInstancesCommand({}));
    expect(first.Reservations).toHaveLength(2);
    expect(first.NextToken).toBeDefined();
    const seen: string[] = [];
    for await (const page of paginateDescribeInstances({ client: model.clients().ec2 }, {})) {
      for (const r of page.Reservations ?? [])
        for (const i of r.Instances ?? []) seen.push(i.InstanceId ?? '');
    }
    expect(seen).toEqual(ids);
    await expect(
      model.clients().ec2.send(new DescribeInstancesCommand({ NextToken: 'bogus' })),
    ).rejects.toMatchObject({ name: 'InvalidParameterValue' });
  });
});

describe('Ec2Model instances', () => {
  it('describes an instance with every ENI, its groups, volumes, tags and instance profile', async () => {
    const { ec2, web, model } = seeded();
    const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [web.instanceId] }));
    const instance = out.Reservations?.[0]?.Instances?.[0];
    expect(out.Reservations?.[0]?.ReservationId).toBe(web.reservationId);
    expect(instance).toMatchObject({
      InstanceId: web.instanceId,
      VpcId: web.vpcId,
      SubnetId: web.subnetId,
      State: { Code: 16, Name: 'running' },
      Tags: [
        { Key: 'Name', Value: 'web-1' },
        { Key: 'env', Value: 'prod' },
      ],
      IamInstanceProfile: { Arn: 'arn:aws:iam::123456789012:instance-profile/web-profile' },
      RootDeviceName: '/dev/xvda',
    });
    expect(instance?.NetworkInterfaces?.map((n) => n.NetworkInterfaceId)).toEqual(web.eniIds);
    expect(instance?.NetworkInterfaces?.map((n) => n.Attachment?.DeviceIndex)).toEqual([0, 1]);
    expect(instance?.NetworkInterfaces?.map((n) => n.Groups?.map((g) => g.GroupId))).toEqual(
      web.eniIds.map((id) => web.eniGroups[id]),
    );
    expect(instance?.BlockDeviceMappings?.map((b) => b.Ebs?.VolumeId)).toEqual(web.volumeIds);
    expect(instance?.BlockDeviceMappings?.map((b) => b.DeviceName)).toEqual(['/dev/xvda', '/dev/sdf']);
    // Like AWS, the instance's SecurityGroups are only the primary ENI's.
    expect(instance?.SecurityGroups?.map((g) => g.GroupId)).toEqual(web.eniGroups[web.eniIds[0] ?? '']);
    expect(instance?.SecurityGroups?.[0]?.GroupName).toBe('app');
    expect(model.findGroup(web.vpcId, 'mgmt')?.groupId).toBe(web.eniGroups[web.eniIds[1] ?? '']?.[1]);
  });

  it('refuses unknown and malformed instance ids with the EC2 error codes', async () => {
    const { ec2, web } = seeded();
    await expect(
      ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-0123456789abcdef0'] })),
    ).rejects.toMatchObject({
      name: 'InvalidInstanceID.NotFound',
      message: "The instance ID 'i-0123456789abcdef0' does not exist",
    });
    await expect(
      ec2.send(new DescribeInstancesCommand({ InstanceIds: [web.instanceId, 'i-00000000', 'i-11111111'] })),
    ).rejects.toMatchObject({
      name: 'InvalidInstanceID.NotFound',
      message: expect.stringContaining('do not exist'),
    });
    await expect(ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-xyz'] }))).rejects.toMatchObject({
      name: 'InvalidInstanceID.Malformed',
    });
  });

  it('filters instances by tag, state, VPC and ENI, and refuses an unknown filter', async () => {
    const { model, ec2, web } = seeded();
    const other = model.addInstance({ tags: { env: 'dev' }, state: 'stopped' });
    const ids = async (filters: { Name: string; Values: string[] }[]) =>
      (await ec2.send(new DescribeInstancesCommand({ Filters: filters }))).Reservations?.flatMap(
        (r) => r.Instances?.map((i) => i.InstanceId) ?? [],
      );
    expect(await ids([{ Name: 'tag:env', Values: ['prod'] }])).toEqual([web.instanceId]);
    expect(await ids([{ Name: 'tag:env', Values: ['p*'] }])).toEqual([web.instanceId]);
    expect(await ids([{ Name: 'instance-state-name', Values: ['stopped'] }])).toEqual([other.instanceId]);
    expect(
      await ids([{ Name: 'network-interface.network-interface-id', Values: [web.eniIds[1] ?? ''] }]),
    ).toEqual([web.instanceId]);
    expect(
      await ids([
        { Name: 'vpc-id', Values: [web.vpcId] },
        { Name: 'tag-key', Values: ['Name'] },
      ]),
    ).toEqual([web.instanceId]);
    await expect(ids([{ Name: 'colour', Values: ['red'] }])).rejects.toMatchObject({
      name: 'InvalidParameterValue',
      message: "The filter 'colour' is invalid",
    });
  });

  it('sets and reads termination protection', async () => {
    const { model, ec2, web } = seeded();
    await ec2.send(
      new ModifyInstanceAttributeCommand({
        InstanceId: web.instanceId,
        DisableApiTermination: { Value: true },
      }),
    );
    expect(model.state.instances.get(web.instanceId)?.disableApiTermination).toBe(true);
    const read = await ec2.send(
      new DescribeInstanceAttributeCommand({
        InstanceId: web.instanceId,
        Attribute: 'disableApiTermination',
      }),
    );
    expect(read.DisableApiTermination).toEqual({ Value: true });
    await ec2.send(
      new ModifyInstanceAttributeCommand({
        InstanceId: web.instanceId,
        Attribute: 'disableApiTermination',
        Value: 'false',
      }),
    );
    expect(model.state.instances.get(web.instanceId)?.disableApiTermination).toBe(false);
    await expect(
      ec2.send(
        new ModifyInstanceAttributeCommand({
          InstanceId: 'i-00000000000000abc',
          DisableApiTermination: { Value: true },
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidInstanceID.NotFound' });
    await expect(
      ec2.send(
        new ModifyInstanceAttributeCommand({
          InstanceId: web.instanceId,
          DisableApiTermination: { Value: true },
          DisableApiStop: { Value: true },
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterCombination' });
  });

  it('refuses instance-level Groups on an instance with several ENIs, as AWS does, and applies it with one', async () => {
    const { model, ec2, web } = seeded();
    const single = model.addInstance();
    const isolation = model.addSecurityGroup({ vpcId: web.vpcId, name: 'isolation' });
    await expect(
      ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: web.instanceId, Groups: [isolation] })),
    ).rejects.toMatchObject({
      name: 'InvalidInstanceID',
      message: expect.stringContaining('There are multiple interfaces attached to instance'),
    });
    await ec2.send(
      new ModifyInstanceAttributeCommand({ InstanceId: single.instanceId, Groups: [isolation] }),
    );
    expect(Object.values(model.groupsOf(single.instanceId))).toEqual([[isolation]]);
    const read = await ec2.send(
      new DescribeInstanceAttributeCommand({ InstanceId: single.instanceId, Attribute: 'groupSet' }),
    );
    expect(read.Groups).toEqual([{ GroupId: isolation, GroupName: 'isolation' }]);
  });
});

describe('Ec2Model network interfaces', () => {
  it('describes ENIs by id and by attachment.instance-id, with groups, attachment and TagSet', async () => {
    const { ec2, web } = seeded();
    const byInstance = await ec2.send(
      new DescribeNetworkInterfacesCommand({
        Filters: [{ Name: 'attachment.instance-id', Values: [web.instanceId] }],
      }),
    );
    expect(byInstance.NetworkInterfaces?.map((n) => n.NetworkInterfaceId)).toEqual(web.eniIds);
    expect(byInstance.NetworkInterfaces?.[1]).toMatchObject({
      VpcId: web.vpcId,
      Status: 'in-use',
      TagSet: [],
      Attachment: { InstanceId: web.instanceId, DeviceIndex: 1, Status: 'attached' },
    });
    const byId = await ec2.send(
      new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [web.eniIds[1] ?? ''] }),
    );
    expect(byId.NetworkInterfaces?.[0]?.Groups?.map((g) => g.GroupId)).toEqual(
      web.eniGroups[web.eniIds[1] ?? ''],
    );
    await expect(
      ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: ['eni-0000000000000dead'] })),
    ).rejects.toMatchObject({ name: 'InvalidNetworkInterfaceID.NotFound' });
  });

  it("replaces an ENI's groups and leaves the instance's other ENIs alone", async () => {
    const { model, ec2, web } = seeded();
    const isolation = model.addSecurityGroup({ vpcId: web.vpcId, name: 'isolation' });
    const [first = '', second = ''] = web.eniIds;
    await ec2.send(
      new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: second, Groups: [isolation] }),
    );
    expect(model.groupsOf(web.instanceId)).toEqual({ [first]: web.eniGroups[first], [second]: [isolation] });
  });

  it('refuses groups that do not exist, sit in another VPC, or exceed five, and changes nothing', async () => {
    const { model, ec2, web } = seeded();
    const elsewhere = model.addVpc();
    const foreign = model.addSecurityGroup({ vpcId: elsewhere.vpcId, name: 'foreign' });
    const eni = web.eniIds[0] ?? '';
    const six = ['a', 'b', 'c', 'd', 'e', 'f'].map((name) =>
      model.addSecurityGroup({ vpcId: web.vpcId, name }),
    );
    const before = model.snapshot();
    await expect(
      ec2.send(
        new ModifyNetworkInterfaceAttributeCommand({
          NetworkInterfaceId: eni,
          Groups: ['sg-00000000000000bad'],
        }),
      ),
    ).rejects.toMatchObject({
      name: 'InvalidGroup.NotFound',
      message: "The security group 'sg-00000000000000bad' does not exist",
    });
    await expect(
      ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni, Groups: [foreign] })),
    ).rejects.toMatchObject({
      name: 'InvalidGroup.NotFound',
      message: 'You have specified two resources that belong to different networks.',
    });
    await expect(
      ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni, Groups: six })),
    ).rejects.toMatchObject({ name: 'SecurityGroupsPerInterfaceLimitExceeded' });
    await expect(
      ec2.send(
        new ModifyNetworkInterfaceAttributeCommand({
          NetworkInterfaceId: eni,
          Groups: [web.eniGroups[eni]?.[0] ?? ''],
          Description: { Value: 'x' },
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterCombination' });
    await expect(
      ec2.send(
        new ModifyNetworkInterfaceAttributeCommand({
          NetworkInterfaceId: 'eni-0000000000000dead',
          Groups: six.slice(0, 1),
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidNetworkInterfaceID.NotFound' });
    expect(model.snapshot()).toEqual(before);
    expect(model.groupsOf(web.instanceId)).toEqual(web.eniGroups);
  });
});

describe('Ec2Model security groups', () => {
  it('creates a group with the default allow-all egress rule and its tags, unique by name per VPC', async () => {
    const { model, ec2, vpc } = seeded();
    const created = await ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: 'ir-isolation',
        Description: 'no traffic',
        VpcId: vpc.vpcId,
        TagSpecifications: [
          { ResourceType: 'security-group', Tags: [{ Key: 'ir:purpose', Value: 'isolation' }] },
        ],
      }),
    );
    expect(created.GroupId).toMatch(/^sg-[0-9a-f]{17}$/);
    expect(created.Tags).toEqual([{ Key: 'ir:purpose', Value: 'isolation' }]);
    const group = model.state.securityGroups.get(created.GroupId ?? '');
    expect(group?.ingress).toEqual([]);
    expect(group?.egress).toMatchObject([{ protocol: '-1', cidrIpv4: '0.0.0.0/0' }]);
    await expect(
      ec2.send(
        new CreateSecurityGroupCommand({ GroupName: 'ir-isolation', Description: 'again', VpcId: vpc.vpcId }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidGroup.Duplicate' });
    const other = model.addVpc();
    await expect(
      ec2.send(
        new CreateSecurityGroupCommand({ GroupName: 'ir-isolation', Description: 'x', VpcId: other.vpcId }),
      ),
    ).resolves.toMatchObject({ GroupId: expect.stringMatching(/^sg-/) });
    await expect(
      ec2.send(
        new CreateSecurityGroupCommand({ GroupName: 'g', Description: 'x', VpcId: 'vpc-000000000000000ff' }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidVpcID.NotFound' });
    await expect(
      ec2.send(new CreateSecurityGroupCommand({ GroupName: 'g', Description: 'x' })),
    ).rejects.toMatchObject({ name: 'VPCIdNotSpecified' });
    await expect(
      ec2.send(
        new CreateSecurityGroupCommand({
          GroupName: 'g',
          Description: 'x',
          VpcId: vpc.vpcId,
          TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'a', Value: 'b' }] }],
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterValue' });
  });

  it('describes groups by id and by vpc-id, group-name and tag filters, rules folded into IpPermissions', async () => {
    const { model, ec2, vpc, web } = seeded();
    const tagged = model.addSecurityGroup({
      vpcId: vpc.vpcId,
      name: 'tagged',
      tags: { 'ir:isolation': 'true' },
    });
    const app = web.eniGroups[web.eniIds[0] ?? '']?.[0] ?? '';
    const byId = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [app] }));
    expect(byId.SecurityGroups?.[0]).toMatchObject({
      GroupId: app,
      GroupName: 'app',
      VpcId: vpc.vpcId,
      IpPermissions: [
        {
          IpProtocol: 'tcp',
          FromPort: 443,
          ToPort: 443,
          IpRanges: [{ CidrIp: '0.0.0.0/0' }],
          Ipv6Ranges: [],
          PrefixListIds: [],
          UserIdGroupPairs: [],
        },
      ],
      IpPermissionsEgress: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
    });
    expect(byId.SecurityGroups?.[0]?.IpPermissionsEgress?.[0]?.FromPort).toBeUndefined();
    const names = async (filters: { Name: string; Values: string[] }[]) =>
      (await ec2.send(new DescribeSecurityGroupsCommand({ Filters: filters }))).SecurityGroups?.map(
        (g) => g.GroupName,
      );
    expect(await names([{ Name: 'vpc-id', Values: [vpc.vpcId] }])).toEqual([
      'default',
      'app',
      'mgmt',
      'tagged',
    ]);
    expect(
      await names([
        { Name: 'vpc-id', Values: [vpc.vpcId] },
        { Name: 'group-name', Values: ['tagged'] },
      ]),
    ).toEqual(['tagged']);
    expect(await names([{ Name: 'tag:ir:isolation', Values: ['true'] }])).toEqual(['tagged']);
    expect(model.state.securityGroups.get(tagged)?.groupName).toBe('tagged');
    await expect(
      ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: ['sg-00000000000000bad'] })),
    ).rejects.toMatchObject({ name: 'InvalidGroup.NotFound' });
  });

  it('authorizes ingress and egress rules and refuses a duplicate', async () => {
    const { model, ec2, vpc } = seeded();
    const group = model.addSecurityGroup({ vpcId: vpc.vpcId, name: 'conversion', egress: [] });
    const added = await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: group,
        IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0', Description: 'all' }] }],
      }),
    );
    expect(added.Return).toBe(true);
    expect(added.SecurityGroupRules?.[0]).toMatchObject({
      GroupId: group,
      IsEgress: false,
      IpProtocol: '-1',
      CidrIpv4: '0.0.0.0/0',
      Description: 'all',
    });
    await ec2.send(
      new AuthorizeSecurityGroupEgressCommand({
        GroupId: group,
        IpPermissions: [
          { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, Ipv6Ranges: [{ CidrIpv6: '::/0' }] },
        ],
      }),
    );
    const state = model.state.securityGroups.get(group);
    expect(state?.ingress).toHaveLength(1);
    expect(state?.egress).toMatchObject([{ protocol: 'tcp', fromPort: 443, toPort: 443, cidrIpv6: '::/0' }]);
    await expect(
      ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: group,
          IpPermissions: [{ IpProtocol: 'all', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidPermission.Duplicate' });
    await expect(
      ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: group,
          IpPermissions: [{ IpProtocol: 'tcp', IpRanges: [{ CidrIp: '10.0.0.0/8' }] }],
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    await expect(
      ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: 'sg-00000000000000bad',
          IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidGroup.NotFound' });
  });

  it('revokes by matching IpPermissions, refusing an unknown rule in a non-default VPC', async () => {
    const { model, ec2, vpc } = seeded();
    const group = model.addSecurityGroup({ vpcId: vpc.vpcId, name: 'isolation' });
    const revoked = await ec2.send(
      new RevokeSecurityGroupEgressCommand({
        GroupId: group,
        IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
      }),
    );
    expect(revoked.RevokedSecurityGroupRules).toMatchObject([
      { GroupId: group, IsEgress: true, CidrIpv4: '0.0.0.0/0' },
    ]);
    const state = model.state.securityGroups.get(group);
    expect(state?.ingress).toEqual([]);
    expect(state?.egress).toEqual([]);
    await expect(
      ec2.send(
        new RevokeSecurityGroupEgressCommand({
          GroupId: group,
          IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidPermission.NotFound' });
  });

  it('revokes what matches and reports the rest in UnknownIpPermissions in a default VPC', async () => {
    const model = new Ec2Model();
    const vpc = model.addVpc({ isDefault: true });
    const group = model.addSecurityGroup({
      vpcId: vpc.vpcId,
      name: 'web',
      ingress: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '10.0.0.0/8' }] }],
    });
    const out = await model.clients().ec2.send(
      new RevokeSecurityGroupIngressCommand({
        GroupId: group,
        IpPermissions: [
          {
            IpProtocol: 'tcp',
            FromPort: 22,
            ToPort: 22,
            IpRanges: [{ CidrIp: '10.0.0.0/8' }, { CidrIp: '1.2.3.4/32' }],
          },
        ],
      }),
    );
    expect(out.RevokedSecurityGroupRules).toHaveLength(1);
    expect(out.UnknownIpPermissions).toMatchObject([
      { IpProtocol: 'tcp', IpRanges: [{ CidrIp: '1.2.3.4/32' }] },
    ]);
    expect(model.state.securityGroups.get(group)?.ingress).toEqual([]);
  });

  it('revokes by SecurityGroupRuleIds and lists rules with DescribeSecurityGroupRules', async () => {
    const { model, ec2, vpc } = seeded();
    const group = model.addSecurityGroup({
      vpcId: vpc.vpcId,
      name: 'rules',
      ingress: [{ IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
    });
    const listed = await ec2.send(
      new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [group] }] }),
    );
    expect(listed.SecurityGroupRules?.map((r) => [r.IsEgress, r.IpProtocol, r.FromPort, r.CidrIpv4])).toEqual(
      [
        [false, 'tcp', 80, '0.0.0.0/0'],
        [true, '-1', -1, '0.0.0.0/0'],
      ],
    );
    const ingressRule =
      listed.SecurityGroupRules?.find((r) => r.IsEgress === false)?.SecurityGroupRuleId ?? '';
    await ec2.send(
      new RevokeSecurityGroupIngressCommand({ GroupId: group, SecurityGroupRuleIds: [ingressRule] }),
    );
    expect(model.state.securityGroups.get(group)?.ingress).toEqual([]);
    await expect(
      ec2.send(
        new RevokeSecurityGroupIngressCommand({ GroupId: group, SecurityGroupRuleIds: [ingressRule] }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidSecurityGroupRuleId.NotFound' });
  });

  it('refuses to delete a group an ENI uses or the default group, and deletes an unused one', async () => {
    const { model, ec2, vpc, web } = seeded();
    const spare = model.addSecurityGroup({ vpcId: vpc.vpcId, name: 'spare' });
    await expect(
      ec2.send(new DeleteSecurityGroupCommand({ GroupId: web.eniGroups[web.eniIds[0] ?? '']?.[0] })),
    ).rejects.toMatchObject({ name: 'DependencyViolation' });
    await expect(
      ec2.send(new DeleteSecurityGroupCommand({ GroupId: vpc.defaultGroupId })),
    ).rejects.toMatchObject({
      name: 'CannotDelete',
    });
    await ec2.send(new DeleteSecurityGroupCommand({ GroupId: spare }));
    expect(model.state.securityGroups.has(spare)).toBe(false);
  });

  it('describes VPCs', async () => {
    const { ec2, vpc } = seeded();
    const out = await ec2.send(new DescribeVpcsCommand({ VpcIds: [vpc.vpcId] }));
    expect(out.Vpcs).toMatchObject([{ VpcId: vpc.vpcId, CidrBlock: '10.0.0.0/16', IsDefault: false }]);
    await expect(
      ec2.send(new DescribeVpcsCommand({ VpcIds: ['vpc-00000000000000bad'] })),
    ).rejects.toMatchObject({
      name: 'InvalidVpcID.NotFound',
    });
  });
});

describe('Ec2Model volumes and snapshots', () => {
  it('describes the volumes attached to an instance', async () => {
    const { ec2, web } = seeded();
    const out = await ec2.send(
      new DescribeVolumesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [web.instanceId] }] }),
    );
    expect(out.Volumes?.map((v) => v.VolumeId)).toEqual(web.volumeIds);
    expect(out.Volumes?.[0]).toMatchObject({
      State: 'in-use',
      Attachments: [{ InstanceId: web.instanceId, Device: '/dev/xvda', State: 'attached' }],
    });
    await expect(
      ec2.send(new DescribeVolumesCommand({ VolumeIds: ['vol-00000000000000bad'] })),
    ).rejects.toMatchObject({
      name: 'InvalidVolume.NotFound',
      message: "The volume 'vol-00000000000000bad' does not exist",
    });
  });

  it('creates a tagged, completed snapshot of one volume', async () => {
    const { model, ec2, web } = seeded();
    const volumeId = web.volumeIds[1] ?? '';
    const out = await ec2.send(
      new CreateSnapshotCommand({
        VolumeId: volumeId,
        Description: 'ir 4242: isolation',
        TagSpecifications: [{ ResourceType: 'snapshot', Tags: [{ Key: 'ir:incident', Value: '4242' }] }],
      }),
    );
    expect(out).toMatchObject({
      VolumeId: volumeId,
      State: 'completed',
      Description: 'ir 4242: isolation',
      Tags: [{ Key: 'ir:incident', Value: '4242' }],
      VolumeSize: 100,
    });
    expect(model.snapshotsOf(volumeId)).toMatchObject([
      { snapshotId: out.SnapshotId, tags: [{ Key: 'ir:incident' }] },
    ]);
    await expect(
      ec2.send(new CreateSnapshotCommand({ VolumeId: 'vol-00000000000000bad' })),
    ).rejects.toMatchObject({
      name: 'InvalidVolume.NotFound',
    });
  });

  it('snapshots every volume of an instance with CreateSnapshots, copying volume tags when asked', async () => {
    const { model, ec2, web } = seeded();
    model.tag(web.volumeIds[1] ?? '', { role: 'data' });
    const out = await ec2.send(
      new CreateSnapshotsCommand({
        InstanceSpecification: { InstanceId: web.instanceId },
        Description: 'ir',
        CopyTagsFromSource: 'volume',
        TagSpecifications: [{ ResourceType: 'snapshot', Tags: [{ Key: 'ir:incident', Value: '7' }] }],
      }),
    );
    expect(out.Snapshots?.map((s) => s.VolumeId)).toEqual(web.volumeIds);
    expect(out.Snapshots?.[1]?.Tags).toEqual([
      { Key: 'role', Value: 'data' },
      { Key: 'ir:incident', Value: '7' },
    ]);
    const dataOnly = await ec2.send(
      new CreateSnapshotsCommand({
        InstanceSpecification: { InstanceId: web.instanceId, ExcludeBootVolume: true },
      }),
    );
    expect(dataOnly.Snapshots?.map((s) => s.VolumeId)).toEqual([web.volumeIds[1]]);
    expect(model.state.snapshots.size).toBe(3);
    await expect(
      ec2.send(new CreateSnapshotsCommand({ InstanceSpecification: { InstanceId: 'i-00000000000000bad' } })),
    ).rejects.toMatchObject({ name: 'InvalidInstanceID.NotFound' });
  });

  it('describes snapshots by id, volume-id and tag filters', async () => {
    const { ec2, web } = seeded();
    const made = await ec2.send(
      new CreateSnapshotCommand({
        VolumeId: web.volumeIds[0],
        TagSpecifications: [{ ResourceType: 'snapshot', Tags: [{ Key: 'ir:incident', Value: '9' }] }],
      }),
    );
    await ec2.send(new CreateSnapshotCommand({ VolumeId: web.volumeIds[1] }));
    const byTag = await ec2.send(
      new DescribeSnapshotsCommand({
        OwnerIds: ['self'],
        Filters: [{ Name: 'tag:ir:incident', Values: ['9'] }],
      }),
    );
    expect(byTag.Snapshots?.map((s) => s.SnapshotId)).toEqual([made.SnapshotId]);
    const byVolume = await ec2.send(
      new DescribeSnapshotsCommand({ Filters: [{ Name: 'volume-id', Values: [web.volumeIds[1] ?? ''] }] }),
    );
    expect(byVolume.Snapshots?.map((s) => s.VolumeId)).toEqual([web.volumeIds[1]]);
    const byId = await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [made.SnapshotId ?? ''] }));
    expect(byId.Snapshots?.[0]?.State).toBe('completed');
    await expect(
      ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: ['snap-00000000000000bad'] })),
    ).rejects.toMatchObject({ name: 'InvalidSnapshot.NotFound' });
  });
});

describe('Ec2Model tags', () => {
  it('tags any kind of resource and refuses unknown ids with that kind of NotFound, changing nothing', async () => {
    const { model, ec2, web } = seeded();
    const tags = [
      { Key: 'ir:status', Value: 'isolated' },
      { Key: 'ir:incident', Value: '4242' },
    ];
    await ec2.send(
      new CreateTagsCommand({
        Resources: [web.instanceId, web.eniIds[1] ?? '', web.volumeIds[0] ?? ''],
        Tags: tags,
      }),
    );
    expect(model.tagsOf(web.instanceId)).toEqual({
      Name: 'web-1',
      env: 'prod',
      'ir:status': 'isolated',
      'ir:incident': '4242',
    });
    expect(model.tagsOf(web.eniIds[1] ?? '')).toEqual({ 'ir:status': 'isolated', 'ir:incident': '4242' });
    await ec2.send(
      new CreateTagsCommand({ Resources: [web.instanceId], Tags: [{ Key: 'ir:status', Value: 'released' }] }),
    );
    expect(model.tagsOf(web.instanceId)['ir:status']).toBe('released');
    const before = model.snapshot();
    await expect(
      ec2.send(new CreateTagsCommand({ Resources: [web.instanceId, 'i-00000000000000bad'], Tags: tags })),
    ).rejects.toMatchObject({ name: 'InvalidInstanceID.NotFound' });
    await expect(
      ec2.send(new CreateTagsCommand({ Resources: ['snap-00000000000000bad'], Tags: tags })),
    ).rejects.toMatchObject({ name: 'InvalidSnapshot.NotFound' });
    await expect(
      ec2.send(new CreateTagsCommand({ Resources: [web.instanceId], Tags: [{ Key: 'aws:x', Value: 'y' }] })),
    ).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    expect(model.snapshot()).toEqual(before);
  });

  it('deletes tags by key, by key and value, and describes tags by filter', async () => {
    const { model, ec2, web } = seeded();
    await ec2.send(
      new DeleteTagsCommand({ Resources: [web.instanceId], Tags: [{ Key: 'env', Value: 'dev' }] }),
    );
    expect(model.tagsOf(web.instanceId)).toEqual({ Name: 'web-1', env: 'prod' });
    await ec2.send(new DeleteTagsCommand({ Resources: [web.instanceId], Tags: [{ Key: 'env' }] }));
    expect(model.tagsOf(web.instanceId)).toEqual({ Name: 'web-1' });
    const described = await ec2.send(
      new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [web.instanceId] }] }),
    );
    expect(described.Tags).toEqual([
      { ResourceId: web.instanceId, ResourceType: 'instance', Key: 'Name', Value: 'web-1' },
    ]);
    await ec2.send(new DeleteTagsCommand({ Resources: [web.instanceId] }));
    expect(model.tagsOf(web.instanceId)).toEqual({});
  });
});

describe('Ec2Model instance profile associations', () => {
  it('describes, replaces and disassociates the instance profile', async () => {
    const { model, ec2, web } = seeded();
    const quarantine = model.addInstanceProfile('ir-quarantine');
    const described = await ec2.send(
      new DescribeIamInstanceProfileAssociationsCommand({
        Filters: [{ Name: 'instance-id', Values: [web.instanceId] }],
      }),
    );
    expect(described.IamInstanceProfileAssociations).toMatchObject([
      { AssociationId: web.associationId, InstanceId: web.instanceId, State: 'associated' },
    ]);
    const replaced = await ec2.send(
      new ReplaceIamInstanceProfileAssociationCommand({
        AssociationId: web.associationId,
        IamInstanceProfile: { Name: 'ir-quarantine' },
      }),
    );
    expect(replaced.IamInstanceProfileAssociation).toMatchObject({
      State: 'associating',
      IamInstanceProfile: { Arn: quarantine.arn },
    });
    expect(replaced.IamInstanceProfileAssociation?.AssociationId).not.toBe(web.associationId);
    expect(model.profileOf(web.instanceId)?.name).toBe('ir-quarantine');
    await expect(
      ec2.send(
        new ReplaceIamInstanceProfileAssociationCommand({
          AssociationId: web.associationId,
          IamInstanceProfile: { Name: 'ir-quarantine' },
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidAssociationID.NotFound' });
    await ec2.send(
      new DisassociateIamInstanceProfileCommand({
        AssociationId: replaced.IamInstanceProfileAssociation?.AssociationId,
      }),
    );
    expect(model.profileOf(web.instanceId)).toBeUndefined();
    const after = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [web.instanceId] }));
    expect(after.Reservations?.[0]?.Instances?.[0]?.IamInstanceProfile).toBeUndefined();
  });

  it('associates a profile, refusing a second association and an unknown profile', async () => {
    const { model, ec2 } = seeded();
    const bare = model.addInstance();
    model.addInstanceProfile('web-profile');
    await expect(
      ec2.send(
        new AssociateIamInstanceProfileCommand({
          InstanceId: bare.instanceId,
          IamInstanceProfile: { Name: 'nope' },
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    await ec2.send(
      new AssociateIamInstanceProfileCommand({
        InstanceId: bare.instanceId,
        IamInstanceProfile: { Name: 'web-profile' },
      }),
    );
    expect(model.profileOf(bare.instanceId)?.name).toBe('web-profile');
    await expect(
      ec2.send(
        new AssociateIamInstanceProfileCommand({
          InstanceId: bare.instanceId,
          IamInstanceProfile: { Name: 'web-profile' },
        }),
      ),
    ).rejects.toMatchObject({ name: 'IncorrectState' });
  });
});

describe('Ec2Model Auto Scaling', () => {
  function withAsg() {
    const model = new Ec2Model();
    const { vpcId } = model.addVpc();
    const tg = model.addTargetGroup({ name: 'web-tg', vpcId });
    model.addAutoScalingGroup({ name: 'web-asg', minSize: 1, targetGroupArns: [tg] });
    const a = model.addInstance({ asg: 'web-asg' });
    const b = model.addInstance({ asg: 'web-asg' });
    return { model, tg, a, b, autoscaling: model.clients().autoscaling };
  }

  it('describes which group an instance belongs to', async () => {
    const { a, autoscaling, model } = withAsg();
    const loner = model.addInstance();
    const out = await autoscaling.send(
      new DescribeAutoScalingInstancesCommand({ InstanceIds: [a.instanceId, loner.instanceId] }),
    );
    expect(out.AutoScalingInstances).toMatchObject([
      {
        InstanceId: a.instanceId,
        AutoScalingGroupName: 'web-asg',
        LifecycleState: 'InService',
        HealthStatus: 'HEALTHY',
      },
    ]);
    expect(model.tagsOf(a.instanceId)['aws:autoscaling:groupName']).toBe('web-asg');
    const groups = await autoscaling.send(
      new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['web-asg'] }),
    );
    expect(groups.AutoScalingGroups?.[0]).toMatchObject({ DesiredCapacity: 2, MinSize: 1 });
  });

  it('detaches with decrement: the group shrinks and drains the instance from its target groups', async () => {
    const { model, tg, a, autoscaling } = withAsg();
    const out = await autoscaling.send(
      new DetachInstancesCommand({
        AutoScalingGroupName: 'web-asg',
        InstanceIds: [a.instanceId],
        ShouldDecrementDesiredCapacity: true,
      }),
    );
    expect(out.Activities?.[0]?.Description).toBe(`Detaching EC2 instance: ${a.instanceId}`);
    expect(model.asgOf(a.instanceId)).toBeUndefined();
    expect(model.state.autoScalingGroups.get('web-asg')?.desiredCapacity).toBe(1);
    expect(model.targetsOf(tg).find((t) => t.id === a.instanceId)?.state).toBe('draining');
    const listed = await autoscaling.send(
      new DescribeAutoScalingInstancesCommand({ InstanceIds: [a.instanceId] }),
    );
    expect(listed.AutoScalingInstances).toEqual([]);
  });

  it('detaches without decrement: the group launches a replacement', async () => {
    const { model, tg, a, b, autoscaling } = withAsg();
    await autoscaling.send(
      new DetachInstancesCommand({
        AutoScalingGroupName: 'web-asg',
        InstanceIds: [a.instanceId],
        ShouldDecrementDesiredCapacity: false,
      }),
    );
    const members = model.state.autoScalingGroups.get('web-asg')?.instances.map((m) => m.instanceId) ?? [];
    expect(members).toHaveLength(2);
    expect(members).toContain(b.instanceId);
    expect(members).not.toContain(a.instanceId);
    expect(model.state.autoScalingGroups.get('web-asg')?.desiredCapacity).toBe(2);
    const replacement = members.find((id) => id !== b.instanceId) ?? '';
    expect(model.state.instances.get(replacement)?.state).toBe('pending');
    expect(model.targetsOf(tg).find((t) => t.id === replacement)?.state).toBe('initial');
    model.settle();
    expect(model.state.instances.get(replacement)?.state).toBe('running');
    expect(
      model.asgOf(replacement)?.instances.find((m) => m.instanceId === replacement)?.lifecycleState,
    ).toBe('InService');
    expect(model.targetsOf(tg).map((t) => [t.id, t.state])).toEqual([
      [b.instanceId, 'healthy'],
      [replacement, 'healthy'],
    ]);
  });

  it('refuses to detach a non-member, to go below the minimum, or without the decrement flag', async () => {
    const { model, a, b, autoscaling } = withAsg();
    const loner = model.addInstance();
    await expect(
      autoscaling.send(
        new DetachInstancesCommand({
          AutoScalingGroupName: 'web-asg',
          InstanceIds: [loner.instanceId],
          ShouldDecrementDesiredCapacity: true,
        }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationError', message: expect.stringContaining('is not part of') });
    await expect(
      autoscaling.send(
        new DetachInstancesCommand({
          AutoScalingGroupName: 'web-asg',
          InstanceIds: [a.instanceId, b.instanceId],
          ShouldDecrementDesiredCapacity: true,
        }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationError', message: expect.stringContaining('minSize') });
    await expect(
      autoscaling.send(
        new DetachInstancesCommand({
          AutoScalingGroupName: 'web-asg',
          InstanceIds: [a.instanceId],
          ShouldDecrementDesiredCapacity: undefined,
        }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationError' });
    await expect(
      autoscaling.send(
        new DetachInstancesCommand({
          AutoScalingGroupName: 'nope',
          InstanceIds: [a.instanceId],
          ShouldDecrementDesiredCapacity: true,
        }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationError' });
    expect(model.state.autoScalingGroups.get('web-asg')?.instances).toHaveLength(2);
  });

  it('moves an instance into standby and back', async () => {
    const { model, tg, a, autoscaling } = withAsg();
    await autoscaling.send(
      new EnterStandbyCommand({
        AutoScalingGroupName: 'web-asg',
        InstanceIds: [a.instanceId],
        ShouldDecrementDesiredCapacity: true,
      }),
    );
    expect(
      model.asgOf(a.instanceId)?.instances.find((m) => m.instanceId === a.instanceId)?.lifecycleState,
    ).toBe('Standby');
    expect(model.targetsOf(tg).find((t) => t.id === a.instanceId)?.state).toBe('draining');
    await expect(
      autoscaling.send(
        new EnterStandbyCommand({
          AutoScalingGroupName: 'web-asg',
          InstanceIds: [a.instanceId],
          ShouldDecrementDesiredCapacity: true,
        }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationError' });
    await autoscaling.send(
      new ExitStandbyCommand({ AutoScalingGroupName: 'web-asg', InstanceIds: [a.instanceId] }),
    );
    expect(
      model.asgOf(a.instanceId)?.instances.find((m) => m.instanceId === a.instanceId)?.lifecycleState,
    ).toBe('InService');
    expect(model.state.autoScalingGroups.get('web-asg')?.desiredCapacity).toBe(2);
  });
});

describe('Ec2Model ELBv2 target groups', () => {
  function withTargets() {
    const model = new Ec2Model();
    const web = model.addInstance({ targetGroups: ['web-tg', 'api-tg'] });
    const [webTg = '', apiTg = ''] = web.targetGroupArns;
    return { model, web, webTg, apiTg, elbv2: model.clients().elbv2 };
  }

  it('describes target groups by ARN and by name, refusing unknown ones with TargetGroupNotFoundException', async () => {
    const { elbv2, webTg, apiTg, web } = withTargets();
    const byArn = await elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [webTg] }));
    expect(byArn.TargetGroups).toMatchObject([
      { TargetGroupArn: webTg, TargetGroupName: 'web-tg', VpcId: web.vpcId },
    ]);
    const byName = await elbv2.send(new DescribeTargetGroupsCommand({ Names: ['api-tg'] }));
    expect(byName.TargetGroups?.map((t) => t.TargetGroupArn)).toEqual([apiTg]);
    const missing = await elbv2
      .send(new DescribeTargetGroupsCommand({ Names: ['nope'] }))
      .catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(TargetGroupNotFoundException);
  });

  it('deregisters a target: it drains, then leaves the group; DescribeTargetHealth shows each stage', async () => {
    const { model, elbv2, webTg, web } = withTargets();
    const health = async () =>
      (
        await elbv2.send(
          new DescribeTargetHealthCommand({ TargetGroupArn: webTg, Targets: [{ Id: web.instanceId }] }),
        )
      ).TargetHealthDescriptions?.map((d) => d.TargetHealth?.State);
    expect(await health()).toEqual(['healthy']);
    await elbv2.send(
      new DeregisterTargetsCommand({ TargetGroupArn: webTg, Targets: [{ Id: web.instanceId }] }),
    );
    expect(await health()).toEqual(['draining']);
    model.settle();
    expect(await health()).toEqual(['unused']);
    expect(model.targetsOf(webTg)).toEqual([]);
  });

  it('leaves a target registered on another port alone when deregistering without a port, as ELBv2 does', async () => {
    const { model, elbv2, apiTg, web } = withTargets();
    await elbv2.send(
      new RegisterTargetsCommand({ TargetGroupArn: apiTg, Targets: [{ Id: web.instanceId, Port: 8080 }] }),
    );
    await elbv2.send(
      new DeregisterTargetsCommand({ TargetGroupArn: apiTg, Targets: [{ Id: web.instanceId }] }),
    );
    expect(model.targetsOf(apiTg).map((t) => [t.port, t.state])).toEqual([
      [80, 'draining'],
      [8080, 'initial'],
    ]);
  });

  it('refuses to register a stopped instance, one in another VPC, or an unknown one', async () => {
    const { model, elbv2, webTg } = withTargets();
    const stopped = model.addInstance({ state: 'stopped' });
    const elsewhere = model.addInstance({ vpcId: model.addVpc().vpcId });
    await expect(
      elbv2.send(
        new RegisterTargetsCommand({ TargetGroupArn: webTg, Targets: [{ Id: stopped.instanceId }] }),
      ),
    ).rejects.toMatchObject({
      name: 'InvalidTargetException',
      message: expect.stringContaining('running state'),
    });
    await expect(
      elbv2.send(
        new RegisterTargetsCommand({ TargetGroupArn: webTg, Targets: [{ Id: elsewhere.instanceId }] }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidTargetException', message: expect.stringContaining('VPC') });
    await expect(
      elbv2.send(
        new DeregisterTargetsCommand({ TargetGroupArn: webTg, Targets: [{ Id: 'i-00000000000000bad' }] }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidTargetException' });
    await expect(
      elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: `${webTg}x` })),
    ).rejects.toMatchObject({ name: 'TargetGroupNotFoundException' });
  });

  it('registers a running instance, which starts in the initial state and turns healthy once settled', async () => {
    const { model, elbv2, webTg } = withTargets();
    const fresh = model.addInstance();
    await elbv2.send(
      new RegisterTargetsCommand({ TargetGroupArn: webTg, Targets: [{ Id: fresh.instanceId }] }),
    );
    expect(model.targetsOf(webTg).find((t) => t.id === fresh.instanceId)?.state).toBe('initial');
    model.settle();
    expect(model.targetsOf(webTg).find((t) => t.id === fresh.instanceId)?.state).toBe('healthy');
  });
});
