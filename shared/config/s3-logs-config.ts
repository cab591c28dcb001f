import { ConfigError } from '../domain/errors.js';
import {
  ALLOW_CUSTOM_ENDPOINTS_SETTING,
  type ForwarderConfig,
  loadForwarderConfig,
  parseQueueUrl,
} from './forwarder-config.js';

/**
 * Settings of the `s3-logs` function: the forwarder settings (endpoint, DCR, Entra app, DLQ) plus its own.
 * Validated once at start; every problem is named in one ConfigError.
 */
export interface S3LogsConfig extends ForwarderConfig {
  /** The function's own notification queue: continuation messages go there. */
  readonly continuationQueueUrl: string;
  /** Buckets whose notifications are read; an object of any other bucket is refused (dead-lettered). */
  readonly buckets: readonly string[];
  /** Skip the trail's IAM change events that the iam-changes function already forwards in real time. */
  readonly skipRealtimeIamEvents: boolean;
}

/** S3 bucket naming rules (general purpose buckets): 3-63 of a-z 0-9 . -, starting and ending alphanumeric. */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export const S3_LOGS_SETTINGS_HELP: readonly { name: string; help: string }[] = [
  {
    name: 'CONTINUATION_QUEUE_URL',
    help: 'URL of the queue the function reads (its S3 notification queue): the rest of an object it cannot finish in one invocation is sent there',
  },
  {
    name: 'LOGS_BUCKETS',
    help: 'comma-separated names of the log buckets (CloudTrail trail, VPC Flow Logs) whose notifications it reads; other buckets are refused',
  },
  {
    name: 'SKIP_REALTIME_IAM_EVENTS',
    help: '`true` (set when the iam-changes pipeline is deployed): trail records of the IAM change events that pipeline forwards in real time are not forwarded again (no duplicates in AWSCloudTrail); default `false`',
  },
];

export function loadS3LogsConfig(env: Readonly<Record<string, string | undefined>>): S3LogsConfig {
  const problems: string[] = [];
  let base: ForwarderConfig | undefined;
  try {
    base = loadForwarderConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.message.split('\n- ').slice(1));
  }
  const allowCustom = (env[ALLOW_CUSTOM_ENDPOINTS_SETTING] ?? '').trim() === 'true';
  const help = (name: string): string => S3_LOGS_SETTINGS_HELP.find((s) => s.name === name)?.help ?? '';
  let continuationQueueUrl = '';
  const rawQueue = env.CONTINUATION_QUEUE_URL?.trim() ?? '';
  if (rawQueue === '') problems.push(`CONTINUATION_QUEUE_URL is missing: ${help('CONTINUATION_QUEUE_URL')}`);
  else {
    const parsed = parseQueueUrl(rawQueue, allowCustom);
    if (parsed.ok) continuationQueueUrl = parsed.url;
    else
      problems.push(
        `CONTINUATION_QUEUE_URL is invalid (${parsed.reason}): ${help('CONTINUATION_QUEUE_URL')}`,
      );
  }
  const buckets = (env.LOGS_BUCKETS ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (buckets.length === 0) problems.push(`LOGS_BUCKETS is missing: ${help('LOGS_BUCKETS')}`);
  for (const name of buckets) {
    if (!BUCKET.test(name) || name.includes('..'))
      problems.push(
        `LOGS_BUCKETS is invalid ("${name.slice(0, 70)}" is not an S3 bucket name): ${help('LOGS_BUCKETS')}`,
      );
  }
  const skip = (env.SKIP_REALTIME_IAM_EVENTS ?? '').trim();
  if (!['', 'true', 'false'].includes(skip))
    problems.push(
      `SKIP_REALTIME_IAM_EVENTS is invalid (expected true or false): ${help('SKIP_REALTIME_IAM_EVENTS')}`,
    );
  if (problems.length > 0 || base === undefined) {
    throw new ConfigError(`Invalid configuration:\n- ${problems.join('\n- ')}`);
  }
  return { ...base, continuationQueueUrl, buckets, skipRealtimeIamEvents: skip === 'true' };
}
