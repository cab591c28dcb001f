/**
 * The IAM and GuardDuty models behind the real SDK clients: they answer like the services do (shapes, error
 * classes and codes, URL-encoded policy documents, limits), so action tests against them mean something.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ArchiveFindingsCommand,
  BadRequestException,
  CreateDetectorCommand,
  GetFindingsCommand,
  ListDetectorsCommand,
  UnarchiveFindingsCommand,
  UpdateFindingsFeedbackCommand,
} from '@aws-sdk/client-guardduty';
import {
  CreateUserCommand,
  GetAccessKeyLastUsedCommand,
  GetLoginProfileCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  IAMServiceException,
  ListAccessKeysCommand,
  ListInstanceProfilesForRoleCommand,
  ListRolePoliciesCommand,
  ListUserPoliciesCommand,
  ListUserTagsCommand,
  NoSuchEntityException,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
  TagUserCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { GuardDutyModel } from '../support/aws-model/guardduty.js';
import { IamModel } from '../support/aws-model/iam.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'guardduty');
const fixture = (name: string): unknown => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8'));

const KEY_A = 'AKIAALICE00000000001';
const KEY_B = 'AKIAALICE00000000002';
const ROOT_KEY = 'AKIAROOT000000000001';

function seeded(): IamModel {
  return new IamModel()
    .addUser('alice', { tags: { team: 'web' }, loginProfile: true, policies: { read: { Statement: [] } } })
    .addAccessKey('alice', KEY_A, {
      lastUsed: { date: new Date('2024-05-01T10:00:00Z'), service: 's3', region: 'eu-west-1' },
    })
    .addAccessKey('alice', KEY_B, { status: 'Inactive' })
    .addUser('bob')
    .addRole('web-role', { tags: { app: 'web' }, policies: { s3: { Statement: [] } } })
    .addRole('AWSServiceRoleForSupport', { path: '/aws-service-role/support.amazonaws.com/' })
    .addInstanceProfile('web-profile', ['web-role'])
    .addRootAccessKey(ROOT_KEY);
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`rejected with a non-Error: ${String(error)}`);
  }
  throw new Error('expected a rejection');
}

describe('IamModel', () => {
  it('answers GetAccessKeyLastUsed with the owning user and last use, N/A for a key never used', async () => {
    const iam = seeded();
    const used = await iam.client.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: KEY_A }));
    expect(used.UserName).toBe('alice');
    expect(used.AccessKeyLastUsed).toEqual({
      LastUsedDate: new Date('2024-05-01T10:00:00Z'),
      ServiceName: 's3',
      Region: 'eu-west-1',
    });
    const unused = await iam.client.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: KEY_B }));
    expect(unused.AccessKeyLastUsed).toEqual({ ServiceName: 'N/A', Region: 'N/A' });
  });

  it('reports a root key without a user name, or with the name it is seeded to report', async () => {
    const iam = seeded().addRootAccessKey('AKIAROOT000000000002', { reportedUserName: 'root' });
    expect((await iam.client.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: ROOT_KEY }))).UserName).toBe(
      undefined,
    );
    const named = await iam.client.send(
      new GetAccessKeyLastUsedCommand({ AccessKeyId: 'AKIAROOT000000000002' }),
    );
    expect(named.UserName).toBe('root');
  });

  it('rejects an unknown entity with the SDK exception class: name NoSuchEntityException, Code NoSuchEntity', async () => {
    const iam = seeded();
    const error = await rejection(
      iam.client.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: 'AKIAUNKNOWN000000001' })),
    );
    expect(error).toBeInstanceOf(NoSuchEntityException);
    expect(error.name).toBe('NoSuchEntityException');
    expect(error).toMatchObject({
      Code: 'NoSuchEntity',
      $fault: 'client',
      $metadata: { httpStatusCode: 404 },
    });
    await expect(iam.client.send(new GetUserCommand({ UserName: 'nobody' }))).rejects.toThrow(
      'The user with name nobody cannot be found.',
    );
    await expect(iam.client.send(new GetRoleCommand({ RoleName: 'nobody' }))).rejects.toBeInstanceOf(
      NoSuchEntityException,
    );
  });

  it('lists and updates keys only for their owner, and refuses calls that would act on the caller', async () => {
    const iam = seeded();
    const listed = await iam.client.send(new ListAccessKeysCommand({ UserName: 'alice' }));
    expect(listed.AccessKeyMetadata?.map((k) => [k.AccessKeyId, k.Status])).toEqual([
      [KEY_A, 'Active'],
      [KEY_B, 'Inactive'],
    ]);
    expect(listed.IsTruncated).toBe(false);
    await expect(
      iam.client.send(
        new UpdateAccessKeyCommand({ UserName: 'bob', AccessKeyId: KEY_A, Status: 'Inactive' }),
      ),
    ).rejects.toBeInstanceOf(NoSuchEntityException);
    const implicit = await rejection(
      iam.client.send(new UpdateAccessKeyCommand({ AccessKeyId: KEY_A, Status: 'Inactive' })),
    );
    expect(implicit.name).toBe('ValidationError');
    expect(iam.keyStatus(KEY_A)).toBe('Active');
    await iam.client.send(
      new UpdateAccessKeyCommand({ UserName: 'alice', AccessKeyId: KEY_A, Status: 'Inactive' }),
    );
    expect(iam.keyStatus(KEY_A)).toBe('Inactive');
  });

  it('holds at most two access keys per user', () => {
    expect(() => seeded().addAccessKey('alice', 'AKIAALICE00000000003')).toThrow('2 access keys per user');
  });

  it('treats user and role names case-insensitively, as IAM does', async () => {
    const iam = seeded();
    const user = await iam.client.send(new GetUserCommand({ UserName: 'ALICE' }));
    expect(user.User?.UserName).toBe('alice');
    expect(user.User?.Arn).toBe('arn:aws:iam::111122223333:user/alice');
    expect(user.User?.Tags).toEqual([{ Key: 'team', Value: 'web' }]);
    expect(() => iam.addUser('Alice')).toThrow('exists');
  });

  it('returns inline policy documents URL-encoded and lists policy names', async () => {
    const iam = seeded();
    const document = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Deny', Action: '*', Resource: '*' }],
    });
    await iam.client.send(
      new PutUserPolicyCommand({ UserName: 'alice', PolicyName: 'deny', PolicyDocument: document }),
    );
    const got = await iam.client.send(new GetUserPolicyCommand({ UserName: 'alice', PolicyName: 'deny' }));
    expect(got.PolicyDocument).toBe(encodeURIComponent(document));
    expect(got.PolicyDocument).toContain('%22Effect%22');
    expect(decodeURIComponent(got.PolicyDocument ?? '')).toBe(document);
    expect((await iam.client.send(new ListUserPoliciesCommand({ UserName: 'alice' }))).PolicyNames).toEqual([
      'read',
      'deny',
    ]);
    await iam.client.send(
      new PutRolePolicyCommand({ RoleName: 'web-role', PolicyName: 'deny', PolicyDocument: document }),
    );
    const role = await iam.client.send(
      new GetRolePolicyCommand({ RoleName: 'web-role', PolicyName: 'deny' }),
    );
    expect(role.PolicyDocument).toBe(encodeURIComponent(document));
    expect(
      (await iam.client.send(new ListRolePoliciesCommand({ RoleName: 'web-role' }))).PolicyNames,
    ).toEqual(['s3', 'deny']);
    const assume = (await iam.client.send(new GetRoleCommand({ RoleName: 'web-role' }))).Role
      ?.AssumeRolePolicyDocument;
    expect(JSON.parse(decodeURIComponent(assume ?? ''))).toMatchObject({ Version: '2012-10-17' });
  });

  it('refuses malformed documents, oversized inline policies and service-linked roles', async () => {
    const iam = seeded();
    const malformed = await rejection(
      iam.client.send(
        new PutUserPolicyCommand({ UserName: 'alice', PolicyName: 'x', PolicyDocument: '{not json' }),
      ),
    );
    expect(malformed.name).toBe('MalformedPolicyDocumentException');
    const big = JSON.stringify({ Statement: [{ Effect: 'Allow', Action: 'x'.repeat(2100), Resource: '*' }] });
    const tooBig = await rejection(
      iam.client.send(
        new PutUserPolicyCommand({ UserName: 'alice', PolicyName: 'big', PolicyDocument: big }),
      ),
    );
    expect(tooBig.name).toBe('LimitExceededException');
    expect(iam.userPolicy('alice', 'big')).toBeUndefined();
    const linked = await rejection(
      iam.client.send(
        new PutRolePolicyCommand({
          RoleName: 'AWSServiceRoleForSupport',
          PolicyName: 'x',
          PolicyDocument: '{"Statement":[]}',
        }),
      ),
    );
    expect(linked.name).toBe('UnmodifiableEntityException');
  });

  it('validates tag values with the IAM character set (no commas) and merges tags by key', async () => {
    const iam = seeded();
    const comma = await rejection(
      iam.client.send(new TagUserCommand({ UserName: 'alice', Tags: [{ Key: 'ir:keys', Value: 'a,b' }] })),
    );
    expect(comma.name).toBe('ValidationError');
    await iam.client.send(
      new TagUserCommand({ UserName: 'alice', Tags: [{ Key: 'team', Value: 'payments' }] }),
    );
    expect(iam.snapshot().users.alice?.tags).toEqual({ team: 'payments' });
  });

  it('pages List calls with MaxItems and Marker', async () => {
    const iam = new IamModel().addUser('carol', { tags: { a: '1', b: '2', c: '3' } });
    const first = await iam.client.send(new ListUserTagsCommand({ UserName: 'carol', MaxItems: 2 }));
    expect(first.Tags?.map((t) => t.Key)).toEqual(['a', 'b']);
    expect(first.IsTruncated).toBe(true);
    const second = await iam.client.send(
      new ListUserTagsCommand({ UserName: 'carol', Marker: first.Marker }),
    );
    expect(second.Tags?.map((t) => t.Key)).toEqual(['c']);
    expect(second.IsTruncated).toBe(false);
  });

  it('lists the instance profiles that use a role, with the role in them', async () => {
    const iam = seeded();
    const listed = await iam.client.send(new ListInstanceProfilesForRoleCommand({ RoleName: 'web-role' }));
    expect(listed.InstanceProfiles?.map((p) => p.InstanceProfileName)).toEqual(['web-profile']);
    expect(listed.InstanceProfiles?.[0]?.Roles?.[0]?.RoleName).toBe('web-role');
  });

  it('answers GetLoginProfile, and NoSuchEntity for a user without a password', async () => {
    const iam = seeded();
    const profile = await iam.client.send(new GetLoginProfileCommand({ UserName: 'alice' }));
    expect(profile.LoginProfile).toMatchObject({ UserName: 'alice', PasswordResetRequired: false });
    await expect(iam.client.send(new GetLoginProfileCommand({ UserName: 'bob' }))).rejects.toThrow(
      'Login Profile for User bob cannot be found.',
    );
  });

  it('fails the next call with a modelled or an unmodelled code', async () => {
    const iam = seeded().failNext('GetUser', 'NoSuchEntity').failNext('GetUser', 'AccessDenied');
    const modelled = await rejection(iam.client.send(new GetUserCommand({ UserName: 'alice' })));
    expect(modelled).toBeInstanceOf(NoSuchEntityException);
    const unmodelled = await rejection(iam.client.send(new GetUserCommand({ UserName: 'alice' })));
    expect(unmodelled).toBeInstanceOf(IAMServiceException);
    expect(unmodelled.name).toBe('AccessDenied');
    expect((await iam.client.send(new GetUserCommand({ UserName: 'alice' }))).User?.UserName).toBe('alice');
  });

  it('ignores the next write: success is answered and nothing changes, then writes apply again', async () => {
    const iam = seeded().ignoreNext('UpdateAccessKey');
    const before = iam.snapshot();
    const ignored = await iam.client.send(
      new UpdateAccessKeyCommand({ UserName: 'alice', AccessKeyId: KEY_A, Status: 'Inactive' }),
    );
    expect(ignored.$metadata.httpStatusCode).toBe(200);
    expect(iam.snapshot()).toEqual(before);
    await iam.client.send(
      new UpdateAccessKeyCommand({ UserName: 'alice', AccessKeyId: KEY_A, Status: 'Inactive' }),
    );
    expect(iam.keyStatus(KEY_A)).toBe('Inactive');
  });

  it('still validates an ignored write', async () => {
    const iam = seeded().ignoreNext('UpdateAccessKey');
    await expect(
      iam.client.send(
        new UpdateAccessKeyCommand({ UserName: 'bob', AccessKeyId: KEY_A, Status: 'Inactive' }),
      ),
    ).rejects.toBeInstanceOf(NoSuchEntityException);
  });

  it('rejects an operation it does not model with a clear error', async () => {
    const iam = seeded();
    const error = await rejection(iam.client.send(new CreateUserCommand({ UserName: 'eve' })));
    expect(error.name).toBe('UnmodelledOperation');
    expect(error.message).toBe('IamModel does not model IAM CreateUser');
  });

  it('snapshots plain data that later changes do not alter, and records every call', async () => {
    const iam = seeded();
    const before = iam.snapshot();
    expect(before.users.alice).toEqual({
      path: '/',
      tags: { team: 'web' },
      accessKeys: { [KEY_A]: 'Active', [KEY_B]: 'Inactive' },
      loginProfile: true,
      policies: { read: '{"Statement":[]}' },
    });
    expect(before.rootAccessKeys).toEqual({ [ROOT_KEY]: 'Active' });
    expect(before.instanceProfiles).toEqual({ 'web-profile': { roles: ['web-role'] } });
    await iam.client.send(
      new UpdateAccessKeyCommand({ UserName: 'alice', AccessKeyId: KEY_A, Status: 'Inactive' }),
    );
    expect(before.users.alice?.accessKeys[KEY_A]).toBe('Active');
    expect(iam.snapshot()).not.toEqual(before);
    expect(iam.calls).toEqual([
      { operation: 'UpdateAccessKey', input: { UserName: 'alice', AccessKeyId: KEY_A, Status: 'Inactive' } },
    ]);
    expect(iam.writeCalls()).toEqual(['UpdateAccessKey']);
  });
});

describe('GuardDutyModel', () => {
  const IAM_FINDING = '30bf285e52a1e405084ff6ec28e06e17';

  it('seeds a finding from its real JSON into the SDK shape, on the detector the finding names', async () => {
    const gd = new GuardDutyModel();
    const stored = gd.addFinding(fixture('gdar-sample-iam-finding-detail.json'));
    expect(stored.Id).toBe(IAM_FINDING);
    expect(stored.Type).toBe('Recon:IAMUser/MaliciousIPCaller.Custom');
    expect(stored.Resource?.AccessKeyDetails?.UserName).toBe('GeneratedFindingUserName');
    expect(stored.Service?.DetectorId).toBe('48bf285e13736c6c722945805b3e224a');
    // The sample was exported from an archived finding: the state comes from the JSON.
    expect(stored.Service?.Archived).toBe(true);
    const listed = await gd.client.send(new ListDetectorsCommand({}));
    expect(listed.DetectorIds).toEqual(['48bf285e13736c6c722945805b3e224a']);
    const got = await gd.client.send(
      new GetFindingsCommand({
        DetectorId: '48bf285e13736c6c722945805b3e224a',
        FindingIds: [IAM_FINDING, 'f'.repeat(32)],
      }),
    );
    expect(got.Findings?.map((f) => f.Id)).toEqual([IAM_FINDING]);
    expect(got.Findings?.[0]?.Resource?.InstanceDetails?.NetworkInterfaces?.[0]?.SecurityGroups?.[0]).toEqual(
      {
        GroupName: 'GeneratedFindingSecurityGroupName',
        GroupId: 'GeneratedFindingSecurityId',
      },
    );
  });

  it('accepts an EventBridge envelope and overrides of id, detector and archive state', () => {
    const gd = new GuardDutyModel();
    const detector = gd.addDetector('a'.repeat(32));
    const stored = gd.addFinding(fixture('custodian-iam-duty-event.json'), {
      id: 'b'.repeat(32),
      detectorId: detector,
      archived: true,
    });
    expect(stored.Type).toBe('UnauthorizedAccess:IAMUser/TorIPCaller');
    expect(stored.Id).toBe('b'.repeat(32));
    expect(gd.finding('b'.repeat(32), detector)?.Service?.Archived).toBe(true);
  });

  it('rejects an unknown detector with BadRequestException', async () => {
    const gd = new GuardDutyModel();
    gd.addFinding(fixture('gdar-sample-iam-finding-detail.json'));
    const error = await rejection(
      gd.client.send(new GetFindingsCommand({ DetectorId: 'c'.repeat(32), FindingIds: [IAM_FINDING] })),
    );
    expect(error).toBeInstanceOf(BadRequestException);
    expect(error.message).toContain('detectorId is not owned by the current account');
  });

  it('archives, unarchives and records feedback, refusing unknown finding ids', async () => {
    const gd = new GuardDutyModel();
    gd.addFinding(fixture('gdar-sample-iam-finding-detail.json'));
    const ids = { DetectorId: '48bf285e13736c6c722945805b3e224a', FindingIds: [IAM_FINDING] };
    await gd.client.send(
      new UpdateFindingsFeedbackCommand({ ...ids, Feedback: 'USEFUL', Comments: 'contained' }),
    );
    await gd.client.send(new ArchiveFindingsCommand(ids));
    expect(gd.finding(IAM_FINDING)?.Service).toMatchObject({ Archived: true, UserFeedback: 'USEFUL' });
    expect(gd.feedback).toEqual([
      { detectorId: ids.DetectorId, findingIds: [IAM_FINDING], feedback: 'USEFUL', comments: 'contained' },
    ]);
    await gd.client.send(new UnarchiveFindingsCommand(ids));
    expect(gd.finding(IAM_FINDING)?.Service?.Archived).toBe(false);
    await expect(
      gd.client.send(new ArchiveFindingsCommand({ ...ids, FindingIds: ['d'.repeat(32)] })),
    ).rejects.toBeInstanceOf(BadRequestException);
    expect(gd.writeCalls()).toEqual([
      'UpdateFindingsFeedback',
      'ArchiveFindings',
      'UnarchiveFindings',
      'ArchiveFindings',
    ]);
  });

  it('fails, ignores and refuses unmodelled operations like the IAM model', async () => {
    const gd = new GuardDutyModel();
    gd.addFinding(fixture('gdar-sample-iam-finding-detail.json'));
    const ids = { DetectorId: '48bf285e13736c6c722945805b3e224a', FindingIds: [IAM_FINDING] };
    gd.failNext('ArchiveFindings', 'AccessDeniedException').ignoreNext('ArchiveFindings');
    expect((await rejection(gd.client.send(new ArchiveFindingsCommand(ids)))).name).toBe(
      'AccessDeniedException',
    );
    const before = gd.snapshot();
    await gd.client.send(new ArchiveFindingsCommand(ids));
    expect(gd.snapshot()).toEqual(before);
    const error = await rejection(gd.client.send(new CreateDetectorCommand({ Enable: true })));
    expect(error.message).toBe('GuardDutyModel does not model GuardDuty CreateDetector');
  });
});
