/**
 * The S3 logs pipeline as it would be deployed (CloudTrail trail files and VPC Flow Logs, S3 ObjectCreated
 * notifications -> SQS -> s3-logs): runs the real `serverless package` with the bucket parameters and reads the
 * generated CloudFormation template as a security reviewer would. serverless-package.test.ts covers the layouts
 * without a bucket, where none of this exists.
 *
 * Packaged layouts (in parallel, each in its own temporary copy of the service):
 *  - eu-west-1: a CloudTrail bucket and a flow logs bucket (own prefix) in a log archive account, a KMS key for the
 *    log objects and one for the secret, an alarm topic;
 *  - us-east-1: a CloudTrail bucket only, default prefix, no key;
 *  - eu-west-1: a flow logs bucket only, an account-specific prefix;
 *  - us-east-1: one bucket for both, with a prefix each.
 */

import { join } from 'node:path';
import {
  activeResources,
  asArray,
  type Deployment,
  evaluateCondition,
  getAtt,
  importBundledHandler,
  isActive,
  isObject,
  type Json,
  loadTemplate,
  type PackageResult,
  policyDocuments,
  prop,
  type Resource,
  readZip,
  ref,
  references,
  removePackage,
  runServerlessPackage,
  type Statement,
  statements,
  type Template,
  target,
} from '../support/cloudformation.js';

/** The account the stacks are deployed to (AWS::AccountId). */
const ACCOUNT = '111122223333';
const LOG_ARCHIVE_ACCOUNT = '999988887777';
const LOGS_KEY_ARN = `arn:aws:kms:eu-west-1:${LOG_ARCHIVE_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const SECRET_KEY_ARN = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/abcd1234-ab12-cd34-ef56-abcdef123456`;
const ALARM_TOPIC_ARN = `arn:aws:sns:eu-west-1:${ACCOUNT}:security-alarms`;
const FUNCTION_NAME = 'aws-sentinel-bridge-test-s3-logs';
const BANNER = "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/** Every resource of the pipeline, all behind the condition DeployS3Logs. */
const PIPELINE_IDS = [
  'S3LogsDlq',
  'S3LogsDlqAlarm',
  'S3LogsDlqPolicy',
  'S3LogsEventSourceMappingSQSS3LogsQueue',
  'S3LogsFunctionRole',
  'S3LogsLambdaFunction',
  'S3LogsLogGroup',
  'S3LogsQueue',
  'S3LogsQueueAgeAlarm',
  'S3LogsQueuePolicy',
  'S3LogsRetriesAlarm',
];

const ENVIRONMENT_KEYS = [
  'AZURE_AUTHORITY_HOST',
  'AZURE_CLIENT_ID',
  'AZURE_CREDENTIAL_SECRET_ARN',
  'AZURE_TENANT_ID',
  'CONTINUATION_QUEUE_URL',
  'DCR_IMMUTABLE_ID',
  'DLQ_URL',
  'INGESTION_MAX_CONCURRENCY',
  'LOGS_BUCKETS',
  'LOGS_INGESTION_ENDPOINT',
  'NODE_OPTIONS',
  'POWERTOOLS_LOG_LEVEL',
  'POWERTOOLS_METRICS_NAMESPACE',
  'POWERTOOLS_SERVICE_NAME',
  'SKIP_REALTIME_IAM_EVENTS',
];
/** What the function may do with the objects under a configured prefix (VersionId: the version notified). */
const READ_ACTIONS = ['s3:GetObject', 's3:GetObjectVersion'];

interface LogSource {
  readonly bucket: string;
  readonly prefix: string;
}

interface Layout {
  readonly name: string;
  readonly args: string[];
  readonly deployment: Deployment;
  /** What the function may read, one entry per configured bucket parameter. */
  readonly sources: LogSource[];
  /** The account that owns the buckets. */
  readonly owner: string;
  readonly logsKeyArn?: string;
  readonly secretKeyArn?: string;
  readonly alarmTopicArn?: string;
}

interface Packaged {
  readonly layout: Layout;
  readonly result: PackageResult;
  readonly template: Template;
  readonly resources: Record<string, Resource>;
}

const param = (name: string, value: string): string[] => ['--param', `${name}=${value}`];
const stage = (region: string): string[] => ['--stage', 'test', '--region', region];

const LAYOUTS: Layout[] = [
  {
    name: 'two buckets in a log archive account, a logs key, a secret key and an alarm topic',
    args: [
      ...stage('eu-west-1'),
      ...param('cloudTrailBucket', 'org-trail-logs'),
      ...param('flowLogsBucket', 'vpc-flow-logs'),
      ...param('flowLogsPrefix', 'flows/AWSLogs/'),
      ...param('logsBucketAccountId', LOG_ARCHIVE_ACCOUNT),
      ...param('logsKmsKeyArn', LOGS_KEY_ARN),
      ...param('secretKmsKeyArn', SECRET_KEY_ARN),
      ...param('alarmTopicArn', ALARM_TOPIC_ARN),
    ],
    deployment: { region: 'eu-west-1', accountId: ACCOUNT },
    sources: [
      { bucket: 'org-trail-logs', prefix: 'AWSLogs/' },
      { bucket: 'vpc-flow-logs', prefix: 'flows/AWSLogs/' },
    ],
    owner: LOG_ARCHIVE_ACCOUNT,
    logsKeyArn: LOGS_KEY_ARN,
    secretKeyArn: SECRET_KEY_ARN,
    alarmTopicArn: ALARM_TOPIC_ARN,
  },
  {
    name: 'a CloudTrail bucket only, default prefix, no key',
    args: [...stage('us-east-1'), ...param('cloudTrailBucket', 'trail-bucket')],
    deployment: { region: 'us-east-1', accountId: ACCOUNT },
    sources: [{ bucket: 'trail-bucket', prefix: 'AWSLogs/' }],
    owner: ACCOUNT,
  },
  {
    name: 'a flow logs bucket only, an account prefix',
    args: [
      ...stage('eu-west-1'),
      ...param('flowLogsBucket', 'flow-bucket'),
      ...param('flowLogsPrefix', `AWSLogs/${ACCOUNT}/vpcflowlogs/`),
    ],
    deployment: { region: 'eu-west-1', accountId: ACCOUNT },
    sources: [{ bucket: 'flow-bucket', prefix: `AWSLogs/${ACCOUNT}/vpcflowlogs/` }],
    owner: ACCOUNT,
  },
  {
    name: 'one bucket for both, a prefix each',
    args: [
      ...stage('us-east-1'),
      ...param('cloudTrailBucket', 'central-logs'),
      ...param('cloudTrailPrefix', 'AWSLogs/o-a1b2c3d4e5/'),
      ...param('flowLogsBucket', 'central-logs'),
      ...param('flowLogsPrefix', 'vpc/AWSLogs/'),
    ],
    deployment: { region: 'us-east-1', accountId: ACCOUNT },
    sources: [
      { bucket: 'central-logs', prefix: 'AWSLogs/o-a1b2c3d4e5/' },
      { bucket: 'central-logs', prefix: 'vpc/AWSLogs/' },
    ],
    owner: ACCOUNT,
  },
];

let layouts: Packaged[] = [];
/** Every run, kept apart so that afterAll removes them even when one run failed. */
const runs: PackageResult[] = [];

async function packaged(layout: Layout): Promise<Packaged> {
  const result = await runServerlessPackage(layout.args);
  runs.push(result);
  if (result.code !== 0) {
    throw new Error(`serverless package ${layout.args.join(' ')} failed:\n${result.output}`);
  }
  const template = await loadTemplate(result.dir);
  return { layout, result, template, resources: activeResources(template, layout.deployment) };
}

beforeAll(async () => {
  const pending = LAYOUTS.map(packaged);
  try {
    layouts = await Promise.all(pending);
  } finally {
    await Promise.allSettled(pending); // so that afterAll finds every run, also after a failure
  }
}, 300_000);

afterAll(async () => {
  await Promise.all(runs.map((result) => removePackage(result)));
});

// ------------------------------------------------------------------------------------------------ queries

function ofType(resources: Record<string, Resource>, type: string): [string, Resource][] {
  return Object.entries(resources).filter(([, entry]) => entry.Type === type);
}

function get(pkg: Packaged, id: string): Resource {
  const found = pkg.resources[id];
  if (found === undefined) throw new Error(`no active resource ${id} in ${pkg.layout.name}`);
  return found;
}

function property(entry: Resource, path: string): Json | undefined {
  return prop(entry.Properties ?? null, path);
}

function numberProperty(entry: Resource, path: string): number {
  const value = property(entry, path);
  const number = typeof value === 'string' ? Number(value) : value;
  if (typeof number !== 'number' || Number.isNaN(number)) throw new Error(`${path} is not a number`);
  return number;
}

function stringProperty(entry: Resource, path: string): string {
  const value = property(entry, path);
  if (typeof value !== 'string') throw new Error(`${path} is not a string: ${JSON.stringify(value)}`);
  return value;
}

/** The s3-logs function's pieces, found from the template rather than assumed. */
interface Pipeline {
  readonly functionId: string;
  readonly mappingId: string;
  readonly queueId: string;
  readonly dlqId: string;
  readonly roleId: string;
  readonly logGroupId: string;
  readonly environment: Record<string, Json>;
}

function pipeline(pkg: Packaged): Pipeline {
  const functions = ofType(pkg.resources, 'AWS::Lambda::Function').filter(
    ([, fn]) => property(fn, 'FunctionName') === FUNCTION_NAME,
  );
  expect(functions).toHaveLength(1);
  const [functionId, fn] = functions[0] ?? ['', { Type: '' }];
  const mappings = ofType(pkg.resources, 'AWS::Lambda::EventSourceMapping').filter(
    ([, mapping]) => target(property(mapping, 'FunctionName'), 'Arn') === functionId,
  );
  expect(mappings).toHaveLength(1);
  const [mappingId, mapping] = mappings[0] ?? ['', { Type: '' }];
  const queueId = target(property(mapping, 'EventSourceArn'), 'Arn') ?? '';
  const dlqId = target(property(get(pkg, queueId), 'RedrivePolicy.deadLetterTargetArn'), 'Arn') ?? '';
  const logGroups = ofType(pkg.resources, 'AWS::Logs::LogGroup').filter(
    ([, group]) => property(group, 'LogGroupName') === `/aws/lambda/${FUNCTION_NAME}`,
  );
  expect(logGroups).toHaveLength(1);
  const environment = property(fn, 'Environment.Variables');
  return {
    functionId,
    mappingId,
    queueId,
    dlqId,
    roleId: target(property(fn, 'Role'), 'Arn') ?? '',
    logGroupId: logGroups[0]?.[0] ?? '',
    environment: isObject(environment) ? environment : {},
  };
}

/** The (action, resource) pairs an identity policy document grants, as sortable strings. */
function grants(document: Json): string[] {
  return statements(document).flatMap((statement) =>
    statement.Action.flatMap((action) =>
      statement.Resource.map((resourceValue) => `${action} -> ${JSON.stringify(resourceValue)}`),
    ),
  );
}

function roleStatements(pkg: Packaged, roleId: string): Statement[] {
  return asArray(property(get(pkg, roleId), 'Policies')).flatMap((policy) =>
    statements(prop(policy, 'PolicyDocument')),
  );
}

function roleGrants(pkg: Packaged, roleId: string): string[] {
  return asArray(property(get(pkg, roleId), 'Policies'))
    .flatMap((policy) => grants(prop(policy, 'PolicyDocument') ?? null))
    .sort();
}

function queuePolicyOf(pkg: Packaged, queueId: string): Statement[] {
  const policies = ofType(pkg.resources, 'AWS::SQS::QueuePolicy').filter(([, policy]) =>
    asArray(property(policy, 'Queues')).some((queue) => target(queue) === queueId),
  );
  expect(policies).toHaveLength(1);
  return statements(policies[0] ? property(policies[0][1], 'PolicyDocument') : undefined);
}

const objectArn = (source: LogSource): string => `arn:aws:s3:::${source.bucket}/${source.prefix}*`;
const bucketArns = (layout: Layout): string[] => [
  ...new Set(layout.sources.map((source) => `arn:aws:s3:::${source.bucket}`)),
];
const bucketNames = (layout: Layout): string[] => [...new Set(layout.sources.map((source) => source.bucket))];

function secretArnOf(p: Pipeline): string {
  const value = p.environment.AZURE_CREDENTIAL_SECRET_ARN;
  if (typeof value !== 'string') throw new Error('AZURE_CREDENTIAL_SECRET_ARN is not a literal');
  return value;
}

function forEachLayout(check: (pkg: Packaged, p: Pipeline) => void | Promise<void>): () => Promise<void> {
  return async () => {
    expect(layouts).toHaveLength(LAYOUTS.length);
    for (const pkg of layouts) await check(pkg, pipeline(pkg));
  };
}

// ------------------------------------------------------------------------------------------------ tests

describe('serverless package with log buckets: the s3-logs pipeline', () => {
  it(
    'deploys the whole pipeline, every resource of it behind the condition DeployS3Logs',
    forEachLayout((pkg) => {
      expect(evaluateCondition(pkg.template, 'DeployS3Logs', pkg.layout.deployment)).toBe(true);
      const ids = Object.keys(pkg.template.Resources).filter((id) => id.startsWith('S3Logs'));
      expect(ids.sort()).toEqual(PIPELINE_IDS);
      for (const id of ids) {
        expect({ id, condition: pkg.template.Resources[id]?.Condition }).toEqual({
          id,
          condition: 'DeployS3Logs',
        });
        expect(pkg.resources[id]).toBeDefined();
      }
      // The other pipelines are untouched: GuardDuty everywhere, IAM changes in us-east-1 only.
      const names = ofType(pkg.resources, 'AWS::Lambda::Function')
        .map(([, fn]) => property(fn, 'FunctionName'))
        .sort();
      expect(names).toEqual(
        [
          'aws-sentinel-bridge-test-guardduty-findings',
          ...(pkg.layout.deployment.region === 'us-east-1' ? ['aws-sentinel-bridge-test-iam-changes'] : []),
          FUNCTION_NAME,
        ].sort(),
      );
    }),
  );

  it(
    'runs aws-functions/s3-logs.handler on nodejs22.x for arm64 with 900 s and 1024 MB',
    forEachLayout((pkg, p) => {
      const fn = get(pkg, p.functionId);
      expect({
        handler: property(fn, 'Handler'),
        runtime: property(fn, 'Runtime'),
        architectures: property(fn, 'Architectures'),
        timeout: numberProperty(fn, 'Timeout'),
        memory: numberProperty(fn, 'MemorySize'),
      }).toEqual({
        handler: 'aws-functions/s3-logs.handler',
        runtime: 'nodejs22.x',
        architectures: ['arm64'],
        timeout: 900,
        memory: 1024,
      });
      // The forwarders keep their short timeout.
      for (const [id, other] of ofType(pkg.resources, 'AWS::Lambda::Function')) {
        if (id !== p.functionId) expect(numberProperty(other, 'Timeout')).toBeLessThanOrEqual(300);
      }
      expect(asArray(fn.DependsOn)).toContain(p.logGroupId);
      expect(numberProperty(get(pkg, p.logGroupId), 'RetentionInDays')).toBeGreaterThanOrEqual(7);
    }),
  );

  it(
    'maps the queue to the function in batches of at most 10 objects with partial batch responses',
    forEachLayout((pkg, p) => {
      const mapping = get(pkg, p.mappingId);
      expect(property(mapping, 'FunctionResponseTypes')).toEqual(['ReportBatchItemFailures']);
      expect(property(mapping, 'Enabled')).toBe(true);
      expect(numberProperty(mapping, 'BatchSize')).toBe(10);
      const window = numberProperty(mapping, 'MaximumBatchingWindowInSeconds');
      expect(window).toBeGreaterThanOrEqual(1);
      expect(window).toBeLessThanOrEqual(10);
      expect(numberProperty(mapping, 'ScalingConfig.MaximumConcurrency')).toBe(10);
      expect(property(mapping, 'FilterCriteria')).toBeUndefined();
    }),
  );

  it(
    'keeps messages invisible for six times the function timeout plus the batching window, within the SQS maximum',
    forEachLayout((pkg, p) => {
      const visibility = numberProperty(get(pkg, p.queueId), 'VisibilityTimeout');
      const timeout = numberProperty(get(pkg, p.functionId), 'Timeout');
      const window = numberProperty(get(pkg, p.mappingId), 'MaximumBatchingWindowInSeconds');
      expect(visibility).toBeGreaterThanOrEqual(6 * timeout + window);
      expect(visibility).toBeLessThanOrEqual(43_200);
      expect(visibility).toBeLessThan(6 * timeout + 60); // not needlessly longer: a retry waits this long
    }),
  );

  it(
    'encrypts the queue and its DLQ, redrives after 30 receives and keeps both 14 days',
    forEachLayout((pkg, p) => {
      const queue = get(pkg, p.queueId);
      const dlq = get(pkg, p.dlqId);
      expect(p.dlqId).not.toBe(p.queueId);
      for (const [id, entry] of [
        [p.queueId, queue],
        [p.dlqId, dlq],
      ] as const) {
        expect({
          id,
          sse: property(entry, 'SqsManagedSseEnabled'),
          kms: property(entry, 'KmsMasterKeyId'),
          retention: numberProperty(entry, 'MessageRetentionPeriod'),
          size: numberProperty(entry, 'MaximumMessageSize'),
        }).toEqual({ id, sse: true, kms: undefined, retention: 1_209_600, size: 1_048_576 });
      }
      const maxReceiveCount = numberProperty(queue, 'RedrivePolicy.maxReceiveCount');
      expect(maxReceiveCount).toBe(30);
      expect(property(dlq, 'RedrivePolicy')).toBeUndefined();
      // Retries (maxReceiveCount x visibility) end well before the message would expire in the queue.
      expect(maxReceiveCount * numberProperty(queue, 'VisibilityTimeout')).toBeLessThan(
        numberProperty(queue, 'MessageRetentionPeriod') / 2,
      );
      expect(stringProperty(queue, 'QueueName')).toBe(FUNCTION_NAME);
      expect(stringProperty(dlq, 'QueueName')).toBe(`${FUNCTION_NAME}-dlq`);
    }),
  );

  it(
    'lets only S3 notifications of the configured buckets of their owner send to the queue, and only over TLS',
    forEachLayout((pkg, p) => {
      const policy = queuePolicyOf(pkg, p.queueId);
      const allows = policy.filter((statement) => statement.Effect === 'Allow');
      expect(allows.map(({ Sid: _sid, ...statement }) => statement)).toEqual([
        {
          Effect: 'Allow',
          Principal: { Service: 's3.amazonaws.com' },
          Action: ['sqs:SendMessage'],
          Resource: [getAtt(p.queueId, 'Arn')],
          Condition: {
            ArnEquals: { 'aws:SourceArn': bucketArns(pkg.layout) },
            StringEquals: { 'aws:SourceAccount': pkg.layout.owner },
          },
        },
      ]);
      expect(policy.filter((statement) => statement.Effect === 'Deny')).toEqual([
        expect.objectContaining({
          Principal: '*',
          Action: ['sqs:*'],
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      ]);
      const dlqPolicy = queuePolicyOf(pkg, p.dlqId);
      expect(dlqPolicy.filter((statement) => statement.Effect === 'Allow')).toEqual([]);
      expect(dlqPolicy).toHaveLength(1);
    }),
  );

  it(
    'grants its role exactly its queue (consume, continue), its DLQ, its log group, the secret and the configured log files',
    forEachLayout((pkg, p) => {
      const pairs = (actions: string[], resourceValue: Json): string[] =>
        actions.map((action) => `${action} -> ${JSON.stringify(resourceValue)}`);
      const expected = [
        ...pairs(
          [
            'sqs:ReceiveMessage',
            'sqs:DeleteMessage',
            'sqs:GetQueueAttributes',
            'sqs:ChangeMessageVisibility',
            'sqs:SendMessage', // continuation messages
          ],
          getAtt(p.queueId, 'Arn'),
        ),
        ...pairs(['sqs:SendMessage'], getAtt(p.dlqId, 'Arn')),
        ...pairs(['secretsmanager:GetSecretValue'], secretArnOf(p)),
        ...pairs(['logs:CreateLogStream', 'logs:PutLogEvents'], getAtt(p.logGroupId, 'Arn')),
        ...pkg.layout.sources.flatMap((source) => pairs(READ_ACTIONS, objectArn(source))),
        ...(pkg.layout.logsKeyArn === undefined ? [] : pairs(['kms:Decrypt'], pkg.layout.logsKeyArn)),
        ...(pkg.layout.secretKeyArn === undefined ? [] : pairs(['kms:Decrypt'], pkg.layout.secretKeyArn)),
      ].sort();
      expect({ layout: pkg.layout.name, granted: roleGrants(pkg, p.roleId) }).toEqual({
        layout: pkg.layout.name,
        granted: expected,
      });
      const role = get(pkg, p.roleId);
      expect(property(role, 'ManagedPolicyArns')).toBeUndefined();
      expect(statements(property(role, 'AssumeRolePolicyDocument'))).toEqual([
        {
          Effect: 'Allow',
          Principal: { Service: 'lambda.amazonaws.com' },
          Action: ['sts:AssumeRole'],
          Resource: [],
        },
      ]);
      const users = ofType(pkg.resources, 'AWS::Lambda::Function').filter(
        ([, fn]) => target(property(fn, 'Role'), 'Arn') === p.roleId,
      );
      expect(users.map(([id]) => id)).toEqual([p.functionId]);
    }),
  );

  it(
    'reads log objects only from the bucket owner, and decrypts with the logs key only through S3 in its region',
    forEachLayout((pkg, p) => {
      const all = roleStatements(pkg, p.roleId);
      const reads = all.filter((statement) => statement.Action.some((action) => action.startsWith('s3:')));
      expect(reads).toHaveLength(pkg.layout.sources.length);
      for (const statement of reads) {
        expect(statement.Action).toEqual(READ_ACTIONS);
        expect(statement.Condition).toEqual({ StringEquals: { 's3:ResourceAccount': pkg.layout.owner } });
      }
      const decrypts = all.filter((statement) => statement.Action.includes('kms:Decrypt'));
      const viaServices = decrypts.map((statement) =>
        prop(statement.Condition, 'StringEquals.kms:ViaService'),
      );
      const s3Decrypts = decrypts.filter(
        (_statement, index) => viaServices[index] === `s3.${pkg.layout.deployment.region}.amazonaws.com`,
      );
      if (pkg.layout.logsKeyArn === undefined) {
        expect(s3Decrypts).toEqual([]);
      } else {
        expect(s3Decrypts.map((statement) => statement.Resource)).toEqual([[pkg.layout.logsKeyArn]]);
        expect(s3Decrypts[0]?.Condition).toEqual({
          StringEquals: { 'kms:ViaService': `s3.${pkg.layout.deployment.region}.amazonaws.com` },
        });
      }
      // Every other kms:Decrypt is the secret's, through Secrets Manager.
      for (const [index, statement] of decrypts.entries()) {
        if (s3Decrypts.includes(statement)) continue;
        expect(statement.Resource).toEqual([pkg.layout.secretKeyArn]);
        expect(viaServices[index]).toMatch(/^secretsmanager\.[a-z0-9-]+\.amazonaws\.com$/);
      }
    }),
  );

  it(
    'has no wildcard in any IAM statement except the trailing one of each configured bucket prefix',
    forEachLayout((pkg) => {
      const allowedWildcards = new Set(pkg.layout.sources.map(objectArn));
      for (const { owner, kind, document } of policyDocuments(pkg.resources)) {
        for (const statement of statements(document)) {
          const where = `${pkg.layout.name} ${owner} ${statement.Sid ?? ''}`;
          expect({ where, notAction: statement.NotAction, notResource: statement.NotResource }).toEqual({
            where,
            notAction: undefined,
            notResource: undefined,
          });
          if (statement.Effect === 'Deny') continue; // a deny with wildcards only takes away
          for (const action of statement.Action)
            expect({ where, action }).toEqual({ where, action: expect.not.stringContaining('*') });
          expect(statement.Resource.length).toBeGreaterThan(0);
          for (const resourceValue of statement.Resource) {
            if (typeof resourceValue !== 'string') {
              expect({ where, referenced: references(resourceValue).size }).toEqual({ where, referenced: 1 });
            } else if (allowedWildcards.has(resourceValue)) {
              expect(resourceValue).toMatch(/^arn:aws:s3:::[a-z0-9.-]+\/[^*]+\*$/);
            } else {
              expect({ where, resourceValue }).toEqual({
                where,
                resourceValue: expect.stringMatching(/^arn:aws[a-z-]*:[^*]+$/),
              });
            }
          }
          if (kind === 'resource') {
            expect({ where, principal: statement.Principal }).toEqual({
              where,
              principal: { Service: expect.stringMatching(/^[a-z0-9]+\.amazonaws\.com$/) },
            });
          }
        }
      }
      // No other S3 action is allowed (ListBucket, notification or policy changes): keys come from the notifications.
      // (The deployment bucket's policy only denies.)
      const actions = policyDocuments(pkg.resources).flatMap(({ document }) =>
        statements(document)
          .filter((statement) => statement.Effect === 'Allow')
          .flatMap((statement) => statement.Action),
      );
      expect(actions.filter((action) => action.startsWith('s3:'))).toEqual(
        pkg.layout.sources.flatMap(() => READ_ACTIONS),
      );
    }),
  );

  it(
    'names no resource of another function in the s3-logs role, and no s3-logs resource in theirs',
    forEachLayout((pkg, p) => {
      const referenced = references(get(pkg, p.roleId).Properties ?? null);
      expect([...referenced].sort()).toEqual([p.dlqId, p.logGroupId, p.queueId].sort());
      const own = new Set(PIPELINE_IDS);
      for (const [id, role] of ofType(pkg.resources, 'AWS::IAM::Role')) {
        if (id === p.roleId) continue;
        for (const name of references(role.Properties ?? null))
          expect({ id, name, own: own.has(name) }).toEqual({
            id,
            name,
            own: false,
          });
        expect(JSON.stringify(role.Properties)).not.toMatch(/s3:|arn:aws:s3/);
      }
    }),
  );

  it(
    'tells the function its DLQ, its own queue for continuations and each configured bucket once',
    forEachLayout((pkg, p) => {
      expect(Object.keys(p.environment).sort()).toEqual(ENVIRONMENT_KEYS);
      expect(p.environment.DLQ_URL).toEqual(ref(p.dlqId));
      expect(p.environment.CONTINUATION_QUEUE_URL).toEqual(ref(p.queueId));
      expect(p.environment.LOGS_BUCKETS).toBe(bucketNames(pkg.layout).join(','));
      expect(p.environment.POWERTOOLS_SERVICE_NAME).toBe('s3-logs');
      // The trail's copies of the IAM change events are skipped where this stack forwards them in real time.
      const iamChanges = evaluateCondition(pkg.template, 'DeployIamChanges', pkg.layout.deployment);
      expect(iamChanges).toBe(pkg.layout.deployment.region === 'us-east-1');
      expect(p.environment.SKIP_REALTIME_IAM_EVENTS).toBe(String(iamChanges));
      expect(p.environment.POWERTOOLS_METRICS_NAMESPACE).toBe('AwsSentinelBridge');
      // The same Azure settings as the forwarders.
      const forwarder = ofType(pkg.resources, 'AWS::Lambda::Function').find(
        ([, fn]) => property(fn, 'FunctionName') === 'aws-sentinel-bridge-test-guardduty-findings',
      );
      const theirs = forwarder ? property(forwarder[1], 'Environment.Variables') : undefined;
      for (const name of [
        'LOGS_INGESTION_ENDPOINT',
        'DCR_IMMUTABLE_ID',
        'AZURE_TENANT_ID',
        'AZURE_CLIENT_ID',
        'AZURE_CREDENTIAL_SECRET_ARN',
        'AZURE_AUTHORITY_HOST',
        'INGESTION_MAX_CONCURRENCY',
        'POWERTOOLS_LOG_LEVEL',
      ]) {
        expect({ name, value: p.environment[name] }).toEqual({ name, value: prop(theirs, name) });
      }
      // Source maps like the others, and a capped old generation (peak RSS, see BENCHMARKS.md).
      expect(p.environment.NODE_OPTIONS).toBe(
        `${String(prop(theirs, 'NODE_OPTIONS'))} --max-old-space-size=128`,
      );
    }),
  );

  it(
    'alarms on the DLQ depth, the age of the oldest notification and the retries of the function',
    forEachLayout((pkg, p) => {
      const alarms = ofType(pkg.resources, 'AWS::CloudWatch::Alarm');
      const on = (metric: string, dimension: Json): Resource[] =>
        alarms
          .filter(
            ([, alarm]) =>
              property(alarm, 'MetricName') === metric &&
              JSON.stringify(property(alarm, 'Dimensions')) === JSON.stringify([dimension]),
          )
          .map(([, alarm]) => alarm);
      const [depth, ...moreDepth] = on('ApproximateNumberOfMessagesVisible', {
        Name: 'QueueName',
        Value: getAtt(p.dlqId, 'QueueName'),
      });
      const [age, ...moreAge] = on('ApproximateAgeOfOldestMessage', {
        Name: 'QueueName',
        Value: getAtt(p.queueId, 'QueueName'),
      });
      const [retries, ...moreRetries] = on('EventsRetried', { Name: 'service', Value: 's3-logs' });
      expect([moreDepth, moreAge, moreRetries]).toEqual([[], [], []]);
      if (depth === undefined || age === undefined || retries === undefined) {
        throw new Error(`missing alarm in ${pkg.layout.name}`);
      }
      const shape = (alarm: Resource): Record<string, Json | undefined> => ({
        namespace: property(alarm, 'Namespace'),
        statistic: property(alarm, 'Statistic'),
        threshold: numberProperty(alarm, 'Threshold'),
        comparison: property(alarm, 'ComparisonOperator'),
        missingData: property(alarm, 'TreatMissingData'),
      });
      expect(shape(depth)).toEqual({
        namespace: 'AWS/SQS',
        statistic: 'Maximum',
        threshold: 0,
        comparison: 'GreaterThanThreshold',
        missingData: 'notBreaching',
      });
      expect(numberProperty(depth, 'EvaluationPeriods')).toBe(1);
      expect(shape(age)).toEqual({
        namespace: 'AWS/SQS',
        statistic: 'Maximum',
        threshold: 3600,
        comparison: 'GreaterThanThreshold',
        missingData: 'notBreaching',
      });
      expect(shape(retries)).toEqual({
        namespace: 'AwsSentinelBridge',
        statistic: 'Sum',
        threshold: 0,
        comparison: 'GreaterThanThreshold',
        missingData: 'notBreaching',
      });
      expect(numberProperty(retries, 'EvaluationPeriods')).toBe(3);
      const topic = pkg.layout.alarmTopicArn;
      for (const alarm of [depth, age, retries]) {
        expect(property(alarm, 'AlarmActions')).toEqual(topic === undefined ? undefined : [topic]);
        expect(property(alarm, 'OKActions')).toEqual(topic === undefined ? undefined : [topic]);
      }
    }),
  );

  it(
    'outputs the queue ARN for the bucket notifications, the queue and DLQ URLs, the function and its role',
    forEachLayout((pkg, p) => {
      const outputs = Object.entries(pkg.template.Outputs ?? {}).filter(([name]) =>
        name.startsWith('S3Logs'),
      );
      expect(Object.fromEntries(outputs.map(([name, output]) => [name, output.Value]))).toEqual({
        S3LogsQueueUrl: ref(p.queueId),
        S3LogsQueueArn: getAtt(p.queueId, 'Arn'),
        S3LogsDlqUrl: ref(p.dlqId),
        S3LogsDlqArn: getAtt(p.dlqId, 'Arn'),
        S3LogsFunctionName: ref(p.functionId),
        S3LogsFunctionRoleArn: getAtt(p.roleId, 'Arn'),
      });
      for (const [name, output] of outputs) {
        expect({ name, condition: output.Condition }).toEqual({ name, condition: 'DeployS3Logs' });
        expect(isActive(pkg.template, output, pkg.layout.deployment)).toBe(true);
      }
    }),
  );

  it(
    'references only resources that exist in the layout',
    forEachLayout((pkg) => {
      const known = new Set([...Object.keys(pkg.resources), ...Object.keys(pkg.template.Parameters ?? {})]);
      for (const [id, entry] of Object.entries(pkg.resources)) {
        const needed = [...references(entry.Properties ?? null), ...asArray(entry.DependsOn).map(String)];
        for (const name of needed)
          expect({ id, name, known: known.has(name) }).toMatchObject({ known: true });
      }
    }),
  );

  it('bundles s3-logs into one .mjs handler with its source map and loads it in Node 22 without node_modules', async () => {
    const [pkg] = layouts;
    if (pkg === undefined) throw new Error('nothing packaged');
    const p = pipeline(pkg);
    const fn = get(pkg, p.functionId);
    const artifact = stringProperty(fn, 'Code.S3Key').split('/').pop() ?? '';
    const file = 'aws-functions/s3-logs.mjs';
    const zip = await readZip(join(pkg.result.dir, 'out', artifact));
    expect(zip.entries.map((entry) => entry.name).sort()).toEqual([file, `${file}.map`]);
    const code = zip.read(file).toString('utf8');
    expect(code.startsWith(BANNER)).toBe(true);
    const { region, accountId } = pkg.layout.deployment;
    const environment: Record<string, string> = {
      AWS_REGION: region,
      AWS_LAMBDA_FUNCTION_NAME: FUNCTION_NAME,
    };
    for (const [name, value] of Object.entries(p.environment)) {
      const queueId = target(value);
      environment[name] =
        typeof value === 'string'
          ? value
          : `https://sqs.${region}.amazonaws.com/${accountId}/${stringProperty(get(pkg, queueId ?? ''), 'QueueName')}`;
    }
    const loaded = await importBundledHandler(zip, file, environment);
    expect(loaded).toBe('function');
  });
});
