import { ClientSecretCredential } from '@azure/identity';
import { describe, expect, it } from '@jest/globals';
import {
  credentialFromSecret,
  lazySecretCredential,
} from '../../shared/adapters/aws/azure-credential-secret.js';
import { ConfigError } from '../../shared/domain/errors.js';

const identity = {
  tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
  clientId: '11111111-2222-3333-4444-555555555555',
};

describe('Entra credential from Secrets Manager', () => {
  it('accepts a JSON client secret and a plain-text client secret', () => {
    expect(credentialFromSecret(identity, '{"clientSecret":"abc"}')).toBeInstanceOf(ClientSecretCredential);
    expect(credentialFromSecret(identity, 'abc')).toBeInstanceOf(ClientSecretCredential);
  });

  it('refuses a secret of the wrong shape without echoing its value', () => {
    const attempt = (): unknown => credentialFromSecret(identity, '{"password":"hunter2"}');
    expect(attempt).toThrow(ConfigError);
    expect(attempt).not.toThrow(/hunter2/);
    expect(() => credentialFromSecret(identity, '{not json')).toThrow(/does not parse/);
  });

  it('reads the secret once however many tokens are asked for, and again after a failed read', async () => {
    let reads = 0;
    const fail = { now: true };
    const credential = lazySecretCredential(identity, async () => {
      reads++;
      if (fail.now) throw new Error('throttled');
      return '{"certificate":"-----BEGIN PRIVATE KEY-----\\nnot-a-key\\n-----END PRIVATE KEY-----"}';
    });
    await expect(credential.getToken('https://monitor.azure.com//.default')).rejects.toThrow('throttled');
    fail.now = false;
    // The certificate is not a real key: getToken fails inside @azure/identity, but the secret is not re-read.
    await expect(credential.getToken('https://monitor.azure.com//.default')).rejects.toThrow();
    await expect(credential.getToken('https://monitor.azure.com//.default')).rejects.toThrow();
    expect(reads).toBe(2);
  });
});
