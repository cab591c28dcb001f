import { ClientSecretCredential } from '@azure/identity';
import { describe, expect, it } from '@jest/globals';
import {
  credentialFromSecret,
  lazySecretCredential,
} from '../../shared/adapters/aws/azure-credential-secret.js';
import { ConfigError } from '../../shared/domain/errors.js';

// Token requests go to a closed local port: they fail at once and nothing leaves the machine.
const identity = {
  tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
  clientId: '11111111-2222-3333-4444-555555555555',
  authorityHost: 'https://127.0.0.1:9',
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

  /** Builds a credential that refuses every token (as Entra does for a revoked secret) and records the secret. */
  const refusing = (seen: string[]) => (_: unknown, secretText: string) => {
    seen.push(secretText);
    return {
      getToken: async () => Promise.reject(new Error('AADSTS7000215: Invalid client secret provided')),
    };
  };

  it('reads the secret once however many tokens are asked for, and again after a failed read', async () => {
    let reads = 0;
    const fail = { now: true };
    const built: string[] = [];
    const credential = lazySecretCredential(
      identity,
      async () => {
        reads++;
        if (fail.now) throw new Error('throttled');
        return '{"clientSecret":"abc"}';
      },
      { build: refusing(built) },
    );
    await expect(credential.getToken('https://monitor.azure.com//.default')).rejects.toThrow('throttled');
    fail.now = false;
    await expect(credential.getToken('https://monitor.azure.com//.default')).rejects.toThrow(
      /Invalid client secret/,
    );
    await expect(credential.getToken('https://monitor.azure.com//.default')).rejects.toThrow(
      /Invalid client secret/,
    );
    expect(reads).toBe(2);
    expect(built).toEqual(['{"clientSecret":"abc"}']);
  });

  it('reads a rotated secret after a token failure once a minute has passed, and after an hour anyway', async () => {
    let clock = 0;
    let version = 0;
    const built: string[] = [];
    const credential = lazySecretCredential(identity, async () => `{"clientSecret":"secret-${version++}"}`, {
      now: () => clock,
      build: refusing(built),
    });
    const attempt = (): Promise<unknown> =>
      credential.getToken('https://monitor.azure.com//.default').catch(() => undefined);
    await attempt();
    clock = 30_000;
    await attempt();
    expect(built).toHaveLength(1);
    clock = 61_000;
    await attempt(); // fails more than a minute after the read: the cache is dropped
    await attempt();
    expect(built).toEqual(['{"clientSecret":"secret-0"}', '{"clientSecret":"secret-1"}']);
  });

  it('keeps a working credential for an hour, then reads the secret again', async () => {
    let clock = 0;
    let reads = 0;
    const credential = lazySecretCredential(
      identity,
      async () => {
        reads++;
        return '{"clientSecret":"s"}';
      },
      {
        now: () => clock,
        build: () => ({ getToken: async () => ({ token: 't', expiresOnTimestamp: clock + 3_600_000 }) }),
      },
    );
    await credential.getToken('scope');
    clock = 3_599_000;
    await credential.getToken('scope');
    expect(reads).toBe(1);
    clock = 3_600_000;
    await credential.getToken('scope');
    expect(reads).toBe(2);
  });
});
