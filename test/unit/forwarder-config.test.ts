import { describe, expect, it } from '@jest/globals';
import { loadForwarderConfig } from '../../shared/config/forwarder-config.js';
import { ConfigError } from '../../shared/domain/errors.js';

const VALID = {
  LOGS_INGESTION_ENDPOINT: 'https://bridge-dce-a1b2.eastus-1.ingest.monitor.azure.com',
  DCR_IMMUTABLE_ID: 'dcr-0123456789abcdef0123456789abcdef',
  AZURE_TENANT_ID: '72f988bf-86f1-41af-91ab-2d7cd011db47',
  AZURE_CLIENT_ID: '11111111-2222-3333-4444-555555555555',
  AZURE_CREDENTIAL_SECRET_ARN:
    'arn:aws:secretsmanager:us-east-1:111122223333:secret:sentinel-bridge/entra-app-AbCdEf',
  DLQ_URL: 'https://sqs.us-east-1.amazonaws.com/111122223333/guardduty-findings-dlq',
};

function errorOf(env: Record<string, string | undefined>): string {
  try {
    loadForwarderConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('forwarder configuration', () => {
  it('reads a complete configuration with defaults for the optional settings', () => {
    expect(loadForwarderConfig(VALID)).toEqual({
      logsIngestionEndpoint: VALID.LOGS_INGESTION_ENDPOINT,
      dcrImmutableId: VALID.DCR_IMMUTABLE_ID,
      tenantId: VALID.AZURE_TENANT_ID,
      clientId: VALID.AZURE_CLIENT_ID,
      credentialSecretArn: VALID.AZURE_CREDENTIAL_SECRET_ARN,
      dlqUrl: VALID.DLQ_URL,
      maxConcurrency: 5,
    });
  });

  it('names every missing setting in one error, with what it should hold', () => {
    const message = errorOf({ ...VALID, DCR_IMMUTABLE_ID: undefined, DLQ_URL: ' ' });
    expect(message).toMatch(/DCR_IMMUTABLE_ID is missing: the data collection rule's immutableId/);
    expect(message).toMatch(/DLQ_URL is missing/);
    expect(message).not.toMatch(/AZURE_TENANT_ID/);
  });

  it('refuses malformed values', () => {
    expect(errorOf({ ...VALID, LOGS_INGESTION_ENDPOINT: 'http://plain.example' })).toMatch(
      /LOGS_INGESTION_ENDPOINT is invalid/,
    );
    expect(errorOf({ ...VALID, DCR_IMMUTABLE_ID: 'my-dcr' })).toMatch(
      /DCR_IMMUTABLE_ID is invalid \(expected dcr- followed by 32 hex digits\)/,
    );
    expect(errorOf({ ...VALID, AZURE_TENANT_ID: 'contoso' })).toMatch(
      /AZURE_TENANT_ID is invalid \(expected a GUID\)/,
    );
    expect(errorOf({ ...VALID, AZURE_CREDENTIAL_SECRET_ARN: 'my-secret' })).toMatch(
      /AZURE_CREDENTIAL_SECRET_ARN is invalid/,
    );
    expect(errorOf({ ...VALID, INGESTION_MAX_CONCURRENCY: '0' })).toMatch(
      /INGESTION_MAX_CONCURRENCY is invalid/,
    );
  });

  it('refuses a client secret in plain environment variables', () => {
    expect(errorOf({ ...VALID, AZURE_CLIENT_SECRET: 'shh' })).toMatch(
      /AZURE_CLIENT_SECRET is set: secrets are read from Secrets Manager/,
    );
  });
});
