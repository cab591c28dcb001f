import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  type AppRole,
  type AuthFailure,
  authFailureResponse,
  challenge,
  createEntraVerifier,
  type EntraVerifier,
  type EntraVerifierOptions,
} from '../../shared/adapters/azure/entra-auth.js';
import { ConfigError } from '../../shared/domain/errors.js';
import {
  type IssueOptions,
  type LocalEntraIssuer,
  startLocalEntraIssuer,
} from '../../shared/local/entra-issuer.js';

let issuer: LocalEntraIssuer;
let verifier: EntraVerifier;

const verifierFor = (overrides: Partial<EntraVerifierOptions> = {}): EntraVerifier =>
  createEntraVerifier({
    tenantId: issuer.tenantId,
    audience: [issuer.audience, 'client-id-of-the-api'],
    jwksUri: issuer.jwksUri,
    ca: issuer.ca,
    ...overrides,
  });

beforeAll(async () => {
  issuer = await startLocalEntraIssuer();
  verifier = verifierFor();
});

afterAll(async () => {
  await issuer.close();
});

/** Verifies `token` as a bearer token and asserts a refusal whose message does not contain the token. */
async function refused(
  token: string,
  role: AppRole,
  expected: Pick<AuthFailure, 'status' | 'code'>,
  header = `Bearer ${token}`,
): Promise<AuthFailure> {
  const result = await verifier.verify(header, role);
  expect(result).toMatchObject({ ok: false, ...expected });
  if (result.ok) throw new Error('unreachable: the token was accepted');
  expect(result.message).not.toContain(token);
  for (const segment of token.split('.').filter((part) => part.length > 8)) {
    expect(result.message).not.toContain(segment);
  }
  expect(JSON.stringify(authFailureResponse(result))).not.toContain(token);
  return result;
}

const bearer = async (options: IssueOptions): Promise<string> => `Bearer ${await issuer.issue(options)}`;

describe('Entra ID bearer token verification', () => {
  it.each<[AppRole, readonly AppRole[]]>([
    ['Reader', ['Reader']],
    ['Responder', ['Reader', 'Responder']],
    ['Approver', ['Reader', 'Approver']],
  ])('accepts a valid token with the %s role for the routes that role may call', async (held, allowed) => {
    const header = await bearer({
      roles: [held],
      subject: 'caller-sub',
      objectId: 'caller-oid',
      appId: 'app-1',
    });
    for (const required of allowed) {
      const result = await verifier.verify(header, required);
      expect(result).toEqual({
        ok: true,
        principal: { subject: 'caller-sub', objectId: 'caller-oid', appId: 'app-1', roles: [held] },
      });
    }
  });

  it('accepts v1 tokens (managed identities) for the application ID URI and v2 tokens for the client id', async () => {
    const v1 = await verifier.verify(
      await bearer({ version: 1, roles: ['Responder'], appId: 'mi-app', audience: issuer.audience }),
      'Responder',
    );
    expect(v1).toMatchObject({ ok: true, principal: { appId: 'mi-app', roles: ['Responder'] } });
    const v2 = await verifier.verify(
      await bearer({ version: 2, roles: ['Reader'], name: 'Ada Analyst', audience: 'client-id-of-the-api' }),
      'Reader',
    );
    expect(v2).toMatchObject({ ok: true, principal: { name: 'Ada Analyst', roles: ['Reader'] } });
  });

  it('accepts a lowercase bearer scheme and tolerates clock skew within the tolerance', async () => {
    const token = await issuer.issue({ roles: ['Reader'], expiresInSec: -30, notBeforeSec: 30 });
    expect(await verifier.verify(`bearer ${token}`, 'Reader')).toMatchObject({ ok: true });
  });

  it('refuses a request without an Authorization header, or with an empty one, as 401 missing_token', async () => {
    for (const header of [undefined, '', '   ', 'Bearer', 'Bearer   ']) {
      expect(await verifier.verify(header, 'Reader')).toMatchObject({
        ok: false,
        status: 401,
        code: 'missing_token',
        message: expect.stringContaining('missing bearer token'),
      });
    }
  });

  it('refuses another scheme as 401 invalid_scheme without echoing the credentials', async () => {
    const token = await issuer.issue({ roles: ['Reader'] });
    await refused(token, 'Reader', { status: 401, code: 'invalid_scheme' }, `Basic ${token}`);
    await refused(
      'dXNlcjpodW50ZXIy',
      'Reader',
      { status: 401, code: 'invalid_scheme' },
      'Basic dXNlcjpodW50ZXIy',
    );
    await refused(token, 'Reader', { status: 401, code: 'invalid_scheme' }, token);
  });

  it('refuses garbage as 401 malformed_token', async () => {
    for (const garbage of [
      'garbage-token-value',
      'a.b.c',
      'eyJhbGciOiJSUzI1NiJ9.e30',
      'x'.repeat(40),
      'two words',
    ]) {
      await refused(garbage, 'Reader', { status: 401, code: 'malformed_token' });
    }
  });

  it('refuses a token signed by a key outside the JWKS, under a published or an unknown kid', async () => {
    await refused(await issuer.issue({ roles: ['Approver'], signWithUnknownKey: true }), 'Approver', {
      status: 401,
      code: 'invalid_signature',
    });
    await refused(await issuer.issue({ roles: ['Approver'], kid: 'not-a-tenant-key' }), 'Approver', {
      status: 401,
      code: 'unknown_signing_key',
    });
  });

  it('refuses alg none and HS256 (public key as the HMAC secret) as 401 unsupported_algorithm', async () => {
    for (const alg of ['none', 'HS256'] as const) {
      const result = await refused(await issuer.issue({ roles: ['Approver'], alg }), 'Reader', {
        status: 401,
        code: 'unsupported_algorithm',
      });
      expect(result.message).toMatch(/RS256/);
    }
  });

  it('refuses a token signed by the tenant with a wrong issuer as 401 invalid_issuer', async () => {
    for (const iss of [
      'https://sts.windows.net/00000000-0000-0000-0000-000000000000/',
      'https://evil.example/',
    ]) {
      await refused(await issuer.issue({ roles: ['Reader'], issuer: iss }), 'Reader', {
        status: 401,
        code: 'invalid_issuer',
      });
    }
  });

  it('refuses a token whose tid is another tenant, or missing, as 401 invalid_tenant', async () => {
    await refused(
      await issuer.issue({ roles: ['Reader'], tenantId: '11111111-1111-1111-1111-111111111111' }),
      'Reader',
      {
        status: 401,
        code: 'invalid_tenant',
      },
    );
    await refused(await issuer.issue({ roles: ['Reader'], claims: { tid: undefined } }), 'Reader', {
      status: 401,
      code: 'invalid_tenant',
    });
  });

  it('refuses a token for another API as 401 invalid_audience', async () => {
    await refused(
      await issuer.issue({ roles: ['Reader'], audience: 'https://management.azure.com' }),
      'Reader',
      {
        status: 401,
        code: 'invalid_audience',
      },
    );
  });

  it('refuses an expired token as 401 token_expired, and a token without exp as 401 invalid_claim', async () => {
    await refused(await issuer.issue({ roles: ['Reader'], expiresInSec: -120 }), 'Reader', {
      status: 401,
      code: 'token_expired',
    });
    await refused(await issuer.issue({ roles: ['Reader'], claims: { exp: undefined } }), 'Reader', {
      status: 401,
      code: 'invalid_claim',
    });
  });

  it('refuses a token whose nbf is in the future as 401 token_not_yet_valid', async () => {
    await refused(await issuer.issue({ roles: ['Reader'], notBeforeSec: 600 }), 'Reader', {
      status: 401,
      code: 'token_not_yet_valid',
    });
  });

  it('refuses a valid token without any role as 403 missing_role', async () => {
    for (const roles of [undefined, [], ['Contributor'], ['reader']]) {
      const result = await refused(await issuer.issue(roles === undefined ? {} : { roles }), 'Reader', {
        status: 403,
        code: 'missing_role',
      });
      expect(result.message).toMatch(/missing role Reader/);
    }
  });

  it('refuses a Reader calling a Responder route, and a Responder approving, as 403 missing_role', async () => {
    const reader = await refused(await issuer.issue({ roles: ['Reader'] }), 'Responder', {
      status: 403,
      code: 'missing_role',
    });
    expect(reader.message).toBe('missing role Responder: the caller lacks the app role Responder');
    await refused(await issuer.issue({ roles: ['Reader', 'Responder'] }), 'Approver', {
      status: 403,
      code: 'missing_role',
    });
    await refused(await issuer.issue({ roles: ['Approver'] }), 'Responder', {
      status: 403,
      code: 'missing_role',
    });
  });

  it('fetches the JWKS once for many verifications, and again for a rotated key after the cooldown', async () => {
    const rotating = await startLocalEntraIssuer({ tenantId: issuer.tenantId });
    try {
      const cached = verifierFor({ jwksUri: rotating.jwksUri, ca: rotating.ca, jwksCooldownMs: 0 });
      const tokens = await Promise.all(
        Array.from({ length: 20 }, (_, i) => rotating.issue({ roles: ['Reader'], subject: `caller-${i}` })),
      );
      const results = await Promise.all(tokens.map((token) => cached.verify(`Bearer ${token}`, 'Reader')));
      expect(results.every((result) => result.ok)).toBe(true);
      for (const token of tokens.slice(0, 5)) {
        expect(await cached.verify(`Bearer ${token}`, 'Reader')).toMatchObject({ ok: true });
      }
      expect(rotating.jwksRequests).toBe(1);

      await rotating.rotate();
      const rotated = await rotating.issue({ roles: ['Reader'] });
      expect(await cached.verify(`Bearer ${rotated}`, 'Reader')).toMatchObject({ ok: true });
      expect(rotating.jwksRequests).toBe(2);
    } finally {
      await rotating.close();
    }
  });

  it('answers 503 keys_unavailable when the JWKS cannot be fetched, telling only the hook why', async () => {
    const causes: unknown[] = [];
    const untrusted = createEntraVerifier({
      tenantId: issuer.tenantId,
      audience: issuer.audience,
      jwksUri: issuer.jwksUri,
      onKeysUnavailable: (error) => causes.push(error),
    });
    const token = await issuer.issue({ roles: ['Reader'] });
    const result = await untrusted.verify(`Bearer ${token}`, 'Reader');
    expect(result).toMatchObject({ ok: false, status: 503, code: 'keys_unavailable' });
    if (result.ok) throw new Error('unreachable');
    expect(result.message).not.toMatch(/certificate|self-signed|TypeError/i);
    expect(causes).toHaveLength(1);

    const closedPort = verifierFor({ jwksUri: 'https://127.0.0.1:9/discovery/v2.0/keys' });
    expect(await closedPort.verify(`Bearer ${token}`, 'Reader')).toMatchObject({ status: 503 });
  });

  it('builds RFC 6750 challenges and an error body that carries only code and message', async () => {
    const missing = await verifier.verify(undefined, 'Reader');
    const expired = await verifier.verify(await bearer({ roles: ['Reader'], expiresInSec: -3600 }), 'Reader');
    const forbidden = await verifier.verify(await bearer({ roles: ['Reader'] }), 'Approver');
    if (missing.ok || expired.ok || forbidden.ok) throw new Error('unreachable');
    expect(challenge(missing)).toBe('Bearer');
    expect(challenge(expired)).toBe('Bearer error="invalid_token", error_description="token expired"');
    expect(challenge(forbidden)).toMatch(/^Bearer error="insufficient_scope"/);
    expect(authFailureResponse(forbidden)).toEqual({
      status: 403,
      jsonBody: { error: { code: 'missing_role', message: forbidden.message } },
      headers: { 'WWW-Authenticate': challenge(forbidden) },
    });
  });

  it('refuses a configuration that cannot verify anything', () => {
    const base = { tenantId: issuer.tenantId, audience: issuer.audience };
    expect(() => createEntraVerifier({ ...base, tenantId: 'contoso.onmicrosoft.com' })).toThrow(ConfigError);
    expect(() => createEntraVerifier({ ...base, audience: [] })).toThrow(ConfigError);
    expect(() => createEntraVerifier({ ...base, issuers: [] })).toThrow(ConfigError);
    expect(() => createEntraVerifier({ ...base, clockToleranceSec: -1 })).toThrow(ConfigError);
    expect(() => createEntraVerifier({ ...base, jwksUri: 'http://127.0.0.1/keys' })).toThrow(/https/);
  });
});
