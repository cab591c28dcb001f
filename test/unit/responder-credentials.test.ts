/**
 * The responder identity chain against a small stateful model of STS (behind aws-sdk-client-mock, attached to
 * each client the adapter builds): the model issues sessions with an expiry, checks who signs AssumeRole
 * (an unexpired hub session) and which roles exist, and records every request it sees. One test sends the
 * real SDK requests to a local HTTP server through `AWS_ENDPOINT_URL_STS`.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AssumeRoleCommand,
  type AssumeRoleCommandInput,
  type AssumeRoleCommandOutput,
  AssumeRoleWithWebIdentityCommand,
  type AssumeRoleWithWebIdentityCommandInput,
  type AssumeRoleWithWebIdentityCommandOutput,
  ExpiredTokenException,
  STSClient,
  type STSClientConfig,
  STSServiceException,
} from '@aws-sdk/client-sts';
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import {
  createResponderCredentials,
  defaultChainCredentials,
  managedIdentityTokenSource,
  type ResponderCredentialsOptions,
} from '../../shared/adapters/aws/responder-credentials.js';
import { ConfigError, TransientError, ValidationError } from '../../shared/domain/errors.js';

const HUB_ROLE = 'arn:aws:iam::999988887777:role/SentinelResponseHub';
const RESPONDER = 'AwsSentinelResponder';
const MEMBER = '111122223333';
const OTHER = '444455556666';
const MINUTE = 60_000;

interface Session {
  readonly kind: 'hub' | 'responder';
  readonly roleArn: string;
  readonly sessionName: string;
  expiresAt: number;
}

interface SeenCall {
  readonly operation: 'AssumeRoleWithWebIdentity' | 'AssumeRole';
  readonly RoleArn: string | undefined;
  readonly RoleSessionName: string | undefined;
  readonly WebIdentityToken?: string | undefined;
  readonly DurationSeconds?: number | undefined;
  /** Access key id the request was signed with (AssumeRole only). */
  readonly signedBy?: string;
}

function denied(message: string): STSServiceException {
  return new STSServiceException({
    name: 'AccessDenied',
    $fault: 'client',
    $metadata: { httpStatusCode: 403 },
    message,
  });
}

/** STS as far as the chain needs it: trusted tokens, the hub role, responder roles per member account. */
class StsModel {
  now = Date.parse('2026-12-03T10:00:00Z');
  readonly calls: SeenCall[] = [];
  readonly configs: STSClientConfig[] = [];
  readonly sessions = new Map<string, Session>();
  readonly members = new Set([MEMBER, OTHER]);
  /** Tokens the OIDC provider accepts (issued by the fake managed identity below). */
  readonly validTokens = new Set<string>();
  tokensIssued = 0;
  private keys = 0;

  readonly tokenSource = async (): Promise<string> => {
    this.tokensIssued++;
    const token = `eyJ.token-${this.tokensIssued}`;
    this.validTokens.add(token);
    return token;
  };

  readonly factory = (config: STSClientConfig): STSClient => {
    this.configs.push(config);
    const client = new STSClient(config);
    const mock = mockClient(client);
    mock.on(AssumeRoleWithWebIdentityCommand).callsFake((input: AssumeRoleWithWebIdentityCommandInput) => {
      return this.assumeRoleWithWebIdentity(input);
    });
    mock.on(AssumeRoleCommand).callsFake((input: AssumeRoleCommandInput) => {
      return this.assumeRole(input, config.credentials);
    });
    return client;
  };

  options(overrides: Partial<ResponderCredentialsOptions> = {}): ResponderCredentialsOptions {
    return {
      getWebIdentityToken: this.tokenSource,
      hubRoleArn: HUB_ROLE,
      responderRoleName: RESPONDER,
      clientFactory: this.factory,
      now: () => this.now,
      ...overrides,
    };
  }

  /** Ends every hub session now (as a revocation would), whatever expiry it was issued with. */
  revokeHubSessions(): void {
    for (const session of this.sessions.values()) if (session.kind === 'hub') session.expiresAt = this.now;
  }

  private issue(kind: Session['kind'], roleArn: string, sessionName: string, seconds: number) {
    this.keys++;
    const accessKeyId = `ASIA${kind === 'hub' ? 'HUB' : 'RSP'}${String(this.keys).padStart(13, '0')}`;
    const expiresAt = this.now + seconds * 1000;
    this.sessions.set(accessKeyId, { kind, roleArn, sessionName, expiresAt });
    return {
      AccessKeyId: accessKeyId,
      SecretAccessKey: `secret-${this.keys}`,
      SessionToken: `token-of-${accessKeyId}`,
      Expiration: new Date(expiresAt),
    };
  }

  private async assumeRoleWithWebIdentity(
    input: AssumeRoleWithWebIdentityCommandInput,
  ): Promise<Partial<AssumeRoleWithWebIdentityCommandOutput>> {
    await Promise.resolve(); // answer asynchronously, as the network would
    this.calls.push({
      operation: 'AssumeRoleWithWebIdentity',
      RoleArn: input.RoleArn,
      RoleSessionName: input.RoleSessionName,
      WebIdentityToken: input.WebIdentityToken,
      DurationSeconds: input.DurationSeconds,
    });
    if (input.WebIdentityToken === undefined || !this.validTokens.has(input.WebIdentityToken)) {
      throw new STSServiceException({
        name: 'InvalidIdentityToken',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'bad token',
      });
    }
    if (input.RoleArn !== HUB_ROLE) throw denied('Not authorized to perform sts:AssumeRoleWithWebIdentity');
    const Credentials = this.issue(
      'hub',
      HUB_ROLE,
      input.RoleSessionName ?? '',
      input.DurationSeconds ?? 3600,
    );
    return { Credentials };
  }

  private async assumeRole(
    input: AssumeRoleCommandInput,
    signing: STSClientConfig['credentials'],
  ): Promise<Partial<AssumeRoleCommandOutput>> {
    await Promise.resolve();
    const signedBy =
      signing !== undefined && typeof signing !== 'function' ? signing.accessKeyId : 'unsigned';
    this.calls.push({
      operation: 'AssumeRole',
      RoleArn: input.RoleArn,
      RoleSessionName: input.RoleSessionName,
      DurationSeconds: input.DurationSeconds,
      signedBy,
    });
    const caller = this.sessions.get(signedBy);
    if (caller === undefined || caller.kind !== 'hub')
      throw denied('only the hub role may assume responders');
    if (caller.expiresAt <= this.now) {
      throw new ExpiredTokenException({
        $metadata: { httpStatusCode: 400 },
        message: 'The security token expired',
      });
    }
    const match = /^arn:aws:iam::(\d{12}):role\/AwsSentinelResponder$/.exec(input.RoleArn ?? '');
    if (match?.[1] === undefined || !this.members.has(match[1])) {
      throw denied(
        `User: ${caller.roleArn} is not authorized to perform: sts:AssumeRole on ${input.RoleArn}`,
      );
    }
    const Credentials = this.issue('responder', input.RoleArn ?? '', input.RoleSessionName ?? '', 3600);
    return { Credentials };
  }
}

describe('responder credentials', () => {
  it('chains the managed identity token, the hub role and the responder role, naming both sessions', async () => {
    const sts = new StsModel();
    const credentials = createResponderCredentials(sts.options());
    const identity = await credentials.forAccount(MEMBER, 'sentinel-4242')();

    expect(sts.calls).toEqual([
      {
        operation: 'AssumeRoleWithWebIdentity',
        RoleArn: HUB_ROLE,
        RoleSessionName: 'sentinel-4242',
        WebIdentityToken: 'eyJ.token-1',
        DurationSeconds: undefined,
      },
      {
        operation: 'AssumeRole',
        RoleArn: `arn:aws:iam::${MEMBER}:role/${RESPONDER}`,
        RoleSessionName: 'sentinel-4242',
        DurationSeconds: undefined,
        signedBy: 'ASIAHUB0000000000001',
      },
    ]);
    expect(identity).toEqual({
      accessKeyId: 'ASIARSP0000000000002',
      secretAccessKey: 'secret-2',
      sessionToken: 'token-of-ASIARSP0000000000002',
      expiration: new Date('2026-12-03T11:00:00Z'),
      accountId: MEMBER,
    });
    expect(sts.sessions.get(identity.accessKeyId)).toMatchObject({
      kind: 'responder',
      sessionName: 'sentinel-4242',
    });
  });

  it('gives STS clients a region and no endpoint, and the web identity client no credentials', async () => {
    const sts = new StsModel();
    await createResponderCredentials(sts.options()).forAccount(MEMBER, 'sentinel-4242')();
    expect(sts.configs).toHaveLength(2);
    for (const config of sts.configs) {
      expect(config.region).toBe('us-east-1');
      expect(config).not.toHaveProperty('endpoint');
    }
    expect(sts.configs[0]).not.toHaveProperty('credentials');
  });

  it('serves cached credentials until five minutes before they expire, then refreshes both roles', async () => {
    const sts = new StsModel();
    const provider = createResponderCredentials(sts.options()).forAccount(MEMBER, 'sentinel-4242');
    const first = await provider();
    sts.now += 30 * MINUTE;
    expect(await provider()).toBe(first);
    sts.now += 24 * MINUTE + 59_000; // 5 min 1 s left
    expect(await provider()).toBe(first);
    expect(sts.calls).toHaveLength(2);

    sts.now += 2_000; // 4 min 59 s left
    const second = await provider();
    expect(second.accessKeyId).not.toBe(first.accessKeyId);
    expect(second.expiration).toEqual(new Date(sts.now + 60 * MINUTE));
    expect(sts.calls.map((c) => c.operation)).toEqual([
      'AssumeRoleWithWebIdentity',
      'AssumeRole',
      'AssumeRoleWithWebIdentity',
      'AssumeRole',
    ]);
    expect(sts.calls[3]?.signedBy).toBe('ASIAHUB0000000000003');
    expect(sts.tokensIssued).toBe(2);
  });

  it('returns the same provider for the same account and session, so callers share the cache', async () => {
    const sts = new StsModel();
    const credentials = createResponderCredentials(sts.options());
    expect(credentials.forAccount(MEMBER, 'sentinel-4242')).toBe(
      credentials.forAccount(MEMBER, 'sentinel-4242'),
    );
    await credentials.forAccount(MEMBER, 'sentinel-4242')();
    await credentials.forAccount(MEMBER, 'sentinel-4242')();
    expect(sts.calls).toHaveLength(2);
  });

  it('keeps accounts apart and reuses the hub session across them', async () => {
    const sts = new StsModel();
    const credentials = createResponderCredentials(sts.options());
    const member = await credentials.forAccount(MEMBER, 'sentinel-4242')();
    const other = await credentials.forAccount(OTHER, 'sentinel-4242')();
    expect(member.accountId).toBe(MEMBER);
    expect(other.accountId).toBe(OTHER);
    expect(other.accessKeyId).not.toBe(member.accessKeyId);
    expect(sts.sessions.get(member.accessKeyId)?.roleArn).toBe(`arn:aws:iam::${MEMBER}:role/${RESPONDER}`);
    expect(sts.sessions.get(other.accessKeyId)?.roleArn).toBe(`arn:aws:iam::${OTHER}:role/${RESPONDER}`);
    expect(sts.calls.map((c) => c.operation)).toEqual([
      'AssumeRoleWithWebIdentity',
      'AssumeRole',
      'AssumeRole',
    ]);
  });

  it('opens a separate session, hub included, for another incident in the same account', async () => {
    const sts = new StsModel();
    const credentials = createResponderCredentials(sts.options());
    const a = await credentials.forAccount(MEMBER, 'sentinel-4242')();
    const b = await credentials.forAccount(MEMBER, 'sentinel-4243')();
    expect(b.accessKeyId).not.toBe(a.accessKeyId);
    expect(sts.calls.map((c) => `${c.operation}:${c.RoleSessionName}`)).toEqual([
      'AssumeRoleWithWebIdentity:sentinel-4242',
      'AssumeRole:sentinel-4242',
      'AssumeRoleWithWebIdentity:sentinel-4243',
      'AssumeRole:sentinel-4243',
    ]);
  });

  it('refuses a malformed account id or session name before any call', () => {
    const sts = new StsModel();
    const credentials = createResponderCredentials(sts.options());
    for (const account of ['11112222333', '1111222233334', 'abcdefghijkl', '', '111122223333 ']) {
      expect(() => credentials.forAccount(account, 'sentinel-4242')).toThrow(ValidationError);
    }
    for (const session of ['s', 'x'.repeat(65), 'sentinel 4242', 'sentinel/4242', 'incident:1']) {
      expect(() => credentials.forAccount(MEMBER, session)).toThrow(ValidationError);
    }
    expect(() => credentials.forAccount(MEMBER, 'a+b=c,d.e@f_g-h')).not.toThrow();
    expect(sts.calls).toEqual([]);
    expect(sts.tokensIssued).toBe(0);
    expect(sts.configs).toEqual([]);
  });

  it('refuses a malformed hub role ARN, responder role name, region or duration at construction', () => {
    const sts = new StsModel();
    expect(() => createResponderCredentials(sts.options({ hubRoleArn: 'SentinelResponseHub' }))).toThrow(
      ConfigError,
    );
    expect(() =>
      createResponderCredentials(sts.options({ hubRoleArn: 'arn:aws:iam::99998888777:role/Hub' })),
    ).toThrow(ConfigError);
    expect(() => createResponderCredentials(sts.options({ responderRoleName: 'bad name' }))).toThrow(
      ConfigError,
    );
    expect(() => createResponderCredentials(sts.options({ stsRegion: 'https://sts.local' }))).toThrow(
      ConfigError,
    );
    expect(() => createResponderCredentials(sts.options({ durationSeconds: 7200 }))).toThrow(ConfigError);
  });

  it('makes one request per role when many callers ask at once', async () => {
    const sts = new StsModel();
    const credentials = createResponderCredentials(sts.options());
    const results = await Promise.all(
      Array.from({ length: 10 }, () => credentials.forAccount(MEMBER, 'sentinel-4242')()),
    );
    expect(new Set(results.map((r) => r.accessKeyId)).size).toBe(1);
    expect(sts.calls).toHaveLength(2);
    expect(sts.tokensIssued).toBe(1);
  });

  it('shares one in-flight hub request between accounts asked for at once', async () => {
    const sts = new StsModel();
    sts.members.add('777788889999');
    const credentials = createResponderCredentials(sts.options());
    const accounts = [MEMBER, OTHER, '777788889999'];
    const results = await Promise.all(accounts.map((a) => credentials.forAccount(a, 'sentinel-4242')()));
    expect(results.map((r) => r.accountId)).toEqual(accounts);
    expect(sts.calls.filter((c) => c.operation === 'AssumeRoleWithWebIdentity')).toHaveLength(1);
    expect(sts.calls.filter((c) => c.operation === 'AssumeRole')).toHaveLength(3);
  });

  it('reports a refused role as a configuration error and does not cache the failure', async () => {
    const sts = new StsModel();
    sts.members.delete(OTHER);
    const provider = createResponderCredentials(sts.options()).forAccount(OTHER, 'sentinel-4242');
    const failure = provider();
    await expect(failure).rejects.toThrow(ConfigError);
    await expect(failure).rejects.toThrow(
      `AssumeRole into arn:aws:iam::${OTHER}:role/${RESPONDER} failed (AccessDenied)`,
    );
    await expect(failure).rejects.not.toThrow(/not authorized/);

    sts.members.add(OTHER);
    expect((await provider()).accountId).toBe(OTHER);
    // The hub session survived the responder failure.
    expect(sts.calls.filter((c) => c.operation === 'AssumeRoleWithWebIdentity')).toHaveLength(1);
  });

  it('gets a new hub session once when STS says the cached one expired early', async () => {
    const sts = new StsModel();
    const credentials = createResponderCredentials(sts.options());
    await credentials.forAccount(MEMBER, 'sentinel-4242')();
    sts.revokeHubSessions();
    const other = await credentials.forAccount(OTHER, 'sentinel-4242')();
    expect(other.accountId).toBe(OTHER);
    expect(sts.calls.map((c) => c.operation)).toEqual([
      'AssumeRoleWithWebIdentity',
      'AssumeRole',
      'AssumeRole',
      'AssumeRoleWithWebIdentity',
      'AssumeRole',
    ]);
  });

  it('reports a token source failure as transient and asks for a new token next time', async () => {
    const sts = new StsModel();
    let fail = true;
    const credentials = createResponderCredentials(
      sts.options({
        getWebIdentityToken: async () => {
          if (fail) throw new Error('ManagedIdentityCredential: no response from IMDS');
          return sts.tokenSource();
        },
      }),
    );
    const provider = credentials.forAccount(MEMBER, 'sentinel-4242');
    await expect(provider()).rejects.toThrow(TransientError);
    await expect(provider()).rejects.toThrow('the web identity token could not be obtained');
    expect(sts.calls).toEqual([]);
    fail = false;
    expect((await provider()).accountId).toBe(MEMBER);
  });

  it('reports a token STS refuses as a configuration error', async () => {
    const sts = new StsModel();
    const provider = createResponderCredentials(
      sts.options({ getWebIdentityToken: async () => 'eyJ.forged' }),
    ).forAccount(MEMBER, 'sentinel-4242');
    const failure = provider();
    await expect(failure).rejects.toThrow(ConfigError);
    await expect(failure).rejects.toThrow(
      `AssumeRoleWithWebIdentity into ${HUB_ROLE} failed (InvalidIdentityToken)`,
    );
  });

  it('asks for the session duration it is given', async () => {
    const sts = new StsModel();
    const identity = await createResponderCredentials(sts.options({ durationSeconds: 900 })).forAccount(
      MEMBER,
      'sentinel-4242',
    )();
    expect(sts.calls.map((c) => c.DurationSeconds)).toEqual([900, 900]);
    expect(sts.sessions.get(sts.calls[1]?.signedBy ?? '')?.expiresAt).toBe(sts.now + 900_000);
    expect(identity.accountId).toBe(MEMBER);
  });

  it('builds responder ARNs in the hub role partition and uses its STS region', async () => {
    const configs: STSClientConfig[] = [];
    const seen: string[] = [];
    const credentials = createResponderCredentials({
      getWebIdentityToken: async () => 'eyJ.token',
      hubRoleArn: 'arn:aws-cn:iam::999988887777:role/Hub',
      responderRoleName: 'ir/Responder',
      clientFactory: (config) => {
        configs.push(config);
        const client = new STSClient(config);
        const issued = {
          Credentials: {
            AccessKeyId: 'ASIAX',
            SecretAccessKey: 's',
            SessionToken: 't',
            Expiration: new Date(Date.now() + 3_600_000),
          },
        };
        mockClient(client)
          .on(AssumeRoleWithWebIdentityCommand)
          .resolves(issued)
          .on(AssumeRoleCommand)
          .callsFake((input: AssumeRoleCommandInput) => {
            seen.push(input.RoleArn ?? '');
            return issued;
          });
        return client;
      },
    });
    await credentials.forAccount(MEMBER, 'sentinel-1')();
    expect(seen).toEqual([`arn:aws-cn:iam::${MEMBER}:role/ir/Responder`]);
    expect(configs.map((c) => c.region)).toEqual(['cn-north-1', 'cn-north-1']);
  });
});

describe('default credential chain', () => {
  it('leaves credentials to each client and still refuses malformed targets', () => {
    const credentials = defaultChainCredentials();
    expect(credentials.forAccount(MEMBER, 'sentinel-4242')).toBeUndefined();
    expect(() => credentials.forAccount('1234', 'sentinel-4242')).toThrow(ValidationError);
    expect(() => credentials.forAccount(MEMBER, 'bad session')).toThrow(ValidationError);
  });
});

describe('managed identity token source', () => {
  class FakeCredential implements TokenCredential {
    readonly scopes: (string | string[])[] = [];
    constructor(private readonly token: AccessToken | null) {}
    async getToken(scopes: string | string[], _options?: GetTokenOptions): Promise<AccessToken | null> {
      this.scopes.push(scopes);
      return this.token;
    }
  }

  it('asks for the audience .default scope and returns the raw token', async () => {
    const credential = new FakeCredential({ token: 'eyJ.mi', expiresOnTimestamp: Date.now() + 3_600_000 });
    const source = managedIdentityTokenSource('api://aws-sentinel-bridge', { credential });
    expect(await source()).toBe('eyJ.mi');
    expect(managedIdentityTokenSource('api://aws-sentinel-bridge/.default', { credential })).toBeInstanceOf(
      Function,
    );
    await managedIdentityTokenSource('api://aws-sentinel-bridge/.default', { credential })();
    expect(credential.scopes).toEqual([
      'api://aws-sentinel-bridge/.default',
      'api://aws-sentinel-bridge/.default',
    ]);
  });

  it('refuses an empty audience and reports a missing token', async () => {
    expect(() => managedIdentityTokenSource(' ')).toThrow(ConfigError);
    const source = managedIdentityTokenSource('api://x', { credential: new FakeCredential(null) });
    await expect(source()).rejects.toThrow(ConfigError);
  });
});

/** What the local STS endpoint saw: the real SDK's requests, form-decoded, and their signatures. */
interface WireRequest {
  readonly params: Record<string, string>;
  readonly headers: IncomingHttpHeaders;
}

function stsXml(operation: string, accessKeyId: string): string {
  const expiration = new Date(Date.now() + 3_600_000).toISOString();
  return `<${operation}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><${operation}Result><Credentials><AccessKeyId>${accessKeyId}</AccessKeyId><SecretAccessKey>secret</SecretAccessKey><SessionToken>session-${accessKeyId}</SessionToken><Expiration>${expiration}</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROAEXAMPLE:s</AssumedRoleId><Arn>arn:aws:sts::1:assumed-role/r/s</Arn></AssumedRoleUser></${operation}Result><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></${operation}Response>`;
}

describe('on the wire', () => {
  const requests: WireRequest[] = [];
  let server: Server;
  const saved = process.env.AWS_ENDPOINT_URL_STS;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      req.on('end', () => {
        const params = Object.fromEntries(new URLSearchParams(body));
        requests.push({ params, headers: req.headers });
        const key =
          params.Action === 'AssumeRoleWithWebIdentity' ? 'ASIAWIREHUB000000001' : 'ASIAWIRERSP000000002';
        res.writeHead(200, { 'content-type': 'text/xml' });
        res.end(stsXml(params.Action ?? 'Unknown', key));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    process.env.AWS_ENDPOINT_URL_STS = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_STS;
    else process.env.AWS_ENDPOINT_URL_STS = saved;
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends both STS calls to AWS_ENDPOINT_URL_STS, the second signed with the hub session', async () => {
    const credentials = createResponderCredentials({
      getWebIdentityToken: async () => 'eyJ.wire',
      hubRoleArn: HUB_ROLE,
      responderRoleName: RESPONDER,
      stsRegion: 'eu-west-1',
    });
    const identity = await credentials.forAccount(MEMBER, 'sentinel-4242')();
    expect(identity).toMatchObject({ accessKeyId: 'ASIAWIRERSP000000002', accountId: MEMBER });
    expect(requests.map((r) => r.params)).toEqual([
      expect.objectContaining({
        Action: 'AssumeRoleWithWebIdentity',
        RoleArn: HUB_ROLE,
        RoleSessionName: 'sentinel-4242',
        WebIdentityToken: 'eyJ.wire',
      }),
      expect.objectContaining({
        Action: 'AssumeRole',
        RoleArn: `arn:aws:iam::${MEMBER}:role/${RESPONDER}`,
        RoleSessionName: 'sentinel-4242',
      }),
    ]);
    const [webIdentity, assumeRole] = requests;
    expect(webIdentity?.headers.authorization).toBeUndefined();
    expect(assumeRole?.headers.authorization).toContain('Credential=ASIAWIREHUB000000001/');
    expect(assumeRole?.headers.authorization).toContain('/eu-west-1/sts/aws4_request');
    expect(assumeRole?.headers['x-amz-security-token']).toBe('session-ASIAWIREHUB000000001');
  });
});
