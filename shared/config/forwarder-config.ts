import { z } from 'zod';
import { ConfigError } from '../domain/errors.js';

/**
 * Settings of the AWS-side forwarder functions, validated once at start. Secrets never come from here:
 * the Entra app credential lives in Secrets Manager and only its ARN is configured.
 */
const uuid = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'expected a GUID');

const SETTINGS = {
  LOGS_INGESTION_ENDPOINT: {
    schema: z.url({ protocol: /^https$/, error: 'expected an https:// URL' }),
    help: 'the Logs Ingestion endpoint of the DCR or its data collection endpoint, https://<name>.<region>-1.ingest.monitor.azure.com',
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
    schema: z.url({ protocol: /^https?$/, error: 'expected the dead-letter queue URL' }),
    help: "the function's dead-letter queue URL (poison messages are sent there with their reason)",
  },
} as const;

const OPTIONAL = {
  AZURE_AUTHORITY_HOST: z.url({ protocol: /^https$/, error: 'expected an https:// URL' }).optional(),
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
  const values: Record<string, string> = {};
  for (const [name, { schema, help }] of Object.entries(SETTINGS)) {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') {
      problems.push(`${name} is missing: ${help}`);
      continue;
    }
    const parsed = schema.safeParse(raw.trim());
    if (parsed.success) values[name] = parsed.data;
    else problems.push(`${name} is invalid (${parsed.error.issues[0]?.message ?? 'invalid'}): ${help}`);
  }
  for (const name of FORBIDDEN) {
    if (env[name] !== undefined) {
      problems.push(
        `${name} is set: secrets are read from Secrets Manager (AZURE_CREDENTIAL_SECRET_ARN), never from environment variables`,
      );
    }
  }
  const authority = OPTIONAL.AZURE_AUTHORITY_HOST.safeParse(env.AZURE_AUTHORITY_HOST || undefined);
  if (!authority.success)
    problems.push(`AZURE_AUTHORITY_HOST is invalid: ${authority.error.issues[0]?.message ?? ''}`);
  const concurrency = OPTIONAL.INGESTION_MAX_CONCURRENCY.safeParse(
    env.INGESTION_MAX_CONCURRENCY || undefined,
  );
  if (!concurrency.success)
    problems.push('INGESTION_MAX_CONCURRENCY is invalid: expected an integer from 1 to 20');
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

/** The settings reference, for the README. */
export const FORWARDER_SETTINGS_HELP: readonly { name: string; help: string }[] = Object.entries(
  SETTINGS,
).map(([name, { help }]) => ({ name, help }));
