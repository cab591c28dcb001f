import { describe, expect, it } from '@jest/globals';
import { isolateEc2InstanceAction } from '../../shared/respond/actions/isolate-ec2-instance.js';
import { createActionContext } from '../../shared/respond/context.js';
import type { ActionOutcome } from '../../shared/respond/types.js';
import { instrument, rounds, type Span } from '../bench/respond.js';
import { Ec2Model } from '../support/aws-model/ec2.js';

function setup(options: Parameters<Ec2Model['addInstance']>[0] = {}) {
  const model = new Ec2Model({ region: 'us-east-1' });
  const { vpcId } = model.addVpc();
  const instance = model.addInstance({ vpcId, enis: 2, volumes: 2, ...options });
  const run = (
    kind: 'execute' | 'release',
    extra: { dryRun?: boolean; incident?: number } = {},
  ): Promise<ActionOutcome> => {
    const ctx = createActionContext({
      accountId: '111122223333',
      region: 'us-east-1',
      clients: model.clients() as never,
      reason: 'C2 traffic to 203.0.113.10',
      dryRun: extra.dryRun ?? false,
      incident: { number: extra.incident ?? 4242 },
    });
    const fn = kind === 'execute' ? isolateEc2InstanceAction.execute : isolateEc2InstanceAction.release;
    if (!fn) throw new Error('no release');
    return fn({ target: instance.instanceId }, ctx);
  };
  return { model, vpcId, instance, run };
}

describe('isolate-ec2-instance', () => {
  it('moves every ENI into the no-rule isolation group, after snapshots, protection and the recorded groups', async () => {
    const { model, vpcId, instance, run } = setup();
    const before = model.groupsOf(instance.instanceId);
    const outcome = await run('execute');
    expect(outcome).toMatchObject({ status: 'done', verified: true });
    const isolation = model.findGroup(vpcId, `ir-isolation-${vpcId}`);
    expect(isolation?.ingress).toEqual([]);
    expect(isolation?.egress).toEqual([]);
    const after = model.groupsOf(instance.instanceId);
    for (const eni of instance.eniIds) expect(after[eni]).toEqual([isolation?.groupId]);
    for (const eni of instance.eniIds) {
      expect(model.tagsOf(eni)['ir:original-groups']?.split(' ')).toEqual(before[eni]);
    }
    for (const volume of instance.volumeIds) {
      const [snapshot] = model.snapshotsOf(volume);
      expect(snapshot?.tags).toEqual(
        expect.arrayContaining([
          { Key: 'ir:incident', Value: '4242' },
          { Key: 'ir:reason', Value: 'C2 traffic to 203.0.113.10' },
          { Key: 'ir:instance', Value: instance.instanceId },
        ]),
      );
    }
    expect(model.tagsOf(instance.instanceId)).toMatchObject({
      'ir:status': 'isolated',
      'ir:incident': '4242',
    });
    expect(model.state.instances.get(instance.instanceId)?.disableApiTermination).toBe(true);
    // The conversion step came first for every ENI.
    const moves = model
      .calls('ModifyNetworkInterfaceAttribute')
      .map((c) => (c.input as { Groups?: string[] }).Groups?.[0]);
    const conversion = model.findGroup(vpcId, `ir-conversion-${vpcId}`)?.groupId;
    expect(moves).toEqual([conversion, conversion, isolation?.groupId, isolation?.groupId]);
    expect(outcome.release).toContain(`--target ${instance.instanceId} --incident 4242`);
  });

  it('changes nothing in a dry run and lists the exact writes', async () => {
    const { model, run } = setup();
    const before = model.snapshot();
    const outcome = await run('execute', { dryRun: true });
    expect(outcome.status).toBe('dry-run');
    expect(model.snapshot()).toEqual(before);
    const writes = outcome.calls.filter((c) => c.mutating);
    expect(writes.every((c) => c.skipped)).toBe(true);
    expect(writes.map((c) => c.operation)).toEqual(
      expect.arrayContaining([
        'CreateSecurityGroup',
        'CreateSnapshots',
        'ModifyInstanceAttribute',
        'ModifyNetworkInterfaceAttribute',
      ]),
    );
  });

  it('reports already-done on a second run and makes no extra snapshot or change', async () => {
    const { model, instance, run } = setup();
    await run('execute');
    const before = model.snapshot();
    const second = await run('execute');
    expect(second.status).toBe('already-done');
    expect(second.calls.every((c) => !c.mutating)).toBe(true);
    expect(model.snapshot()).toEqual(before);
    expect(model.snapshotsOf(instance.volumeIds[0] ?? '')).toHaveLength(1);
  });

  it('reuses the isolation group of the VPC for a second instance', async () => {
    const { model, vpcId, run } = setup();
    await run('execute');
    const other = model.addInstance({ vpcId, enis: 1, volumes: 1 });
    const ctx = createActionContext({
      accountId: '111122223333',
      region: 'us-east-1',
      clients: model.clients() as never,
      reason: 'r',
    });
    const outcome = await isolateEc2InstanceAction.execute({ target: other.instanceId }, ctx);
    expect(outcome.status).toBe('done');
    expect(outcome.calls.filter((c) => c.operation === 'CreateSecurityGroup')).toEqual([]);
  });

  it('releases: every ENI gets its own original groups back and the instance is tagged released', async () => {
    const { model, instance, run } = setup();
    const before = model.groupsOf(instance.instanceId);
    await run('execute');
    const released = await run('release');
    expect(released).toMatchObject({ status: 'done', verified: true });
    expect(model.groupsOf(instance.instanceId)).toEqual(before);
    expect(model.tagsOf(instance.instanceId)['ir:status']).toBe('released');
    for (const eni of instance.eniIds) expect(model.tagsOf(eni)['ir:original-groups']).toBeUndefined();
    expect((await run('release')).status).toBe('already-done');
  });

  it('refuses a protected instance and touches nothing', async () => {
    const { model, run } = setup({ tags: { 'ir:protected': 'true' } });
    const before = model.snapshot();
    const outcome = await run('execute');
    expect(outcome).toMatchObject({ status: 'refused', refusal: 'protected' });
    expect(model.snapshot()).toEqual(before);
  });

  it('reports failed, never done, when the read-back shows an ENI outside the isolation group', async () => {
    const { model, instance, run } = setup();
    model.ignoreNext('ModifyNetworkInterfaceAttribute', 4);
    const outcome = await run('execute');
    expect(outcome).toMatchObject({ status: 'failed', verified: false });
    expect(outcome.observed).toHaveProperty('networkInterfaces');
    // The isolated mark, written alongside the read-back, is taken back.
    expect(model.tagsOf(instance.instanceId)['ir:status']).toBe('isolating');
  });

  it('reports failed with the error name when AWS refuses a call, and can be resumed', async () => {
    const { model, instance, run } = setup();
    model.failNext('ModifyNetworkInterfaceAttribute', 'RequestLimitExceeded');
    const failed = await run('execute');
    expect(failed).toMatchObject({ status: 'failed' });
    expect(failed.reason).toMatch(/RequestLimitExceeded/);
    const resumed = await run('execute');
    expect(resumed).toMatchObject({ status: 'done', verified: true });
    // Resuming the same incident does not snapshot twice.
    expect(model.snapshotsOf(instance.volumeIds[0] ?? '')).toHaveLength(1);
    // The original groups recorded by the first attempt were kept, not overwritten by the conversion group.
    const released = await run('release');
    expect(released.status).toBe('done');
  });

  it('fails cleanly for an instance that does not exist', async () => {
    const model = new Ec2Model({ region: 'us-east-1' });
    const ctx = createActionContext({
      accountId: '111122223333',
      region: 'us-east-1',
      clients: model.clients() as never,
      reason: 'r',
    });
    const outcome = await isolateEc2InstanceAction.execute({ target: 'i-0000000000000dead' }, ctx);
    expect(outcome.status).toBe('failed');
  });
});

describe('isolate-ec2-instance optional steps', () => {
  it('detaches from the Auto Scaling group, deregisters from target groups and swaps the profile; release restores what it can', async () => {
    const model = new Ec2Model({ region: 'us-east-1' });
    const { vpcId } = model.addVpc();
    const tg = model.addTargetGroup({ name: 'web', vpcId, port: 80 });
    const instance = model.addInstance({
      vpcId,
      enis: 1,
      volumes: 1,
      asg: 'web-asg',
      targetGroups: [tg],
      profile: 'web-role',
    });
    const quarantine = model.addInstanceProfile('ir-quarantine');
    const original = model.profileOf(instance.instanceId)?.arn;
    const ctx = () =>
      createActionContext({
        accountId: '111122223333',
        region: 'us-east-1',
        clients: model.clients() as never,
        reason: 'r',
        incident: { number: 7 },
      });
    const options = {
      target: instance.instanceId,
      detachFromAutoScaling: true,
      deregisterFromTargetGroups: [tg],
      replaceInstanceProfile: quarantine.arn,
    };
    const outcome = await isolateEc2InstanceAction.execute(options, ctx());
    expect(outcome).toMatchObject({
      status: 'done',
      verified: true,
      observed: { autoScalingGroup: 'web-asg', instanceProfile: quarantine.arn },
    });
    model.settle();
    expect(model.asgOf(instance.instanceId)).toBeUndefined();
    expect(model.targetsOf(tg).map((t) => t.id)).not.toContain(instance.instanceId);
    expect(model.profileOf(instance.instanceId)?.arn).toBe(quarantine.arn);

    const release = isolateEc2InstanceAction.release;
    if (!release) throw new Error('release');
    const released = await release(options, ctx());
    expect(released).toMatchObject({ status: 'done', verified: true });
    model.settle();
    expect(model.profileOf(instance.instanceId)?.arn).toBe(original);
    expect(model.targetsOf(tg).map((t) => t.id)).toContain(instance.instanceId);
    expect(model.tagsOf(instance.instanceId)['ir:original-profile']).toBeUndefined();
  });

  it('refuses malformed option values before any call', () => {
    expect(
      isolateEc2InstanceAction.input.safeParse({
        target: 'i-0123456789abcdef0',
        replaceInstanceProfile: 'my-profile',
      }).success,
    ).toBe(false);
    expect(
      isolateEc2InstanceAction.input.safeParse({
        target: 'i-0123456789abcdef0',
        deregisterFromTargetGroups: ['tg-1'],
      }).success,
    ).toBe(false);
    expect(
      isolateEc2InstanceAction.input.safeParse({ target: 'i-0123456789abcdef0', surprise: true }).success,
    ).toBe(false);
  });
});

/** Calls answered after `delayMs` each, with their spans: `rounds()` gives the sequential depth, as in the bench. */
function timed(model: Ec2Model, delayMs = 20) {
  const spans: Span[] = [];
  const execute = (target: string, incident = 4242): Promise<ActionOutcome> =>
    isolateEc2InstanceAction.execute(
      { target },
      createActionContext({
        accountId: '111122223333',
        region: 'us-east-1',
        clients: instrument(model.clients(), delayMs, false, spans) as never,
        reason: 'C2 traffic to 203.0.113.10',
        incident: { number: incident },
      }),
    );
  const sortedRounds = (): string[][] => rounds(spans).map((r) => [...r].sort());
  return { spans, execute, sortedRounds };
}

const ALL_OPEN_INGRESS = [
  { IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }], Ipv6Ranges: [{ CidrIpv6: '::/0' }] },
];

function groupsNamed(model: Ec2Model, name: string) {
  return [...model.state.securityGroups.values()].filter((g) => g.groupName === name);
}

describe('isolate-ec2-instance concurrency', () => {
  it('isolates the first instance of a VPC in six rounds of calls, evidence settled before any ENI moves', async () => {
    const { model, instance } = setup();
    const { execute, spans, sortedRounds } = timed(model);
    const outcome = await execute(instance.instanceId);
    expect(outcome).toMatchObject({ status: 'done', verified: true });
    expect(sortedRounds()).toEqual([
      ['DescribeInstances', 'DescribeNetworkInterfaces', 'DescribeSecurityGroups'],
      [
        'CreateSecurityGroup',
        'CreateSecurityGroup',
        'CreateSnapshots',
        'CreateTags',
        'CreateTags',
        'CreateTags',
        'ModifyInstanceAttribute',
      ],
      ['AuthorizeSecurityGroupIngress', 'CreateTags', 'RevokeSecurityGroupEgress'],
      ['ModifyNetworkInterfaceAttribute', 'ModifyNetworkInterfaceAttribute'],
      ['ModifyNetworkInterfaceAttribute', 'ModifyNetworkInterfaceAttribute'],
      ['CreateTags', 'DescribeNetworkInterfaces'],
    ]);
    // Snapshots, protection and the recorded groups ended before the first ENI move started.
    const firstMove = Math.min(
      ...spans.filter((s) => s.operation === 'ModifyNetworkInterfaceAttribute').map((s) => s.start),
    );
    for (const operation of ['CreateSnapshots', 'ModifyInstanceAttribute', 'AuthorizeSecurityGroupIngress']) {
      const span = spans.find((s) => s.operation === operation);
      expect(span?.end).toBeLessThanOrEqual(firstMove);
    }
  });

  it('isolates a second instance of the VPC in five rounds, reusing the groups without a write to them', async () => {
    const { model, vpcId, run } = setup();
    await run('execute');
    const other = model.addInstance({ vpcId, enis: 2, volumes: 2 });
    const { execute, sortedRounds } = timed(model);
    const outcome = await execute(other.instanceId, 4243);
    expect(outcome).toMatchObject({ status: 'done', verified: true });
    expect(sortedRounds()).toEqual([
      ['DescribeInstances', 'DescribeNetworkInterfaces', 'DescribeSecurityGroups'],
      ['CreateSnapshots', 'CreateTags', 'CreateTags', 'CreateTags', 'ModifyInstanceAttribute'],
      ['CreateTags', 'ModifyNetworkInterfaceAttribute', 'ModifyNetworkInterfaceAttribute'],
      ['ModifyNetworkInterfaceAttribute', 'ModifyNetworkInterfaceAttribute'],
      ['CreateTags', 'DescribeNetworkInterfaces'],
    ]);
  });

  it('creates one isolation group per VPC when two instances of the VPC are isolated at once', async () => {
    const { model, vpcId, instance } = setup();
    const other = model.addInstance({ vpcId, enis: 2, volumes: 1 });
    const { execute } = timed(model, 5);
    const outcomes = await Promise.all([execute(instance.instanceId), execute(other.instanceId)]);
    for (const outcome of outcomes) expect(outcome).toMatchObject({ status: 'done', verified: true });
    const [isolation, ...extraIsolation] = groupsNamed(model, `ir-isolation-${vpcId}`);
    expect(extraIsolation).toEqual([]);
    expect(groupsNamed(model, `ir-conversion-${vpcId}`)).toHaveLength(1);
    expect(isolation?.ingress).toEqual([]);
    expect(isolation?.egress).toEqual([]);
    // The run that lost the race was told the groups exist and used them.
    const duplicates = model.calls('CreateSecurityGroup').filter((c) => c.error === 'InvalidGroup.Duplicate');
    expect(duplicates).toHaveLength(2);
    for (const id of [instance.instanceId, other.instanceId]) {
      for (const groups of Object.values(model.groupsOf(id))) expect(groups).toEqual([isolation?.groupId]);
    }
  });

  it('empties a reused isolation group that a failed run left with its default egress rule', async () => {
    const { model, vpcId, instance, run } = setup();
    model.failNext('RevokeSecurityGroupEgress', 'RequestLimitExceeded');
    const failed = await run('execute');
    expect(failed).toMatchObject({ status: 'failed' });
    expect(model.findGroup(vpcId, `ir-isolation-${vpcId}`)?.egress).not.toEqual([]);
    // No ENI moved while the isolation group was not ready.
    expect(model.calls('ModifyNetworkInterfaceAttribute')).toEqual([]);
    const resumed = await run('execute');
    expect(resumed).toMatchObject({ status: 'done', verified: true });
    expect(model.findGroup(vpcId, `ir-isolation-${vpcId}`)?.egress).toEqual([]);
    expect(model.snapshotsOf(instance.volumeIds[0] ?? '')).toHaveLength(1);
  });

  it('leaves no ENI in the all-open conversion group when the move of another ENI fails', async () => {
    const { model, vpcId, instance, run } = setup();
    const before = model.groupsOf(instance.instanceId);
    model.failNext('ModifyNetworkInterfaceAttribute', 'RequestLimitExceeded');
    const failed = await run('execute');
    expect(failed.status).toBe('failed');
    expect(failed.reason).toMatch(/RequestLimitExceeded/);
    expect(failed.release).toContain(`--target ${instance.instanceId}`);
    const isolation = model.findGroup(vpcId, `ir-isolation-${vpcId}`)?.groupId;
    const conversion = model.findGroup(vpcId, `ir-conversion-${vpcId}`)?.groupId;
    const [refused, moved] = instance.eniIds;
    const after = model.groupsOf(instance.instanceId);
    expect(after[refused ?? '']).toEqual(before[refused ?? '']);
    expect(after[moved ?? '']).toEqual([isolation]);
    expect(Object.values(after).flat()).not.toContain(conversion);
    // Every call the model answered is in the outcome: none was still running when it was built.
    expect(failed.calls).toHaveLength(model.calls().length);
    // Both ENIs carry their original groups, so release puts both back.
    const released = await run('release');
    expect(released).toMatchObject({ status: 'done', verified: true });
    expect(model.groupsOf(instance.instanceId)).toEqual(before);
  });

  it('moves no ENI when a concurrent evidence write fails, and takes the snapshots when resumed', async () => {
    const { model, instance, run } = setup();
    const before = model.groupsOf(instance.instanceId);
    model.failNext('CreateSnapshots', 'SnapshotCreationPerVolumeRateExceeded');
    const failed = await run('execute');
    expect(failed.status).toBe('failed');
    expect(failed.reason).toMatch(/SnapshotCreationPerVolumeRateExceeded/);
    expect(model.groupsOf(instance.instanceId)).toEqual(before);
    expect(model.calls('ModifyNetworkInterfaceAttribute')).toEqual([]);
    // The other writes of the round finished and are in the outcome, with the way back recorded.
    expect(failed.calls).toHaveLength(model.calls().length);
    expect(failed.calls.map((c) => c.operation)).toEqual(
      expect.arrayContaining(['ModifyInstanceAttribute', 'CreateTags']),
    );
    for (const eni of instance.eniIds) {
      expect(model.tagsOf(eni)['ir:original-groups']?.split(' ')).toEqual(before[eni]);
    }
    expect(failed.release).toBeDefined();
    // The instance is marked isolating for the incident, yet the resumed run still takes the snapshots.
    expect(model.tagsOf(instance.instanceId)['ir:status']).toBe('isolating');
    const resumed = await run('execute');
    expect(resumed).toMatchObject({ status: 'done', verified: true });
    for (const volume of instance.volumeIds) expect(model.snapshotsOf(volume)).toHaveLength(1);
  });

  it('reports failed when the isolated mark cannot be written, with the concurrent read-back recorded', async () => {
    const { model, instance, run } = setup();
    // Three records and the snapshot mark go through; the fifth CreateTags is the isolated mark.
    model.failNext('CreateTags', 'RequestLimitExceeded', { after: 4 });
    const outcome = await run('execute');
    expect(outcome.status).toBe('failed');
    expect(outcome.reason).toMatch(/RequestLimitExceeded/);
    expect(outcome.calls.at(-1)?.operation).toBe('DescribeNetworkInterfaces');
    expect(model.tagsOf(instance.instanceId)['ir:status']).toBe('isolating');
    expect((await run('execute')).status).toBe('done');
  });

  it('reports failed, never done, when the isolation group has inbound rules it cannot remove', async () => {
    const model = new Ec2Model({ region: 'us-east-1' });
    const { vpcId } = model.addVpc();
    const isolation = model.addSecurityGroup({
      vpcId,
      name: `ir-isolation-${vpcId}`,
      ingress: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
      egress: [],
    });
    const instance = model.addInstance({ vpcId, enis: 2, volumes: 1 });
    const outcome = await timed(model, 1).execute(instance.instanceId);
    expect(outcome).toMatchObject({ status: 'failed', verified: false });
    expect(outcome.reason).toMatch(/inbound rules/);
    expect(model.tagsOf(instance.instanceId)['ir:status']).toBe('isolating');
    for (const groups of Object.values(model.groupsOf(instance.instanceId)))
      expect(groups).toEqual([isolation]);
  });

  it('finds the groups of the VPC when the region-wide listing of isolation groups has more than a page', async () => {
    const model = new Ec2Model({ region: 'us-east-1', pageSize: 3 });
    for (let i = 0; i < 3; i++) {
      const other = model.addVpc().vpcId;
      model.addSecurityGroup({ vpcId: other, name: `ir-isolation-${other}`, egress: [] });
      model.addSecurityGroup({ vpcId: other, name: `ir-conversion-${other}`, ingress: ALL_OPEN_INGRESS });
    }
    const { vpcId } = model.addVpc();
    const isolation = model.addSecurityGroup({ vpcId, name: `ir-isolation-${vpcId}`, egress: [] });
    model.addSecurityGroup({ vpcId, name: `ir-conversion-${vpcId}`, ingress: ALL_OPEN_INGRESS });
    const instance = model.addInstance({ vpcId, enis: 2, volumes: 1 });
    const outcome = await timed(model, 1).execute(instance.instanceId);
    expect(outcome).toMatchObject({ status: 'done', verified: true });
    expect(model.calls('DescribeSecurityGroups')).toHaveLength(2);
    for (const operation of [
      'CreateSecurityGroup',
      'RevokeSecurityGroupEgress',
      'AuthorizeSecurityGroupIngress',
    ]) {
      expect(model.calls(operation)).toEqual([]);
    }
    for (const groups of Object.values(model.groupsOf(instance.instanceId)))
      expect(groups).toEqual([isolation]);
  });
});
