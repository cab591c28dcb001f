import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import {
  arrayAt,
  at,
  isObject,
  objectAt,
  resourcesOfType,
  stringAt,
} from '../../infra/tools/azure/inspect.js';
import { readAzureTemplateText } from '../../infra/tools/render-azure.js';
import { extractIncident } from '../../shared/domain/respond/incident.js';
import { AWS_RESPONSE_AUDIT } from '../../shared/domain/tables/audit-columns.js';
import { TABLES, type TableDefinition } from '../../shared/domain/tables/columns.js';
import { analyseKql, isKustoType, type KqlTable, kqlTable } from '../support/kql.js';

const template: unknown = JSON.parse(readAzureTemplateText());
const WORKSPACE_TABLES: readonly TableDefinition[] = [...TABLES, AWS_RESPONSE_AUDIT];

/** What shared/domain/respond/incident.ts reads from an alert's custom details. */
const RESPONDER_DETAILS = [
  'AwsAccountId',
  'AwsRegion',
  'InstanceId',
  'AccessKeyId',
  'UserName',
  'RoleName',
  'FindingId',
  'FindingType',
];

/** A valid value per custom detail, and the target kind the responder makes of it. */
const SAMPLES: Readonly<Record<string, { value: string; kind?: string }>> = {
  AwsAccountId: { value: '111122223333' },
  AwsRegion: { value: 'eu-west-1' },
  FindingType: { value: 'Backdoor:EC2/C&CActivity.B!DNS' },
  InstanceId: { value: 'i-0123456789abcdef0', kind: 'ec2-instance' },
  AccessKeyId: { value: 'AKIAIOSFODNN7EXAMPLE', kind: 'access-key' },
  UserName: { value: 'alice', kind: 'iam-user' },
  RoleName: { value: 'web-tier-role', kind: 'iam-role' },
  FindingId: { value: '90b82273685661b9318f078d0851fe9a' },
};

/** Entity properties the responder reads, per entity type and identifier. */
const ENTITY_PROPERTIES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  Host: { HostName: 'hostName' },
  Account: { Name: 'accountName' },
  IP: { Address: 'address' },
};

const rules = resourcesOfType(template, 'Microsoft.SecurityInsights/alertRules');
const [workflow] = resourcesOfType(template, 'Microsoft.Logic/workflows');
const [automationRule] = resourcesOfType(template, 'Microsoft.SecurityInsights/automationRules');

function ruleName(rule: unknown): string {
  return stringAt(rule, 'properties', 'displayName');
}

function resultColumns(query: string): string[] {
  const analysis = analyseKql(query, WORKSPACE_TABLES);
  expect(analysis.errors).toEqual([]);
  return analysis.resultColumns.map((c) => c.name);
}

function workbookItems(): unknown[] {
  const [workbook] = resourcesOfType(template, 'Microsoft.Insights/workbooks');
  expect(stringAt(workbook, 'properties', 'serializedData')).toBe(
    "[replace(variables('workbookContent'), '__WORKSPACE_RESOURCE_ID__', variables('workspaceId'))]",
  );
  const content: unknown = JSON.parse(stringAt(template, 'variables', 'workbookContent'));
  return [...arrayAt(content, 'items')];
}

function workbookQueries(): { name: string; query: string; visualization: string }[] {
  return workbookItems()
    .filter((item) => at(item, 'type') === 3)
    .map((item) => ({
      name: stringAt(item, 'name'),
      query: stringAt(item, 'content', 'query'),
      visualization: stringAt(item, 'content', 'visualization'),
    }));
}

/** The stream a DCR transformation reads, as the template declares it, as a table named `source`. */
function sourceTable(dcr: unknown, stream: string): KqlTable {
  const columns = arrayAt(dcr, 'properties', 'streamDeclarations', stream, 'columns').map((c) => {
    const type = stringAt(c, 'type');
    const kusto = type === 'boolean' ? 'bool' : type;
    if (!isKustoType(kusto)) throw new Error(`${stream}: ${type} is not a stream type`);
    return { name: stringAt(c, 'name'), type: kusto };
  });
  return { name: 'source', columns };
}

describe('Sentinel content of infra/azure/azuredeploy.json', () => {
  it('ships the GuardDuty high-severity, root IAM change and access-key-for-another-user rules', () => {
    expect(rules.map(ruleName)).toEqual([
      'AWS GuardDuty high-severity finding (aws-sentinel-bridge)',
      'AWS IAM change made by the root user (aws-sentinel-bridge)',
      'AWS access key created for another IAM user (aws-sentinel-bridge)',
    ]);
    for (const rule of rules) {
      expect(rule.kind).toBe('Scheduled');
      expect(at(rule, 'properties', 'eventGroupingSettings')).toEqual({ aggregationKind: 'AlertPerResult' });
      expect(at(rule, 'properties', 'incidentConfiguration', 'createIncident')).toBe(true);
    }
  });

  it('compiles every rule query against the table definitions', () => {
    for (const rule of rules) {
      const analysis = analyseKql(stringAt(rule, 'properties', 'query'), WORKSPACE_TABLES);
      expect({ rule: ruleName(rule), errors: analysis.errors }).toEqual({ rule: ruleName(rule), errors: [] });
    }
  });

  it('gives each rule only custom details the responder reads, each from a column the query projects', () => {
    for (const rule of rules) {
      const columns = resultColumns(stringAt(rule, 'properties', 'query'));
      const details = objectAt(rule, 'properties', 'customDetails');
      expect(Object.keys(details).length).toBeGreaterThan(0);
      for (const [key, column] of Object.entries(details)) {
        expect({ rule: ruleName(rule), key, known: RESPONDER_DETAILS.includes(key) }).toEqual({
          rule: ruleName(rule),
          key,
          known: true,
        });
        expect(columns).toContain(column);
      }
      expect(Object.keys(details)).toEqual(
        expect.arrayContaining(['AwsAccountId', 'AwsRegion', 'FindingType']),
      );
      for (const key of arrayAt(
        rule,
        'properties',
        'incidentConfiguration',
        'groupingConfiguration',
        'groupByCustomDetails',
      ))
        expect(Object.keys(details)).toContain(key);
    }
  });

  it('maps entities the responder reads (Host name, Account name, IP address) from projected columns', () => {
    for (const rule of rules) {
      const columns = resultColumns(stringAt(rule, 'properties', 'query'));
      for (const mapping of arrayAt(rule, 'properties', 'entityMappings')) {
        const type = stringAt(mapping, 'entityType');
        for (const field of arrayAt(mapping, 'fieldMappings')) {
          expect(ENTITY_PROPERTIES[type]?.[stringAt(field, 'identifier')]).toBeDefined();
          expect({ rule: ruleName(rule), column: stringAt(field, 'columnName'), projected: true }).toEqual({
            rule: ruleName(rule),
            column: stringAt(field, 'columnName'),
            projected: columns.includes(stringAt(field, 'columnName')),
          });
        }
      }
    }
  });

  it('fills the alert name and description only with projected columns', () => {
    for (const rule of rules) {
      const columns = resultColumns(stringAt(rule, 'properties', 'query'));
      const override = objectAt(rule, 'properties', 'alertDetailsOverride');
      for (const format of Object.values(override)) {
        for (const [, column] of String(format).matchAll(/\{\{(\w+)\}\}/g)) expect(columns).toContain(column);
      }
    }
  });

  it('turns each rule’s custom details, as Sentinel sends them, into the responder’s targets', () => {
    for (const rule of rules) {
      const keys = Object.keys(objectAt(rule, 'properties', 'customDetails'));
      const details = Object.fromEntries(keys.map((k) => [k, [SAMPLES[k]?.value ?? '']]));
      const incident = {
        object: {
          id: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/ws/providers/Microsoft.SecurityInsights/Incidents/1',
          properties: {
            severity: 'High',
            incidentNumber: 1,
            alerts: [{ properties: { additionalData: { 'Custom Details': JSON.stringify(details) } } }],
          },
        },
      };
      const parsed = extractIncident(incident);
      if (!parsed.ok) throw new Error(`${ruleName(rule)}: ${parsed.reason}`);
      const expected = keys.flatMap((k) => (SAMPLES[k]?.kind ? [SAMPLES[k]?.kind] : []));
      expect(parsed.value.targets.map((t) => t.kind).sort()).toEqual(expected.sort());
      for (const target of parsed.value.targets) {
        expect(target.accountId).toBe('111122223333');
        expect(target.source).toBe('custom-details');
        expect(target.findingType).toBeDefined();
      }
      expect(parsed.value.findings.map((f) => f.id)).toEqual(
        keys.includes('FindingId') ? [SAMPLES.FindingId?.value] : [],
      );
      expect(parsed.value.ignored).toEqual([]);
    }
  });

  it('compiles each DCR transformation over its stream and outputs exactly the table’s columns and types', () => {
    for (const dcr of resourcesOfType(template, 'Microsoft.Insights/dataCollectionRules')) {
      for (const flow of arrayAt(dcr, 'properties', 'dataFlows')) {
        const stream = stringAt(flow, 'streams', 0);
        const source = sourceTable(dcr, stream);
        const analysis = analyseKql(stringAt(flow, 'transformKql'), [source]);
        expect({ stream, errors: analysis.errors }).toEqual({ stream, errors: [] });
        const output = WORKSPACE_TABLES.find((t) => t.outputStream === stringAt(flow, 'outputStream'));
        if (!output) throw new Error(`no table for ${stringAt(flow, 'outputStream')}`);
        const target = kqlTable(output).columns.filter((c) => output.columns.some((o) => o.name === c.name));
        expect(analysis.resultColumns.map((c) => ({ name: c.name, type: c.type }))).toEqual(
          target.map((c) => ({ name: c.name, type: c.type })),
        );
      }
    }
  });

  it('compiles every workbook query against the table definitions', () => {
    const queries = workbookQueries();
    expect(queries.length).toBeGreaterThan(0);
    for (const { name, query } of queries) {
      const analysis = analyseKql(query, WORKSPACE_TABLES);
      expect({ name, errors: analysis.errors }).toEqual({ name, errors: [] });
    }
  });

  it('has the workbook views of the zero-trust guidance: CloudTrail over time, accounts, event sources; GuardDuty by region and remote IP', () => {
    const queries = workbookQueries();
    const byName = (name: string) => queries.find((q) => q.name === name);
    expect(byName('cloudtrail-over-time')?.visualization).toBe('timechart');
    expect(byName('cloudtrail-over-time')?.query).toContain('bin(TimeGenerated');
    expect(byName('cloudtrail-accounts')?.query).toContain('by AwsAccountId');
    expect(byName('cloudtrail-event-sources')?.query).toContain('by EventSource');
    expect(byName('guardduty-regions')?.query).toContain('by Region');
    expect(byName('guardduty-remote-ips')?.query).toContain('by RemoteIp');
    for (const item of workbookItems().filter((i) => at(i, 'type') === 3))
      expect(stringAt(item, 'content', 'timeContextFromParameter')).toBe('TimeRange');
  });

  it('has a playbook that receives incidents with its managed identity and posts them to the responder’s incidents route', () => {
    expect(at(workflow, 'identity')).toEqual({ type: 'SystemAssigned' });
    const definition = objectAt(workflow, 'properties', 'definition');
    const trigger = objectAt(definition, 'triggers', 'Microsoft_Sentinel_incident');
    expect(trigger.type).toBe('ApiConnectionWebhook');
    expect(stringAt(trigger, 'inputs', 'path')).toBe('/incident-creation');
    expect(
      at(
        workflow,
        'properties',
        'parameters',
        '$connections',
        'value',
        'azuresentinel',
        'connectionProperties',
      ),
    ).toEqual({ authentication: { type: 'ManagedServiceIdentity' } });
    const [connection] = resourcesOfType(template, 'Microsoft.Web/connections');
    expect(at(connection, 'properties', 'parameterValueType')).toBe('Alternative');

    const actions = Object.values(objectAt(definition, 'actions'));
    const http = actions.filter((a) => isObject(a) && a.type === 'Http');
    expect(http).toHaveLength(1);
    expect(stringAt(http[0], 'inputs', 'method')).toBe('POST');
    expect(stringAt(http[0], 'inputs', 'body')).toBe('@triggerBody()');
    expect(stringAt(http[0], 'inputs', 'uri')).toBe(
      "[format('https://{0}/api/{1}', reference(resourceId('Microsoft.Web/sites', variables('functionAppName')), '2024-04-01').defaultHostName, 'incidents')]",
    );
    expect(at(http[0], 'inputs', 'authentication')).toEqual({
      type: 'ManagedServiceIdentity',
      audience: "[parameters('apiApplicationIdUri')]",
    });
    expect(at(http[0], 'runtimeConfiguration', 'secureData')).toEqual({ properties: ['inputs'] });

    const functions = readFileSync(new URL('../../azure-functions/index.ts', import.meta.url), 'utf8');
    expect(functions).toMatch(
      /app\.http\('sentinel-incident', \{\s*methods: \['POST'\],[^}]*route: 'incidents',/s,
    );
  });

  it('runs the playbook from an automation rule when an incident of our rules is created', () => {
    expect(at(automationRule, 'properties', 'triggeringLogic', 'triggersOn')).toBe('Incidents');
    expect(at(automationRule, 'properties', 'triggeringLogic', 'triggersWhen')).toBe('Created');
    const condition = objectAt(automationRule, 'properties', 'triggeringLogic', 'conditions', 0);
    expect(at(condition, 'conditionProperties', 'propertyName')).toBe('IncidentRelatedAnalyticRuleIds');
    const ruleIds = rules.map(
      (r) =>
        `[extensionResourceId(variables('workspaceId'), 'Microsoft.SecurityInsights/alertRules', ${stringAt(r, 'name').slice(1, -1)})]`,
    );
    expect(at(condition, 'conditionProperties', 'propertyValues')).toEqual(ruleIds);
    expect(at(automationRule, 'properties', 'actions')).toEqual([
      {
        order: 1,
        actionType: 'RunPlaybook',
        actionConfiguration: {
          logicAppResourceId: "[resourceId('Microsoft.Logic/workflows', variables('playbookName'))]",
          tenantId: '[subscription().tenantId]',
        },
      },
    ]);
  });
});
