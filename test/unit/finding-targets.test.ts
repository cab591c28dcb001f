import { describe, expect, it } from '@jest/globals';
import { extractIncident } from '../../shared/domain/respond/incident.js';
import { resolveFindingTargets } from '../../shared/respond/incident-response.js';
import { AwsAccountModel } from '../support/aws-model/index.js';
import { guardDutyFinding } from '../support/events.js';

const FINDING_ID = '90b82273685661b9318f078d0851fe9a';

function incidentNaming(details: Record<string, string[]>) {
  const parsed = extractIncident({
    name: 'inc-1',
    properties: {
      incidentNumber: 7,
      severity: 'High',
      alerts: [{ properties: { additionalData: { 'Custom Details': JSON.stringify(details) } } }],
    },
  });
  if (!parsed.ok) throw new Error('fixture');
  return parsed.value;
}

describe('targets of an incident that names only a GuardDuty finding', () => {
  it('reads the finding (GetFindings) to learn the instance, in the finding account and region', async () => {
    const account = new AwsAccountModel('111122223333', 'us-east-1');
    account.guardduty.addDetector();
    account.guardduty.addFinding(guardDutyFinding(1, { id: FINDING_ID }));
    const seen: string[] = [];
    const resolved = await resolveFindingTargets(
      incidentNaming({ AwsAccountId: ['111122223333'], AwsRegion: ['us-east-1'], FindingId: [FINDING_ID] }),
      (accountId, region, session) => {
        seen.push(`${accountId}/${region}/${session}`);
        return account.clients();
      },
      'sentinel-7',
    );
    expect(
      resolved.targets.map((t) => [t.kind, t.id, t.accountId, t.region, t.source, t.findingType]),
    ).toEqual([
      [
        'ec2-instance',
        'i-00000000000000001',
        '111122223333',
        'us-east-1',
        'finding',
        'Backdoor:EC2/C&CActivity.B!DNS',
      ],
    ]);
    expect(seen).toEqual(['111122223333/us-east-1/sentinel-7']);
  });

  it('learns an access key from an AccessKey finding, acted on through us-east-1', async () => {
    const account = new AwsAccountModel('111122223333', 'eu-west-1');
    account.guardduty.addDetector();
    account.guardduty.addFinding(
      guardDutyFinding(2, {
        id: FINDING_ID,
        region: 'eu-west-1',
        type: 'UnauthorizedAccess:IAMUser/TorIPCaller',
        resource: {
          resourceType: 'AccessKey',
          accessKeyDetails: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', userName: 'alice', userType: 'IAMUser' },
        },
      }),
    );
    const resolved = await resolveFindingTargets(
      incidentNaming({ AwsAccountId: ['111122223333'], AwsRegion: ['eu-west-1'], FindingId: [FINDING_ID] }),
      () => account.clients(),
      's',
    );
    expect(resolved.targets.map((t) => [t.kind, t.id, t.region])).toEqual([
      ['access-key', 'AKIAIOSFODNN7EXAMPLE', 'us-east-1'],
    ]);
  });

  it('keeps planning with a note when the finding cannot be read', async () => {
    const account = new AwsAccountModel();
    account.guardduty.addDetector();
    account.guardduty.failNext('GetFindings', 'AccessDeniedException');
    const resolved = await resolveFindingTargets(
      incidentNaming({ AwsAccountId: ['111122223333'], AwsRegion: ['us-east-1'], FindingId: [FINDING_ID] }),
      () => account.clients(),
      's',
    );
    expect(resolved.targets).toEqual([]);
    expect(resolved.ignored).toEqual([
      expect.stringMatching(new RegExp(`finding ${FINDING_ID} could not be read \\(AccessDenied`)),
    ]);
  });
});
