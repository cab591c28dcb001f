/**
 * What an S3 object is, from its key alone (the decoded key, as `parseObjectNotifications` returns it).
 *
 * CloudTrail (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/get-and-view-cloudtrail-log-files.html,
 * .../cloudtrail-log-file-examples.html, .../cloudtrail-log-file-validation-digest-file-structure.html):
 *   [prefix/]AWSLogs/[O-ID/]<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<unique>.json.gz
 *   [prefix/]AWSLogs/[O-ID/]<account>/CloudTrail-Digest/<region>/YYYY/MM/DD/<account>_CloudTrail-Digest_<region>_<trail>_<region>_<YYYYMMDDTHHmmssZ>[_backfill].json.gz
 *   [prefix/]AWSLogs/[O-ID/]<account>/CloudTrail-Insight/<region>/YYYY/MM/DD/<account>_CloudTrail-Insight_<region>_<YYYYMMDDTHHmmZ>_<unique>.json.gz
 * VPC Flow Logs (https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-s3-path.html):
 *   [prefix/]AWSLogs/<account>/vpcflowlogs/<region>/YYYY/MM/DD/[HH/]<file>
 *   [prefix/]AWSLogs/aws-account-id=<account>/aws-service=vpcflowlogs/aws-region=<region>/year=YYYY/month=MM/day=DD/[hour=HH/]<file>
 *   <file> = <account>_vpcflowlogs_<region>_<flow-log-id>_<YYYYMMDDTHHmmZ>_<hash>.log.gz (text) or .log.parquet
 */

export type LogObjectKind =
  | 'cloudtrail'
  | 'cloudtrail-digest'
  | 'cloudtrail-insight'
  | 'vpcflow'
  | 'vpcflow-parquet'
  | 'unknown';

export interface LogObjectClass {
  readonly kind: LogObjectKind;
  readonly accountId?: string;
  readonly region?: string;
  /** For organization trails: the `o-...` folder. */
  readonly organizationId?: string;
  /** For `unknown` and `vpcflow-parquet`: why the object is not one the bridge reads. */
  readonly reason?: string;
}

// Region codes: us-east-1, eu-central-2, us-gov-west-1, cn-north-1, us-isob-east-1, ...
const REGION = '[a-z]{2}(?:-[a-z]+)+-\\d{1,2}';
const ACCOUNT = '\\d{12}';
/** `o-` and 10 to 32 lower-case letters or digits (the AWS Organizations ID format). */
const ORG = 'o-[a-z0-9]{10,32}';
const STAMP = '\\d{8}T\\d{4}Z';

const CLOUDTRAIL_PATH = new RegExp(
  `^(?:.*/)?AWSLogs/(?:(${ORG})/)?(${ACCOUNT})/(CloudTrail|CloudTrail-Digest|CloudTrail-Insight)/(${REGION})/\\d{4}/\\d{2}/\\d{2}/([^/]+)$`,
);
const CLOUDTRAIL_NAME = new RegExp(`^(${ACCOUNT})_CloudTrail_(${REGION})_${STAMP}_[A-Za-z0-9]+\\.json\\.gz$`);
const INSIGHT_NAME = new RegExp(
  `^(${ACCOUNT})_CloudTrail-Insight_(${REGION})_${STAMP}_[A-Za-z0-9]+\\.json\\.gz$`,
);
const DIGEST_NAME = new RegExp(`^(${ACCOUNT})_CloudTrail-Digest_(${REGION})_.+\\.json\\.gz$`);

const FLOW_PATH = new RegExp(
  `^(?:.*/)?AWSLogs/(${ACCOUNT})/vpcflowlogs/(${REGION})/\\d{4}/\\d{2}/\\d{2}/(?:\\d{2}/)?([^/]+)$`,
);
const FLOW_HIVE_PATH = new RegExp(
  `^(?:.*/)?AWSLogs/aws-account-id=(${ACCOUNT})/aws-service=vpcflowlogs/aws-region=(${REGION})/year=\\d{4}/month=\\d{2}/day=\\d{2}/(?:hour=\\d{2}/)?([^/]+)$`,
);
const FLOW_NAME = new RegExp(
  `^(${ACCOUNT})_vpcflowlogs_(${REGION})_fl-[0-9a-z]+_${STAMP}_[0-9A-Za-z]+\\.log\\.(gz|parquet)$`,
);

const PARQUET_UNSUPPORTED =
  'Parquet flow log files are not supported; create the flow log with the plain-text (default) log file format';

function unknown(reason: string): LogObjectClass {
  return { kind: 'unknown', reason };
}

function classifyCloudTrail(match: RegExpExecArray): LogObjectClass {
  const [, org, account = '', folder, region = '', name = ''] = match;
  const where = { accountId: account, region, ...(org === undefined ? {} : { organizationId: org }) };
  const pattern =
    folder === 'CloudTrail' ? CLOUDTRAIL_NAME : folder === 'CloudTrail-Insight' ? INSIGHT_NAME : DIGEST_NAME;
  const named = pattern.exec(name);
  if (!named || named[1] !== account || named[2] !== region) {
    return unknown(
      `the key is in a ${folder} folder but the file name does not follow <account>_${folder}_<region>_... .json.gz for account ${account} and ${region}`,
    );
  }
  if (folder === 'CloudTrail') return { kind: 'cloudtrail', ...where };
  if (folder === 'CloudTrail-Insight') return { kind: 'cloudtrail-insight', ...where };
  return { kind: 'cloudtrail-digest', ...where };
}

function classifyFlowLog(match: RegExpExecArray): LogObjectClass {
  const [, account = '', region = '', name = ''] = match;
  const named = FLOW_NAME.exec(name);
  if (!named || named[1] !== account || named[2] !== region) {
    if (name.endsWith('.parquet'))
      return { kind: 'vpcflow-parquet', accountId: account, region, reason: PARQUET_UNSUPPORTED };
    return unknown(
      `the key is in a vpcflowlogs folder but the file name does not follow <account>_vpcflowlogs_<region>_<flow-log-id>_<timestamp>_<hash>.log.gz for account ${account} and ${region}`,
    );
  }
  if (named[3] === 'parquet')
    return { kind: 'vpcflow-parquet', accountId: account, region, reason: PARQUET_UNSUPPORTED };
  return { kind: 'vpcflow', accountId: account, region };
}

/** Classifies a decoded S3 object key by the layouts CloudTrail and VPC Flow Logs deliver to. */
export function classifyLogObjectKey(key: string): LogObjectClass {
  const trail = CLOUDTRAIL_PATH.exec(key);
  if (trail) return classifyCloudTrail(trail);
  const flow = FLOW_PATH.exec(key) ?? FLOW_HIVE_PATH.exec(key);
  if (flow) return classifyFlowLog(flow);
  if (key.endsWith('.parquet')) return unknown('Parquet objects are not supported');
  return unknown(
    'not a CloudTrail or VPC flow log object key (no AWSLogs/<account>/CloudTrail/ or vpcflowlogs/ layout)',
  );
}

/** A CloudTrail log file (management and data events, `{"Records":[...]}`), not a digest or Insights file. */
export function isCloudTrailLogKey(key: string): boolean {
  return classifyLogObjectKey(key).kind === 'cloudtrail';
}

/** Kinds whose objects hold `{"Records":[...]}` (the records splitter reads them). */
export function holdsCloudTrailRecords(kind: LogObjectKind): boolean {
  return kind === 'cloudtrail' || kind === 'cloudtrail-insight';
}
