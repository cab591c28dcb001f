import { describe, expect, it } from '@jest/globals';
import {
  classifyLogObjectKey,
  holdsCloudTrailRecords,
  isCloudTrailLogKey,
} from '../../shared/domain/s3/object-kinds.js';

const ACCOUNT = '111122223333';

describe('S3 log object keys', () => {
  it('recognises CloudTrail log files, with or without a prefix and an organization folder', () => {
    expect(
      classifyLogObjectKey(
        `AWSLogs/${ACCOUNT}/CloudTrail/us-east-2/2015/08/01/${ACCOUNT}_CloudTrail_us-east-2_20150801T0210Z_Mu0KsOhtH1ar15ZZ.json.gz`,
      ),
    ).toEqual({ kind: 'cloudtrail', accountId: ACCOUNT, region: 'us-east-2' });
    expect(
      classifyLogObjectKey(
        `trails/prod/AWSLogs/o-aa11bb22cc/${ACCOUNT}/CloudTrail/eu-west-1/2026/07/22/${ACCOUNT}_CloudTrail_eu-west-1_20260722T1850Z_p3Xq8LmN2vRt6YwZ.json.gz`,
      ),
    ).toEqual({
      kind: 'cloudtrail',
      accountId: ACCOUNT,
      region: 'eu-west-1',
      organizationId: 'o-aa11bb22cc',
    });
    // The Landing Zone Accelerator layout: the organization id as prefix and as folder.
    expect(
      classifyLogObjectKey(
        `o-aa11bb22cc/AWSLogs/o-aa11bb22cc/${ACCOUNT}/CloudTrail/ca-central-1/2026/07/22/${ACCOUNT}_CloudTrail_ca-central-1_20260722T0516Z_KL5e9VCV2SS7IqzB.json.gz`,
      ).kind,
    ).toBe('cloudtrail');
  });

  it('reads GovCloud, China and ISO region codes', () => {
    for (const region of [
      'us-gov-west-1',
      'cn-north-1',
      'us-isob-east-1',
      'ap-southeast-5',
      'il-central-1',
    ]) {
      const key = `AWSLogs/${ACCOUNT}/CloudTrail/${region}/2026/07/22/${ACCOUNT}_CloudTrail_${region}_20260722T1850Z_abcdEFGH12345678.json.gz`;
      expect(classifyLogObjectKey(key)).toEqual({ kind: 'cloudtrail', accountId: ACCOUNT, region });
      expect(isCloudTrailLogKey(key)).toBe(true);
    }
  });

  it('tells digest and Insights files from log files', () => {
    const digest = `AWSLogs/${ACCOUNT}/CloudTrail-Digest/us-east-2/2015/08/17/${ACCOUNT}_CloudTrail-Digest_us-east-2_your-trail-name_us-east-2_20150817T150131Z.json.gz`;
    expect(classifyLogObjectKey(digest)).toEqual({
      kind: 'cloudtrail-digest',
      accountId: ACCOUNT,
      region: 'us-east-2',
    });
    expect(classifyLogObjectKey(digest.replace('.json.gz', '_backfill.json.gz')).kind).toBe(
      'cloudtrail-digest',
    );
    expect(isCloudTrailLogKey(digest)).toBe(false);
    const insight = `AWSLogs/o-aa11bb22cc/${ACCOUNT}/CloudTrail-Insight/ca-central-1/2020/09/23/${ACCOUNT}_CloudTrail-Insight_ca-central-1_20200923T0516Z_KL5e9VCV2SS7IqzB.json.gz`;
    expect(classifyLogObjectKey(insight)).toEqual({
      kind: 'cloudtrail-insight',
      accountId: ACCOUNT,
      region: 'ca-central-1',
      organizationId: 'o-aa11bb22cc',
    });
    expect(isCloudTrailLogKey(insight)).toBe(false);
    expect(holdsCloudTrailRecords('cloudtrail-insight')).toBe(true);
    expect(holdsCloudTrailRecords('cloudtrail-digest')).toBe(false);
  });

  it('recognises VPC flow log files in the default, hourly and Hive-compatible layouts', () => {
    const name = `${ACCOUNT}_vpcflowlogs_us-east-1_fl-1234abcd_20180620T1620Z_fe123456.log.gz`;
    const expected = { kind: 'vpcflow', accountId: ACCOUNT, region: 'us-east-1' };
    expect(classifyLogObjectKey(`AWSLogs/${ACCOUNT}/vpcflowlogs/us-east-1/2018/06/20/${name}`)).toEqual(
      expected,
    );
    expect(
      classifyLogObjectKey(`flow/AWSLogs/${ACCOUNT}/vpcflowlogs/us-east-1/2018/06/20/16/${name}`),
    ).toEqual(expected);
    expect(
      classifyLogObjectKey(
        `AWSLogs/aws-account-id=${ACCOUNT}/aws-service=vpcflowlogs/aws-region=us-east-1/year=2018/month=06/day=20/${name}`,
      ),
    ).toEqual(expected);
    expect(
      classifyLogObjectKey(
        `my-logs/AWSLogs/aws-account-id=${ACCOUNT}/aws-service=vpcflowlogs/aws-region=us-east-1/year=2018/month=06/day=20/hour=16/${name.replace('fl-1234abcd', 'fl-0a1b2c3d4e5f67890')}`,
      ),
    ).toEqual(expected);
    expect(isCloudTrailLogKey(`AWSLogs/${ACCOUNT}/vpcflowlogs/us-east-1/2018/06/20/${name}`)).toBe(false);
  });

  it('says Parquet flow logs and other Parquet objects are unsupported', () => {
    const parquet = classifyLogObjectKey(
      `AWSLogs/${ACCOUNT}/vpcflowlogs/eu-west-1/2026/07/22/${ACCOUNT}_vpcflowlogs_eu-west-1_fl-0a1b2c3d4e5f67890_20260722T1850Z_9f8e7d6c.log.parquet`,
    );
    expect(parquet).toMatchObject({ kind: 'vpcflow-parquet', accountId: ACCOUNT, region: 'eu-west-1' });
    expect(parquet.reason).toMatch(/Parquet .*not supported/);
    expect(classifyLogObjectKey('exports/table/part-0001.parquet')).toMatchObject({
      kind: 'unknown',
      reason: 'Parquet objects are not supported',
    });
  });

  it('leaves other keys unknown, with a reason', () => {
    for (const key of [
      'exports/report.json.gz',
      `AWSLogs/${ACCOUNT}/elasticloadbalancing/eu-west-1/2026/07/22/${ACCOUNT}_elasticloadbalancing_eu-west-1_app.my-alb.1234_20260722T1850Z_203.0.113.24_abc.log.gz`,
      // The account in the file name differs from the folder.
      `AWSLogs/${ACCOUNT}/CloudTrail/eu-west-1/2026/07/22/444455556666_CloudTrail_eu-west-1_20260722T1850Z_p3Xq8LmN2vRt6YwZ.json.gz`,
      // Not gzip.
      `AWSLogs/${ACCOUNT}/CloudTrail/eu-west-1/2026/07/22/${ACCOUNT}_CloudTrail_eu-west-1_20260722T1850Z_p3Xq8LmN2vRt6YwZ.json`,
      // No date folders.
      `AWSLogs/${ACCOUNT}/CloudTrail/eu-west-1/${ACCOUNT}_CloudTrail_eu-west-1_20260722T1850Z_p3Xq8LmN2vRt6YwZ.json.gz`,
      `AWSLogs/${ACCOUNT}/vpcflowlogs/eu-west-1/2026/07/22/notes.txt`,
      '',
    ]) {
      const kind = classifyLogObjectKey(key);
      expect(kind.kind).toBe('unknown');
      expect(kind.reason).toEqual(expect.any(String));
      expect(isCloudTrailLogKey(key)).toBe(false);
    }
  });
});
