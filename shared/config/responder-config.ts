import * as z from 'zod';
import { ConfigError } from '../domain/errors.js';

/**
 * Settings of the Azure-side responder functions, validated once at start. No secret is configured: the
 * Function App's managed identity reaches AWS (web identity), Sentinel (ARM), Table Storage and the audit DCR.
 */
const guid = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'expected a GUID');
const https = z.url({ protocol: /^https$/, error: 'expected an https:// URL' });

const SETTINGS = {
  ENTRA_TENANT_ID: { schema: guid, help: 'the Entra ID tenant whose tokens the functions accept' },
  API_AUDIENCE: {
    schema: z.string().min(1),
    help: "the functions' API audience(s), comma-separated: its application ID URI and/or client id",
  },
  AWS_HUB_ROLE_ARN: {
    schema: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, 'expected an IAM role ARN'),
    help: 'the hub role assumed with the managed identity token (AssumeRoleWithWebIdentity)',
  },
  AWS_WEB_IDENTITY_AUDIENCE: {
    schema: z.string().min(1),
    help: "the application ID URI the managed identity asks a token for; the hub role's trust pins it as aud",
  },
  SENTINEL_SUBSCRIPTION_ID: { schema: guid, help: 'subscription of the Sentinel workspace' },
  SENTINEL_RESOURCE_GROUP: { schema: z.string().min(1), help: 'resource group of the Sentinel workspace' },
  SENTINEL_WORKSPACE_NAME: {
    schema: z.string().min(1),
    help: 'name of the Log Analytics workspace with Sentinel',
  },
  AUDIT_LOGS_INGESTION_ENDPOINT: { schema: https, help: 'Logs Ingestion endpoint of the audit DCR' },
  AUDIT_DCR_IMMUTABLE_ID: {
    schema: z.string().regex(/^dcr-[0-9a-f]{32}$/, 'expected dcr- followed by 32 hex digits'),
    help: 'immutable id of the DCR with the Custom-AWSResponseAudit_CL stream',
  },
} as const;

export interface ResponderConfig {
  readonly tenantId: string;
  readonly audiences: readonly string[];
  readonly hubRoleArn: string;
  readonly responderRoleName: string;
  readonly webIdentityAudience: string;
  readonly managedIdentityClientId?: string;
  readonly sentinel: {
    readonly subscriptionId: string;
    readonly resourceGroup: string;
    readonly workspace: string;
  };
  readonly audit: { readonly endpoint: string; readonly dcrImmutableId: string };
  /** Table Storage: an account endpoint (managed identity) or, for local runs, a connection string. */
  readonly state: { readonly endpoint: string } | { readonly connectionString: string };
  /** Inline policy JSON (RESPONSE_POLICY); undefined = the shipped default policy. */
  readonly policyJson?: string;
  /** RESPONSE_ALLOWED_ACCOUNTS: overrides the policy's account allowlist. */
  readonly allowedAccounts?: readonly string[];
}

export function loadResponderConfig(env: Readonly<Record<string, string | undefined>>): ResponderConfig {
  const problems: string[] = [];
  const values: Record<string, string> = {};
  for (const [name, { schema, help }] of Object.entries(SETTINGS)) {
    const raw = env[name]?.trim();
    if (!raw) {
      problems.push(`${name} is missing: ${help}`);
      continue;
    }
    const parsed = schema.safeParse(raw);
    if (parsed.success) values[name] = parsed.data;
    else problems.push(`${name} is invalid (${parsed.error.issues[0]?.message ?? 'invalid'}): ${help}`);
  }
  const responderRoleName = env.AWS_RESPONDER_ROLE_NAME?.trim() || 'SentinelResponder';
  if (!/^[\w+=,.@-]{1,64}$/.test(responderRoleName))
    problems.push('AWS_RESPONDER_ROLE_NAME is not a valid IAM role name');
  const endpoint = env.RESPONSE_STATE_TABLE_ENDPOINT?.trim();
  const connectionString = env.RESPONSE_STATE_CONNECTION?.trim();
  if (!endpoint && !connectionString) {
    problems.push(
      'RESPONSE_STATE_TABLE_ENDPOINT is missing: the Table Storage endpoint for locks, the blast-radius window and plans (https://<account>.table.core.windows.net)',
    );
  } else if (endpoint && !https.safeParse(endpoint).success) {
    problems.push('RESPONSE_STATE_TABLE_ENDPOINT is invalid: expected an https:// URL');
  }
  const accounts = env.RESPONSE_ALLOWED_ACCOUNTS?.split(',')
    .map((a) => a.trim())
    .filter((a) => a !== '');
  for (const account of accounts ?? []) {
    if (!/^\d{12}$/.test(account))
      problems.push(`RESPONSE_ALLOWED_ACCOUNTS has "${account}", not a 12-digit AWS account id`);
  }
  for (const secret of ['AZURE_CLIENT_SECRET', 'AWS_SECRET_ACCESS_KEY', 'AWS_ACCESS_KEY_ID']) {
    if (env[secret] !== undefined)
      problems.push(`${secret} is set: the responder uses its managed identity only, no static keys`);
  }
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n- ${problems.join('\n- ')}`);
  const get = (name: keyof typeof SETTINGS): string => values[name] ?? '';
  return {
    tenantId: get('ENTRA_TENANT_ID'),
    audiences: get('API_AUDIENCE')
      .split(',')
      .map((a) => a.trim())
      .filter((a) => a !== ''),
    hubRoleArn: get('AWS_HUB_ROLE_ARN'),
    responderRoleName,
    webIdentityAudience: get('AWS_WEB_IDENTITY_AUDIENCE'),
    ...(env.MANAGED_IDENTITY_CLIENT_ID?.trim()
      ? { managedIdentityClientId: env.MANAGED_IDENTITY_CLIENT_ID.trim() }
      : {}),
    sentinel: {
      subscriptionId: get('SENTINEL_SUBSCRIPTION_ID'),
      resourceGroup: get('SENTINEL_RESOURCE_GROUP'),
      workspace: get('SENTINEL_WORKSPACE_NAME'),
    },
    audit: { endpoint: get('AUDIT_LOGS_INGESTION_ENDPOINT'), dcrImmutableId: get('AUDIT_DCR_IMMUTABLE_ID') },
    state: endpoint ? { endpoint } : { connectionString: connectionString ?? '' },
    ...(env.RESPONSE_POLICY?.trim() ? { policyJson: env.RESPONSE_POLICY } : {}),
    ...(accounts && accounts.length > 0 ? { allowedAccounts: accounts } : {}),
  };
}

export const RESPONDER_SETTINGS_HELP: readonly { name: string; help: string }[] = Object.entries(
  SETTINGS,
).map(([name, { help }]) => ({ name, help }));
