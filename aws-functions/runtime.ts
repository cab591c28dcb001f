import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { lazySecretCredential } from '../shared/adapters/aws/azure-credential-secret.js';
import { createSqsDeadLetterAdapter } from '../shared/adapters/aws/sqs-dead-letters.js';
import { createLogsIngestionAdapter } from '../shared/adapters/azure/logs-ingestion.js';
import { loadForwarderConfig } from '../shared/config/forwarder-config.js';
import { ConfigError } from '../shared/domain/errors.js';
import type { ForwarderHandlerDeps } from './forwarder.js';

/**
 * Composition root of the forwarder functions: validates the configuration once (an invalid one fails the
 * cold start with a message naming each bad setting), builds the clients once per execution environment,
 * and reads the Entra credential from Secrets Manager once, on first use.
 */
export function defaultForwarderDeps(serviceName: string): ForwarderHandlerDeps {
  const config = loadForwarderConfig(process.env);
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
