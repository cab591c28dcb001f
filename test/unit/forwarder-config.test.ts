import { describe, expect, it } from '@jest/globals';
import {
  FORWARDER_OPTIONAL_SETTINGS_HELP,
  FORWARDER_SETTINGS_HELP,
  loadForwarderConfig,
} from '../../shared/config/forwarder-config.js';
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

const CUSTOM = { ALLOW_CUSTOM_INGESTION_ENDPOINT: 'true' };

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
      /LOGS_INGESTION_ENDPOINT is invalid \(expected an https:\/\/ URL\)/,
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

  it('lists every refused endpoint in one error, each with its help text', () => {
    const message = errorOf({
      ...VALID,
      LOGS_INGESTION_ENDPOINT: 'https://collector.example.com',
      AZURE_AUTHORITY_HOST: 'https://login.example.com',
      DLQ_URL: 'https://queue.example.com/111122223333/dlq',
    });
    expect(message.split('\n- ').slice(1)).toEqual([
      expect.stringMatching(/^LOGS_INGESTION_ENDPOINT is invalid .*: the Logs Ingestion endpoint of the DCR/),
      expect.stringMatching(/^DLQ_URL is invalid .*: the function's dead-letter queue URL/),
      expect.stringMatching(/^AZURE_AUTHORITY_HOST is invalid .*: Entra authority for sovereign clouds/),
    ]);
    expect(message.match(/ALLOW_CUSTOM_INGESTION_ENDPOINT=true/g)?.length).toBeGreaterThanOrEqual(3);
  });
});

describe('pinned Logs Ingestion endpoint', () => {
  it.each([
    'https://bridge-dce-a1b2.eastus-1.ingest.monitor.azure.com',
    'https://bridge-dce-a1b2.eastus-1.ingest.monitor.azure.com/',
    'https://dcr-0123456789abcdef0123456789abcdef.eastus-1.ingest.monitor.azure.com',
    'https://bridge-dce.usgovvirginia-1.ingest.monitor.azure.us',
    'https://bridge-dce.chinanorth3-1.ingest.monitor.azure.cn',
    'https://Bridge-DCE.EastUS-1.Ingest.Monitor.Azure.com',
  ])('accepts the Azure Monitor ingestion host %s', (endpoint) => {
    expect(loadForwarderConfig({ ...VALID, LOGS_INGESTION_ENDPOINT: endpoint }).logsIngestionEndpoint).toBe(
      endpoint,
    );
  });

  it.each([
    ['a path', 'https://x.eastus-1.ingest.monitor.azure.com/dataCollectionRules', /without path/],
    ['a query', 'https://x.eastus-1.ingest.monitor.azure.com/?api-version=2023-01-01', /without path, query/],
    ['an empty query', 'https://x.eastus-1.ingest.monitor.azure.com?', /without path, query/],
    ['a fragment', 'https://x.eastus-1.ingest.monitor.azure.com/#rows', /query or fragment/],
    ['a port', 'https://x.eastus-1.ingest.monitor.azure.com:8443', /expected no port/],
    ['credentials', 'https://user:pass@x.eastus-1.ingest.monitor.azure.com', /no user name or password/],
    ['another host', 'https://collector.example.com', /host ending in \.ingest\.monitor\.azure\.com/],
    ['a look-alike host', 'https://x.ingest.monitor.azure.com.evil.example', /host ending in/],
    ['a look-alike suffix', 'https://xingest.monitor.azure.com', /host ending in/],
    ['the bare suffix', 'https://ingest.monitor.azure.com', /host ending in/],
    ['the monitor host itself', 'https://monitor.azure.com', /host ending in/],
    ['an IP address', 'https://10.0.0.1', /host ending in/],
    ['plain http', 'http://x.eastus-1.ingest.monitor.azure.com', /expected an https:\/\/ URL/],
    ['no URL at all', 'x.eastus-1.ingest.monitor.azure.com', /expected an https:\/\/ URL/],
  ])('refuses an endpoint with %s', (_what, endpoint, problem) => {
    const message = errorOf({ ...VALID, LOGS_INGESTION_ENDPOINT: endpoint });
    expect(message).toMatch(/LOGS_INGESTION_ENDPOINT is invalid/);
    expect(message).toMatch(problem);
  });
});

describe('pinned Entra authority', () => {
  it.each([
    'https://login.microsoftonline.com',
    'https://login.microsoftonline.com/',
    'https://login.microsoftonline.us',
    'https://login.chinacloudapi.cn/',
    'https://login.partner.microsoftonline.cn',
  ])('accepts the authority %s', (host) => {
    expect(loadForwarderConfig({ ...VALID, AZURE_AUTHORITY_HOST: host }).authorityHost).toBe(host);
  });

  it('treats an empty authority as the public cloud default', () => {
    expect(loadForwarderConfig({ ...VALID, AZURE_AUTHORITY_HOST: '' })).not.toHaveProperty('authorityHost');
  });

  it.each([
    ['another host', 'https://login.example.com', /expected one of https:\/\/login\.microsoftonline\.com/],
    ['a look-alike host', 'https://login.microsoftonline.com.evil.example', /expected one of/],
    ['a tenant path', 'https://login.microsoftonline.com/contoso.onmicrosoft.com', /without path/],
    ['a port', 'https://login.microsoftonline.com:8443', /expected one of/],
    ['a query', 'https://login.microsoftonline.com/?x=1', /without path, query/],
    ['plain http', 'http://login.microsoftonline.com', /expected an https:\/\/ URL/],
  ])('refuses an authority with %s', (_what, host, problem) => {
    const message = errorOf({ ...VALID, AZURE_AUTHORITY_HOST: host });
    expect(message).toMatch(/AZURE_AUTHORITY_HOST is invalid/);
    expect(message).toMatch(problem);
  });
});

describe('pinned dead-letter queue URL', () => {
  it.each([
    'https://sqs.us-east-1.amazonaws.com/111122223333/guardduty-findings-dlq',
    'https://sqs.us-gov-west-1.amazonaws.com/111122223333/guardduty-findings-dlq',
    'https://sqs.cn-north-1.amazonaws.com.cn/111122223333/guardduty-findings-dlq',
    'https://sqs.ap-southeast-5.amazonaws.com/111122223333/iam_changes-dlq.fifo',
    'https://eu-west-1.queue.amazonaws.com/111122223333/guardduty-findings-dlq',
  ])('accepts the SQS queue URL %s', (url) => {
    expect(loadForwarderConfig({ ...VALID, DLQ_URL: url }).dlqUrl).toBe(url);
  });

  it.each([
    ['plain http', 'http://sqs.us-east-1.amazonaws.com/111122223333/dlq', /expected an https:\/\/ URL/],
    ['another host', 'https://sqs.us-east-1.example.com/111122223333/dlq', /expected an SQS queue URL/],
    ['a look-alike host', 'https://sqs.us-east-1.amazonaws.com.evil.example/111122223333/dlq', /SQS queue/],
    ['a local server', 'https://localhost:4566/000000000000/dlq', /expected an SQS queue URL/],
    ['no account', 'https://sqs.us-east-1.amazonaws.com/dlq', /expected an SQS queue URL/],
    ['a short account', 'https://sqs.us-east-1.amazonaws.com/1111/dlq', /expected an SQS queue URL/],
    ['an extra segment', 'https://sqs.us-east-1.amazonaws.com/111122223333/dlq/x', /SQS queue URL/],
    ['a query', 'https://sqs.us-east-1.amazonaws.com/111122223333/dlq?Action=x', /SQS queue URL/],
    ['a port', 'https://sqs.us-east-1.amazonaws.com:8443/111122223333/dlq', /SQS queue URL/],
    ['credentials', 'https://a:b@sqs.us-east-1.amazonaws.com/111122223333/dlq', /no user name or password/],
    ['a queue ARN', 'arn:aws:sqs:us-east-1:111122223333:dlq', /expected an https:\/\/ URL/],
  ])('refuses a queue URL with %s', (_what, url, problem) => {
    const message = errorOf({ ...VALID, DLQ_URL: url });
    expect(message).toMatch(/DLQ_URL is invalid/);
    expect(message).toMatch(problem);
  });
});

describe('ALLOW_CUSTOM_INGESTION_ENDPOINT', () => {
  it('accepts local https endpoints, authority and queue URL when set to true', () => {
    const config = loadForwarderConfig({
      ...VALID,
      ...CUSTOM,
      LOGS_INGESTION_ENDPOINT: 'https://127.0.0.1:8443',
      AZURE_AUTHORITY_HOST: 'https://localhost:9443/authority',
      DLQ_URL: 'https://localhost:4566/000000000000/guardduty-findings-dlq',
    });
    expect(config).toMatchObject({
      logsIngestionEndpoint: 'https://127.0.0.1:8443',
      authorityHost: 'https://localhost:9443/authority',
      dlqUrl: 'https://localhost:4566/000000000000/guardduty-findings-dlq',
    });
  });

  it('still requires https and an endpoint without path or query', () => {
    const message = errorOf({
      ...VALID,
      ...CUSTOM,
      LOGS_INGESTION_ENDPOINT: 'http://127.0.0.1:8080',
      AZURE_AUTHORITY_HOST: 'http://localhost:9443',
      DLQ_URL: 'http://localhost:4566/000000000000/dlq',
    });
    expect(message).toMatch(/LOGS_INGESTION_ENDPOINT is invalid \(expected an https:\/\/ URL\)/);
    expect(message).toMatch(/AZURE_AUTHORITY_HOST is invalid \(expected an https:\/\/ URL\)/);
    expect(message).toMatch(/DLQ_URL is invalid \(expected an https:\/\/ URL\)/);
    expect(
      errorOf({ ...VALID, ...CUSTOM, LOGS_INGESTION_ENDPOINT: 'https://127.0.0.1:8443/api?x=1' }),
    ).toMatch(
      /LOGS_INGESTION_ENDPOINT is invalid \(expected https:\/\/<host> without path, query or fragment\)/,
    );
  });

  it('keeps the pinning for any value other than true', () => {
    for (const value of ['false', '']) {
      expect(
        errorOf({
          ...VALID,
          ALLOW_CUSTOM_INGESTION_ENDPOINT: value,
          LOGS_INGESTION_ENDPOINT: 'https://127.0.0.1',
        }),
      ).toMatch(/LOGS_INGESTION_ENDPOINT is invalid \(expected a host ending in/);
    }
    const message = errorOf({
      ...VALID,
      ALLOW_CUSTOM_INGESTION_ENDPOINT: 'yes',
      LOGS_INGESTION_ENDPOINT: 'https://127.0.0.1',
    });
    expect(message).toMatch(/ALLOW_CUSTOM_INGESTION_ENDPOINT is invalid \(expected true or false\)/);
    expect(message).toMatch(/LOGS_INGESTION_ENDPOINT is invalid/);
  });

  it('is documented in the settings reference', () => {
    const help = new Map(
      [...FORWARDER_SETTINGS_HELP, ...FORWARDER_OPTIONAL_SETTINGS_HELP].map((s) => [s.name, s.help]),
    );
    expect(help.get('ALLOW_CUSTOM_INGESTION_ENDPOINT')).toMatch(/local servers and tests/);
    for (const name of ['LOGS_INGESTION_ENDPOINT', 'DLQ_URL', 'AZURE_AUTHORITY_HOST'])
      expect({ name, help: help.get(name) }).toEqual({
        name,
        help: expect.stringContaining('ALLOW_CUSTOM_INGESTION_ENDPOINT=true'),
      });
  });
});
