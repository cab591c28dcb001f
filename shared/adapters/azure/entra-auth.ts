/**
 * Explicit verification of the Entra ID bearer tokens that callers send to the Azure Functions.
 *
 * A function key alone is not enough (DESIGN section 7): every route verifies an access token issued by the
 * tenant for our API, and an app role of the caller:
 *
 * - signature: RS256 only, against the tenant's JWKS (fetched on first use and cached by jose: keys are
 *   reused for `jwksCacheMaxAgeMs`, and a token with an unknown `kid` triggers at most one refetch per
 *   `jwksCooldownMs`);
 * - issuer: v1 (`https://sts.windows.net/<tenant>/`) or v2 (`https://login.microsoftonline.com/<tenant>/v2.0`)
 *   by default, and the `tid` claim must be the tenant;
 * - audience: one of the configured values (the API's application ID URI for v1 tokens, its client id for
 *   v2 tokens);
 * - lifetime: `exp` is required, `exp` and `nbf` are checked with `clockToleranceSec` of leeway;
 * - app role: from the `roles` claim, which holds the app roles assigned to users and to applications or
 *   managed identities alike.
 *
 * Roles are not a hierarchy: `Reader` is satisfied by any of `Reader`, `Responder` or `Approver` (whoever may
 * act or approve may also look), `Responder` only by `Responder` and `Approver` only by `Approver`. Approving a
 * held plan and running an action are separate duties; a caller who needs both is assigned both roles.
 *
 * Refusals are values, not exceptions: 401 for a missing or bad token, 403 for a valid token without the role,
 * and 503 when the tenant's keys cannot be fetched (the caller's token may be fine; retry later). Messages say
 * what is wrong and are safe to return to the caller: they never contain the token, its claims or an
 * internal error text.
 */

import type { IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { HttpResponseInit } from '@azure/functions';
import {
  createRemoteJWKSet,
  customFetch,
  errors,
  type FetchImplementation,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
  type RemoteJWKSetOptions,
} from 'jose';
import { ConfigError } from '../../domain/errors.js';

export type AppRole = 'Reader' | 'Responder' | 'Approver';

export const APP_ROLES: readonly AppRole[] = ['Reader', 'Responder', 'Approver'];

/** The roles in a token that satisfy a required role (see the module comment). */
export const ROLES_SATISFYING: Readonly<Record<AppRole, readonly AppRole[]>> = {
  Reader: ['Reader', 'Responder', 'Approver'],
  Responder: ['Responder'],
  Approver: ['Approver'],
};

export interface Principal {
  /** `sub`: the caller, unique to this application (pairwise). */
  readonly subject: string;
  /** `oid`: the user's or service principal's object id in the tenant. */
  readonly objectId?: string;
  /** `appid` (v1) or `azp` (v2): the client application that asked for the token. */
  readonly appId?: string;
  /** `name` (users only). */
  readonly name?: string;
  /** Every string of the `roles` claim. */
  readonly roles: readonly string[];
}

export type AuthFailureCode =
  | 'missing_token'
  | 'invalid_scheme'
  | 'malformed_token'
  | 'unsupported_algorithm'
  | 'unknown_signing_key'
  | 'invalid_signature'
  | 'invalid_issuer'
  | 'invalid_tenant'
  | 'invalid_audience'
  | 'token_expired'
  | 'token_not_yet_valid'
  | 'invalid_claim'
  | 'missing_role'
  | 'keys_unavailable';

export interface AuthFailure {
  readonly ok: false;
  readonly status: 401 | 403 | 503;
  readonly code: AuthFailureCode;
  /** Safe to return to the caller. */
  readonly message: string;
}

export type AuthResult = { readonly ok: true; readonly principal: Principal } | AuthFailure;

export interface EntraVerifierOptions {
  /** The directory (tenant) id, a GUID. */
  readonly tenantId: string;
  /** Accepted `aud` values: the API's application ID URI (v1 tokens) and/or its client id (v2 tokens). */
  readonly audience: string | readonly string[];
  /** Default `https://login.microsoftonline.com/<tenant>/discovery/v2.0/keys`; must be https. */
  readonly jwksUri?: string;
  /** Accepted `iss` values; default the tenant's v1 and v2 issuers. */
  readonly issuers?: readonly string[];
  /** Leeway for `exp` and `nbf`; default 60. */
  readonly clockToleranceSec?: number;
  /**
   * PEM certificate(s) trusted for the JWKS request instead of the default roots (a local issuer with a
   * self-signed certificate). Ignored when `fetch` is given.
   */
  readonly ca?: string | readonly string[];
  /** Replaces `fetch` for the JWKS request (jose's `customFetch`). */
  readonly fetch?: FetchImplementation;
  /** How long fetched keys are used before a refetch; default 600,000 ms (jose's default). */
  readonly jwksCacheMaxAgeMs?: number;
  /** After a fetch, how long a token with an unknown `kid` does not trigger another; default 30,000 ms. */
  readonly jwksCooldownMs?: number;
  /** JWKS request timeout; default 5,000 ms. */
  readonly jwksTimeoutMs?: number;
  /** Told why the keys could not be fetched (for logs; never part of a response). */
  readonly onKeysUnavailable?: (error: unknown) => void;
}

export interface EntraVerifier {
  /** Verifies an `Authorization` header value and that the caller holds `requiredRole`. Never throws. */
  verify(authorizationHeader: string | undefined, requiredRole: AppRole): Promise<AuthResult>;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** RFC 6750 `b64token`, which covers the three base64url segments of a JWS. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const MAX_JWKS_BYTES = 1_048_576;

export function defaultIssuers(tenantId: string): readonly string[] {
  return [`https://sts.windows.net/${tenantId}/`, `https://login.microsoftonline.com/${tenantId}/v2.0`];
}

export function defaultJwksUri(tenantId: string): string {
  return `https://login.microsoftonline.com/${tenantId}/discovery/v2.0/keys`;
}

export function createEntraVerifier(options: EntraVerifierOptions): EntraVerifier {
  const tenantId = options.tenantId.trim().toLowerCase();
  if (!GUID.test(tenantId)) {
    throw new ConfigError('Entra auth: tenantId must be the directory (tenant) id, a GUID');
  }
  const audience = (typeof options.audience === 'string' ? [options.audience] : [...options.audience]).filter(
    (value) => value.trim() !== '',
  );
  if (audience.length === 0) {
    throw new ConfigError('Entra auth: audience must name the API (its application ID URI and/or client id)');
  }
  const issuers = options.issuers ?? defaultIssuers(tenantId);
  if (issuers.length === 0) {
    throw new ConfigError('Entra auth: issuers must not be empty');
  }
  const clockTolerance = options.clockToleranceSec ?? 60;
  if (!Number.isFinite(clockTolerance) || clockTolerance < 0) {
    throw new ConfigError('Entra auth: clockToleranceSec must be a non-negative number');
  }
  const jwksUri = parseJwksUri(options.jwksUri ?? defaultJwksUri(tenantId));

  const remoteOptions: RemoteJWKSetOptions = {};
  if (options.jwksCacheMaxAgeMs !== undefined) remoteOptions.cacheMaxAge = options.jwksCacheMaxAgeMs;
  if (options.jwksCooldownMs !== undefined) remoteOptions.cooldownDuration = options.jwksCooldownMs;
  if (options.jwksTimeoutMs !== undefined) remoteOptions.timeoutDuration = options.jwksTimeoutMs;
  const fetchImpl = options.fetch ?? (options.ca === undefined ? undefined : fetchTrusting(options.ca));
  if (fetchImpl !== undefined) remoteOptions[customFetch] = fetchImpl;
  const remote = createRemoteJWKSet(jwksUri, remoteOptions);

  const keys: JWTVerifyGetKey = async (header, token) => {
    try {
      return await remote(header, token);
    } catch (error) {
      // No (or no single) matching key is about the token; anything else is about fetching the key set.
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
        throw error;
      }
      throw new KeysUnavailable(error);
    }
  };

  return {
    async verify(authorizationHeader, requiredRole) {
      if (authorizationHeader === undefined || authorizationHeader.trim() === '') {
        return failure(
          401,
          'missing_token',
          'missing bearer token: send "Authorization: Bearer <access token>"',
        );
      }
      const header = authorizationHeader.trim();
      if (/^bearer$/i.test(header)) {
        return failure(
          401,
          'missing_token',
          'missing bearer token: the Bearer scheme is not followed by a token',
        );
      }
      const token = BEARER.exec(header)?.[1];
      if (token === undefined) {
        return /^bearer\s/i.test(header)
          ? failure(401, 'malformed_token', 'malformed token: expected a signed JWT')
          : failure(
              401,
              'invalid_scheme',
              'missing bearer token: the Authorization header must use the Bearer scheme',
            );
      }

      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, keys, {
          algorithms: ['RS256'],
          issuer: [...issuers],
          audience,
          clockTolerance,
          requiredClaims: ['exp'],
        }));
      } catch (error) {
        if (error instanceof KeysUnavailable) {
          options.onKeysUnavailable?.(error.cause);
          return failure(
            503,
            'keys_unavailable',
            "the tenant's signing keys could not be fetched; try again later",
          );
        }
        return refusal(error);
      }

      if (typeof payload.tid !== 'string' || payload.tid.toLowerCase() !== tenantId) {
        return failure(401, 'invalid_tenant', 'wrong tenant: the token was not issued for this tenant');
      }
      if (typeof payload.sub !== 'string' || payload.sub === '') {
        return failure(401, 'invalid_claim', 'invalid token: the sub claim is missing');
      }
      const principal = principalOf(payload, payload.sub);
      const satisfying = ROLES_SATISFYING[requiredRole];
      if (!principal.roles.some((role) => (satisfying as readonly string[]).includes(role))) {
        return failure(
          403,
          'missing_role',
          satisfying.length === 1
            ? `missing role ${requiredRole}: the caller lacks the app role ${requiredRole}`
            : `missing role ${requiredRole}: the caller holds none of the app roles ${satisfying.join(', ')}`,
        );
      }
      return { ok: true, principal };
    },
  };
}

/**
 * The `WWW-Authenticate` challenge for a refusal (RFC 6750 section 3): none for 503, no error code when no
 * token was sent, `invalid_token` for a bad one, `insufficient_scope` for a missing role.
 */
export function challenge(result: AuthFailure): string | undefined {
  if (result.status === 503) return undefined;
  if (result.code === 'missing_token' || result.code === 'invalid_scheme') return 'Bearer';
  const error = result.status === 403 ? 'insufficient_scope' : 'invalid_token';
  return `Bearer error="${error}", error_description="${result.message.replaceAll('"', "'")}"`;
}

/** An Azure Functions response for a refusal: `{ error: { code, message } }` with the challenge header. */
export function authFailureResponse(result: AuthFailure): HttpResponseInit {
  const header = challenge(result);
  return {
    status: result.status,
    jsonBody: { error: { code: result.code, message: result.message } },
    headers: header === undefined ? { 'Retry-After': '5' } : { 'WWW-Authenticate': header },
  };
}

/**
 * A jose `customFetch` that makes the JWKS request with `node:https`, trusting only `ca`. Node's global
 * `fetch` cannot be given a CA per request without undici's dispatcher, which the project does not depend on.
 * Redirects are not followed (jose asks for `redirect: 'manual'`) and bodies over 1 MB are refused.
 */
export function fetchTrusting(ca: string | readonly string[]): FetchImplementation {
  const trusted = typeof ca === 'string' ? [ca] : [...ca];
  return (url, init) =>
    new Promise<Response>((resolve, reject) => {
      const headers: Record<string, string> = {};
      init.headers.forEach((value, name) => {
        headers[name] = value;
      });
      const req = httpsRequest(
        url,
        { method: init.method, headers, ca: trusted, agent: false, signal: init.signal },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_JWKS_BYTES) {
              req.destroy(new Error('JWKS response over 1 MB'));
              return;
            }
            chunks.push(chunk);
          });
          res.on('error', reject);
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status < 200 || status > 599) {
              reject(new Error(`JWKS response with status ${status}`));
              return;
            }
            resolve(
              new Response(status === 204 || status === 304 ? null : Buffer.concat(chunks), {
                status,
                headers: responseHeaders(res.headers),
              }),
            );
          });
        },
      );
      req.on('error', reject);
      req.end();
    });
}

class KeysUnavailable extends Error {
  constructor(cause: unknown) {
    super('JWKS unavailable', { cause });
    this.name = 'KeysUnavailable';
  }
}

function refusal(error: unknown): AuthFailure {
  if (error instanceof errors.JWTExpired) {
    return failure(401, 'token_expired', 'token expired');
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'iss':
        return failure(401, 'invalid_issuer', 'wrong issuer: the token was not issued by the tenant');
      case 'aud':
        return failure(401, 'invalid_audience', 'wrong audience: the token was not issued for this API');
      case 'nbf':
        return failure(401, 'token_not_yet_valid', 'token not yet valid');
      case 'exp':
        return failure(401, 'invalid_claim', 'invalid token: the exp claim is missing or not a number');
      default:
        return failure(401, 'invalid_claim', `invalid token: the ${claimName(error.claim)} claim is invalid`);
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return failure(401, 'unsupported_algorithm', 'token algorithm not accepted: only RS256 is');
  }
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    return failure(401, 'unknown_signing_key', "bad signature: the token's key is not one of the tenant's");
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return failure(401, 'invalid_signature', 'bad signature');
  }
  return failure(401, 'malformed_token', 'malformed token: expected a signed JWT');
}

/** jose names the claim it checked; keep only a plain name so nothing from the token reaches the message. */
function claimName(claim: string): string {
  return /^[a-z_]{1,16}$/i.test(claim) ? claim : 'a';
}

function principalOf(payload: JWTPayload, subject: string): Principal {
  const roles = Array.isArray(payload.roles)
    ? payload.roles.filter((role): role is string => typeof role === 'string')
    : [];
  const objectId = stringClaim(payload, 'oid');
  const appId = stringClaim(payload, 'appid') ?? stringClaim(payload, 'azp');
  const name = stringClaim(payload, 'name');
  return {
    subject,
    roles,
    ...(objectId === undefined ? {} : { objectId }),
    ...(appId === undefined ? {} : { appId }),
    ...(name === undefined ? {} : { name }),
  };
}

function stringClaim(payload: JWTPayload, claim: string): string | undefined {
  const value = payload[claim];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function failure(status: AuthFailure['status'], code: AuthFailureCode, message: string): AuthFailure {
  return { ok: false, status, code, message };
}

function parseJwksUri(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch (cause) {
    throw new ConfigError('Entra auth: jwksUri is not a URL', { cause });
  }
  if (url.protocol !== 'https:') {
    throw new ConfigError('Entra auth: jwksUri must use https');
  }
  return url;
}

function responseHeaders(headers: IncomingHttpHeaders): Headers {
  const result = new Headers();
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value === 'string') result.set(name, value);
    else if (Array.isArray(value)) for (const item of value) result.append(name, item);
  }
  return result;
}
