import { describe, expect, it } from '@jest/globals';
import { normaliseItem } from '../../shared/domain/sources.js';
import { cloudTrailEvent, cloudTrailRecord, guardDutyEvent, guardDutyFinding } from '../support/events.js';

describe('what validation refuses and what it tolerates', () => {
  it('keeps a finding whose inner fields have unexpected types, verbatim', () => {
    const finding = guardDutyFinding(1);
    const service = { ...(finding.service as Record<string, unknown>), count: '3', archived: 'false' };
    const resource = {
      resourceType: 'Instance',
      instanceDetails: {
        instanceId: 'i-1',
        tags: [{ key: 'cost-center', value: 42 }],
        networkInterfaces: 'n/a',
      },
    };
    const outcome = normaliseItem('guardduty', { ...finding, service, resource });
    expect(outcome.ok).toBe(true);
    if (outcome.ok) {
      expect(outcome.row.ServiceDetails).toEqual(service);
      expect(outcome.row.ResourceDetails).toEqual(resource);
    }
  });

  it('leaves out a CloudTrail column whose value has an unexpected type instead of refusing the record', () => {
    const outcome = normaliseItem(
      'cloudtrail',
      cloudTrailRecord(1, {
        tlsDetails: { tlsVersion: 1.3, cipherSuite: 'TLS_AES_128_GCM_SHA256' },
        userIdentity: {
          type: 'AssumedRole',
          arn: 'arn:aws:sts::111122223333:assumed-role/r/s',
          sessionContext: {
            attributes: { creationDate: '', mfaAuthenticated: 'false' },
            sessionIssuer: 'broken',
          },
        },
      }),
    );
    expect(outcome.ok).toBe(true);
    if (outcome.ok) {
      expect(outcome.row).not.toHaveProperty('TlsVersion');
      expect(outcome.row.CipherSuite).toBe('TLS_AES_128_GCM_SHA256');
      expect(outcome.row).not.toHaveProperty('SessionCreationDate');
      expect(outcome.row).not.toHaveProperty('SessionIssuerArn');
      expect(outcome.row.SessionMfaAuthenticated).toBe(false);
    }
  });

  it('refuses what would make a wrong row: identity, time, severity, booleans', () => {
    const refusals: [Parameters<typeof normaliseItem>, string][] = [
      [['guardduty', guardDutyEvent(1, { id: 42 })], 'id'],
      [['guardduty', guardDutyEvent(1, { severity: -1 })], 'severity'],
      [['guardduty', guardDutyEvent(1, { createdAt: '2026-02-30T00:00:00Z' })], 'createdAt'],
      [['guardduty', guardDutyEvent(1, { service: 'x' })], 'service'],
      [['cloudtrail', cloudTrailEvent(1, { awsRegion: '' })], 'awsRegion'],
      [['cloudtrail', cloudTrailEvent(1, { managementEvent: 'yes' })], 'managementEvent'],
      [['cloudtrail', { 'detail-type': 'AWS API Call via CloudTrail', detail: 'CreateUser' }], 'detail'],
    ];
    for (const [args, field] of refusals) {
      const outcome = normaliseItem(...args);
      expect({ field, ok: outcome.ok, got: outcome.ok ? undefined : outcome.field }).toEqual({
        field,
        ok: false,
        got: field,
      });
    }
  });

  it('says which detail-types a source accepts when it gets another', () => {
    const outcome = normaliseItem('cloudtrail', { ...guardDutyEvent(1) });
    expect(outcome).toMatchObject({ ok: false, field: 'detail-type' });
    if (!outcome.ok) expect(outcome.reason).toMatch(/"AWS API Call via CloudTrail"/);
  });
});
