import type { SQSEvent } from 'aws-lambda';

/** Builders of realistic EventBridge events for tests (shapes as AWS sends them; documentation-range values). */

export function guardDutyFinding(n = 0, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const id = `f${String(n).padStart(31, '0')}`;
  return {
    schemaVersion: '2.0',
    accountId: '111122223333',
    region: 'us-east-1',
    partition: 'aws',
    id,
    arn: `arn:aws:guardduty:us-east-1:111122223333:detector/12abc34d567e8fa901bc2d34eexample/finding/${id}`,
    type: 'Backdoor:EC2/C&CActivity.B!DNS',
    resource: {
      resourceType: 'Instance',
      instanceDetails: {
        instanceId: `i-${String(n).padStart(17, '0')}`,
        instanceType: 't3.micro',
        networkInterfaces: [
          {
            networkInterfaceId: 'eni-0123456789abcdef0',
            privateIpAddress: '10.0.1.10',
            vpcId: 'vpc-0123456789abcdef0',
          },
        ],
      },
    },
    service: {
      serviceName: 'guardduty',
      detectorId: '12abc34d567e8fa901bc2d34eexample',
      action: {
        actionType: 'NETWORK_CONNECTION',
        networkConnectionAction: {
          connectionDirection: 'OUTBOUND',
          remoteIpDetails: { ipAddressV4: '203.0.113.10', country: { countryName: 'Example' } },
          remotePortDetails: { port: 443 },
          protocol: 'TCP',
        },
      },
      archived: false,
      count: 1,
      eventFirstSeen: '2026-12-01T10:00:00.000Z',
      eventLastSeen: '2026-12-01T10:05:00.000Z',
      resourceRole: 'ACTOR',
      additionalInfo: {},
    },
    severity: 8.7,
    createdAt: '2026-12-01T10:05:00.000Z',
    updatedAt: '2026-12-01T10:06:00.000Z',
    title: 'Command and control activity',
    description: `EC2 instance i-${String(n).padStart(17, '0')} is querying a domain name associated with a known command and control server.`,
    ...overrides,
  };
}

export function guardDutyEvent(
  n = 0,
  findingOverrides: Record<string, unknown> = {},
): Record<string, unknown> {
  const detail = guardDutyFinding(n, findingOverrides);
  return {
    version: '0',
    id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    'detail-type': 'GuardDuty Finding',
    source: 'aws.guardduty',
    account: '111122223333',
    time: '2026-12-01T10:06:30Z',
    region: 'us-east-1',
    resources: [],
    detail,
  };
}

export function cloudTrailRecord(n = 0, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    eventVersion: '1.09',
    userIdentity: {
      type: 'IAMUser',
      principalId: 'AIDAEXAMPLEPRINCIPAL',
      arn: 'arn:aws:iam::111122223333:user/alice',
      accountId: '111122223333',
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      userName: 'alice',
    },
    eventTime: '2026-12-01T10:00:00Z',
    eventSource: 'iam.amazonaws.com',
    eventName: 'CreateUser',
    awsRegion: 'us-east-1',
    sourceIPAddress: '198.51.100.7',
    userAgent: 'aws-cli/2.15.0',
    requestParameters: { userName: `backdoor-${n}` },
    responseElements: {
      user: { userName: `backdoor-${n}`, arn: `arn:aws:iam::111122223333:user/backdoor-${n}` },
    },
    requestID: `req-${n}`,
    eventID: `00000000-0000-4000-9000-${String(n).padStart(12, '0')}`,
    readOnly: false,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: '111122223333',
    eventCategory: 'Management',
    tlsDetails: {
      tlsVersion: 'TLSv1.3',
      cipherSuite: 'TLS_AES_128_GCM_SHA256',
      clientProvidedHostHeader: 'iam.amazonaws.com',
    },
    ...overrides,
  };
}

export function cloudTrailEvent(
  n = 0,
  recordOverrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    version: '0',
    id: `00000000-0000-4000-a000-${String(n).padStart(12, '0')}`,
    'detail-type': 'AWS API Call via CloudTrail',
    source: 'aws.iam',
    account: '111122223333',
    time: '2026-12-01T10:00:05Z',
    region: 'us-east-1',
    resources: [],
    detail: cloudTrailRecord(n, recordOverrides),
  };
}

/** An SQS event as Lambda receives it, one record per body. */
export function sqsEvent(bodies: readonly string[], queue = 'guardduty-findings'): SQSEvent {
  return {
    Records: bodies.map((body, i) => ({
      messageId: `msg-${i}`,
      receiptHandle: `rh-${i}`,
      body,
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: '1764583590000',
        SenderId: 'AIDAEXAMPLE',
        ApproximateFirstReceiveTimestamp: '1764583590001',
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: `arn:aws:sqs:us-east-1:111122223333:${queue}`,
      awsRegion: 'us-east-1',
    })),
  };
}
