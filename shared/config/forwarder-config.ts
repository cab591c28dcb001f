import * as z from 'zod';
import { ConfigError } from '../domain/errors.js';

/**
 * Settings of the AWS-side forwarder functions, validated once at start. Secrets never come from here:
 * the Entra app credential lives in Secrets Manager and only its ARN is configured.
 *
 * The endpoints are pinned (a security review asked for it): the rows and the Entra token go only to an
 * Azure Monitor ingestion host and an Entra authority of one of Microsoft's clouds, and poison messages only
 * to an SQS queue URL (the SQS client sends to the host of the queue URL when no endpoint is configured).
 * `ALLOW_CUSTOM_INGESTION_ENDPOINT=true` lifts the pinning for local servers and tests; https stays required.
 */
const uuid = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'expected a GUID');

/** The override that lifts the endpoint pinning. */
export const ALLOW_CUSTOM_ENDPOINTS_SETTING = 'ALLOW_CUSTOM_INGESTION_ENDPOINT';

/** Logs Ingestion host suffixes of the public, US Government and China clouds (DCR and DCE endpoints alike). */
const INGESTION_HOST_SUFFIXES: readonly string[] = [
  '.ingest.monitor.azure.com',
  '.ingest.monitor.azure.us',
  '.ingest.monitor.azure.cn',
];
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** Entra ID authorities of the public, US Government and China (21Vianet) clouds. */
const AUTHORITY_HOSTS: readonly string[] = [
  'https://login.microsoftonline.com',
  'https://login.microsoftonline.us',
  'https://login.chinacloudapi.cn',
  'https://login.partner.microsoftonline.cn',
];

/** SQS queue URLs: `https://sqs.<region>.amazonaws.com[.cn]/<account>/<name>` or the legacy `<region>.queue` form. */
const SQS_HOST =
  /^(sqs\.[a-z]{2}(-[a-z]+)+-\d+\.amazonaws\.com(\.cn)?|[a-z]{2}(-[a-z]+)+-\d+\.queue\.amazonaws\.com)$/;
const SQS_PATH = /^\/\d{12}\/[A-Za-z0-9_-]{1,80}(\.fifo)?$/;

type Check = (url: URL) => string | undefined;

/**
 * An https URL of the given shape. `checks` run in order and the first problem is reported, so the message
 * names what to fix (scheme first, then the parts, then the host).
 */
function httpsUrl(checks: readonly Check[]) {
  return z.string().superRefine((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'expected an https:// URL' });
      return;
    }
    const problem = [
      (u: URL) => (u.protocol === 'https:' ? undefined : 'expected an https:// URL'),
      (u: URL) => (u.username === '' && u.password === '' ? undefined : 'expected no user name or password'),
      ...checks,
    ]
      .map((check) => check(url))
      .find((found) => found !== undefined);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  });
}

/** Also an empty `?` or `#`, which URL reports as an empty search or hash. */
const hasQueryOrFragment = (url: URL): boolean =>
  url.search !== '' || url.hash !== '' || url.href.includes('?') || url.href.includes('#');

const originOnly: Check = (url) =>
  url.pathname === '/' && !hasQueryOrFragment(url)
    ? undefined
    : 'expected https://<host> without path, query or fragment';

const noPort: Check = (url) => (url.port === '' ? undefined : 'expected no port');

const ingestionHost: Check = (url) => {
  const suffix = INGESTION_HOST_SUFFIXES.find((candidate) => url.hostname.endsWith(candidate));
  const name = suffix === undefined ? '' : url.hostname.slice(0, -suffix.length);
  return name !== '' && name.split('.').every((label) => DNS_LABEL.test(label))
    ? undefined
    : `expected a host ending in .ingest.monitor.azure.com, .us or .cn (${ALLOW_CUSTOM_ENDPOINTS_SETTING}=true allows another)`;
};

const authorityHost: Check = (url) =>
  AUTHORITY_HOSTS.includes(url.origin)
    ? undefined
    : `expected one of ${AUTHORITY_HOSTS.join(', ')} (${ALLOW_CUSTOM_ENDPOINTS_SETTING}=true allows another)`;

const queueUrl: Check = (url) =>
  url.port === '' && SQS_HOST.test(url.hostname) && SQS_PATH.test(url.pathname) && !hasQueryOrFragment(url)
    ? undefined
    : `expected an SQS queue URL, https://sqs.<region>.amazonaws.com/<account id>/<queue name> (${ALLOW_CUSTOM_ENDPOINTS_SETTING}=true allows another)`;

const noQueryOrFragment: Check = (url) =>
  hasQueryOrFragment(url) ? 'expected no query or fragment' : undefined;

interface Setting {
  /** Schema with the endpoint pinning, and (when different) without it. */
  readonly schema: z.ZodType<string>;
  readonly custom?: z.ZodType<string>;
  readonly help: string;
}

const SETTINGS = {
  LOGS_INGESTION_ENDPOINT: {
    schema: httpsUrl([originOnly, noPort, ingestionHost]),
    custom: httpsUrl([originOnly]),
    help: `the Logs Ingestion endpoint of the DCR or its data collection endpoint, https://<name>.<region>-1.ingest.monitor.azure.com (or .azure.us, .azure.cn); another host only with ${ALLOW_CUSTOM_ENDPOINTS_SETTING}=true`,
  },
  DCR_IMMUTABLE_ID: {
    schema: z.string().regex(/^dcr-[0-9a-f]{32}$/, 'expected dcr- followed by 32 hex digits'),
    help: "the data collection rule's immutableId (az monitor data-collection rule show --query immutableId)",
  },
  AZURE_TENANT_ID: { schema: uuid, help: 'the Entra ID tenant of the forwarder app registration' },
  AZURE_CLIENT_ID: { schema: uuid, help: 'the application (client) id of the forwarder app registration' },
  AZURE_CREDENTIAL_SECRET_ARN: {
    schema: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/,
        'expected a Secrets Manager secret ARN',
      ),
    help: 'the Secrets Manager secret holding {"clientSecret": ...} or {"certificate": ...} of the forwarder app',
  },
  DLQ_URL: {
    schema: httpsUrl([queueUrl]),
    custom: httpsUrl([noQueryOrFragment]),
    help: `the function's dead-letter queue URL, https://sqs.<region>.amazonaws.com/<account id>/<queue name> (poison messages are sent there with their reason); another URL only with ${ALLOW_CUSTOM_ENDPOINTS_SETTING}=true (a local SQS is reached through AWS_ENDPOINT_URL)`,
  },
} as const satisfies Record<string, Setting>;

/** Help for the optional settings (also used in the error messages). */
const OPTIONAL_HELP = {
  AZURE_AUTHORITY_HOST: `Entra authority for sovereign clouds, one of ${AUTHORITY_HOSTS.map((host) => `\`${host}\``).join(', ')} (default: the public cloud); another only with ${ALLOW_CUSTOM_ENDPOINTS_SETTING}=true`,
  INGESTION_MAX_CONCURRENCY: 'parallel upload requests per invocation, 1-20 (default 5)',
  [ALLOW_CUSTOM_ENDPOINTS_SETTING]:
    '`true` allows any https Logs Ingestion endpoint, Entra authority and DLQ URL instead of the Azure and SQS hosts; for local servers and tests only, never in a deployment',
} as const;

const OPTIONAL = {
  AZURE_AUTHORITY_HOST: httpsUrl([originOnly, authorityHost]).optional(),
  CUSTOM_AUTHORITY_HOST: httpsUrl([noQueryOrFragment]).optional(),
  INGESTION_MAX_CONCURRENCY: z.coerce.number().int().min(1).max(20).default(5),
};

/** Variables that would mean a secret is in plain environment, which this project refuses. */
const FORBIDDEN = ['AZURE_CLIENT_SECRET', 'AZURE_CLIENT_CERTIFICATE_PASSWORD'] as const;

export interface ForwarderConfig {
  readonly logsIngestionEndpoint: string;
  readonly dcrImmutableId: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly credentialSecretArn: string;
  readonly dlqUrl: string;
  readonly authorityHost?: string;
  readonly maxConcurrency: number;
}

/** Reads and validates the settings; throws one ConfigError naming every missing or malformed setting. */
export function loadForwarderConfig(env: Readonly<Record<string, string | undefined>>): ForwarderConfig {
  const problems: string[] = [];
  const override = (env[ALLOW_CUSTOM_ENDPOINTS_SETTING] ?? '').trim();
  if (!['', 'true', 'false'].includes(override)) {
    problems.push(
      `${ALLOW_CUSTOM_ENDPOINTS_SETTING} is invalid (expected true or false): ${OPTIONAL_HELP[ALLOW_CUSTOM_ENDPOINTS_SETTING]}`,
    );
  }
  const allowCustom = override === 'true';
  const values: Record<string, string> = {};
  for (const [name, setting] of Object.entries(SETTINGS) as [string, Setting][]) {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') {
      problems.push(`${name} is missing: ${setting.help}`);
      continue;
    }
    const schema = allowCustom && setting.custom !== undefined ? setting.custom : setting.schema;
    const parsed = schema.safeParse(raw.trim());
    if (parsed.success) values[name] = parsed.data;
    else
      problems.push(`${name} is invalid (${parsed.error.issues[0]?.message ?? 'invalid'}): ${setting.help}`);
  }
  for (const name of FORBIDDEN) {
    if (env[name] !== undefined) {
      problems.push(
        `${name} is set: secrets are read from Secrets Manager (AZURE_CREDENTIAL_SECRET_ARN), never from environment variables`,
      );
    }
  }
  const authority = (allowCustom ? OPTIONAL.CUSTOM_AUTHORITY_HOST : OPTIONAL.AZURE_AUTHORITY_HOST).safeParse(
    env.AZURE_AUTHORITY_HOST?.trim() || undefined,
  );
  if (!authority.success) {
    problems.push(
      `AZURE_AUTHORITY_HOST is invalid (${authority.error.issues[0]?.message ?? 'invalid'}): ${OPTIONAL_HELP.AZURE_AUTHORITY_HOST}`,
    );
  }
  const concurrency = OPTIONAL.INGESTION_MAX_CONCURRENCY.safeParse(
    env.INGESTION_MAX_CONCURRENCY || undefined,
  );
  if (!concurrency.success)
    problems.push(`INGESTION_MAX_CONCURRENCY is invalid: ${OPTIONAL_HELP.INGESTION_MAX_CONCURRENCY}`);
  if (problems.length > 0 || !concurrency.success || !authority.success) {
    throw new ConfigError(`Invalid configuration:\n- ${problems.join('\n- ')}`);
  }
  const get = (name: keyof typeof SETTINGS): string => values[name] ?? '';
  return {
    logsIngestionEndpoint: get('LOGS_INGESTION_ENDPOINT'),
    dcrImmutableId: get('DCR_IMMUTABLE_ID'),
    tenantId: get('AZURE_TENANT_ID'),
    clientId: get('AZURE_CLIENT_ID'),
    credentialSecretArn: get('AZURE_CREDENTIAL_SECRET_ARN'),
    dlqUrl: get('DLQ_URL'),
    ...(authority.data ? { authorityHost: authority.data } : {}),
    maxConcurrency: concurrency.data,
  };
}

/** The settings reference of the required settings, for the README. */
export const FORWARDER_SETTINGS_HELP: readonly { name: string; help: string }[] = Object.entries(
  SETTINGS,
).map(([name, { help }]) => ({ name, help }));

/** The settings reference of the optional settings (the README generator may render these rows from here). */
export const FORWARDER_OPTIONAL_SETTINGS_HELP: readonly { name: string; help: string }[] = Object.entries(
  OPTIONAL_HELP,
).map(([name, help]) => ({ name, help }));

/** An SQS queue URL setting checked like DLQ_URL (pinned to SQS hosts unless custom endpoints are allowed). */
export function parseQueueUrl(
  raw: string,
  allowCustom: boolean,
): { ok: true; url: string } | { ok: false; reason: string } {
  const setting: Setting = SETTINGS.DLQ_URL;
  const schema = allowCustom && setting.custom !== undefined ? setting.custom : setting.schema;
  const parsed = schema.safeParse(raw.trim());
  return parsed.success
    ? { ok: true, url: parsed.data }
    : { ok: false, reason: parsed.error.issues[0]?.message ?? 'invalid' };
}
