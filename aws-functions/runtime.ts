import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { lazySecretCredential } from '../shared/adapters/aws/azure-credential-secret.js';
import { createS3LogObjects } from '../shared/adapters/aws/s3-log-objects.js';
import { createSqsContinuations } from '../shared/adapters/aws/sqs-continuations.js';
import { createSqsDeadLetterAdapter } from '../shared/adapters/aws/sqs-dead-letters.js';
import { createLogsIngestionAdapter } from '../shared/adapters/azure/logs-ingestion.js';
import { type ForwarderConfig, loadForwarderConfig } from '../shared/config/forwarder-config.js';
import { loadS3LogsConfig } from '../shared/config/s3-logs-config.js';
import IAM_CHANGE_EVENTS from '../shared/domain/cloudtrail/iam-change-events.json' with { type: 'json' };
import { ConfigError } from '../shared/domain/errors.js';
import { createDecoder, detectEncoding, resumeDecoder } from '../shared/streams/resumable-gunzip.js';
import type { ForwarderHandlerDeps } from './forwarder.js';
import type { S3LogsHandlerDeps } from './s3-logs-handler.js';

/**
 * Composition root of the forwarder functions: validates the configuration once (an invalid one fails the
 * cold start with a message naming each bad setting), builds the clients once per execution environment,
 * and reads the Entra credential from Secrets Manager once, on first use.
 */
export function defaultForwarderDeps(serviceName: string): ForwarderHandlerDeps {
  return forwarderDeps(serviceName, loadForwarderConfig(process.env));
}

function forwarderDeps(serviceName: string, config: ForwarderConfig): ForwarderHandlerDeps {
  const logger = new Logger({ serviceName });
  const metrics = new Metrics({
    serviceName,
    namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'AwsSentinelBridge',
  });
  const secrets = new SecretsProvider({ awsSdkV3Client: new SecretsManagerClient({}) });
  const credential = lazySecretCredential(
    {
      tenantId: config.tenantId,
      clientId: config.clientId,
      ...(config.authorityHost ? { authorityHost: config.authorityHost } : {}),
    },
    async () => {
      const value = await secrets.get(config.credentialSecretArn, { maxAge: 3600 });
      if (typeof value !== 'string' || value === '') {
        throw new ConfigError(`secret ${config.credentialSecretArn} has no SecretString`);
      }
      return value;
    },
  );
  return {
    logger,
    metrics,
    ingestion: createLogsIngestionAdapter({
      endpoint: config.logsIngestionEndpoint,
      ruleId: config.dcrImmutableId,
      credential,
      maxConcurrency: config.maxConcurrency,
    }),
    deadLetters: createSqsDeadLetterAdapter(new SQSClient({}), config.dlqUrl),
  };
}

/** Composition root of the s3-logs function: the forwarder's clients plus S3, continuations and decoders. */
export function defaultS3LogsDeps(serviceName: string): S3LogsHandlerDeps {
  const config = loadS3LogsConfig(process.env);
  const forwarder = forwarderDeps(serviceName, config);
  const sqs = new SQSClient({});
  const iamEvents = new Set(IAM_CHANGE_EVENTS.eventNames);
  return {
    ...forwarder,
    objects: createS3LogObjects(new S3Client({})),
    continuations: createSqsContinuations(sqs, config.continuationQueueUrl),
    decoders: {
      detect: detectEncoding,
      create: (encoding) => createDecoder(encoding),
      resume: (cp) => resumeDecoder(cp),
    },
    buckets: config.buckets,
    ...(config.skipRealtimeIamEvents
      ? {
          skipRecord: (record: Record<string, unknown>) =>
            record.eventSource === 'iam.amazonaws.com' &&
            typeof record.eventName === 'string' &&
            iamEvents.has(record.eventName),
        }
      : {}),
  };
}
