import { describe, expect, it } from '@jest/globals';
import { loadResponderConfig } from '../../shared/config/responder-config.js';
import { ConfigError } from '../../shared/domain/errors.js';

const VALID = {
  ENTRA_TENANT_ID: '72f988bf-86f1-41af-91ab-2d7cd011db47',
  API_AUDIENCE: 'api://aws-sentinel-bridge, 11111111-2222-3333-4444-555555555555',
  AWS_HUB_ROLE_ARN: 'arn:aws:iam::999988887777:role/sentinel-hub',
  AWS_WEB_IDENTITY_AUDIENCE: 'api://aws-sentinel-bridge-aws',
  SENTINEL_SUBSCRIPTION_ID: 'd0cfe6b2-9ac0-4464-9919-dccaee2e48c0',
  SENTINEL_RESOURCE_GROUP: 'soc-rg',
  SENTINEL_WORKSPACE_NAME: 'soc-ws',
  AUDIT_LOGS_INGESTION_ENDPOINT: 'https://bridge-dce.eastus-1.ingest.monitor.azure.com',
  AUDIT_DCR_IMMUTABLE_ID: 'dcr-0123456789abcdef0123456789abcdef',
  RESPONSE_STATE_TABLE_ENDPOINT: 'https://bridgestate.table.core.windows.net',
};

const problemsOf = (env: Record<string, string | undefined>): string => {
  try {
    loadResponderConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('responder configuration', () => {
  it('reads a complete configuration with its defaults', () => {
    const config = loadResponderConfig({ ...VALID, RESPONSE_ALLOWED_ACCOUNTS: '111122223333, 444455556666' });
    expect(config).toMatchObject({
      audiences: ['api://aws-sentinel-bridge', '11111111-2222-3333-4444-555555555555'],
      responderRoleName: 'SentinelResponder',
      state: { endpoint: VALID.RESPONSE_STATE_TABLE_ENDPOINT },
      allowedAccounts: ['111122223333', '444455556666'],
    });
    expect(config.policyJson).toBeUndefined();
  });

  it('names every missing and malformed setting at once', () => {
    const message = problemsOf({
      ...VALID,
      AWS_HUB_ROLE_ARN: 'hub',
      SENTINEL_WORKSPACE_NAME: undefined,
      RESPONSE_STATE_TABLE_ENDPOINT: undefined,
    });
    expect(message).toMatch(/AWS_HUB_ROLE_ARN is invalid \(expected an IAM role ARN\)/);
    expect(message).toMatch(/SENTINEL_WORKSPACE_NAME is missing/);
    expect(message).toMatch(/RESPONSE_STATE_TABLE_ENDPOINT is missing/);
    expect(problemsOf({ ...VALID, RESPONSE_ALLOWED_ACCOUNTS: '1234' })).toMatch(/"1234", not a 12-digit/);
  });

  it('refuses static keys in the environment: the managed identity is the only credential', () => {
    expect(problemsOf({ ...VALID, AWS_SECRET_ACCESS_KEY: 'x' })).toMatch(/AWS_SECRET_ACCESS_KEY is set/);
    expect(problemsOf({ ...VALID, AZURE_CLIENT_SECRET: 'x' })).toMatch(/AZURE_CLIENT_SECRET is set/);
  });
});
