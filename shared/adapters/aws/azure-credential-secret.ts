import type { TokenCredential } from '@azure/core-auth';
import { ClientCertificateCredential, ClientSecretCredential } from '@azure/identity';
import { z } from 'zod';
import { ConfigError } from '../../domain/errors.js';

/**
 * The Entra app credential of the forwarder, as stored in AWS Secrets Manager: a JSON object with either
 * `clientSecret` or `certificate` (PEM with the private key), or the client secret as plain text.
 */
const secretSchema = z.union([
  z.object({ clientSecret: z.string().min(1) }),
  z.object({ certificate: z.string().includes('PRIVATE KEY') }),
]);

export interface EntraAppIdentity {
  readonly tenantId: string;
  readonly clientId: string;
  readonly authorityHost?: string;
}

export function credentialFromSecret(identity: EntraAppIdentity, secretText: string): TokenCredential {
  let value: unknown = secretText;
  const trimmed = secretText.trim();
  if (trimmed.startsWith('{')) {
    try {
      value = JSON.parse(trimmed);
    } catch {
      throw new ConfigError('the Azure credential secret looks like JSON but does not parse');
    }
  } else {
    value = { clientSecret: trimmed };
  }
  const parsed = secretSchema.safeParse(value);
  if (!parsed.success) {
    throw new ConfigError(
      'the Azure credential secret must hold {"clientSecret": "..."} or {"certificate": "<PEM>"}',
    );
  }
  const options = identity.authorityHost ? { authorityHost: identity.authorityHost } : {};
  return 'clientSecret' in parsed.data
    ? new ClientSecretCredential(identity.tenantId, identity.clientId, parsed.data.clientSecret, options)
    : new ClientCertificateCredential(
        identity.tenantId,
        identity.clientId,
        { certificate: parsed.data.certificate },
        options,
      );
}

/**
 * A TokenCredential whose underlying Entra credential is built from a secret fetched once, on first use
 * (once per cold start), then cached for the life of the execution environment. A failed fetch is not
 * cached, so the next batch tries again.
 */
export function lazySecretCredential(
  identity: EntraAppIdentity,
  fetchSecret: () => Promise<string>,
): TokenCredential {
  let pending: Promise<TokenCredential> | undefined;
  const credential = (): Promise<TokenCredential> => {
    pending ??= fetchSecret()
      .then((text) => credentialFromSecret(identity, text))
      .catch((error: unknown) => {
        pending = undefined;
        throw error;
      });
    return pending;
  };
  return {
    async getToken(scopes, options) {
      return (await credential()).getToken(scopes, options);
    },
  };
}
