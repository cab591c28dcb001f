import {
  AssumeRoleCommand,
  AssumeRoleWithWebIdentityCommand,
  type Credentials,
  STSClient,
  type STSClientConfig,
} from '@aws-sdk/client-sts';
import type { TokenCredential } from '@azure/core-auth';
import { ManagedIdentityCredential } from '@azure/identity';
// Type-only (erased at build time): the identity types every AWS SDK v3 client takes as `credentials`.
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { BridgeError, ConfigError, TransientError, ValidationError } from '../../domain/errors.js';

/**
 * Keyless AWS credentials for the responder, from the Azure side:
 *   managed identity token -> AssumeRoleWithWebIdentity (hub role) -> AssumeRole (responder role in the
 *   member account), both sessions named after the incident so CloudTrail shows who acted and why.
 * Credentials are cached per (account, session) and per hub session until 5 minutes before they expire;
 * concurrent callers share one in-flight request. STS clients get a region only, never an endpoint, so
 * `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_STS` keep working.
 */

/** The port the executor builds its clients with: `undefined` means "let the SDK client resolve its own". */
export interface ResponderCredentials {
  forAccount(accountId: string, sessionName: string): AwsCredentialIdentityProvider | undefined;
}

export interface ResponderCredentialsOptions {
  /** A token for the audience the hub role's OIDC trust pins (see `managedIdentityTokenSource`). */
  readonly getWebIdentityToken: () => Promise<string>;
  /** `arn:<partition>:iam::<hub account>:role/<name>`; its partition is used for the responder role ARNs. */
  readonly hubRoleArn: string;
  /** Role name (optionally with a path) that every member account provides for the hub to assume. */
  readonly responderRoleName: string;
  /** Default: the partition's main region (us-east-1 for `aws`). */
  readonly stsRegion?: string;
  /** Builds STS clients (tests attach mocks here); default `new STSClient(config)`. */
  readonly clientFactory?: (config: STSClientConfig) => STSClient;
  /** Session length for both roles, 900-3600 s (role chaining caps it at 1 h); default: STS's (1 h). */
  readonly durationSeconds?: number;
  /** Cached credentials are refreshed this long before they expire; default 5 minutes. */
  readonly refreshMarginMs?: number;
  readonly now?: () => number;
}

const ACCOUNT_ID = /^\d{12}$/;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
const ROLE_NAME = /^(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
const ROLE_ARN = /^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-[a-z])(?::iam::)(\d{12}):role\/(.+)$/;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;
const DEFAULT_MARGIN_MS = 5 * 60_000;
/** Never-used cache entries are dropped after this long. */
const IDLE_ENTRY_MS = 60 * 60_000;

const PARTITION_REGION: Record<string, string> = {
  aws: 'us-east-1',
  'aws-cn': 'cn-north-1',
  'aws-us-gov': 'us-gov-west-1',
  'aws-iso': 'us-iso-east-1',
  'aws-iso-b': 'us-isob-east-1',
  'aws-iso-e': 'eu-isoe-west-1',
  'aws-iso-f': 'us-isof-south-1',
};

/** STS error names a later attempt (with a fresh token or after a pause) can get past. */
const TRANSIENT_STS_ERRORS = new Set([
  'ExpiredTokenException',
  'IDPCommunicationError',
  'Throttling',
  'ThrottlingException',
  'RequestLimitExceeded',
  'ServiceUnavailable',
  'InternalFailure',
]);

/** Refuses what AWS would refuse, before any call is made. */
export function validateTarget(accountId: string, sessionName: string): void {
  if (!ACCOUNT_ID.test(accountId))
    throw new ValidationError('the AWS account id must be 12 digits', 'accountId');
  if (!SESSION_NAME.test(sessionName)) {
    throw new ValidationError(
      'the role session name must be 2-64 characters of letters, digits and + = , . @ _ -',
      'sessionName',
    );
  }
}

function stsError(error: unknown, what: string): BridgeError {
  if (error instanceof BridgeError) return error;
  const name = error instanceof Error ? error.name : 'Error';
  const meta = error as { $fault?: unknown; $metadata?: { httpStatusCode?: unknown } } | null;
  const status =
    typeof meta?.$metadata?.httpStatusCode === 'number' ? meta.$metadata.httpStatusCode : undefined;
  const transient =
    TRANSIENT_STS_ERRORS.has(name) || meta?.$fault === 'server' || status === undefined || status >= 500;
  const message = `${what} failed (${name})`;
  return transient
    ? new TransientError(message, { cause: error })
    : new ConfigError(message, { cause: error });
}

function identityFrom(
  credentials: Credentials | undefined,
  accountId: string,
  what: string,
): AwsCredentialIdentity {
  const { AccessKeyId, SecretAccessKey, SessionToken, Expiration } = credentials ?? {};
  if (!AccessKeyId || !SecretAccessKey || !SessionToken || !(Expiration instanceof Date)) {
    throw new TransientError(`${what} returned no complete credentials`);
  }
  return {
    accessKeyId: AccessKeyId,
    secretAccessKey: SecretAccessKey,
    sessionToken: SessionToken,
    expiration: Expiration,
    accountId,
  };
}

interface CacheEntry {
  readonly provider: AwsCredentialIdentityProvider;
  /** Forgets the cached value (e.g. STS said it expired early). */
  invalidate(): void;
  /** Expired (or never used for an hour) and not being fetched: safe to drop. */
  disposable(): boolean;
}

function cached(
  fetch: () => Promise<AwsCredentialIdentity>,
  now: () => number,
  marginMs: number,
): CacheEntry {
  const createdAt = now();
  let value: AwsCredentialIdentity | undefined;
  let pending: Promise<AwsCredentialIdentity> | undefined;
  const expiresAt = (v: AwsCredentialIdentity): number => v.expiration?.getTime() ?? Number.POSITIVE_INFINITY;
  return {
    provider: () => {
      if (value !== undefined && expiresAt(value) - marginMs > now()) return Promise.resolve(value);
      pending ??= fetch()
        .then((fetched) => {
          value = fetched;
          return fetched;
        })
        .finally(() => {
          pending = undefined;
        });
      return pending;
    },
    invalidate() {
      value = undefined;
    },
    disposable() {
      if (pending !== undefined) return false;
      return value === undefined ? now() - createdAt > IDLE_ENTRY_MS : expiresAt(value) <= now();
    },
  };
}

/** Hub -> responder role chain over STS; the returned providers are stable per (account, session). */
export function createResponderCredentials(options: ResponderCredentialsOptions): {
  forAccount(accountId: string, sessionName: string): AwsCredentialIdentityProvider;
} {
  const hub = ROLE_ARN.exec(options.hubRoleArn);
  const [, partition, hubAccount] = hub ?? [];
  if (partition === undefined || hubAccount === undefined) {
    throw new ConfigError('the hub role ARN must look like arn:aws:iam::123456789012:role/name');
  }
  if (!ROLE_NAME.test(options.responderRoleName)) {
    throw new ConfigError('the responder role name must be an IAM role name (optionally with a path)');
  }
  const region = options.stsRegion ?? PARTITION_REGION[partition];
  if (region === undefined || !REGION.test(region))
    throw new ConfigError('the STS region is not a region name');
  const duration = options.durationSeconds;
  if (duration !== undefined && (!Number.isSafeInteger(duration) || duration < 900 || duration > 3600)) {
    throw new ConfigError('the session duration must be 900-3600 seconds');
  }
  const factory = options.clientFactory ?? ((config: STSClientConfig) => new STSClient(config));
  const now = options.now ?? Date.now;
  const margin = options.refreshMarginMs ?? DEFAULT_MARGIN_MS;
  const durationInput = duration === undefined ? {} : { DurationSeconds: duration };
  const hubRoleArn = options.hubRoleArn;
  const responderPath = options.responderRoleName;

  // AssumeRoleWithWebIdentity is unsigned: this client has no credentials and never looks for any.
  let webIdentityClient: STSClient | undefined;
  const hubSessions = new Map<string, CacheEntry>();
  const responderSessions = new Map<string, CacheEntry>();

  const prune = (): void => {
    for (const map of [hubSessions, responderSessions]) {
      for (const [key, entry] of map) if (entry.disposable()) map.delete(key);
    }
  };

  const hubSession = (sessionName: string): CacheEntry => {
    let entry = hubSessions.get(sessionName);
    if (entry === undefined) {
      entry = cached(
        async () => {
          let token: string;
          try {
            token = await options.getWebIdentityToken();
          } catch (error) {
            if (error instanceof BridgeError) throw error;
            throw new TransientError('the web identity token could not be obtained', { cause: error });
          }
          webIdentityClient ??= factory({ region });
          try {
            const output = await webIdentityClient.send(
              new AssumeRoleWithWebIdentityCommand({
                RoleArn: hubRoleArn,
                RoleSessionName: sessionName,
                WebIdentityToken: token,
                ...durationInput,
              }),
            );
            return identityFrom(output.Credentials, hubAccount, 'AssumeRoleWithWebIdentity');
          } catch (error) {
            throw stsError(error, `AssumeRoleWithWebIdentity into ${hubRoleArn}`);
          }
        },
        now,
        margin,
      );
      hubSessions.set(sessionName, entry);
    }
    return entry;
  };

  const assumeResponder = async (
    hubCredentials: AwsCredentialIdentity,
    roleArn: string,
    accountId: string,
    sessionName: string,
  ): Promise<AwsCredentialIdentity> => {
    // A client per call (once per session lifetime): it signs with exactly these hub credentials.
    const client = factory({
      region,
      credentials: {
        accessKeyId: hubCredentials.accessKeyId,
        secretAccessKey: hubCredentials.secretAccessKey,
        ...(hubCredentials.sessionToken ? { sessionToken: hubCredentials.sessionToken } : {}),
      },
    });
    try {
      const output = await client.send(
        new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: sessionName, ...durationInput }),
      );
      return identityFrom(output.Credentials, accountId, 'AssumeRole');
    } finally {
      client.destroy();
    }
  };

  return {
    forAccount(accountId: string, sessionName: string): AwsCredentialIdentityProvider {
      validateTarget(accountId, sessionName);
      const key = `${accountId}/${sessionName}`;
      let entry = responderSessions.get(key);
      if (entry === undefined) {
        prune();
        const roleArn = `arn:${partition}:iam::${accountId}:role/${responderPath}`;
        entry = cached(
          async () => {
            const hubEntry = hubSession(sessionName);
            const hubCredentials = await hubEntry.provider();
            try {
              return await assumeResponder(hubCredentials, roleArn, accountId, sessionName);
            } catch (error) {
              if (!(error instanceof Error) || error.name !== 'ExpiredTokenException') {
                throw stsError(error, `AssumeRole into ${roleArn}`);
              }
              // The hub session ended earlier than it said (revoked, clock skew): get a new one, once.
              hubEntry.invalidate();
              try {
                return await assumeResponder(await hubEntry.provider(), roleArn, accountId, sessionName);
              } catch (retryError) {
                throw stsError(retryError, `AssumeRole into ${roleArn}`);
              }
            }
          },
          now,
          margin,
        );
        responderSessions.set(key, entry);
      }
      return entry.provider;
    },
  };
}

/**
 * The SDK's default credential chain, for the CLI and tests: no role chain, every client resolves its own
 * credentials (env, profile, SSO, IMDS...). Account and session name are still validated.
 */
export function defaultChainCredentials(): ResponderCredentials {
  return {
    forAccount(accountId: string, sessionName: string): undefined {
      validateTarget(accountId, sessionName);
      return undefined;
    },
  };
}

export interface ManagedIdentityTokenOptions {
  /** Client id of a user-assigned identity; default: the system-assigned one. */
  readonly clientId?: string;
  /** Any Entra credential instead (e.g. `DefaultAzureCredential` for local runs). */
  readonly credential?: TokenCredential;
}

/**
 * Web identity tokens from the Function App's managed identity for `audience` (the application ID URI the
 * hub role's OIDC trust pins, e.g. `api://aws-sentinel-bridge`). `@azure/identity` caches the token.
 */
export function managedIdentityTokenSource(
  audience: string,
  options: ManagedIdentityTokenOptions = {},
): () => Promise<string> {
  const base = audience.trim().replace(/\/\.default$/, '');
  if (base.length === 0) throw new ConfigError('the web identity audience must not be empty');
  const scope = `${base}/.default`;
  const credential =
    options.credential ??
    (options.clientId
      ? new ManagedIdentityCredential({ clientId: options.clientId })
      : new ManagedIdentityCredential());
  return async () => {
    const token = await credential.getToken(scope);
    if (token === null || token.token.length === 0) {
      throw new ConfigError(`no managed identity token was issued for ${scope}`);
    }
    return token.token;
  };
}
