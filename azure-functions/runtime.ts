import { readFileSync } from 'node:fs';
import { SecurityInsights } from '@azure/arm-securityinsight';
import { DefaultAzureCredential, ManagedIdentityCredential } from '@azure/identity';
import { createAwsClients } from '../shared/adapters/aws/clients.js';
import {
  createResponderCredentials,
  managedIdentityTokenSource,
} from '../shared/adapters/aws/responder-credentials.js';
import { createEntraVerifier } from '../shared/adapters/azure/entra-auth.js';
import { createLogsIngestionAdapter } from '../shared/adapters/azure/logs-ingestion.js';
import {
  createTableResponseState,
  responseTablesFromConnectionString,
  responseTablesFromEndpoint,
} from '../shared/adapters/azure/table-state.js';
import { loadResponderConfig } from '../shared/config/responder-config.js';
import { parsePolicy } from '../shared/domain/respond/policy.js';
import { createIngestionAudit } from '../shared/respond/audit.js';
import type { IncidentResponseDeps } from '../shared/respond/incident-response.js';
import { createIncidentWriteback } from '../shared/respond/incident-writeback.js';
import { catalogueEntries, createRegistry } from '../shared/respond/registry.js';
import { auditSink, sentinelWriteback } from '../shared/respond/sinks.js';
import type { Verifier } from './http.js';

const DEFAULT_POLICY = new URL('../shared/respond/default-policy.json', import.meta.url);

/**
 * Composition root of the Azure Functions: configuration validated once, every client built once per
 * instance, the managed identity for everything (AWS through web identity, Sentinel, Table Storage, audit).
 */
export function defaultResponderDeps(env: Readonly<Record<string, string | undefined>> = process.env): {
  verifier: Verifier;
  incident: IncidentResponseDeps;
} {
  const config = loadResponderConfig(env);
  const credential = config.managedIdentityClientId
    ? new ManagedIdentityCredential({ clientId: config.managedIdentityClientId })
    : new DefaultAzureCredential();
  const registry = createRegistry();
  const policyDoc = JSON.parse(config.policyJson ?? readFileSync(DEFAULT_POLICY, 'utf8')) as Record<
    string,
    unknown
  >;
  if (config.allowedAccounts) policyDoc.accounts = { allow: config.allowedAccounts };
  const policy = parsePolicy(policyDoc, registry.names());

  const aws = createResponderCredentials({
    getWebIdentityToken: managedIdentityTokenSource(config.webIdentityAudience, { credential }),
    hubRoleArn: config.hubRoleArn,
    responderRoleName: config.responderRoleName,
  });
  const state = createTableResponseState(
    'endpoint' in config.state
      ? responseTablesFromEndpoint(config.state.endpoint, credential)
      : responseTablesFromConnectionString(config.state.connectionString),
  );
  const audit = createIngestionAudit(
    createLogsIngestionAdapter({
      endpoint: config.audit.endpoint,
      ruleId: config.audit.dcrImmutableId,
      credential,
    }),
  );
  const writeback = createIncidentWriteback({
    client: new SecurityInsights(credential, config.sentinel.subscriptionId),
    resourceGroup: config.sentinel.resourceGroup,
    workspace: config.sentinel.workspace,
  });
  return {
    verifier: createEntraVerifier({ tenantId: config.tenantId, audience: [...config.audiences] }),
    incident: {
      registry,
      catalogue: catalogueEntries(),
      policy,
      clientsFor: (accountId, region, session) =>
        createAwsClients(region, aws.forAccount(accountId, session)),
      allowedAccounts: policy.accounts.allow,
      protectedTag: policy.protectedTag,
      blastRadius: {
        port: state.blastRadius,
        maxContainments: policy.blastRadius.maxContainments,
        windowMinutes: policy.blastRadius.windowMinutes,
      },
      locks: state.locks,
      plans: state.plans,
      audit: auditSink(audit),
      writeback: sentinelWriteback(writeback),
    },
  };
}
