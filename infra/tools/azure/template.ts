/**
 * Builds `infra/azure/azuredeploy.json` from the code: the DCR stream declarations and the custom table come
 * from the column definitions, the Function App settings from the responder's configuration, the Sentinel
 * content from `sentinel-content.ts`. One `az deployment group create` into the resource group of the
 * Sentinel workspace deploys everything; see `infra/azure/README.md`.
 */
import { RESPONDER_SETTINGS_HELP } from '../../../shared/config/responder-config.js';
import { AWS_RESPONSE_AUDIT } from '../../../shared/domain/tables/audit-columns.js';
import {
  AWS_CLOUDTRAIL,
  AWS_GUARDDUTY,
  AWS_VPCFLOW,
  type ColumnType,
  TABLES,
  type TableDefinition,
} from '../../../shared/domain/tables/columns.js';
import {
  expr,
  type JsonObject,
  lit,
  param,
  principalIdOf,
  type RoleGrant,
  type RoleScope,
  resourceId,
  roleAssignment,
  variable,
} from './arm.js';
import { BUILT_IN_ROLES, type RoleVariable } from './roles.js';
import { ANALYTIC_RULES, type AnalyticRule, WORKBOOK_QUERIES } from './sentinel-content.js';

export const API_VERSIONS = {
  dataCollectionRules: '2023-03-11',
  tables: '2022-10-01',
  storage: '2023-05-01',
  web: '2024-04-01',
  components: '2020-02-02',
  logic: '2019-05-01',
  connections: '2016-06-01',
  securityInsights: '2023-02-01',
  workbooks: '2023-06-01',
} as const;

/** The Function App route the playbook posts incidents to (azure-functions/index.ts, `sentinel-incident`). */
export const INCIDENTS_ROUTE = 'incidents';

/** Log Analytics destination name inside each DCR. */
const DESTINATION = 'sentinelWorkspace';

/**
 * DCR transformation per stream. Every stream column has the type of its table column (the column
 * definitions follow Microsoft's table reference), so no cast is needed and each transform is `source`.
 */
export const TRANSFORMS: Readonly<Record<string, string>> = {
  [AWS_GUARDDUTY.stream]: 'source',
  [AWS_CLOUDTRAIL.stream]: 'source',
  [AWS_VPCFLOW.stream]: 'source',
  [AWS_RESPONSE_AUDIT.stream]: 'source',
};

/** Column types of the Log Analytics tables API (`dateTime`, not the DCR stream's `datetime`). */
const TABLE_COLUMN_TYPES: Readonly<Record<ColumnType, string>> = {
  string: 'string',
  int: 'int',
  long: 'long',
  real: 'real',
  boolean: 'boolean',
  dynamic: 'dynamic',
  datetime: 'dateTime',
};

// --- Names -----------------------------------------------------------------------------------------------

const TYPES = {
  workspace: 'Microsoft.OperationalInsights/workspaces',
  table: 'Microsoft.OperationalInsights/workspaces/tables',
  dcr: 'Microsoft.Insights/dataCollectionRules',
  storage: 'Microsoft.Storage/storageAccounts',
  blobService: 'Microsoft.Storage/storageAccounts/blobServices',
  container: 'Microsoft.Storage/storageAccounts/blobServices/containers',
  components: 'Microsoft.Insights/components',
  plan: 'Microsoft.Web/serverfarms',
  site: 'Microsoft.Web/sites',
  siteConfig: 'Microsoft.Web/sites/config',
  publishingPolicy: 'Microsoft.Web/sites/basicPublishingCredentialsPolicies',
  connection: 'Microsoft.Web/connections',
  workflow: 'Microsoft.Logic/workflows',
  alertRule: 'Microsoft.SecurityInsights/alertRules',
  automationRule: 'Microsoft.SecurityInsights/automationRules',
  workbook: 'Microsoft.Insights/workbooks',
} as const;

const v = {
  workspaceName: param('workspaceName'),
  location: param('location'),
  functionAppName: variable('functionAppName'),
  planName: variable('functionPlanName'),
  storageName: variable('storageAccountName'),
  containerName: variable('deploymentContainerName'),
  appInsightsName: variable('appInsightsName'),
  ingestDcrName: variable('ingestDcrName'),
  auditDcrName: variable('auditDcrName'),
  playbookName: variable('playbookName'),
  connectionName: variable('sentinelConnectionName'),
  workspaceId: variable('workspaceId'),
};

const ids = {
  site: resourceId(TYPES.site, v.functionAppName),
  plan: resourceId(TYPES.plan, v.planName),
  storage: resourceId(TYPES.storage, v.storageName),
  blobService: resourceId(TYPES.blobService, v.storageName, "'default'"),
  container: resourceId(TYPES.container, v.storageName, "'default'", v.containerName),
  appInsights: resourceId(TYPES.components, v.appInsightsName),
  ingestDcr: resourceId(TYPES.dcr, v.ingestDcrName),
  auditDcr: resourceId(TYPES.dcr, v.auditDcrName),
  auditTable: resourceId(TYPES.table, v.workspaceName, lit(AWS_RESPONSE_AUDIT.table)),
  connection: resourceId(TYPES.connection, v.connectionName),
  playbook: resourceId(TYPES.workflow, v.playbookName),
};

const sitePrincipal = principalIdOf(TYPES.site, v.functionAppName, API_VERSIONS.web);
const playbookPrincipal = principalIdOf(TYPES.workflow, v.playbookName, API_VERSIONS.logic);
const workspaceScope = `format('Microsoft.OperationalInsights/workspaces/{0}', ${v.workspaceName})`;

const ruleVariable = (rule: AnalyticRule): string =>
  `rule${rule.key
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('')}`;
const ruleId = (rule: AnalyticRule): string =>
  `extensionResourceId(${v.workspaceId}, ${lit(TYPES.alertRule)}, ${variable(ruleVariable(rule))})`;

// --- Role assignments --------------------------------------------------------------------------------------

interface NamedGrant extends RoleGrant {
  readonly roleVariable: RoleVariable;
  readonly scope: LabelledScope;
  /** Who gets the role, for the permission table. */
  readonly principal: string;
}

interface LabelledScope extends RoleScope {
  /** The resource in words, for the permission table. */
  readonly label: string;
}

const scope = {
  ingestDcr: { type: TYPES.dcr, name: v.ingestDcrName, label: 'ingest DCR (GuardDuty, CloudTrail streams)' },
  auditDcr: { type: TYPES.dcr, name: v.auditDcrName, label: 'audit DCR (AWSResponseAudit_CL stream)' },
  storage: { type: TYPES.storage, name: v.storageName, label: "the Function App's storage account" },
  appInsights: { type: TYPES.components, name: v.appInsightsName, label: 'Application Insights component' },
  workspace: { type: TYPES.workspace, name: v.workspaceName, label: 'the Sentinel workspace' },
  playbook: { type: TYPES.workflow, name: v.playbookName, label: 'the playbook (Logic App)' },
} satisfies Record<string, LabelledScope>;

const grant = (
  principal: string,
  roleVariable: RoleVariable,
  roleScope: LabelledScope,
  principalId: string,
  principalKey: string,
  description: string,
  dependsOn: readonly string[],
): NamedGrant => ({
  principal,
  roleVariable,
  scope: roleScope,
  principalId,
  principalKey,
  description,
  dependsOn: dependsOn.map(expr),
});

/** Every role the template grants, each on exactly one resource. */
export const ROLE_GRANTS: readonly NamedGrant[] = [
  grant(
    'AWS forwarder app (param awsForwarderPrincipalId)',
    'roleMonitoringMetricsPublisher',
    scope.ingestDcr,
    param('awsForwarderPrincipalId'),
    param('awsForwarderPrincipalId'),
    'aws-sentinel-bridge: the AWS-side forwarder uploads GuardDuty and CloudTrail rows to this DCR',
    [ids.ingestDcr],
  ),
  grant(
    'Function App identity',
    'roleMonitoringMetricsPublisher',
    scope.auditDcr,
    sitePrincipal,
    ids.site,
    'aws-sentinel-bridge: the responder writes its audit rows (AWSResponseAudit_CL) through this DCR',
    [ids.auditDcr, ids.site],
  ),
  grant(
    'Function App identity',
    'roleSentinelResponder',
    scope.workspace,
    sitePrincipal,
    ids.site,
    'aws-sentinel-bridge: the responder writes comments and labels back to incidents',
    [ids.site],
  ),
  grant(
    'Function App identity',
    'roleStorageTableDataContributor',
    scope.storage,
    sitePrincipal,
    ids.site,
    'aws-sentinel-bridge: response state (target locks, blast-radius window, plans awaiting approval)',
    [ids.storage, ids.site],
  ),
  grant(
    'Function App identity',
    'roleStorageBlobDataOwner',
    scope.storage,
    sitePrincipal,
    ids.site,
    'aws-sentinel-bridge: Functions host storage (AzureWebJobsStorage, keys) and the deployment package container, without shared keys',
    [ids.storage, ids.site],
  ),
  grant(
    'Function App identity',
    'roleMonitoringMetricsPublisher',
    scope.appInsights,
    sitePrincipal,
    ids.site,
    'aws-sentinel-bridge: telemetry to Application Insights with Entra authentication (local auth disabled)',
    [ids.appInsights, ids.site],
  ),
  grant(
    'Playbook identity',
    'roleSentinelReader',
    scope.workspace,
    playbookPrincipal,
    ids.playbook,
    'aws-sentinel-bridge: the playbook receives incidents through the Microsoft Sentinel trigger (managed identity connection)',
    [ids.playbook],
  ),
  grant(
    'Microsoft Sentinel (Azure Security Insights, param sentinelServicePrincipalId)',
    'roleSentinelAutomationContributor',
    scope.playbook,
    param('sentinelServicePrincipalId'),
    param('sentinelServicePrincipalId'),
    'aws-sentinel-bridge: lets automation rules run this playbook (granted on the playbook only, not its resource group)',
    [ids.playbook],
  ),
];

/** Resource id of a grant's role assignment, for dependsOn. */
function assignmentId(g: RoleGrant): string {
  const name = `guid(${resourceId(g.scope.type, g.scope.name)}, ${g.principalKey}, ${variable(g.roleVariable)})`;
  return `extensionResourceId(${resourceId(g.scope.type, g.scope.name)}, 'Microsoft.Authorization/roleAssignments', ${name})`;
}

const grantOf = (roleVariable: RoleVariable, target: LabelledScope): NamedGrant => {
  const found = ROLE_GRANTS.find((g) => g.roleVariable === roleVariable && g.scope === target);
  if (!found) throw new Error(`no grant of ${roleVariable}`);
  return found;
};

// --- Parameters ----------------------------------------------------------------------------------------------

const p = (type: string, description: string, extra: JsonObject = {}): JsonObject => ({
  type,
  ...extra,
  metadata: { description },
});

const PARAMETERS: JsonObject = {
  workspaceName: p(
    'string',
    'Name of the existing Log Analytics workspace with Microsoft Sentinel, in the resource group deployed to.',
  ),
  location: p(
    'string',
    "Region of every resource: the workspace's region (the DCRs must be there), one with Flex Consumption.",
    { defaultValue: expr('resourceGroup().location') },
  ),
  namePrefix: p('string', 'Prefix of the resource names (lower-case letters, digits, hyphens).', {
    defaultValue: 'awsbridge',
    minLength: 2,
    maxLength: 16,
  }),
  entraTenantId: p('string', 'Entra ID tenant whose tokens the responder accepts.', {
    defaultValue: expr('subscription().tenantId'),
  }),
  apiClientId: p(
    'string',
    'Application (client) id of the responder API app registration (with the Reader, Responder and Approver app roles).',
  ),
  apiApplicationIdUri: p('string', 'Application ID URI of the responder API app registration.', {
    defaultValue: expr(`format('api://{0}', ${param('apiClientId')})`),
  }),
  awsHubRoleArn: p(
    'string',
    'ARN of the AWS hub role the Function App assumes with its managed identity token (AssumeRoleWithWebIdentity).',
  ),
  awsWebIdentityAudience: p(
    'string',
    "Application ID URI the Function App's managed identity asks a token for; the hub role's trust pins it as aud.",
    { defaultValue: expr(param('apiApplicationIdUri')) },
  ),
  awsResponderRoleName: p('string', 'Role assumed in each member account.', {
    defaultValue: 'SentinelResponder',
  }),
  responseAllowedAccounts: p(
    'string',
    "Comma-separated AWS accounts the responder may act in (overrides the policy's allowlist; empty: the policy's).",
    { defaultValue: '' },
  ),
  awsForwarderPrincipalId: p(
    'string',
    'Object id of the service principal of the Entra app the AWS forwarder signs in as (az ad sp show --id <app id> --query id).',
  ),
  sentinelServicePrincipalId: p(
    'string',
    'Object id of the "Azure Security Insights" service principal in this tenant (az ad sp show --id 98785600-1bb7-4fb9-b9fa-19afe2c8a360 --query id).',
  ),
  additionalAllowedCallerObjectIds: p(
    'array',
    'Object ids of the users, groups or service principals (besides the playbook) App Service Authentication lets call the Function App, e.g. operators of the manual routes.',
    { defaultValue: [] },
  ),
  auditRetentionInDays: p('int', 'Interactive retention of AWSResponseAudit_CL, in days.', {
    defaultValue: 365,
    minValue: 4,
    maxValue: 730,
  }),
  functionMaximumInstanceCount: p('int', 'Most Function App instances (Flex Consumption).', {
    defaultValue: 40,
    minValue: 40,
    maxValue: 1000,
  }),
  functionInstanceMemoryMB: p('int', 'Memory of each Function App instance.', {
    defaultValue: 2048,
    allowedValues: [512, 2048, 4096],
  }),
};

// --- Variables -----------------------------------------------------------------------------------------------

const WORKSPACE_PLACEHOLDER = '__WORKSPACE_RESOURCE_ID__';

function roleVariables(): JsonObject {
  return Object.fromEntries(Object.entries(BUILT_IN_ROLES).map(([name, role]) => [name, role.id]));
}

function workbookContent(): string {
  const items: JsonObject[] = [
    {
      type: 1,
      name: 'intro',
      content: {
        json: '## AWS in Microsoft Sentinel\nRows forwarded in real time by aws-sentinel-bridge into `AWSCloudTrail` and `AWSGuardDuty`, and the automated response recorded in `AWSResponseAudit_CL`.',
      },
    },
    {
      type: 9,
      name: 'parameters',
      content: {
        version: 'KqlParameterItem/1.0',
        parameters: [
          {
            id: 'b4d7c0f2-6a51-4c1e-9d3a-7f2e8a9b1c40',
            version: 'KqlParameterItem/1.0',
            name: 'TimeRange',
            label: 'Time range',
            type: 4,
            isRequired: true,
            value: { durationMs: 86400000 },
            typeSettings: {
              selectableValues: [
                { durationMs: 3600000 },
                { durationMs: 14400000 },
                { durationMs: 86400000 },
                { durationMs: 604800000 },
                { durationMs: 2592000000 },
              ],
              allowCustom: true,
            },
          },
        ],
        style: 'pills',
        queryType: 0,
        resourceType: 'microsoft.operationalinsights/workspaces',
      },
    },
    ...WORKBOOK_QUERIES.map(
      (q): JsonObject => ({
        type: 3,
        name: q.name,
        customWidth: String(q.width),
        content: {
          version: 'KqlItem/1.0',
          title: q.title,
          query: q.query,
          size: 0,
          timeContextFromParameter: 'TimeRange',
          queryType: 0,
          resourceType: 'microsoft.operationalinsights/workspaces',
          visualization: q.visualization,
        },
      }),
    ),
  ];
  const workbook: JsonObject = {
    version: 'Notebook/1.0',
    items,
    fallbackResourceIds: [WORKSPACE_PLACEHOLDER],
    $schema: 'https://github.com/Microsoft/Application-Insights-Workbooks/blob/master/schema/workbook.json',
  };
  return JSON.stringify(workbook);
}

function variables(): JsonObject {
  const suffix = variable('suffix');
  const prefix = param('namePrefix');
  return {
    suffix: expr(`uniqueString(resourceGroup().id, ${v.workspaceName})`),
    workspaceId: expr(resourceId(TYPES.workspace, v.workspaceName)),
    functionAppName: expr(`format('{0}-func-{1}', ${prefix}, ${suffix})`),
    functionPlanName: expr(`format('{0}-plan-{1}', ${prefix}, ${suffix})`),
    storageAccountName: expr(`take(format('st{0}', ${suffix}), 24)`),
    deploymentContainerName: 'app-package',
    appInsightsName: expr(`format('{0}-appi-{1}', ${prefix}, ${suffix})`),
    ingestDcrName: expr(`format('{0}-dcr-ingest-{1}', ${prefix}, ${suffix})`),
    auditDcrName: expr(`format('{0}-dcr-audit-{1}', ${prefix}, ${suffix})`),
    playbookName: expr(`format('{0}-forward-incident', ${prefix})`),
    sentinelConnectionName: expr(`format('azuresentinel-{0}', ${v.playbookName})`),
    ...roleVariables(),
    ...Object.fromEntries(
      ANALYTIC_RULES.map((rule) => [ruleVariable(rule), expr(`guid(${v.workspaceId}, ${lit(rule.key)})`)]),
    ),
    automationRuleName: expr(`guid(${v.workspaceId}, 'aws-sentinel-bridge-forward-incidents')`),
    workbookName: expr(`guid(${v.workspaceId}, 'aws-sentinel-bridge-workbook')`),
    workbookContent: workbookContent(),
  };
}

// --- Data collection -------------------------------------------------------------------------------------------

const streamColumns = (table: TableDefinition): JsonObject[] =>
  table.columns.map((c) => ({ name: c.name, type: c.type }));

function dataCollectionRule(
  name: string,
  description: string,
  tables: readonly TableDefinition[],
  dependsOn: readonly string[],
): JsonObject {
  return {
    type: TYPES.dcr,
    apiVersion: API_VERSIONS.dataCollectionRules,
    name: expr(name),
    location: expr(v.location),
    kind: 'Direct',
    dependsOn: dependsOn.map(expr),
    properties: {
      description,
      streamDeclarations: Object.fromEntries(tables.map((t) => [t.stream, { columns: streamColumns(t) }])),
      destinations: { logAnalytics: [{ name: DESTINATION, workspaceResourceId: expr(v.workspaceId) }] },
      dataFlows: tables.map((t) => ({
        streams: [t.stream],
        destinations: [DESTINATION],
        transformKql: TRANSFORMS[t.stream] ?? 'source',
        outputStream: t.outputStream,
      })),
    },
  };
}

function auditTable(): JsonObject {
  return {
    type: TYPES.table,
    apiVersion: API_VERSIONS.tables,
    name: expr(`format('{0}/{1}', ${v.workspaceName}, ${lit(AWS_RESPONSE_AUDIT.table)})`),
    properties: {
      plan: 'Analytics',
      retentionInDays: expr(param('auditRetentionInDays')),
      schema: {
        name: AWS_RESPONSE_AUDIT.table,
        description:
          'aws-sentinel-bridge: one row per AWS call of a response action, plus one outcome row per run',
        columns: AWS_RESPONSE_AUDIT.columns.map((c) => ({
          name: c.name,
          type: TABLE_COLUMN_TYPES[c.type],
          description: c.source,
        })),
      },
    },
  };
}

// --- Function App --------------------------------------------------------------------------------------------

const HOST_SETTINGS = [
  'AzureWebJobsStorage__accountName',
  'APPLICATIONINSIGHTS_CONNECTION_STRING',
  'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
] as const;

/** Values of the responder settings (shared/config/responder-config.ts), as template expressions. */
const RESPONDER_SETTING_VALUES: Readonly<Record<string, string>> = {
  ENTRA_TENANT_ID: expr(param('entraTenantId')),
  API_AUDIENCE: expr(`format('{0},{1}', ${param('apiApplicationIdUri')}, ${param('apiClientId')})`),
  AWS_HUB_ROLE_ARN: expr(param('awsHubRoleArn')),
  AWS_WEB_IDENTITY_AUDIENCE: expr(param('awsWebIdentityAudience')),
  SENTINEL_SUBSCRIPTION_ID: expr('subscription().subscriptionId'),
  SENTINEL_RESOURCE_GROUP: expr('resourceGroup().name'),
  SENTINEL_WORKSPACE_NAME: expr(v.workspaceName),
  AUDIT_LOGS_INGESTION_ENDPOINT: expr(
    `reference(${ids.auditDcr}, ${lit(API_VERSIONS.dataCollectionRules)}).endpoints.logsIngestion`,
  ),
  AUDIT_DCR_IMMUTABLE_ID: expr(
    `reference(${ids.auditDcr}, ${lit(API_VERSIONS.dataCollectionRules)}).immutableId`,
  ),
  // No trailing slash: the Table client appends the table name.
  RESPONSE_STATE_TABLE_ENDPOINT: expr(
    `format('https://{0}.table.{1}', ${v.storageName}, environment().suffixes.storage)`,
  ),
  AWS_RESPONDER_ROLE_NAME: expr(param('awsResponderRoleName')),
  RESPONSE_ALLOWED_ACCOUNTS: expr(param('responseAllowedAccounts')),
};

function appSettings(): JsonObject[] {
  const host: Readonly<Record<(typeof HOST_SETTINGS)[number], string>> = {
    AzureWebJobsStorage__accountName: expr(v.storageName),
    APPLICATIONINSIGHTS_CONNECTION_STRING: expr(
      `reference(${ids.appInsights}, ${lit(API_VERSIONS.components)}).ConnectionString`,
    ),
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD',
  };
  for (const { name } of RESPONDER_SETTINGS_HELP) {
    if (!Object.hasOwn(RESPONDER_SETTING_VALUES, name))
      throw new Error(`the template has no value for the responder setting ${name}`);
  }
  return [...Object.entries(host), ...Object.entries(RESPONDER_SETTING_VALUES)].map(([name, value]) => ({
    name,
    value,
  }));
}

function functionAppResources(): JsonObject[] {
  const storage: JsonObject = {
    type: TYPES.storage,
    apiVersion: API_VERSIONS.storage,
    name: expr(v.storageName),
    location: expr(v.location),
    kind: 'StorageV2',
    sku: { name: 'Standard_LRS' },
    properties: {
      accessTier: 'Hot',
      allowSharedKeyAccess: false,
      allowBlobPublicAccess: false,
      allowCrossTenantReplication: false,
      defaultToOAuthAuthentication: true,
      minimumTlsVersion: 'TLS1_2',
      supportsHttpsTrafficOnly: true,
    },
  };
  const blobService: JsonObject = {
    type: TYPES.blobService,
    apiVersion: API_VERSIONS.storage,
    name: expr(`format('{0}/default', ${v.storageName})`),
    dependsOn: [expr(ids.storage)],
  };
  const container: JsonObject = {
    type: TYPES.container,
    apiVersion: API_VERSIONS.storage,
    name: expr(`format('{0}/default/{1}', ${v.storageName}, ${v.containerName})`),
    dependsOn: [expr(ids.blobService)],
    properties: { publicAccess: 'None' },
  };
  const appInsights: JsonObject = {
    type: TYPES.components,
    apiVersion: API_VERSIONS.components,
    name: expr(v.appInsightsName),
    location: expr(v.location),
    kind: 'web',
    properties: {
      Application_Type: 'web',
      WorkspaceResourceId: expr(v.workspaceId),
      DisableLocalAuth: true,
    },
  };
  const plan: JsonObject = {
    type: TYPES.plan,
    apiVersion: API_VERSIONS.web,
    name: expr(v.planName),
    location: expr(v.location),
    kind: 'functionapp',
    sku: { tier: 'FlexConsumption', name: 'FC1' },
    properties: { reserved: true },
  };
  const site: JsonObject = {
    type: TYPES.site,
    apiVersion: API_VERSIONS.web,
    name: expr(v.functionAppName),
    location: expr(v.location),
    kind: 'functionapp,linux',
    identity: { type: 'SystemAssigned' },
    dependsOn: [ids.plan, ids.container, ids.appInsights, ids.auditDcr].map(expr),
    properties: {
      serverFarmId: expr(ids.plan),
      httpsOnly: true,
      siteConfig: {
        minTlsVersion: '1.2',
        scmMinTlsVersion: '1.2',
        ftpsState: 'Disabled',
        http20Enabled: true,
        appSettings: appSettings(),
      },
      functionAppConfig: {
        deployment: {
          storage: {
            type: 'blobContainer',
            value: expr(
              `format('{0}{1}', reference(${ids.storage}, ${lit(API_VERSIONS.storage)}).primaryEndpoints.blob, ${v.containerName})`,
            ),
            authentication: { type: 'SystemAssignedIdentity' },
          },
        },
        scaleAndConcurrency: {
          maximumInstanceCount: expr(param('functionMaximumInstanceCount')),
          instanceMemoryMB: expr(param('functionInstanceMemoryMB')),
        },
        runtime: { name: 'node', version: '22' },
      },
    },
  };
  const publishing = (kind: 'ftp' | 'scm'): JsonObject => ({
    type: TYPES.publishingPolicy,
    apiVersion: API_VERSIONS.web,
    name: expr(`format('{0}/${kind}', ${v.functionAppName})`),
    dependsOn: [expr(ids.site)],
    properties: { allow: false },
  });
  const auth: JsonObject = {
    type: TYPES.siteConfig,
    apiVersion: API_VERSIONS.web,
    name: expr(`format('{0}/authsettingsV2', ${v.functionAppName})`),
    dependsOn: [ids.site, ids.playbook].map(expr),
    properties: {
      platform: { enabled: true },
      globalValidation: { requireAuthentication: true, unauthenticatedClientAction: 'Return401' },
      httpSettings: { requireHttps: true, forwardProxy: { convention: 'NoProxy' } },
      login: { tokenStore: { enabled: false } },
      identityProviders: {
        azureActiveDirectory: {
          enabled: true,
          registration: {
            clientId: expr(param('apiClientId')),
            openIdIssuer: expr(`format('https://sts.windows.net/{0}/v2.0', ${param('entraTenantId')})`),
          },
          validation: {
            allowedAudiences: [expr(param('apiApplicationIdUri')), expr(param('apiClientId'))],
            defaultAuthorizationPolicy: {
              allowedPrincipals: {
                identities: expr(
                  `concat(createArray(${playbookPrincipal}), ${param('additionalAllowedCallerObjectIds')})`,
                ),
              },
            },
          },
        },
      },
    },
  };
  return [
    storage,
    blobService,
    container,
    appInsights,
    plan,
    site,
    publishing('ftp'),
    publishing('scm'),
    auth,
  ];
}

// --- Playbook ---------------------------------------------------------------------------------------------------

function playbookResources(): JsonObject[] {
  const managedApi = `subscriptionResourceId('Microsoft.Web/locations/managedApis', ${v.location}, 'azuresentinel')`;
  const connection: JsonObject = {
    type: TYPES.connection,
    apiVersion: API_VERSIONS.connections,
    name: expr(v.connectionName),
    location: expr(v.location),
    kind: 'V1',
    properties: {
      displayName: expr(v.connectionName),
      customParameterValues: {},
      parameterValueType: 'Alternative',
      api: { id: expr(managedApi) },
    },
  };
  const blobOwner = grantOf('roleStorageBlobDataOwner', scope.storage);
  const workflow: JsonObject = {
    type: TYPES.workflow,
    apiVersion: API_VERSIONS.logic,
    name: expr(v.playbookName),
    location: expr(v.location),
    identity: { type: 'SystemAssigned' },
    dependsOn: [ids.connection, ids.site, assignmentId(blobOwner)].map(expr),
    properties: {
      state: 'Enabled',
      definition: {
        $schema:
          'https://schema.management.azure.com/providers/Microsoft.Logic/schemas/2016-06-01/workflowdefinition.json#',
        contentVersion: '1.0.0.0',
        parameters: {
          $connections: { type: 'Object', defaultValue: {} },
          functionKey: { type: 'SecureString', defaultValue: '' },
        },
        triggers: {
          Microsoft_Sentinel_incident: {
            type: 'ApiConnectionWebhook',
            inputs: {
              host: { connection: { name: "@parameters('$connections')['azuresentinel']['connectionId']" } },
              body: { callback_url: '@{listCallbackUrl()}' },
              path: '/incident-creation',
            },
          },
        },
        actions: {
          Forward_incident_to_responder: {
            type: 'Http',
            runAfter: {},
            inputs: {
              method: 'POST',
              uri: expr(
                `format('https://{0}/api/{1}', reference(${ids.site}, ${lit(API_VERSIONS.web)}).defaultHostName, ${lit(INCIDENTS_ROUTE)})`,
              ),
              headers: {
                'Content-Type': 'application/json',
                'x-functions-key': "@parameters('functionKey')",
              },
              body: '@triggerBody()',
              authentication: {
                type: 'ManagedServiceIdentity',
                audience: expr(param('apiApplicationIdUri')),
              },
              retryPolicy: { type: 'exponential', count: 4, interval: 'PT30S' },
            },
            runtimeConfiguration: { secureData: { properties: ['inputs'] } },
          },
        },
        outputs: {},
      },
      parameters: {
        $connections: {
          value: {
            azuresentinel: {
              connectionId: expr(ids.connection),
              connectionName: expr(v.connectionName),
              id: expr(managedApi),
              connectionProperties: { authentication: { type: 'ManagedServiceIdentity' } },
            },
          },
        },
        functionKey: {
          value: expr(
            `listKeys(resourceId('Microsoft.Web/sites/host', ${v.functionAppName}, 'default'), ${lit(API_VERSIONS.web)}).functionKeys.default`,
          ),
        },
      },
    },
  };
  return [connection, workflow];
}

// --- Sentinel content -------------------------------------------------------------------------------------------

function alertRule(rule: AnalyticRule): JsonObject {
  return {
    type: TYPES.alertRule,
    apiVersion: API_VERSIONS.securityInsights,
    scope: expr(workspaceScope),
    name: expr(variable(ruleVariable(rule))),
    kind: 'Scheduled',
    properties: {
      displayName: rule.displayName,
      description: rule.description,
      severity: rule.severity,
      enabled: true,
      query: rule.query,
      queryFrequency: 'PT5M',
      queryPeriod: 'PT1H',
      triggerOperator: 'GreaterThan',
      triggerThreshold: 0,
      suppressionEnabled: false,
      suppressionDuration: 'PT5H',
      tactics: [...rule.tactics],
      techniques: [...rule.techniques],
      eventGroupingSettings: { aggregationKind: 'AlertPerResult' },
      customDetails: { ...rule.customDetails },
      entityMappings: rule.entityMappings.map((m) => ({
        entityType: m.entityType,
        fieldMappings: m.fieldMappings.map((f) => ({ identifier: f.identifier, columnName: f.columnName })),
      })),
      alertDetailsOverride: {
        alertDisplayNameFormat: rule.alertDisplayNameFormat,
        alertDescriptionFormat: rule.alertDescriptionFormat,
      },
      incidentConfiguration: {
        createIncident: true,
        groupingConfiguration: {
          enabled: rule.groupByCustomDetails.length > 0,
          reopenClosedIncident: false,
          lookbackDuration: 'P1D',
          // `Selected` needs a non-empty group-by list, even with grouping off.
          matchingMethod: rule.groupByCustomDetails.length > 0 ? 'Selected' : 'AllEntities',
          groupByEntities: [],
          groupByAlertDetails: [],
          groupByCustomDetails: [...rule.groupByCustomDetails],
        },
      },
    },
  };
}

function sentinelResources(): JsonObject[] {
  const automationContributor = grantOf('roleSentinelAutomationContributor', scope.playbook);
  const automationRule: JsonObject = {
    type: TYPES.automationRule,
    apiVersion: API_VERSIONS.securityInsights,
    scope: expr(workspaceScope),
    name: expr(variable('automationRuleName')),
    dependsOn: [...ANALYTIC_RULES.map(ruleId), ids.playbook, assignmentId(automationContributor)].map(expr),
    properties: {
      displayName: 'aws-sentinel-bridge: forward AWS incidents to the responder',
      order: 100,
      triggeringLogic: {
        isEnabled: true,
        triggersOn: 'Incidents',
        triggersWhen: 'Created',
        conditions: [
          {
            conditionType: 'Property',
            conditionProperties: {
              propertyName: 'IncidentRelatedAnalyticRuleIds',
              operator: 'Contains',
              propertyValues: ANALYTIC_RULES.map((rule) => expr(ruleId(rule))),
            },
          },
        ],
      },
      actions: [
        {
          order: 1,
          actionType: 'RunPlaybook',
          actionConfiguration: {
            logicAppResourceId: expr(ids.playbook),
            tenantId: expr('subscription().tenantId'),
          },
        },
      ],
    },
  };
  const workbook: JsonObject = {
    type: TYPES.workbook,
    apiVersion: API_VERSIONS.workbooks,
    name: expr(variable('workbookName')),
    location: expr(v.location),
    kind: 'shared',
    properties: {
      displayName: 'AWS (aws-sentinel-bridge)',
      category: 'sentinel',
      version: 'Notebook/1.0',
      sourceId: expr(v.workspaceId),
      serializedData: expr(
        `replace(${variable('workbookContent')}, ${lit(WORKSPACE_PLACEHOLDER)}, ${v.workspaceId})`,
      ),
    },
  };
  return [...ANALYTIC_RULES.map(alertRule), automationRule, workbook];
}

// --- Template ------------------------------------------------------------------------------------------------------

function outputs(): JsonObject {
  const out = (type: string, value: string, description: string): JsonObject => ({
    type,
    value: expr(value),
    metadata: { description },
  });
  return {
    functionAppName: out('string', v.functionAppName, 'Function App to deploy the code to'),
    functionAppHostName: out(
      'string',
      `reference(${ids.site}, ${lit(API_VERSIONS.web)}).defaultHostName`,
      'Host name of the responder API',
    ),
    functionAppPrincipalId: out(
      'string',
      sitePrincipal,
      "Object id of the Function App's managed identity: the sub the AWS hub role's trust pins",
    ),
    webIdentityIssuer: out(
      'string',
      `format('https://sts.windows.net/{0}/', ${param('entraTenantId')})`,
      'Issuer of the AWS IAM OIDC provider',
    ),
    webIdentityAudience: out('string', param('awsWebIdentityAudience'), "The aud the hub role's trust pins"),
    playbookPrincipalId: out(
      'string',
      playbookPrincipal,
      "Object id of the playbook's managed identity: assign it the API's Responder app role",
    ),
    logsIngestionEndpoint: out(
      'string',
      `reference(${ids.ingestDcr}, ${lit(API_VERSIONS.dataCollectionRules)}).endpoints.logsIngestion`,
      'LOGS_INGESTION_ENDPOINT of the AWS forwarder (serverless param logsIngestionEndpoint)',
    ),
    dcrImmutableId: out(
      'string',
      `reference(${ids.ingestDcr}, ${lit(API_VERSIONS.dataCollectionRules)}).immutableId`,
      'DCR_IMMUTABLE_ID of the AWS forwarder (serverless param dcrImmutableId)',
    ),
    auditDcrImmutableId: out(
      'string',
      `reference(${ids.auditDcr}, ${lit(API_VERSIONS.dataCollectionRules)}).immutableId`,
      "Immutable id of the responder's audit DCR",
    ),
  };
}

export function renderAzureTemplate(): JsonObject {
  return {
    $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#',
    contentVersion: '1.0.0.0',
    metadata: {
      description:
        'aws-sentinel-bridge, Azure side: DCRs into AWSGuardDuty, AWSCloudTrail, AWSVPCFlow and AWSResponseAudit_CL, the responder Function App, its role assignments, and the Sentinel rules, playbook, automation rule and workbook.',
      generator: 'infra/tools/render-azure.ts (do not edit azuredeploy.json by hand)',
    },
    parameters: PARAMETERS,
    variables: variables(),
    resources: [
      auditTable(),
      dataCollectionRule(
        v.ingestDcrName,
        'aws-sentinel-bridge: GuardDuty findings, CloudTrail records and VPC Flow Log records from the AWS forwarders',
        TABLES,
        [],
      ),
      dataCollectionRule(
        v.auditDcrName,
        "aws-sentinel-bridge: the responder's audit rows",
        [AWS_RESPONSE_AUDIT],
        [ids.auditTable],
      ),
      ...functionAppResources(),
      ...playbookResources(),
      ...ROLE_GRANTS.map(roleAssignment),
      ...sentinelResources(),
    ],
    outputs: outputs(),
  };
}

/** Every role the template grants, in words, for the permission table of infra/azure/README.md. */
export function describeRoleGrants(): readonly {
  readonly principal: string;
  readonly role: string;
  readonly roleId: string;
  readonly scope: string;
  readonly why: string;
}[] {
  return ROLE_GRANTS.map((g) => ({
    principal: g.principal,
    role: BUILT_IN_ROLES[g.roleVariable].name,
    roleId: BUILT_IN_ROLES[g.roleVariable].id,
    scope: `${g.scope.label} (${g.scope.type})`,
    why: g.description.replace(/^aws-sentinel-bridge: /, ''),
  }));
}
