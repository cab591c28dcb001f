import type { TokenCredential } from '@azure/core-auth';
import { ClientCertificateCredential, ClientSecretCredential } from '@azure/identity';
import * as z from 'zod';
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

export interface LazySecretOptions {
  /** Re-read the secret when the cached one is older than this (picks up rotations); default 1 h. */
  readonly maxAgeMs?: number;
  /** After a token request fails, re-read the secret if the cached one is older than this; default 60 s. */
  readonly rereadAfterFailureMs?: number;
  readonly now?: () => number;
  /** Builds the Entra credential from the secret text (default `credentialFromSecret`). */
  readonly build?: (identity: EntraAppIdentity, secretText: string) => TokenCredential;
}

/**
 * A TokenCredential whose underlying Entra credential is built from a secret fetched on first use (once per
 * cold start) and cached. A failed fetch is not cached. The secret is read again when the cached one is older
 * than `maxAgeMs`, and after a token request fails (at most once a minute), so a rotated client secret is
 * picked up by warm functions without waiting for a new execution environment.
 */
export function lazySecretCredential(
  identity: EntraAppIdentity,
  fetchSecret: () => Promise<string>,
  options: LazySecretOptions = {},
): TokenCredential {
  const now = options.now ?? Date.now;
  const maxAgeMs = options.maxAgeMs ?? 3_600_000;
  const rereadAfterFailureMs = options.rereadAfterFailureMs ?? 60_000;
  const build = options.build ?? credentialFromSecret;
  let cached: { credential: Promise<TokenCredential>; fetchedAt: number } | undefined;

  const credential = (): Promise<TokenCredential> => {
    if (cached && now() - cached.fetchedAt >= maxAgeMs) cached = undefined;
    if (!cached) {
      const entry = {
        fetchedAt: now(),
        credential: fetchSecret().then((text) => build(identity, text)),
      };
      entry.credential.catch(() => {
        if (cached === entry) cached = undefined;
      });
      cached = entry;
    }
    return cached.credential;
  };
  return {
    async getToken(scopes, getTokenOptions) {
      const entry = credential();
      try {
        return await (await entry).getToken(scopes, getTokenOptions);
      } catch (error) {
        if (cached && cached.credential === entry && now() - cached.fetchedAt >= rereadAfterFailureMs)
          cached = undefined;
        throw error;
      }
    },
  };
}
