/**
 * A local stand-in for Entra ID's token issuance, for tests and the offline demo.
 *
 * It serves the tenant's JSON Web Key Set over HTTPS (self-signed certificate, see `certificate.ts`) at
 * `/discovery/v2.0/keys`, as `https://login.microsoftonline.com/<tenant>/discovery/v2.0/keys` does, and signs
 * access tokens shaped like Entra's (v2 by default, v1 with `version: 1`: `iss`, `aud`, `tid`, `oid`,
 * `sub`, `roles`, `appid`/`azp`, `ver`) with an RS256 key pair generated at start. `issue()` can also make
 * the tokens a verifier must refuse: expired, not yet valid, for another audience, issuer or tenant, signed
 * by an unknown key, or with `alg: none` / HS256 (signed with the public key as the HMAC secret, the classic
 * key-confusion attack).
 *
 * Verifiers trust it with `createEntraVerifier({ tenantId, audience, jwksUri, ca })`.
 */

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  SignJWT,
  UnsecuredJWT,
} from 'jose';
import { startLocalHttpsServer } from './https-server.js';

export const JWKS_PATH = '/discovery/v2.0/keys';
export const DEFAULT_AUDIENCE = 'api://aws-sentinel-bridge';

export interface LocalEntraIssuerOptions {
  /** Directory (tenant) id; default a random GUID. */
  readonly tenantId?: string;
  /** Default `aud` of issued tokens; default `api://aws-sentinel-bridge`. */
  readonly audience?: string;
  /** Port on 127.0.0.1; default 0 (ephemeral). */
  readonly port?: number;
}

export interface IssueOptions {
  /** The `roles` claim; default none (the claim is left out). */
  readonly roles?: readonly string[];
  /** Default the issuer's `audience`. */
  readonly audience?: string;
  /** `exp` relative to now; default 3600. Negative for an expired token. */
  readonly expiresInSec?: number;
  /** `nbf` relative to now; default 0. Positive for a token not yet valid. */
  readonly notBeforeSec?: number;
  /** `iss`; default the tenant's v1 or v2 issuer, after `version`. */
  readonly issuer?: string;
  /** The `tid` claim only (`iss` stays the issuer's tenant's); default the issuer's tenant. */
  readonly tenantId?: string;
  /** `sub`; default a random GUID. */
  readonly subject?: string;
  /** `oid`; default a random GUID. */
  readonly objectId?: string;
  /** `appid` (v1) or `azp` (v2); default a random GUID. */
  readonly appId?: string;
  /** `name`; default none (as for applications and managed identities). */
  readonly name?: string;
  /** Token version: 1 (`sts.windows.net`, `appid`) or 2 (`login.microsoftonline.com/.../v2.0`, `azp`); default 2. */
  readonly version?: 1 | 2;
  /** Signs with a key pair that is not in the JWKS, under the published `kid`. */
  readonly signWithUnknownKey?: boolean;
  /** The header's `kid`; default the current key's. */
  readonly kid?: string;
  /** Default RS256. `HS256` uses the public key (SPKI PEM) as the secret; `none` is an unsecured JWT. */
  readonly alg?: 'RS256' | 'HS256' | 'none';
  /** More claims, set last (they can override the above). */
  readonly claims?: Readonly<Record<string, unknown>>;
}

export interface LocalEntraIssuer {
  /** `https://127.0.0.1:PORT`. */
  readonly url: string;
  readonly port: number;
  /** `https://127.0.0.1:PORT/discovery/v2.0/keys`. */
  readonly jwksUri: string;
  /** PEM certificate of the server; the CA to trust for `jwksUri`. */
  readonly ca: string;
  readonly tenantId: string;
  readonly audience: string;
  /** The tenant's v1 and v2 issuers (what Entra puts in `iss`). */
  readonly issuers: { readonly v1: string; readonly v2: string };
  /** `kid` of the key new tokens are signed with. */
  readonly kid: string;
  /** JWKS requests served so far. */
  readonly jwksRequests: number;
  /** A signed access token. */
  issue(options?: IssueOptions): Promise<string>;
  /** Generates a new signing key and publishes it next to the previous one (as Entra rolls keys). */
  rotate(): Promise<void>;
  close(): Promise<void>;
}

interface SigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
  readonly spki: string;
}

export async function startLocalEntraIssuer(
  options: LocalEntraIssuerOptions = {},
): Promise<LocalEntraIssuer> {
  const tenantId = options.tenantId ?? randomUUID();
  const audience = options.audience ?? DEFAULT_AUDIENCE;
  const issuers = {
    v1: `https://sts.windows.net/${tenantId}/`,
    v2: `https://login.microsoftonline.com/${tenantId}/v2.0`,
  };
  const published: SigningKey[] = [await newSigningKey()];
  const unknown = await newSigningKey();
  let jwksRequests = 0;

  const current = (): SigningKey => {
    const key = published.at(-1);
    if (key === undefined) throw new Error('the local issuer has no signing key');
    return key;
  };

  const {
    server,
    port,
    ca: cert,
    removeFiles,
  } = await startLocalHttpsServer('entra-issuer', options.port ?? 0);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'https://127.0.0.1').pathname;
    if (req.method === 'GET' && (path === JWKS_PATH || path === `/${tenantId}${JWKS_PATH}`)) {
      jwksRequests++;
      send(res, 200, { keys: published.map((k) => k.publicJwk) });
      return;
    }
    send(res, 404, { error: 'not_found', error_description: `no route ${req.method ?? ''} ${path}` });
  });
  const url = `https://127.0.0.1:${port}`;

  const issue = async (issueOptions: IssueOptions = {}): Promise<string> => {
    const version = issueOptions.version ?? 2;
    const now = Math.floor(Date.now() / 1000);
    const appId = issueOptions.appId ?? randomUUID();
    const payload: JWTPayload = {
      aud: issueOptions.audience ?? audience,
      iss: issueOptions.issuer ?? (version === 1 ? issuers.v1 : issuers.v2),
      iat: now,
      nbf: now + (issueOptions.notBeforeSec ?? 0),
      exp: now + (issueOptions.expiresInSec ?? 3600),
      sub: issueOptions.subject ?? randomUUID(),
      oid: issueOptions.objectId ?? randomUUID(),
      tid: issueOptions.tenantId ?? tenantId,
      ver: version === 1 ? '1.0' : '2.0',
      uti: randomUUID().replaceAll('-', ''),
      ...(version === 1 ? { appid: appId } : { azp: appId }),
      ...(issueOptions.roles === undefined ? {} : { roles: [...issueOptions.roles] }),
      ...(issueOptions.name === undefined ? {} : { name: issueOptions.name }),
      ...issueOptions.claims,
    };
    const signing = current();
    const kid = issueOptions.kid ?? signing.kid;
    switch (issueOptions.alg ?? 'RS256') {
      case 'none':
        return new UnsecuredJWT(payload).encode();
      case 'HS256':
        return new SignJWT(payload)
          .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid })
          .sign(new TextEncoder().encode(signing.spki));
      case 'RS256':
        return new SignJWT(payload)
          .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid })
          .sign(issueOptions.signWithUnknownKey === true ? unknown.privateKey : signing.privateKey);
    }
  };

  let closed = false;
  return {
    url,
    port,
    jwksUri: `${url}${JWKS_PATH}`,
    ca: cert,
    tenantId,
    audience,
    issuers,
    get kid() {
      return current().kid;
    },
    get jwksRequests() {
      return jwksRequests;
    },
    issue,
    rotate: async () => {
      published.push(await newSigningKey());
    },
    close: async () => {
      if (closed) return;
      closed = true;
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await stopped;
      await removeFiles();
    },
  };
}

async function newSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { modulusLength: 2048 });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return {
    kid,
    privateKey,
    // Entra's keys carry no `alg`; jose selects them by `kty` and `kid`.
    publicJwk: { ...jwk, kid, use: 'sig' },
    spki: await exportSPKI(publicKey),
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
