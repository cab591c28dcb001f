/**
 * The AWS side as it would be deployed: runs the real `serverless package` (osls + serverless-esbuild,
 * offline) and reads the generated CloudFormation template and function zips as a security reviewer
 * would. The relationships (function -> event source mapping -> queue -> DLQ, rule -> queue, role ->
 * function) are discovered from the template, so every invariant holds for every function, not only
 * for the two names pinned here.
 *
 * Packaged layouts (in parallel, each in its own temporary copy of the service, see runServerlessPackage):
 *  - us-east-1, stage test: both pipelines (IAM's CloudTrail events reach EventBridge only in us-east-1);
 *  - eu-west-1, stage test: GuardDuty only, every IAM-changes resource behind the false DeployIamChanges;
 *  - eu-west-1 as a home region (deployIamChanges=true) with a KMS key for the secret, an alarm topic and its
 *    own maxReceiveCount;
 *  - two refusals: an unknown deployIamChanges value, and a stage without its Azure settings.
 * None of them configures a log bucket, so none has the S3 logs pipeline; serverless-s3-logs.test.ts packages it.
 */

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MAX_SQS_PAYLOAD_BYTES } from '../../shared/adapters/aws/sqs-dead-letters.js';
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
  REPO_ROOT,
  type Resource,
  readZip,
  ref,
  references,
  removePackage,
  runServerlessPackage,
  statements,
  type Template,
  target,
} from '../support/cloudformation.js';

const US_EAST_1: Deployment = { region: 'us-east-1' };
const EU_WEST_1: Deployment = { region: 'eu-west-1' };
const KMS_KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const ALARM_TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:security-alarms';
const HOME_MAX_RECEIVE_COUNT = 12;
/** SQS's largest MaximumMessageSize (1 MiB since 2025). */
const SQS_MAX_MESSAGE_SIZE = 1_048_576;
const SECRET_ARN =
  /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/;
const BANNER = "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/** Exactly what a forwarder may do, per resource it owns (ChangeMessageVisibility: handing a message back early). */
const QUEUE_ACTIONS = [
  'sqs:ReceiveMessage',
  'sqs:DeleteMessage',
  'sqs:GetQueueAttributes',
  'sqs:ChangeMessageVisibility',
];
const DLQ_ACTIONS = ['sqs:SendMessage'];
const SECRET_ACTIONS = ['secretsmanager:GetSecretValue'];
const LOG_ACTIONS = ['logs:CreateLogStream', 'logs:PutLogEvents'];

const ENVIRONMENT_KEYS = [
  'AZURE_AUTHORITY_HOST',
  'AZURE_CLIENT_ID',
  'AZURE_CREDENTIAL_SECRET_ARN',
  'AZURE_TENANT_ID',
  'DCR_IMMUTABLE_ID',
  'DLQ_URL',
  'INGESTION_MAX_CONCURRENCY',
  'LOGS_INGESTION_ENDPOINT',
  'NODE_OPTIONS',
  'POWERTOOLS_LOG_LEVEL',
  'POWERTOOLS_METRICS_NAMESPACE',
  'POWERTOOLS_SERVICE_NAME',
];

interface Packaged {
  readonly result: PackageResult;
  readonly template: Template;
  readonly deployment: Deployment;
  /** Resources a deployment to `deployment.region` creates, Fn::If and AWS::NoValue resolved. */
  readonly resources: Record<string, Resource>;
}

/** One forwarder and everything that belongs to it, discovered from the template. */
interface Pipeline {
  readonly functionId: string;
  readonly functionName: string;
  readonly handler: string;
  readonly timeout: number;
  readonly environment: Record<string, Json>;
  readonly artifact: string;
  readonly roleId: string;
  readonly mappingId: string;
  readonly queueId: string;
  readonly dlqId: string;
  readonly logGroupId: string;
  readonly ruleId: string;
  readonly ruleDlqId: string;
}

let usEast1: Packaged;
let euWest1: Packaged;
let homeRegion: Packaged;
let invalidMode: PackageResult;
let missingSettings: PackageResult;
let iamChangeEventNames: string[];
/** Every run, kept apart from the variables so that afterAll removes them even when one run failed. */
const runs: PackageResult[] = [];

async function run(args: string[]): Promise<PackageResult> {
  const result = await runServerlessPackage(args);
  runs.push(result);
  return result;
}

async function packaged(args: string[], deployment: Deployment): Promise<Packaged> {
  const result = await run(args);
  if (result.code !== 0) throw new Error(`serverless package ${args.join(' ')} failed:\n${result.output}`);
  const template = await loadTemplate(result.dir);
  return { result, template, deployment, resources: activeResources(template, deployment) };
}

beforeAll(async () => {
  const iamEvents: unknown = JSON.parse(
    await readFile(join(REPO_ROOT, 'shared/domain/cloudtrail/iam-change-events.json'), 'utf8'),
  );
  const names = asArray(isObject(iamEvents) ? iamEvents.eventNames : undefined);
  iamChangeEventNames = names.filter((name): name is string => typeof name === 'string');
  if (iamChangeEventNames.length === 0 || iamChangeEventNames.length !== names.length) {
    throw new Error('iam-change-events.json has no list of event names');
  }
  const pending = [
    packaged(['--stage', 'test', '--region', 'us-east-1'], US_EAST_1),
    packaged(['--stage', 'test', '--region', 'eu-west-1'], EU_WEST_1),
    packaged(
      [
        '--stage',
        'test',
        '--region',
        'eu-west-1',
        '--param',
        'deployIamChanges=true',
        '--param',
        `secretKmsKeyArn=${KMS_KEY_ARN}`,
        '--param',
        `alarmTopicArn=${ALARM_TOPIC_ARN}`,
        '--param',
        `maxReceiveCount=${HOME_MAX_RECEIVE_COUNT}`,
      ],
      EU_WEST_1,
    ),
    run(['--stage', 'test', '--region', 'us-east-1', '--param', 'deployIamChanges=yes']),
    run(['--stage', 'unconfigured', '--region', 'us-east-1']),
  ] as const;
  try {
    [usEast1, euWest1, homeRegion, invalidMode, missingSettings] = await Promise.all(pending);
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

function get(resources: Record<string, Resource>, id: string): Resource {
  const found = resources[id];
  if (found === undefined) throw new Error(`no active resource ${id}`);
  return found;
}

function property(entry: Resource, path: string): Json | undefined {
  return prop(entry.Properties ?? null, path);
}

function required(value: string | undefined, what: string): string {
  if (value === undefined) throw new Error(`cannot find ${what}`);
  return value;
}

function stringProperty(entry: Resource, path: string): string {
  const value = property(entry, path);
  if (typeof value !== 'string') throw new Error(`${path} is not a string: ${JSON.stringify(value)}`);
  return value;
}

function numberProperty(entry: Resource, path: string): number {
  const value = property(entry, path);
  const number = typeof value === 'string' ? Number(value) : value;
  if (typeof number !== 'number' || Number.isNaN(number)) throw new Error(`${path} is not a number`);
  return number;
}

function pipelines(pkg: Packaged): Pipeline[] {
  const { resources } = pkg;
  return ofType(resources, 'AWS::Lambda::Function').map(([functionId, fn]) => {
    const mappings = ofType(resources, 'AWS::Lambda::EventSourceMapping').filter(
      ([, mapping]) => target(property(mapping, 'FunctionName')) === functionId,
    );
    const [mapping, ...others] = mappings;
    if (mapping === undefined || others.length > 0)
      throw new Error(`${functionId} needs exactly one event source`);
    const [mappingId, mappingResource] = mapping;
    const queueId = required(
      target(property(mappingResource, 'EventSourceArn'), 'Arn'),
      `queue of ${functionId}`,
    );
    const queue = get(resources, queueId);
    const dlqId = required(
      target(property(queue, 'RedrivePolicy.deadLetterTargetArn'), 'Arn'),
      `DLQ of ${queueId}`,
    );
    const functionName = stringProperty(fn, 'FunctionName');
    const logGroupId = ofType(resources, 'AWS::Logs::LogGroup').find(
      ([, group]) => property(group, 'LogGroupName') === `/aws/lambda/${functionName}`,
    )?.[0];
    const rules = ofType(resources, 'AWS::Events::Rule').filter(([, rule]) =>
      asArray(property(rule, 'Targets')).some((t) => target(prop(t, 'Arn'), 'Arn') === queueId),
    );
    const [rule, ...otherRules] = rules;
    if (rule === undefined || otherRules.length > 0) throw new Error(`${queueId} needs exactly one rule`);
    const ruleTarget = asArray(property(rule[1], 'Targets')).find(
      (t) => target(prop(t, 'Arn'), 'Arn') === queueId,
    );
    const environment = property(fn, 'Environment.Variables');
    const s3Key = stringProperty(fn, 'Code.S3Key');
    return {
      functionId,
      functionName,
      handler: stringProperty(fn, 'Handler'),
      timeout: numberProperty(fn, 'Timeout'),
      environment: isObject(environment) ? environment : {},
      artifact: required(s3Key.split('/').pop(), `artifact of ${functionId}`),
      roleId: required(target(property(fn, 'Role'), 'Arn'), `role of ${functionId}`),
      mappingId,
      queueId,
      dlqId,
      logGroupId: required(logGroupId, `log group of ${functionName}`),
      ruleId: rule[0],
      ruleDlqId: required(
        target(prop(ruleTarget, 'DeadLetterConfig.Arn'), 'Arn'),
        `target DLQ of ${rule[0]}`,
      ),
    };
  });
}

function pipelineNamed(pkg: Packaged, suffix: string): Pipeline {
  const found = pipelines(pkg).find((pipeline) => pipeline.functionName.endsWith(suffix));
  if (found === undefined) throw new Error(`no function ending in ${suffix}`);
  return found;
}

/** The alarms on the EventsRetried metric of a pipeline's function (Powertools dimension `service`). */
function retriesAlarmsOf(pkg: Packaged, pipeline: Pipeline): [string, Resource][] {
  return ofType(pkg.resources, 'AWS::CloudWatch::Alarm').filter(
    ([, alarm]) =>
      property(alarm, 'MetricName') === 'EventsRetried' &&
      property(alarm, 'Namespace') === pipeline.environment.POWERTOOLS_METRICS_NAMESPACE &&
      asArray(property(alarm, 'Dimensions')).some(
        (dimension) =>
          prop(dimension, 'Name') === 'service' &&
          prop(dimension, 'Value') === pipeline.environment.POWERTOOLS_SERVICE_NAME,
      ),
  );
}

/** The (action, resource) pairs an identity policy document grants, as sortable strings. */
function grants(document: Json): string[] {
  return statements(document).flatMap((statement) =>
    statement.Action.flatMap((action) =>
      statement.Resource.map((resourceValue) => `${action} -> ${JSON.stringify(resourceValue)}`),
    ),
  );
}

function expectedGrants(pipeline: Pipeline, secretArn: string, kmsKeyArn?: string): string[] {
  const pairs = (actions: string[], resourceValue: Json): string[] =>
    actions.map((action) => `${action} -> ${JSON.stringify(resourceValue)}`);
  return [
    ...pairs(QUEUE_ACTIONS, getAtt(pipeline.queueId, 'Arn')),
    ...pairs(DLQ_ACTIONS, getAtt(pipeline.dlqId, 'Arn')),
    ...pairs(SECRET_ACTIONS, secretArn),
    ...pairs(LOG_ACTIONS, getAtt(pipeline.logGroupId, 'Arn')),
    ...(kmsKeyArn === undefined ? [] : pairs(['kms:Decrypt'], kmsKeyArn)),
  ].sort();
}

function rolePolicies(pkg: Packaged, roleId: string): Json[] {
  return asArray(property(get(pkg.resources, roleId), 'Policies')).map(
    (policy) => prop(policy, 'PolicyDocument') ?? null,
  );
}

function queuePolicyOf(pkg: Packaged, queueId: string): Json {
  const policies = ofType(pkg.resources, 'AWS::SQS::QueuePolicy').filter(([, policy]) =>
    asArray(property(policy, 'Queues')).some((queue) => target(queue) === queueId),
  );
  expect(policies).toHaveLength(1);
  const [only] = policies;
  if (only === undefined) throw new Error(`no queue policy for ${queueId}`);
  return property(only[1], 'PolicyDocument') ?? null;
}

function secretArnOf(pipeline: Pipeline): string {
  const value = pipeline.environment.AZURE_CREDENTIAL_SECRET_ARN;
  if (typeof value !== 'string') throw new Error('AZURE_CREDENTIAL_SECRET_ARN is not a literal');
  return value;
}

const all = (): Packaged[] => [usEast1, euWest1, homeRegion];

// ---------------------------------------------------------------------------------------------- us-east-1

describe('serverless package --stage test --region us-east-1', () => {
  it('packages the two forwarders, GuardDuty findings and IAM changes', () => {
    expect(
      pipelines(usEast1)
        .map((pipeline) => pipeline.functionName)
        .sort(),
    ).toEqual(['aws-sentinel-bridge-test-guardduty-findings', 'aws-sentinel-bridge-test-iam-changes']);
    expect(evaluateCondition(usEast1.template, 'DeployIamChanges', US_EAST_1)).toBe(true);
  });

  it('runs every function on nodejs22.x for arm64 with a bounded timeout', () => {
    for (const [id, fn] of ofType(usEast1.resources, 'AWS::Lambda::Function')) {
      expect({ id, runtime: property(fn, 'Runtime'), architectures: property(fn, 'Architectures') }).toEqual({
        id,
        runtime: 'nodejs22.x',
        architectures: ['arm64'],
      });
      expect(numberProperty(fn, 'Timeout')).toBeLessThanOrEqual(300);
    }
  });

  it('gives every function a role of its own, assumable only by Lambda', () => {
    const all = pipelines(usEast1);
    expect(new Set(all.map((pipeline) => pipeline.roleId)).size).toBe(all.length);
    expect(usEast1.resources.IamRoleLambdaExecution).toBeUndefined();
    for (const pipeline of all) {
      const role = get(usEast1.resources, pipeline.roleId);
      expect(role.Type).toBe('AWS::IAM::Role');
      expect(property(role, 'ManagedPolicyArns')).toBeUndefined();
      const trust = statements(property(role, 'AssumeRolePolicyDocument'));
      expect(trust).toEqual([
        {
          Effect: 'Allow',
          Principal: { Service: 'lambda.amazonaws.com' },
          Action: ['sts:AssumeRole'],
          Resource: [],
        },
      ]);
      const users = ofType(usEast1.resources, 'AWS::Lambda::Function').filter(
        ([, fn]) => target(property(fn, 'Role'), 'Arn') === pipeline.roleId,
      );
      expect(users.map(([id]) => id)).toEqual([pipeline.functionId]);
    }
  });

  it('grants each function exactly the actions it uses, on its own queue, DLQ, log group and secret only', () => {
    for (const pipeline of pipelines(usEast1)) {
      const granted = rolePolicies(usEast1, pipeline.roleId).flatMap(grants).sort();
      expect({ role: pipeline.roleId, granted }).toEqual({
        role: pipeline.roleId,
        granted: expectedGrants(pipeline, secretArnOf(pipeline)),
      });
      expect(granted.join('\n')).not.toMatch(/cloudwatch:|xray:|kms:/);
    }
  });

  it('names no resource of one function in the role of another', () => {
    const [first, second] = pipelines(usEast1);
    if (first === undefined || second === undefined) throw new Error('expected two pipelines');
    const owned = (pipeline: Pipeline): string[] => [
      pipeline.queueId,
      pipeline.dlqId,
      pipeline.logGroupId,
      pipeline.ruleDlqId,
      pipeline.functionId,
    ];
    for (const [self, other] of [
      [first, second],
      [second, first],
    ] as const) {
      const referenced = references(get(usEast1.resources, self.roleId).Properties ?? null);
      expect([...referenced].sort()).toEqual([self.dlqId, self.logGroupId, self.queueId].sort());
      for (const id of owned(other)) expect(referenced.has(id)).toBe(false);
    }
  });

  it('encrypts every queue and every dead-letter queue', () => {
    const queues = ofType(usEast1.resources, 'AWS::SQS::Queue');
    expect(queues).toHaveLength(6);
    for (const [id, queue] of queues) {
      expect({ id, sse: property(queue, 'SqsManagedSseEnabled') }).toEqual({ id, sse: true });
    }
  });

  it('accounts for every queue as a source queue, its DLQ or a rule target DLQ', () => {
    const expected = pipelines(usEast1).flatMap((pipeline) => [
      pipeline.queueId,
      pipeline.dlqId,
      pipeline.ruleDlqId,
    ]);
    expect(
      ofType(usEast1.resources, 'AWS::SQS::Queue')
        .map(([id]) => id)
        .sort(),
    ).toEqual(expected.sort());
    expect(new Set(expected).size).toBe(expected.length);
  });

  it('redrives each source queue into its own DLQ after 30 receives, and keeps dead letters 14 days', () => {
    for (const pipeline of pipelines(usEast1)) {
      const queue = get(usEast1.resources, pipeline.queueId);
      const dlq = get(usEast1.resources, pipeline.dlqId);
      const maxReceiveCount = numberProperty(queue, 'RedrivePolicy.maxReceiveCount');
      // Poison messages are dead-lettered by the function in one attempt; receives only count transient failures.
      expect(maxReceiveCount).toBe(30);
      // Valid events ride out a few hours of Azure outage before the redrive moves them, well within retention.
      const outageSeconds = maxReceiveCount * numberProperty(queue, 'VisibilityTimeout');
      expect(outageSeconds).toBeGreaterThanOrEqual(3 * 3600);
      expect(outageSeconds).toBeLessThan(numberProperty(queue, 'MessageRetentionPeriod'));
      expect(numberProperty(queue, 'MessageRetentionPeriod')).toBe(345_600);
      expect(property(dlq, 'RedrivePolicy')).toBeUndefined();
      expect(numberProperty(dlq, 'MessageRetentionPeriod')).toBe(1_209_600);
      // A message moved to a DLQ keeps its original enqueue time, so the DLQ must keep messages longer.
      expect(numberProperty(dlq, 'MessageRetentionPeriod')).toBeGreaterThan(
        numberProperty(queue, 'MessageRetentionPeriod'),
      );
      expect(numberProperty(get(usEast1.resources, pipeline.ruleDlqId), 'MessageRetentionPeriod')).toBe(
        1_209_600,
      );
    }
  });

  it('lets every DLQ and rule DLQ hold messages of 1 MiB, the dead-letter adapter limit', () => {
    expect(MAX_SQS_PAYLOAD_BYTES).toBe(SQS_MAX_MESSAGE_SIZE);
    for (const pipeline of pipelines(usEast1)) {
      for (const dlqId of [pipeline.dlqId, pipeline.ruleDlqId]) {
        expect({ dlqId, size: numberProperty(get(usEast1.resources, dlqId), 'MaximumMessageSize') }).toEqual({
          dlqId,
          size: SQS_MAX_MESSAGE_SIZE,
        });
      }
    }
  });

  it('tells each function the URL of its own DLQ, the one its queue redrives into', () => {
    for (const pipeline of pipelines(usEast1)) {
      expect(pipeline.environment.DLQ_URL).toEqual(ref(pipeline.dlqId));
    }
  });

  it('keeps messages invisible for at least six times the function timeout plus the batching window', () => {
    for (const pipeline of pipelines(usEast1)) {
      const visibility = numberProperty(get(usEast1.resources, pipeline.queueId), 'VisibilityTimeout');
      const window = numberProperty(
        get(usEast1.resources, pipeline.mappingId),
        'MaximumBatchingWindowInSeconds',
      );
      expect(visibility).toBeGreaterThanOrEqual(6 * pipeline.timeout + window);
    }
  });

  it('maps each queue to its function in large batches with partial batch responses and a short batching window', () => {
    for (const pipeline of pipelines(usEast1)) {
      const mapping = get(usEast1.resources, pipeline.mappingId);
      expect(property(mapping, 'FunctionResponseTypes')).toEqual(['ReportBatchItemFailures']);
      expect(property(mapping, 'Enabled')).toBe(true);
      expect(numberProperty(mapping, 'BatchSize')).toBe(1000);
      const window = numberProperty(mapping, 'MaximumBatchingWindowInSeconds');
      expect(window).toBeGreaterThanOrEqual(1);
      expect(window).toBeLessThanOrEqual(10);
      const concurrency = numberProperty(mapping, 'ScalingConfig.MaximumConcurrency');
      expect(concurrency).toBeGreaterThanOrEqual(2);
      expect(concurrency).toBeLessThanOrEqual(50);
      expect(property(mapping, 'FilterCriteria')).toBeUndefined();
    }
  });

  it('routes every GuardDuty finding, and nothing else, to the GuardDuty queue', () => {
    const pipeline = pipelineNamed(usEast1, '-guardduty-findings');
    const rule = get(usEast1.resources, pipeline.ruleId);
    expect(property(rule, 'EventPattern')).toEqual({
      source: ['aws.guardduty'],
      'detail-type': ['GuardDuty Finding'],
    });
    expect(property(rule, 'State')).toBe('ENABLED');
    expect(property(rule, 'EventBusName')).toBeUndefined();
    expect(asArray(property(rule, 'Targets'))).toHaveLength(1);
  });

  it('routes exactly the IAM change events listed in iam-change-events.json to the IAM queue', () => {
    const pipeline = pipelineNamed(usEast1, '-iam-changes');
    const rule = get(usEast1.resources, pipeline.ruleId);
    expect(iamChangeEventNames.length).toBeGreaterThan(10);
    expect(new Set(iamChangeEventNames).size).toBe(iamChangeEventNames.length);
    expect(property(rule, 'EventPattern')).toEqual({
      source: ['aws.iam'],
      'detail-type': ['AWS API Call via CloudTrail'],
      detail: { eventSource: ['iam.amazonaws.com'], eventName: iamChangeEventNames },
    });
    expect(property(rule, 'State')).toBe('ENABLED');
    expect(asArray(property(rule, 'Targets'))).toHaveLength(1);
  });

  it('gives every EventBridge target its own encrypted DLQ and a retry policy', () => {
    for (const pipeline of pipelines(usEast1)) {
      const [ruleTarget] = asArray(property(get(usEast1.resources, pipeline.ruleId), 'Targets'));
      expect(prop(ruleTarget, 'DeadLetterConfig.Arn')).toEqual(getAtt(pipeline.ruleDlqId, 'Arn'));
      expect(pipeline.ruleDlqId).not.toBe(pipeline.queueId);
      expect(pipeline.ruleDlqId).not.toBe(pipeline.dlqId);
      const attempts = prop(ruleTarget, 'RetryPolicy.MaximumRetryAttempts');
      const age = prop(ruleTarget, 'RetryPolicy.MaximumEventAgeInSeconds');
      expect(typeof attempts === 'number' && attempts > 0 && attempts <= 185).toBe(true);
      expect(typeof age === 'number' && age >= 3600 && age <= 86_400).toBe(true);
    }
  });

  it('lets only its own rule send to each queue and to the rule DLQ, and only over TLS', () => {
    for (const pipeline of pipelines(usEast1)) {
      for (const queueId of [pipeline.queueId, pipeline.ruleDlqId]) {
        const policy = statements(queuePolicyOf(usEast1, queueId));
        const allows = policy.filter((statement) => statement.Effect === 'Allow');
        expect(allows.map(({ Sid: _sid, ...statement }) => statement)).toEqual([
          {
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: ['sqs:SendMessage'],
            Resource: [getAtt(queueId, 'Arn')],
            Condition: { ArnEquals: { 'aws:SourceArn': getAtt(pipeline.ruleId, 'Arn') } },
          },
        ]);
        expect(policy.filter((statement) => statement.Effect === 'Deny')).toEqual([
          expect.objectContaining({ Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]);
      }
      const dlqPolicy = statements(queuePolicyOf(usEast1, pipeline.dlqId));
      expect(dlqPolicy.filter((statement) => statement.Effect === 'Allow')).toEqual([]);
    }
  });

  it('alarms on the depth of every DLQ as soon as one message is in it', () => {
    const alarms = ofType(usEast1.resources, 'AWS::CloudWatch::Alarm');
    const dlqs = pipelines(usEast1).flatMap((pipeline) => [pipeline.dlqId, pipeline.ruleDlqId]);
    expect(dlqs).toHaveLength(4);
    for (const dlqId of dlqs) {
      const watching = alarms.filter(([, alarm]) =>
        asArray(property(alarm, 'Dimensions')).some(
          (dimension) =>
            prop(dimension, 'Name') === 'QueueName' &&
            JSON.stringify(prop(dimension, 'Value')) === JSON.stringify(getAtt(dlqId, 'QueueName')),
        ),
      );
      expect({ dlqId, alarms: watching.length }).toEqual({ dlqId, alarms: 1 });
      const alarm = watching[0]?.[1];
      if (alarm === undefined) continue;
      expect({
        namespace: property(alarm, 'Namespace'),
        metric: property(alarm, 'MetricName'),
        statistic: property(alarm, 'Statistic'),
        threshold: property(alarm, 'Threshold'),
        comparison: property(alarm, 'ComparisonOperator'),
        evaluationPeriods: property(alarm, 'EvaluationPeriods'),
        missingData: property(alarm, 'TreatMissingData'),
      }).toEqual({
        namespace: 'AWS/SQS',
        metric: 'ApproximateNumberOfMessagesVisible',
        statistic: 'Maximum',
        threshold: 0,
        comparison: 'GreaterThanThreshold',
        evaluationPeriods: 1,
        missingData: 'notBreaching',
      });
      expect(numberProperty(alarm, 'Period')).toBeLessThanOrEqual(300);
      // No alarmTopicArn was given: the alarms exist without actions.
      expect(property(alarm, 'AlarmActions')).toBeUndefined();
    }
  });

  it('alarms on the messages each function hands back for retry, in 3 consecutive 5-minute periods', () => {
    for (const pipeline of pipelines(usEast1)) {
      const alarms = retriesAlarmsOf(usEast1, pipeline);
      expect({ fn: pipeline.functionName, alarms: alarms.length }).toEqual({
        fn: pipeline.functionName,
        alarms: 1,
      });
      const alarm = alarms[0]?.[1];
      if (alarm === undefined) continue;
      expect({
        namespace: property(alarm, 'Namespace'),
        dimensions: property(alarm, 'Dimensions'),
        statistic: property(alarm, 'Statistic'),
        period: property(alarm, 'Period'),
        evaluationPeriods: property(alarm, 'EvaluationPeriods'),
        datapointsToAlarm: property(alarm, 'DatapointsToAlarm'),
        threshold: property(alarm, 'Threshold'),
        comparison: property(alarm, 'ComparisonOperator'),
        missingData: property(alarm, 'TreatMissingData'),
      }).toEqual({
        // Powertools Metrics v2 emits its metrics with the one dimension `service`.
        namespace: 'AwsSentinelBridge',
        dimensions: [{ Name: 'service', Value: pipeline.environment.POWERTOOLS_SERVICE_NAME }],
        statistic: 'Sum',
        period: 300,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        threshold: 0,
        comparison: 'GreaterThanThreshold',
        missingData: 'notBreaching',
      });
      expect(property(alarm, 'AlarmActions')).toBeUndefined();
      expect(property(alarm, 'OKActions')).toBeUndefined();
    }
    expect(ofType(usEast1.resources, 'AWS::CloudWatch::Alarm')).toHaveLength(6);
  });

  it('keeps secrets out of the environment: only the ARN of the credential secret is there', () => {
    for (const pipeline of pipelines(usEast1)) {
      expect(Object.keys(pipeline.environment).sort()).toEqual(ENVIRONMENT_KEYS);
      expect(secretArnOf(pipeline)).toMatch(SECRET_ARN);
      for (const [name, value] of Object.entries(pipeline.environment)) {
        if (name !== 'AZURE_CREDENTIAL_SECRET_ARN')
          expect(name).not.toMatch(/SECRET|PASSWORD|TOKEN|CERT|PRIVATE|KEY/);
        if (typeof value !== 'string') {
          expect({ name, value }).toEqual({ name: 'DLQ_URL', value: ref(pipeline.dlqId) });
          continue;
        }
        // Every literal is an id, a URL, an ARN or a plain word: nothing with the shape of a credential.
        expect({ name, value }).toEqual({
          name,
          value: expect.stringMatching(
            /^(https:\/\/[a-z0-9.-]+\/?|arn:[A-Za-z0-9:/_+=.@-]+|[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}|dcr-[0-9a-f]{32}|[A-Za-z-]+|\d{1,2}|--enable-source-maps|)$/,
          ),
        });
      }
      expect(pipeline.environment.POWERTOOLS_SERVICE_NAME).toBe(
        pipeline.functionName.replace(/^aws-sentinel-bridge-test-/, ''),
      );
      expect(pipeline.environment.POWERTOOLS_METRICS_NAMESPACE).toBe('AwsSentinelBridge');
    }
    expect(JSON.stringify(usEast1.template)).not.toMatch(/AZURE_CLIENT_SECRET|clientSecret/);
  });

  it('gives each function its own log group with a retention, created before the function', () => {
    for (const pipeline of pipelines(usEast1)) {
      const group = get(usEast1.resources, pipeline.logGroupId);
      expect(numberProperty(group, 'RetentionInDays')).toBeGreaterThanOrEqual(7);
      expect(asArray(get(usEast1.resources, pipeline.functionId).DependsOn)).toContain(pipeline.logGroupId);
    }
  });

  it('outputs the queue URLs and ARNs, the DLQ URLs and the function names', () => {
    const outputs = usEast1.template.Outputs ?? {};
    const value = (name: string): Json | undefined => outputs[name]?.Value;
    for (const [prefix, pipeline] of [
      ['GuardDutyFindings', pipelineNamed(usEast1, '-guardduty-findings')],
      ['IamChanges', pipelineNamed(usEast1, '-iam-changes')],
    ] as const) {
      expect(value(`${prefix}QueueUrl`)).toEqual(ref(pipeline.queueId));
      expect(value(`${prefix}QueueArn`)).toEqual(getAtt(pipeline.queueId, 'Arn'));
      expect(value(`${prefix}DlqUrl`)).toEqual(ref(pipeline.dlqId));
      expect(value(`${prefix}DlqArn`)).toEqual(getAtt(pipeline.dlqId, 'Arn'));
      expect(value(`${prefix}RuleDlqUrl`)).toEqual(ref(pipeline.ruleDlqId));
      expect(value(`${prefix}FunctionName`)).toEqual(ref(pipeline.functionId));
    }
  });

  it('bundles each function into a zip of one .mjs handler and its source map, nothing else', async () => {
    for (const pipeline of pipelines(usEast1)) {
      const file = `${pipeline.handler.replace(/\.handler$/, '')}.mjs`;
      const zip = await readZip(join(usEast1.result.dir, 'out', pipeline.artifact));
      expect(zip.entries.map((entry) => entry.name).sort()).toEqual([file, `${file}.map`]);
      const code = zip.read(file).toString('utf8');
      expect(code.startsWith(BANNER)).toBe(true);
      expect(code.length).toBeGreaterThan(1000);
    }
  });

  it('loads each bundled handler in Node 22 from a directory without node_modules and exports a handler function', async () => {
    for (const pipeline of pipelines(usEast1)) {
      const file = `${pipeline.handler.replace(/\.handler$/, '')}.mjs`;
      const zip = await readZip(join(usEast1.result.dir, 'out', pipeline.artifact));
      const environment: Record<string, string> = {
        AWS_REGION: 'us-east-1',
        AWS_LAMBDA_FUNCTION_NAME: pipeline.functionName,
      };
      for (const [name, value] of Object.entries(pipeline.environment)) {
        environment[name] =
          typeof value === 'string'
            ? value
            : `https://sqs.us-east-1.amazonaws.com/123456789012/${stringProperty(get(usEast1.resources, pipeline.dlqId), 'QueueName')}`;
      }
      const loaded = await importBundledHandler(zip, file, environment);
      expect({ file, loaded }).toEqual({ file, loaded: 'function' });
    }
  });
});

// ----------------------------------------------------------------------------------------- every layout

describe('every packaged layout', () => {
  it('allows no wildcard action and no wildcard or unnamed resource in any IAM statement', () => {
    for (const pkg of all()) {
      for (const { owner, kind, document } of policyDocuments(pkg.resources)) {
        for (const statement of statements(document)) {
          const where = `${pkg.deployment.region} ${owner} ${statement.Sid ?? ''}`;
          expect({ where, notAction: statement.NotAction, notResource: statement.NotResource }).toEqual({
            where,
            notAction: undefined,
            notResource: undefined,
          });
          if (statement.Effect === 'Deny') continue; // a deny with wildcards only takes away
          expect({ where, effect: statement.Effect }).toEqual({ where, effect: 'Allow' });
          for (const action of statement.Action)
            expect({ where, action }).toEqual({ where, action: expect.not.stringContaining('*') });
          expect(statement.Resource.length).toBeGreaterThan(0);
          for (const resourceValue of statement.Resource) {
            // Literals must be exact ARNs; references (GetAtt/Ref) name a resource of this stack.
            if (typeof resourceValue === 'string') {
              expect({ where, resourceValue }).toEqual({
                where,
                resourceValue: expect.stringMatching(/^arn:aws[a-z-]*:[^*]+$/),
              });
            } else {
              expect({ where, referenced: references(resourceValue).size }).toEqual({ where, referenced: 1 });
            }
          }
          if (kind === 'resource') {
            expect({ where, principal: statement.Principal }).toEqual({
              where,
              principal: { Service: expect.stringMatching(/^[a-z]+\.amazonaws\.com$/) },
            });
          }
        }
      }
    }
  });

  it('references only resources that exist in the layout', () => {
    for (const pkg of all()) {
      const known = new Set([...Object.keys(pkg.resources), ...Object.keys(pkg.template.Parameters ?? {})]);
      for (const [id, entry] of Object.entries(pkg.resources)) {
        const needed = [...references(entry.Properties ?? null), ...asArray(entry.DependsOn).map(String)];
        for (const name of needed)
          expect({ region: pkg.deployment.region, id, name, known: known.has(name) }).toMatchObject({
            known: true,
          });
      }
      for (const [name, output] of Object.entries(pkg.template.Outputs ?? {})) {
        if (!isActive(pkg.template, output, pkg.deployment)) continue;
        for (const needed of references(output.Value)) {
          expect({
            region: pkg.deployment.region,
            output: name,
            needed,
            known: known.has(needed),
          }).toMatchObject({ known: true });
        }
      }
    }
  });

  it('deploys nothing of the S3 logs pipeline and grants nothing on S3 when no log bucket is configured', () => {
    for (const pkg of all()) {
      const region = pkg.deployment.region;
      expect({ region, deploy: evaluateCondition(pkg.template, 'DeployS3Logs', pkg.deployment) }).toEqual({
        region,
        deploy: false,
      });
      // The pipeline is in the template, every resource and output of it behind the condition.
      const ids = Object.keys(pkg.template.Resources).filter((id) => id.startsWith('S3Logs'));
      expect(ids.length).toBeGreaterThanOrEqual(11);
      for (const id of ids) {
        expect({ id, condition: pkg.template.Resources[id]?.Condition }).toEqual({
          id,
          condition: 'DeployS3Logs',
        });
      }
      expect(Object.keys(pkg.resources).filter((id) => id.startsWith('S3Logs'))).toEqual([]);
      const outputs = Object.entries(pkg.template.Outputs ?? {}).filter(([name]) =>
        name.startsWith('S3Logs'),
      );
      expect(outputs.length).toBeGreaterThan(0);
      for (const [, output] of outputs) expect(isActive(pkg.template, output, pkg.deployment)).toBe(false);
      expect(
        ofType(pkg.resources, 'AWS::Lambda::Function').map(([, fn]) => property(fn, 'Handler')),
      ).not.toContain('aws-functions/s3-logs.handler');
      // No S3 action, no S3 resource, no decryption through S3 and no S3 principal in any Allow statement (the
      // deployment bucket's policy only denies).
      const allows = policyDocuments(pkg.resources).flatMap(({ document }) =>
        statements(document).filter((statement) => statement.Effect === 'Allow'),
      );
      expect(allows.length).toBeGreaterThan(0);
      expect(JSON.stringify(allows)).not.toMatch(
        /"s3:|arn:aws:s3:|s3\.amazonaws\.com|s3\.[a-z0-9-]+\.amazonaws\.com/,
      );
    }
  });

  it('resolves the secret ARN of every role from the same value as the environment', () => {
    for (const pkg of all()) {
      for (const pipeline of pipelines(pkg)) {
        const secretGrants = rolePolicies(pkg, pipeline.roleId)
          .flatMap(grants)
          .filter((grant) => grant.startsWith('secretsmanager:'));
        expect(secretGrants).toEqual([
          `secretsmanager:GetSecretValue -> ${JSON.stringify(secretArnOf(pipeline))}`,
        ]);
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------- eu-west-1

describe('serverless package --stage test --region eu-west-1', () => {
  it('leaves out the whole IAM-changes pipeline outside us-east-1', () => {
    expect(evaluateCondition(euWest1.template, 'DeployIamChanges', EU_WEST_1)).toBe(false);
    const inactive = Object.keys(euWest1.template.Resources).filter(
      (id) => euWest1.resources[id] === undefined,
    );
    const iamIds = Object.keys(euWest1.template.Resources).filter((id) => id.startsWith('IamChanges'));
    // Without a log bucket the S3 logs pipeline is left out too (see the test on it below).
    const s3LogsIds = Object.keys(euWest1.template.Resources).filter((id) => id.startsWith('S3Logs'));
    expect(inactive.sort()).toEqual([...iamIds, ...s3LogsIds].sort());
    // The IAM pipeline mirrors the GuardDuty one resource for resource (function, mapping, log group, role, queues,
    // rule, policies, alarms), and all of it is gone.
    const guardDutyIds = Object.keys(euWest1.template.Resources).filter((id) => /^guardduty/i.test(id));
    expect(iamIds).toHaveLength(guardDutyIds.length);
    expect(iamIds.length).toBeGreaterThanOrEqual(14);
    // The retries alarm of the iam-changes function is in the template too, behind the same condition.
    const iamRetriesAlarms = Object.entries(euWest1.template.Resources).filter(
      ([, entry]) =>
        entry.Type === 'AWS::CloudWatch::Alarm' &&
        entry.Properties?.MetricName === 'EventsRetried' &&
        JSON.stringify(entry.Properties.Dimensions ?? null) ===
          JSON.stringify([{ Name: 'service', Value: 'iam-changes' }]),
    );
    expect(iamRetriesAlarms.map(([id, entry]) => ({ id, condition: entry.Condition }))).toEqual([
      { id: 'IamChangesRetriesAlarm', condition: 'DeployIamChanges' },
    ]);
    expect(
      ofType(euWest1.resources, 'AWS::Events::Rule').map(([, rule]) =>
        prop(property(rule, 'EventPattern'), 'source'),
      ),
    ).toEqual([['aws.guardduty']]);
  });

  it('keeps the complete GuardDuty pipeline', () => {
    const [pipeline, ...others] = pipelines(euWest1);
    expect(others).toEqual([]);
    expect(pipeline?.functionName).toBe('aws-sentinel-bridge-test-guardduty-findings');
    if (pipeline === undefined) return;
    expect(rolePolicies(euWest1, pipeline.roleId).flatMap(grants).sort()).toEqual(
      expectedGrants(pipeline, secretArnOf(pipeline)),
    );
    // Depth alarms on its DLQ and rule DLQ, and the retries alarm of its function.
    expect(ofType(euWest1.resources, 'AWS::CloudWatch::Alarm')).toHaveLength(3);
    expect(retriesAlarmsOf(euWest1, pipeline)).toHaveLength(1);
  });

  it('outputs nothing of the IAM-changes pipeline', () => {
    const active = Object.entries(euWest1.template.Outputs ?? {})
      .filter(([, output]) => isActive(euWest1.template, output, EU_WEST_1))
      .map(([name]) => name);
    expect(active.filter((name) => name.startsWith('IamChanges'))).toEqual([]);
    expect(active).toContain('GuardDutyFindingsQueueUrl');
  });
});

// -------------------------------------------------------------------------------- home region with options

describe('serverless package in a home region with deployIamChanges=true, a secret KMS key, an alarm topic and maxReceiveCount', () => {
  it('deploys the IAM-changes pipeline outside us-east-1 for events routed from us-east-1', () => {
    expect(evaluateCondition(homeRegion.template, 'DeployIamChanges', EU_WEST_1)).toBe(true);
    expect(
      pipelines(homeRegion)
        .map((pipeline) => pipeline.functionName)
        .sort(),
    ).toEqual(['aws-sentinel-bridge-test-guardduty-findings', 'aws-sentinel-bridge-test-iam-changes']);
  });

  it('lets each function decrypt with the secret key only through Secrets Manager in the secret region', () => {
    for (const pipeline of pipelines(homeRegion)) {
      const documents = rolePolicies(homeRegion, pipeline.roleId);
      expect(documents.flatMap(grants).sort()).toEqual(
        expectedGrants(pipeline, secretArnOf(pipeline), KMS_KEY_ARN),
      );
      const kms = documents
        .flatMap(statements)
        .filter((statement) => statement.Action.includes('kms:Decrypt'));
      const secretRegion = secretArnOf(pipeline).split(':')[3];
      expect(kms.map((statement) => statement.Condition)).toEqual([
        { StringEquals: { 'kms:ViaService': `secretsmanager.${secretRegion}.amazonaws.com` } },
      ]);
    }
  });

  it('redrives after the maxReceiveCount given as a parameter', () => {
    for (const pipeline of pipelines(homeRegion)) {
      expect(
        numberProperty(get(homeRegion.resources, pipeline.queueId), 'RedrivePolicy.maxReceiveCount'),
      ).toBe(HOME_MAX_RECEIVE_COUNT);
    }
  });

  it('sends every DLQ and retries alarm and its recovery to the alarm topic', () => {
    const alarms = ofType(homeRegion.resources, 'AWS::CloudWatch::Alarm');
    expect(alarms).toHaveLength(6);
    for (const pipeline of pipelines(homeRegion))
      expect(retriesAlarmsOf(homeRegion, pipeline)).toHaveLength(1);
    for (const [, alarm] of alarms) {
      expect(property(alarm, 'AlarmActions')).toEqual([ALARM_TOPIC_ARN]);
      expect(property(alarm, 'OKActions')).toEqual([ALARM_TOPIC_ARN]);
    }
  });
});

// ------------------------------------------------------------------------------------------------ refusals

describe('serverless package refusals', () => {
  it('rejects a deployIamChanges value other than auto, true or false', () => {
    expect(invalidMode.code).not.toBe(0);
    expect(invalidMode.output).toContain('custom.deployIamChanges');
  });

  it('refuses a stage without its Azure settings and names each missing one', () => {
    expect(missingSettings.code).not.toBe(0);
    for (const name of [
      'LOGS_INGESTION_ENDPOINT',
      'DCR_IMMUTABLE_ID',
      'AZURE_TENANT_ID',
      'AZURE_CLIENT_ID',
      'AZURE_CREDENTIAL_SECRET_ARN',
    ]) {
      expect(missingSettings.output).toContain(`provider.environment.${name}`);
    }
  });
});
