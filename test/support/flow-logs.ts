import { gzipSync } from 'node:zlib';

export const DEFAULT_HEADER =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';

/**
 * A flow log line in the default format whose `bytes` is `n` (so every line of a file is told apart by its
 * Bytes column), with realistic variety in addresses, ports, actions and times.
 */
export function flowLogLine(n: number, startSeconds = 1_764_000_000): string {
  const a = (n * 7919) % 250;
  const b = (n * 104_729) % 250;
  const start = startSeconds + (n % 600);
  const action = n % 5 === 0 ? 'REJECT' : 'ACCEPT';
  return `2 123456789012 eni-0a1b2c3d4e5f${String(n % 10_000).padStart(5, '0')} 10.0.${a}.${b} 172.31.${b}.${a} ${1024 + (n % 60_000)} ${[22, 443, 80, 3389, 53][n % 5]} 6 ${1 + (n % 90)} ${n} ${start} ${start + 60} ${action} OK`;
}

/** A flow log file of `lines` records (header first), as text. */
export function flowLogText(lines: number, first = 0): string {
  const out: string[] = [DEFAULT_HEADER];
  for (let i = 0; i < lines; i++) out.push(flowLogLine(first + i));
  return `${out.join('\n')}\n`;
}

/** The same, gzipped as AWS delivers it (`.log.gz`). */
export function flowLogGzip(lines: number, first = 0): Buffer {
  return gzipSync(flowLogText(lines, first));
}

export function flowLogKey(account = '123456789012', region = 'us-east-1', n = 0): string {
  return `AWSLogs/${account}/vpcflowlogs/${region}/2026/12/01/${account}_vpcflowlogs_${region}_fl-0123456789abcdef0_20261201T1005Z_${String(n).padStart(8, '0')}.log.gz`;
}

export function cloudTrailKey(account = '123456789012', region = 'us-east-1', n = 0): string {
  return `AWSLogs/${account}/CloudTrail/${region}/2026/12/01/${account}_CloudTrail_${region}_20261201T1005Z_${String(n).padStart(16, '0').slice(0, 16)}.json.gz`;
}

/** An S3 `ObjectCreated:Put` notification body for these objects (keys URL-encoded as S3 sends them). */
export function s3Notification(bucket: string, keys: readonly string[]): string {
  return JSON.stringify({
    Records: keys.map((key, i) => ({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'us-east-1',
      eventTime: '2026-12-01T10:05:00.000Z',
      eventName: 'ObjectCreated:Put',
      userIdentity: { principalId: 'AWS:AROAEXAMPLE:regionalDeliverySession' },
      requestParameters: { sourceIPAddress: '10.0.0.1' },
      responseElements: { 'x-amz-request-id': 'EXAMPLE123456789', 'x-amz-id-2': 'EXAMPLE/id' },
      s3: {
        s3SchemaVersion: '1.0',
        configurationId: 'aws-sentinel-bridge',
        bucket: { name: bucket, ownerIdentity: { principalId: 'EXAMPLE' }, arn: `arn:aws:s3:::${bucket}` },
        object: {
          key: encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+'),
          size: 1,
          eTag: '0123456789abcdef0123456789abcdef',
          sequencer: `0A1B2C3D4E5F6789${i}`,
        },
      },
    })),
  });
}
