import { describe, expect, it } from '@jest/globals';
import {
  arrayAt,
  at,
  isExpression,
  isObject,
  objectAt,
  referenced,
  resources,
  resourcesOfType,
  stringAt,
  strings,
} from '../../infra/tools/azure/inspect.js';
import { BUILT_IN_ROLES } from '../../infra/tools/azure/roles.js';
import { renderAzureTemplate } from '../../infra/tools/azure/template.js';
import {
  readAzureReadme,
  readAzureTemplateText,
  renderAzureReadme,
  renderAzureTemplateText,
} from '../../infra/tools/render-azure.js';
import { RESPONDER_SETTINGS_HELP } from '../../shared/config/responder-config.js';
import { AWS_RESPONSE_AUDIT } from '../../shared/domain/tables/audit-columns.js';
import { AWS_CLOUDTRAIL, AWS_GUARDDUTY, type TableDefinition } from '../../shared/domain/tables/columns.js';

const text = readAzureTemplateText();
const template: unknown = JSON.parse(text);
const variables = objectAt(template, 'variables');
const parameters = objectAt(template, 'parameters');

const STREAM_TABLES: readonly TableDefinition[] = [AWS_GUARDDUTY, AWS_CLOUDTRAIL, AWS_RESPONSE_AUDIT];

const dcrs = resourcesOfType(template, 'Microsoft.Insights/dataCollectionRules');
const site = resourcesOfType(template, 'Microsoft.Web/sites')[0];
const roleAssignments = resourcesOfType(template, 'Microsoft.Authorization/roleAssignments');

function streamDeclaration(stream: string): unknown {
  const owners = dcrs.filter((d) => at(d, 'properties', 'streamDeclarations', stream) !== undefined);
  expect(owners).toHaveLength(1);
  return at(owners[0], 'properties', 'streamDeclarations', stream);
}

function appSettingNames(): string[] {
  return arrayAt(site, 'properties', 'siteConfig', 'appSettings').map((s) => stringAt(s, 'name'));
}

describe('infra/azure/azuredeploy.json', () => {
  it('is what the generator produces from the code (run node --import tsx infra/tools/render-azure.ts)', () => {
    expect(template).toEqual(renderAzureTemplate());
    expect(text).toBe(renderAzureTemplateText());
  });

  it('has its permission table in infra/azure/README.md up to date', () => {
    const readme = readAzureReadme();
    expect(renderAzureReadme(readme)).toBe(readme);
    for (const assignment of roleAssignments)
      expect(readme).toContain(
        String(at(assignment, 'properties', 'description')).replace(/^aws-sentinel-bridge: /, ''),
      );
  });

  it('is a deployment template with $schema, contentVersion, parameters, variables, resources and outputs', () => {
    expect(stringAt(template, '$schema')).toBe(
      'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#',
    );
    expect(stringAt(template, 'contentVersion')).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(resources(template).length).toBeGreaterThan(0);
    for (const resource of resources(template)) {
      expect(typeof resource.type).toBe('string');
      expect(stringAt(resource, 'apiVersion')).toMatch(/^\d{4}-\d{2}-\d{2}(-preview)?$/);
      expect(typeof resource.name).toBe('string');
    }
    expect(isObject(at(template, 'outputs'))).toBe(true);
  });

  it('references only the parameters and variables it declares, and uses every parameter', () => {
    const used = new Set<string>();
    for (const { path, value } of strings(template)) {
      if (!isExpression(value)) continue;
      for (const name of referenced(value, 'parameters')) {
        expect({ path, name, declared: Object.hasOwn(parameters, name) }).toEqual({
          path,
          name,
          declared: true,
        });
        used.add(name);
      }
      for (const name of referenced(value, 'variables'))
        expect({ path, name, declared: Object.hasOwn(variables, name) }).toEqual({
          path,
          name,
          declared: true,
        });
    }
    expect([...used].sort()).toEqual(Object.keys(parameters).sort());
  });

  it('declares each DCR stream with exactly the columns and types of its table definition', () => {
    for (const table of STREAM_TABLES) {
      const columns = arrayAt(streamDeclaration(table.stream), 'columns');
      expect(columns).toEqual(table.columns.map((c) => ({ name: c.name, type: c.type })));
    }
  });

  it('routes each stream to its table: Microsoft-AWSGuardDuty, Microsoft-AWSCloudTrail, Microsoft-AWSVPCFlow, Custom-AWSResponseAudit_CL', () => {
    const flows = dcrs.flatMap((dcr) =>
      arrayAt(dcr, 'properties', 'dataFlows').map((flow) => ({
        streams: arrayAt(flow, 'streams'),
        outputStream: stringAt(flow, 'outputStream'),
        transformKql: stringAt(flow, 'transformKql'),
        destinations: arrayAt(flow, 'destinations'),
        declared: arrayAt(dcr, 'properties', 'destinations', 'logAnalytics').map((d) => stringAt(d, 'name')),
        workspace: stringAt(dcr, 'properties', 'destinations', 'logAnalytics', 0, 'workspaceResourceId'),
      })),
    );
    expect(flows.map((f) => [f.streams, f.outputStream])).toEqual([
      [['Custom-AWSGuardDuty'], 'Microsoft-AWSGuardDuty'],
      [['Custom-AWSCloudTrail'], 'Microsoft-AWSCloudTrail'],
      [['Custom-AWSVPCFlow'], 'Microsoft-AWSVPCFlow'],
      [['Custom-AWSResponseAudit_CL'], 'Custom-AWSResponseAudit_CL'],
    ]);
    for (const table of STREAM_TABLES)
      expect(flows.find((f) => f.streams.includes(table.stream))?.outputStream).toBe(table.outputStream);
    for (const flow of flows) {
      for (const destination of flow.destinations) expect(flow.declared).toContain(destination);
      expect(flow.workspace).toBe("[variables('workspaceId')]");
    }
  });

  it('keeps the forwarder and the responder on separate DCRs (neither can write the other one’s rows)', () => {
    const streamsOf = dcrs.map((d) => Object.keys(objectAt(d, 'properties', 'streamDeclarations')).sort());
    expect(streamsOf).toEqual([
      ['Custom-AWSCloudTrail', 'Custom-AWSGuardDuty', 'Custom-AWSVPCFlow'],
      ['Custom-AWSResponseAudit_CL'],
    ]);
    for (const dcr of dcrs) expect(dcr.kind).toBe('Direct');
  });

  it('creates the custom table AWSResponseAudit_CL with exactly the audit record columns, TimeGenerated included', () => {
    const [table] = resourcesOfType(template, 'Microsoft.OperationalInsights/workspaces/tables');
    expect(stringAt(table, 'properties', 'schema', 'name')).toBe(AWS_RESPONSE_AUDIT.table);
    const tableTypes: Record<string, string> = { datetime: 'dateTime' };
    expect(
      arrayAt(table, 'properties', 'schema', 'columns').map((c) => ({
        name: stringAt(c, 'name'),
        type: stringAt(c, 'type'),
      })),
    ).toEqual(AWS_RESPONSE_AUDIT.columns.map((c) => ({ name: c.name, type: tableTypes[c.type] ?? c.type })));
    expect(AWS_RESPONSE_AUDIT.columns.map((c) => c.name)).toContain('TimeGenerated');
    const auditDcr = dcrs.find((d) => at(d, 'properties', 'streamDeclarations', AWS_RESPONSE_AUDIT.stream));
    expect(arrayAt(auditDcr, 'dependsOn')).toContain(
      "[resourceId('Microsoft.OperationalInsights/workspaces/tables', parameters('workspaceName'), 'AWSResponseAudit_CL')]",
    );
  });

  it('names every role assignment with guid(), takes its role id from a named variable and scopes it to one resource', () => {
    const declaredTypes = new Set(resources(template).map((r) => String(r.type)));
    declaredTypes.add('Microsoft.OperationalInsights/workspaces');
    const names = new Set<string>();
    expect(roleAssignments.length).toBeGreaterThan(0);
    for (const assignment of roleAssignments) {
      const name = stringAt(assignment, 'name');
      expect(name).toMatch(/^\[guid\(.+\)\]$/);
      expect(names.has(name)).toBe(false);
      names.add(name);

      const roleId = stringAt(assignment, 'properties', 'roleDefinitionId');
      const role =
        /^\[subscriptionResourceId\('Microsoft\.Authorization\/roleDefinitions', variables\('(\w+)'\)\)\]$/.exec(
          roleId,
        )?.[1];
      expect(role).toBeDefined();
      const known = Object.entries(BUILT_IN_ROLES).find(([variable]) => variable === role)?.[1];
      expect(known?.id).toBeDefined();
      expect(variables[role ?? '']).toBe(known?.id);

      const scope = stringAt(assignment, 'scope');
      const scoped = /^\[format\('([\w.]+\/\w+)\/\{0\}', (?:variables|parameters)\('\w+'\)\)\]$/.exec(scope);
      expect({ scope, single: scoped !== null }).toEqual({ scope, single: true });
      expect(declaredTypes.has(scoped?.[1] ?? '')).toBe(true);
      expect(stringAt(assignment, 'properties', 'principalType')).toBe('ServicePrincipal');
    }
    for (const [name, role] of Object.entries(BUILT_IN_ROLES))
      expect({ name, id: variables[name] }).toEqual({ name, id: role.id });
  });

  it('grants exactly these roles', () => {
    const grants = roleAssignments.map((a) => ({
      role: /variables\('(\w+)'\)/.exec(stringAt(a, 'properties', 'roleDefinitionId'))?.[1],
      scope: /^\[format\('([\w.]+\/\w+)\//.exec(stringAt(a, 'scope'))?.[1],
      principal: stringAt(a, 'properties', 'principalId'),
    }));
    const site =
      "[reference(resourceId('Microsoft.Web/sites', variables('functionAppName')), '2024-04-01', 'full').identity.principalId]";
    const playbook =
      "[reference(resourceId('Microsoft.Logic/workflows', variables('playbookName')), '2019-05-01', 'full').identity.principalId]";
    expect(grants).toEqual([
      {
        role: 'roleMonitoringMetricsPublisher',
        scope: 'Microsoft.Insights/dataCollectionRules',
        principal: "[parameters('awsForwarderPrincipalId')]",
      },
      {
        role: 'roleMonitoringMetricsPublisher',
        scope: 'Microsoft.Insights/dataCollectionRules',
        principal: site,
      },
      { role: 'roleSentinelResponder', scope: 'Microsoft.OperationalInsights/workspaces', principal: site },
      {
        role: 'roleStorageTableDataContributor',
        scope: 'Microsoft.Storage/storageAccounts',
        principal: site,
      },
      { role: 'roleStorageBlobDataOwner', scope: 'Microsoft.Storage/storageAccounts', principal: site },
      { role: 'roleMonitoringMetricsPublisher', scope: 'Microsoft.Insights/components', principal: site },
      { role: 'roleSentinelReader', scope: 'Microsoft.OperationalInsights/workspaces', principal: playbook },
      {
        role: 'roleSentinelAutomationContributor',
        scope: 'Microsoft.Logic/workflows',
        principal: "[parameters('sentinelServicePrincipalId')]",
      },
    ]);
  });

  it('has no `*` anywhere: no custom role definitions, no wildcard action, audience or principal', () => {
    expect(resourcesOfType(template, 'Microsoft.Authorization/roleDefinitions')).toEqual([]);
    for (const { path, value } of strings(template)) {
      expect({ path, value, wildcard: value.trim() === '*' }).toEqual({ path, value, wildcard: false });
    }
    for (const { path, value } of strings(template).filter((s) => /\.(actions|dataActions)\[/.test(s.path)))
      expect({ path, value }).toEqual({ path, value: expect.not.stringContaining('*') });
  });

  it('sets every responder setting on the Function App, and only responder and host settings', () => {
    const names = appSettingNames();
    for (const { name } of RESPONDER_SETTINGS_HELP) expect(names).toContain(name);
    expect(names).toContain('RESPONSE_STATE_TABLE_ENDPOINT');
    const optional = [
      'AWS_RESPONDER_ROLE_NAME',
      'RESPONSE_STATE_TABLE_ENDPOINT',
      'RESPONSE_ALLOWED_ACCOUNTS',
    ];
    const host = [
      'AzureWebJobsStorage__accountName',
      'APPLICATIONINSIGHTS_CONNECTION_STRING',
      'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
    ];
    expect([...names].sort()).toEqual(
      [...RESPONDER_SETTINGS_HELP.map((s) => s.name), ...optional, ...host].sort(),
    );
    for (const secret of [
      'AZURE_CLIENT_SECRET',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_ACCESS_KEY_ID',
      'AzureWebJobsStorage',
    ])
      expect(names).not.toContain(secret);
    for (const { value } of strings(at(site, 'properties', 'siteConfig', 'appSettings')))
      expect(value).not.toMatch(/AccountKey=|listKeys\(/i);
  });

  it('runs the Function App on Flex Consumption, Node 22, with a system-assigned identity and no shared keys', () => {
    const [plan] = resourcesOfType(template, 'Microsoft.Web/serverfarms');
    expect(at(plan, 'sku')).toEqual({ tier: 'FlexConsumption', name: 'FC1' });
    expect(at(site, 'identity')).toEqual({ type: 'SystemAssigned' });
    expect(at(site, 'properties', 'functionAppConfig', 'runtime')).toEqual({ name: 'node', version: '22' });
    expect(at(site, 'properties', 'functionAppConfig', 'deployment', 'storage', 'authentication')).toEqual({
      type: 'SystemAssignedIdentity',
    });
    expect(at(site, 'properties', 'httpsOnly')).toBe(true);
    const [storage] = resourcesOfType(template, 'Microsoft.Storage/storageAccounts');
    expect(at(storage, 'properties', 'allowSharedKeyAccess')).toBe(false);
    expect(at(storage, 'properties', 'allowBlobPublicAccess')).toBe(false);
    const [insights] = resourcesOfType(template, 'Microsoft.Insights/components');
    expect(at(insights, 'properties', 'DisableLocalAuth')).toBe(true);
    for (const policy of resourcesOfType(template, 'Microsoft.Web/sites/basicPublishingCredentialsPolicies'))
      expect(at(policy, 'properties', 'allow')).toBe(false);
  });

  it('requires an Entra token for the API audience from the playbook (or a listed caller) before any function runs', () => {
    const [auth] = resourcesOfType(template, 'Microsoft.Web/sites/config');
    expect(stringAt(auth, 'name')).toBe("[format('{0}/authsettingsV2', variables('functionAppName'))]");
    expect(at(auth, 'properties', 'globalValidation')).toEqual({
      requireAuthentication: true,
      unauthenticatedClientAction: 'Return401',
    });
    const aad = objectAt(auth, 'properties', 'identityProviders', 'azureActiveDirectory');
    expect(aad.enabled).toBe(true);
    expect(at(aad, 'validation', 'allowedAudiences')).toEqual([
      "[parameters('apiApplicationIdUri')]",
      "[parameters('apiClientId')]",
    ]);
    const identities = stringAt(
      aad,
      'validation',
      'defaultAuthorizationPolicy',
      'allowedPrincipals',
      'identities',
    );
    expect(identities).toContain(
      "reference(resourceId('Microsoft.Logic/workflows', variables('playbookName'))",
    );
    expect(identities).toContain("parameters('additionalAllowedCallerObjectIds')");
  });

  it('outputs what the AWS side and the operator need next', () => {
    expect(Object.keys(objectAt(template, 'outputs')).sort()).toEqual(
      [
        'auditDcrImmutableId',
        'dcrImmutableId',
        'functionAppHostName',
        'functionAppName',
        'functionAppPrincipalId',
        'logsIngestionEndpoint',
        'playbookPrincipalId',
        'webIdentityAudience',
        'webIdentityIssuer',
      ].sort(),
    );
  });
});
