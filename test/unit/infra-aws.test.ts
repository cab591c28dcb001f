/**
 * The AWS templates of `infra/aws/`: committed files equal what `infra/tools/render-aws.ts` renders from the
 * code, the responder policy grants exactly the catalogue's permissions (each scoped), no policy anywhere has a
 * wildcard action, the hub trust pins aud and sub, the responder trust names only the hub role. The templates
 * are resolved the way CloudFormation would (parameters, conditions, Fn::Sub/If/GetAtt, AWS::NoValue) by a small
 * evaluator below, so the checks read the policies IAM would receive, not the template text.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AssumeRoleCommand,
  type AssumeRoleCommandInput,
  AssumeRoleWithWebIdentityCommand,
  type AssumeRoleWithWebIdentityCommandInput,
  STSClient,
} from '@aws-sdk/client-sts';
import { describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import {
  AWS_TEMPLATES,
  DEFAULT_RESPONDER_ROLE_NAME,
  hubTrustTemplate,
  outdatedTemplates,
  permissionTable,
  readCommitted,
  responderGrants,
  responderRoleTemplate,
} from '../../infra/tools/render-aws.js';
import { createResponderCredentials } from '../../shared/adapters/aws/responder-credentials.js';
import { loadResponderConfig } from '../../shared/config/responder-config.js';
import { sessionName } from '../../shared/respond/executor.js';
import { responderPermissions } from '../../shared/respond/registry.js';
import { DEFAULT_PROTECTED_TAG } from '../../shared/respond/types.js';
import { REPO_ROOT } from '../support/cloudformation.js';

type Obj = Record<string, unknown>;
const isObj = (value: unknown): value is Obj =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const asList = (value: unknown): unknown[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];
const strings = (value: unknown): string[] =>
  asList(value).map((item) => {
    if (typeof item !== 'string') throw new Error(`expected a string, got ${JSON.stringify(item)}`);
    return item;
  });
const obj = (value: unknown, what: string): Obj => {
  if (!isObj(value)) throw new Error(`${what} is not an object: ${JSON.stringify(value)}`);
  return value;
};

// ------------------------------------------------------------------------------ a small CloudFormation model

const PSEUDO = ['AWS::Partition', 'AWS::AccountId', 'AWS::Region', 'AWS::StackName', 'AWS::URLSuffix'];
const NO_VALUE = Symbol('AWS::NoValue');

interface Deployment {
  readonly partition: string;
  readonly accountId: string;
  readonly region: string;
  readonly parameters: Readonly<Record<string, string>>;
}

interface Resolved {
  readonly resources: Readonly<Record<string, { readonly Type: string; readonly Properties: Obj }>>;
  readonly outputs: Readonly<Record<string, unknown>>;
}

/** Resolves a template for one deployment the way CloudFormation does before it calls IAM. */
function resolveTemplate(template: unknown, deployment: Deployment): Resolved {
  const t = obj(template, 'template');
  const parameters = isObj(t.Parameters) ? t.Parameters : {};
  const conditions = isObj(t.Conditions) ? t.Conditions : {};
  const resources = obj(t.Resources, 'Resources');

  const values: Record<string, string> = {};
  for (const [name, definition] of Object.entries(parameters)) {
    const d = obj(definition, `parameter ${name}`);
    const given = deployment.parameters[name] ?? (typeof d.Default === 'string' ? d.Default : undefined);
    if (given === undefined) throw new Error(`parameter ${name} has no value and no default`);
    if (typeof d.AllowedPattern === 'string' && !new RegExp(d.AllowedPattern).test(given)) {
      throw new Error(`parameter ${name}: ${JSON.stringify(given)} does not match ${d.AllowedPattern}`);
    }
    if (Array.isArray(d.AllowedValues) && !d.AllowedValues.includes(given)) {
      throw new Error(`parameter ${name}: ${given} is not one of ${d.AllowedValues.join(', ')}`);
    }
    values[name] = given;
  }
  for (const name of Object.keys(deployment.parameters)) {
    if (!(name in parameters)) throw new Error(`the template has no parameter ${name}`);
  }
  const pseudo: Record<string, string> = {
    'AWS::Partition': deployment.partition,
    'AWS::AccountId': deployment.accountId,
    'AWS::Region': deployment.region,
    'AWS::StackName': 'stack',
    'AWS::URLSuffix': 'amazonaws.com',
  };

  const condition = (name: string): boolean => {
    const expression = conditions[name];
    if (expression === undefined) throw new Error(`no condition ${name}`);
    return test(expression);
  };
  const test = (expression: unknown): boolean => {
    const e = obj(expression, 'condition');
    const [fn, args] = Object.entries(e)[0] ?? [];
    const list = asList(args);
    switch (fn) {
      case 'Fn::Equals':
        return JSON.stringify(value(list[0])) === JSON.stringify(value(list[1]));
      case 'Fn::Not':
        return !test(list[0]);
      case 'Fn::And':
        return list.every(test);
      case 'Fn::Or':
        return list.some(test);
      case 'Condition':
        return condition(String(args));
      default:
        throw new Error(`unsupported condition function ${fn}`);
    }
  };
  const exists = (id: string): boolean => {
    const r = obj(resources[id], `resource ${id}`);
    return typeof r.Condition !== 'string' || condition(r.Condition);
  };
  const physical = (id: string, attribute: string): string => {
    if (!exists(id)) throw new Error(`${id} is not created in this deployment but is referenced`);
    const r = obj(resources[id], `resource ${id}`);
    const props = obj(value(r.Properties), `${id}.Properties`);
    const arn = `arn:${deployment.partition}:iam::${deployment.accountId}`;
    if (r.Type === 'AWS::IAM::OIDCProvider' && attribute === 'Ref') {
      return `${arn}:oidc-provider/${String(props.Url).replace(/^https:\/\//, '')}`;
    }
    if (r.Type === 'AWS::IAM::Role' && attribute === 'Arn') return `${arn}:role/${String(props.RoleName)}`;
    if (r.Type === 'AWS::IAM::Role' && attribute === 'Ref') return String(props.RoleName);
    throw new Error(`no model for ${attribute} of ${String(r.Type)}`);
  };
  const named = (name: string, variables: Obj): string => {
    if (name in variables) return String(value(variables[name]));
    const known = values[name] ?? pseudo[name];
    if (known !== undefined) return known;
    const [id, attribute] = name.split('.');
    if (id !== undefined && id in resources) return physical(id, attribute ?? 'Ref');
    throw new Error(`unknown name \${${name}}`);
  };
  const value = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(value).filter((item) => item !== NO_VALUE);
    if (!isObj(v)) return v;
    const entries = Object.entries(v);
    const [fn, args] = entries[0] ?? [];
    if (entries.length === 1 && fn !== undefined) {
      const list = asList(args);
      switch (fn) {
        case 'Ref':
          return args === 'AWS::NoValue' ? NO_VALUE : named(String(args), {});
        case 'Fn::GetAtt':
          return physical(String(list[0]), String(list[1]));
        case 'Fn::If':
          return value(condition(String(list[0])) ? list[1] : list[2]);
        case 'Fn::Sub': {
          const [text, variables] = typeof args === 'string' ? [args, {}] : [list[0], list[1]];
          if (typeof text !== 'string') throw new Error('Fn::Sub expects a string');
          const vars = isObj(variables) ? variables : {};
          return text.replace(/\$\{(!?)([^}]+)\}/g, (_, bang: string, name: string) =>
            bang === '!' ? `\${${name}}` : named(name, vars),
          );
        }
        case 'Fn::Join':
          return strings(value(list[1])).join(String(list[0]));
        default:
          if (fn.startsWith('Fn::')) throw new Error(`no model for ${fn}`);
      }
    }
    const out: Obj = {};
    for (const [key, item] of entries) {
      const resolved = value(item);
      if (resolved !== NO_VALUE) out[key] = resolved;
    }
    return out;
  };

  const out: Record<string, { Type: string; Properties: Obj }> = {};
  for (const [id, definition] of Object.entries(resources)) {
    if (!exists(id)) continue;
    const r = obj(definition, id);
    out[id] = { Type: String(r.Type), Properties: obj(value(r.Properties ?? {}), `${id}.Properties`) };
  }
  const outputs: Record<string, unknown> = {};
  for (const [name, definition] of Object.entries(isObj(t.Outputs) ? t.Outputs : {})) {
    const o = obj(definition, name);
    if (typeof o.Condition === 'string' && !condition(o.Condition)) continue;
    outputs[name] = value(o.Value);
  }
  return { resources: out, outputs };
}

/** A policy document as IAM receives it (CloudFormation accepts JSON text for Json properties). */
function policyDocument(value: unknown): { Version: string; Statement: Obj[] } {
  const document = obj(typeof value === 'string' ? JSON.parse(value) : value, 'policy document');
  return {
    Version: String(document.Version),
    Statement: asList(document.Statement).map((s) => obj(s, 'statement')),
  };
}

/** IAM's string wildcards: `*` any run of characters, `?` one character. */
function globMatch(pattern: string, text: string): boolean {
  const regex = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${regex}$`).test(text);
}

const role = (resolved: Resolved, id: string): Obj => {
  const r = resolved.resources[id];
  if (r?.Type !== 'AWS::IAM::Role') throw new Error(`${id} is not a role of the deployment`);
  return r.Properties;
};
const inlinePolicies = (properties: Obj): { Version: string; Statement: Obj[] }[] =>
  asList(properties.Policies).map((p) => policyDocument(obj(p, 'policy').PolicyDocument));
const statementsOf = (properties: Obj): Obj[] => inlinePolicies(properties).flatMap((p) => p.Statement);

// ----------------------------------------------------------------------------------------------- fixtures

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const AUDIENCE = 'api://aws-sentinel-bridge-aws';
const IDENTITY = '5b1f6a2c-8e0d-4c3a-9f7e-2a6b4c8d0e1f';
const HUB_ACCOUNT = '999988887777';
const MEMBER = '111122223333';
const HUB_PARAMETERS = { TenantId: TENANT, Audience: AUDIENCE, ManagedIdentityObjectId: IDENTITY };
const hubDeployment = (extra: Record<string, string> = {}, partition = 'aws'): Deployment => ({
  partition,
  accountId: HUB_ACCOUNT,
  region: 'us-east-1',
  parameters: { ...HUB_PARAMETERS, ...extra },
});
const HUB_ROLE_ARN = `arn:aws:iam::${HUB_ACCOUNT}:role/SentinelBridgeHub`;
const memberDeployment = (extra: Record<string, string> = {}, partition = 'aws'): Deployment => ({
  partition,
  accountId: MEMBER,
  region: 'eu-west-1',
  parameters: {
    HubRoleArn: HUB_ROLE_ARN.replace('arn:aws:', `arn:${partition}:`),
    ...extra,
  },
});

const hub = (): unknown => readCommitted('infra/aws/hub-trust.json');
const responder = (): unknown => readCommitted('infra/aws/responder-role.json');

/** Actions that have no resource type (Service Authorization Reference): the only ones allowed on "*". */
const NO_RESOURCE_TYPE = [
  'autoscaling:DescribeAutoScalingInstances',
  'ec2:DescribeIamInstanceProfileAssociations',
  'ec2:DescribeInstances',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSecurityGroups',
  'guardduty:ListDetectors',
];

// ------------------------------------------------------------------------------------------------- tests

describe('AWS templates are generated from the code', () => {
  it('the committed templates equal the generator output (run `npm run docs`)', () => {
    expect(outdatedTemplates()).toEqual([]);
    for (const { path, render } of AWS_TEMPLATES) expect(readCommitted(path)).toEqual(render());
  });

  it('infra/aws holds exactly the generated templates', () => {
    const files = readdirSync(join(REPO_ROOT, 'infra/aws')).sort();
    expect(files.map((f) => `infra/aws/${f}`)).toEqual(AWS_TEMPLATES.map((t) => t.path).sort());
  });

  it('renders the permission table for the README: every catalogue action with its scope', () => {
    const table = permissionTable();
    for (const action of responderPermissions()) expect(table).toContain(`\`${action}\``);
    expect(table.split('\n')).toHaveLength(2 + 3 + responderGrants().length);
  });

  it('a catalogue action without a decided scope stops the generator', () => {
    expect(() => responderRoleTemplate([...responderPermissions(), 'ec2:TerminateInstances'])).toThrow(
      /no scope for ec2:TerminateInstances/,
    );
    expect(() => responderGrants(responderPermissions().filter((a) => a !== 'iam:PassRole'))).toThrow(
      /no longer needs: remove them/,
    );
  });
});

describe('AWS templates are valid CloudFormation', () => {
  const TOP_LEVEL = [
    'AWSTemplateFormatVersion',
    'Description',
    'Parameters',
    'Conditions',
    'Resources',
    'Outputs',
  ];
  const PARAMETER_KEYS = ['Type', 'Default', 'AllowedPattern', 'AllowedValues', 'Description'];
  /** Property names of the resource schemas (cfn-lint's copy of the CloudFormation registry schemas). */
  const SCHEMAS: Record<
    string,
    { readonly properties: readonly string[]; readonly required: readonly string[] }
  > = {
    'AWS::IAM::Role': {
      properties: [
        'AssumeRolePolicyDocument',
        'Description',
        'ManagedPolicyArns',
        'MaxSessionDuration',
        'Path',
        'PermissionsBoundary',
        'Policies',
        'RoleName',
        'Tags',
      ],
      required: ['AssumeRolePolicyDocument'],
    },
    'AWS::IAM::OIDCProvider': { properties: ['ClientIdList', 'Tags', 'ThumbprintList', 'Url'], required: [] },
  };
  const OPERATORS =
    /^(ForAllValues:|ForAnyValue:)?(StringEquals|StringNotEquals|StringLike|StringNotLike|ArnEquals|ArnLike|Bool|Null)$/;

  /** Every name a template refers to exists: Ref, GetAtt, Fn::Sub variables, Fn::If and resource conditions. */
  function danglingReferences(template: Obj): string[] {
    const parameters = Object.keys(isObj(template.Parameters) ? template.Parameters : {});
    const conditions = Object.keys(isObj(template.Conditions) ? template.Conditions : {});
    const resources = Object.keys(obj(template.Resources, 'Resources'));
    const names = new Set([...parameters, ...resources, ...PSEUDO, 'AWS::NoValue']);
    const problems: string[] = [];
    const visit = (value: unknown): void => {
      if (Array.isArray(value)) {
        for (const item of value) visit(item);
        return;
      }
      if (!isObj(value)) return;
      for (const [key, item] of Object.entries(value)) {
        if (key === 'Ref' && !names.has(String(item))) problems.push(`Ref ${String(item)}`);
        if (key === 'Fn::GetAtt' && !resources.includes(String(asList(item)[0])))
          problems.push(`GetAtt ${String(item)}`);
        if ((key === 'Fn::If' || key === 'Condition') && typeof asList(item)[0] === 'string') {
          const name = String(asList(item)[0]);
          if (!conditions.includes(name)) problems.push(`condition ${name}`);
        }
        if (key === 'Fn::Sub') {
          const [text, variables] = typeof item === 'string' ? [item, {}] : asList(item);
          const locals = Object.keys(isObj(variables) ? variables : {});
          for (const [, bang, name = ''] of String(text).matchAll(/\$\{(!?)([^}]+)\}/g)) {
            const base = name.split('.')[0] ?? '';
            if (bang !== '!' && !locals.includes(name) && !names.has(base)) problems.push(`Sub \${${name}}`);
          }
          visit(variables);
          continue;
        }
        visit(item);
      }
    };
    visit(template.Resources);
    visit(template.Outputs);
    visit(template.Conditions);
    return problems;
  }

  it.each(AWS_TEMPLATES.map((t) => [t.path]))(
    '%s: sections, parameters, resources and references',
    (path) => {
      const template = obj(readCommitted(path), path);
      expect(Object.keys(template).filter((key) => !TOP_LEVEL.includes(key))).toEqual([]);
      expect(template.AWSTemplateFormatVersion).toBe('2010-09-09');
      expect(typeof template.Description).toBe('string');
      for (const [name, definition] of Object.entries(obj(template.Parameters, 'Parameters'))) {
        const d = obj(definition, name);
        expect(Object.keys(d).filter((key) => !PARAMETER_KEYS.includes(key))).toEqual([]);
        expect(d.Type).toBe('String');
        if (typeof d.Default === 'string' && typeof d.AllowedPattern === 'string') {
          expect(d.Default).toMatch(new RegExp(d.AllowedPattern));
        }
        if (typeof d.Default === 'string' && Array.isArray(d.AllowedValues))
          expect(d.AllowedValues).toContain(d.Default);
      }
      for (const [id, definition] of Object.entries(obj(template.Resources, 'Resources'))) {
        expect(id).toMatch(/^[A-Za-z0-9]+$/);
        const r = obj(definition, id);
        const schema = SCHEMAS[String(r.Type)];
        if (schema === undefined) throw new Error(`${id}: unexpected resource type ${String(r.Type)}`);
        const properties = obj(r.Properties, `${id}.Properties`);
        expect(Object.keys(properties).filter((key) => !schema.properties.includes(key))).toEqual([]);
        for (const key of schema.required) expect(properties).toHaveProperty(key);
      }
      for (const output of Object.values(obj(template.Outputs, 'Outputs')))
        expect(obj(output, 'output')).toHaveProperty('Value');
      expect(danglingReferences(template)).toEqual([]);
    },
  );

  it.each([
    ['hub-trust.json', hub, hubDeployment()],
    [
      'hub-trust.json (existing provider, organization)',
      hub,
      hubDeployment({ CreateOidcProvider: 'false', OrganizationId: 'o-a1b2c3d4e5' }),
    ],
    ['responder-role.json', responder, memberDeployment()],
    [
      'responder-role.json (release pass role)',
      responder,
      memberDeployment({ ReleasePassRoleNamePattern: 'app-*' }),
    ],
  ])('%s: every policy IAM would receive is well formed', (_, template, deployment) => {
    const resolved = resolveTemplate(template(), deployment);
    for (const [id, r] of Object.entries(resolved.resources)) {
      if (r.Type !== 'AWS::IAM::Role') continue;
      const documents = [
        policyDocument(r.Properties.AssumeRolePolicyDocument),
        ...inlinePolicies(r.Properties),
      ];
      expect(r.Properties.MaxSessionDuration).toBe(3600);
      for (const document of documents) {
        expect(document.Version).toBe('2012-10-17');
        const sids = document.Statement.map((s) => s.Sid);
        expect(new Set(sids).size).toBe(sids.length);
        for (const s of document.Statement) {
          expect(
            Object.keys(s).filter(
              (k) => !['Sid', 'Effect', 'Principal', 'Action', 'Resource', 'Condition'].includes(k),
            ),
          ).toEqual([]);
          expect(String(s.Sid)).toMatch(/^[A-Za-z0-9]+$/);
          expect(['Allow', 'Deny']).toContain(s.Effect);
          for (const action of strings(s.Action)) expect(action).toMatch(/^[a-z0-9-]+:[A-Za-z0-9]+$/);
          for (const operator of Object.keys(isObj(s.Condition) ? s.Condition : {}))
            expect(operator).toMatch(OPERATORS);
          if (s.Principal === undefined) expect(strings(s.Resource).length).toBeGreaterThan(0);
        }
      }
      // Inline policies of a role: at most 10,240 characters together, whitespace not counted.
      const size = JSON.stringify(inlinePolicies(r.Properties)).replace(/\s/g, '').length;
      expect({ id, size: size < 10_240 }).toEqual({ id, size: true });
    }
  });

  it('parameters keep JSON out of the hub trust text (it is a Fn::Sub over JSON)', () => {
    expect(() =>
      resolveTemplate(hub(), hubDeployment({ Audience: 'api://x","sts.windows.net/t/:sub":"*' })),
    ).toThrow(/does not match/);
    expect(() => resolveTemplate(hub(), hubDeployment({ ManagedIdentityObjectId: '*' }))).toThrow(
      /does not match/,
    );
  });
});

describe('no wildcard action anywhere in infra/aws', () => {
  /** Every statement of every policy in a file, including policies embedded as JSON text (Fn::Sub). */
  function statementsIn(value: unknown): Obj[] {
    if (typeof value === 'string') {
      const text = value.trim();
      return text.startsWith('{') && text.includes('"Statement"') ? statementsIn(JSON.parse(text)) : [];
    }
    if (Array.isArray(value)) return value.flatMap(statementsIn);
    if (!isObj(value)) return [];
    const own = 'Effect' in value ? [value] : [];
    return [...own, ...Object.values(value).flatMap(statementsIn)];
  }

  const files = readdirSync(join(REPO_ROOT, 'infra/aws')).map((f) => join(REPO_ROOT, 'infra/aws', f));

  it.each(files.map((f) => [f]))('%s', (file) => {
    expect(file).toMatch(/\.json$/);
    const statements = statementsIn(JSON.parse(readFileSync(file, 'utf8')));
    expect(statements.length).toBeGreaterThan(0);
    for (const s of statements) {
      for (const forbidden of ['NotAction', 'NotResource', 'NotPrincipal'])
        expect(s).not.toHaveProperty(forbidden);
      const actions = strings(s.Action);
      expect(actions.length).toBeGreaterThan(0);
      expect(actions.filter((a) => a.includes('*') || a.includes('?'))).toEqual([]);
    }
  });
});

describe('hub trust (hub account)', () => {
  const providerArn = (partition = 'aws'): string =>
    `arn:${partition}:iam::${HUB_ACCOUNT}:oidc-provider/sts.windows.net/${TENANT}/`;

  it.each([
    ['creates the provider', {}],
    ['uses the existing provider', { CreateOidcProvider: 'false' }],
  ])('trusts Entra ID tokens whose aud AND sub are pinned (%s)', (_, extra) => {
    const resolved = resolveTemplate(hub(), hubDeployment(extra));
    const trust = policyDocument(role(resolved, 'HubRole').AssumeRolePolicyDocument);
    expect(trust.Statement).toEqual([
      {
        Sid: 'FunctionAppManagedIdentityOnly',
        Effect: 'Allow',
        Principal: { Federated: providerArn() },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: {
            [`sts.windows.net/${TENANT}/:aud`]: AUDIENCE,
            [`sts.windows.net/${TENANT}/:sub`]: IDENTITY,
          },
        },
      },
    ]);
    expect(resolved.outputs.OidcProviderArn).toBe(providerArn());
    const provider = resolved.resources.EntraIdProvider;
    if ('CreateOidcProvider' in extra) {
      expect(provider).toBeUndefined();
    } else {
      expect(provider?.Properties).toEqual({
        Url: `https://sts.windows.net/${TENANT}/`,
        ClientIdList: [AUDIENCE],
        Tags: [{ Key: 'ir:protected', Value: 'true' }],
      });
      // The condition keys are the provider URL without its scheme: a typo there would silently pin nothing.
      const keys = Object.keys(
        obj(obj(trust.Statement[0]?.Condition, 'Condition').StringEquals, 'StringEquals'),
      );
      for (const key of keys)
        expect(key.startsWith(`${provider?.Properties.Url}`.replace('https://', ''))).toBe(true);
    }
  });

  it('may only assume the responder role, in any account (only the account segment is a wildcard)', () => {
    for (const partition of ['aws', 'aws-cn', 'aws-us-gov']) {
      const hubRole = role(resolveTemplate(hub(), hubDeployment({}, partition)), 'HubRole');
      expect(statementsOf(hubRole)).toEqual([
        {
          Sid: 'AssumeResponderRoles',
          Effect: 'Allow',
          Action: ['sts:AssumeRole'],
          Resource: [`arn:${partition}:iam::*:role/${DEFAULT_RESPONDER_ROLE_NAME}`],
        },
      ]);
      expect(hubRole.MaxSessionDuration).toBe(3600);
      expect(hubRole.Tags).toEqual([{ Key: DEFAULT_PROTECTED_TAG.key, Value: DEFAULT_PROTECTED_TAG.value }]);
    }
  });

  it('restricts the responder roles to the organization when an organization id is given', () => {
    const hubRole = role(
      resolveTemplate(
        hub(),
        hubDeployment({ OrganizationId: 'o-a1b2c3d4e5', ResponderRoleName: 'IrResponder' }),
      ),
      'HubRole',
    );
    expect(statementsOf(hubRole)).toEqual([
      {
        Sid: 'AssumeResponderRoles',
        Effect: 'Allow',
        Action: ['sts:AssumeRole'],
        Resource: ['arn:aws:iam::*:role/IrResponder'],
        Condition: { StringEquals: { 'aws:ResourceOrgID': 'o-a1b2c3d4e5' } },
      },
    ]);
  });
});

describe('responder role (member accounts)', () => {
  it('trusts the hub role only, in sessions named the way the bridge names them', () => {
    const resolved = resolveTemplate(responder(), memberDeployment());
    const properties = role(resolved, 'ResponderRole');
    expect(policyDocument(properties.AssumeRolePolicyDocument).Statement).toEqual([
      {
        Sid: 'HubRoleOnly',
        Effect: 'Allow',
        Principal: { AWS: HUB_ROLE_ARN },
        Action: 'sts:AssumeRole',
        Condition: { StringLike: { 'sts:RoleSessionName': ['sentinel-*', 'manual-*'] } },
      },
    ]);
    expect(properties).toMatchObject({ RoleName: DEFAULT_RESPONDER_ROLE_NAME, MaxSessionDuration: 3600 });
    const patterns = ['sentinel-*', 'manual-*'];
    const names = [
      sessionName({ incident: { number: 4242 }, actor: 'playbook' }),
      sessionName({ actor: 'alice@contoso.com' }),
      sessionName({ actor: '' }),
      'sentinel-plan',
    ];
    for (const name of names) expect(patterns.some((p) => globMatch(p, name))).toBe(true);
    expect(patterns.some((p) => globMatch(p, 'attacker'))).toBe(false);
  });

  it('is tagged protected, so the responder never acts on itself', () => {
    const properties = role(resolveTemplate(responder(), memberDeployment()), 'ResponderRole');
    expect(properties.Tags).toEqual([{ Key: DEFAULT_PROTECTED_TAG.key, Value: DEFAULT_PROTECTED_TAG.value }]);
    const deny = statementsOf(properties).find((s) => s.Sid === 'DenyChangesToBridgeRoles');
    expect(deny?.Resource).toEqual([
      `arn:aws:iam::${MEMBER}:role/${DEFAULT_RESPONDER_ROLE_NAME}`,
      HUB_ROLE_ARN,
    ]);
  });

  it('is StackSets-ready: no account, partition or region written in the template', () => {
    const text = readFileSync(join(REPO_ROOT, 'infra/aws/responder-role.json'), 'utf8');
    expect(text).not.toMatch(/\d{12}/);
    expect(text).not.toMatch(/arn:aws(-[a-z-]+)?:/);
    expect(text).not.toMatch(/[a-z]{2}-[a-z]+-\d:/);
  });

  it('allows exactly the actions of the catalogue (responderPermissions), and denies only some of them', () => {
    for (const extra of [{}, { ReleasePassRoleNamePattern: 'app-*' }]) {
      const statements = statementsOf(
        role(resolveTemplate(responder(), memberDeployment(extra)), 'ResponderRole'),
      );
      const allowed = new Set(
        statements.filter((s) => s.Effect === 'Allow').flatMap((s) => strings(s.Action)),
      );
      expect([...allowed].sort()).toEqual(responderPermissions());
      const denied = statements.filter((s) => s.Effect === 'Deny').flatMap((s) => strings(s.Action));
      expect(denied.filter((a) => !allowed.has(a))).toEqual([]);
    }
  });

  it('uses Resource "*" only for actions without a resource type; every other resource is in the account', () => {
    for (const partition of ['aws', 'aws-cn']) {
      const statements = statementsOf(
        role(resolveTemplate(responder(), memberDeployment({}, partition)), 'ResponderRole'),
      );
      for (const s of statements.filter((st) => st.Effect === 'Allow')) {
        const resources = strings(s.Resource);
        if (resources.includes('*')) {
          expect(resources).toEqual(['*']);
          expect(strings(s.Action).filter((a) => !NO_RESOURCE_TYPE.includes(a))).toEqual([]);
          continue;
        }
        for (const arn of resources) {
          const [, arnPartition, , , account] = arn.split(':');
          expect(arnPartition).toBe(partition);
          // Snapshot ARNs carry no account (arn:<partition>:ec2:<region>::snapshot/<id>).
          expect(account === MEMBER || /^arn:[^:]+:ec2:\*::snapshot\/\*$/.test(arn)).toBe(true);
        }
      }
    }
  });

  it('passes only the quarantine role (or, when set, the release pattern), to EC2 only', () => {
    const cases: [Record<string, string>, string[]][] = [
      [{}, ['ir-quarantine*']],
      [{ QuarantineRoleNamePattern: 'soc/deny-all' }, ['soc/deny-all']],
      [{ ReleasePassRoleNamePattern: 'app-*' }, ['ir-quarantine*', 'app-*']],
    ];
    for (const [extra, patterns] of cases) {
      const statements = statementsOf(
        role(resolveTemplate(responder(), memberDeployment(extra)), 'ResponderRole'),
      );
      const passing = statements.filter((s) => strings(s.Action).includes('iam:PassRole'));
      expect(passing.map((s) => s.Resource)).toEqual(
        patterns.map((p) => [`arn:aws:iam::${MEMBER}:role/${p}`]),
      );
      for (const s of passing) {
        expect(strings(s.Action)).toEqual(['iam:PassRole']);
        expect(s.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } });
      }
    }
    expect(() => resolveTemplate(responder(), memberDeployment({ QuarantineRoleNamePattern: '*' }))).toThrow(
      /does not match/,
    );
    expect(() => resolveTemplate(responder(), memberDeployment({ ReleasePassRoleNamePattern: '*' }))).toThrow(
      /does not match/,
    );
  });

  it('denies changes to protected instances, users and roles, and never lets the protected tag be written', () => {
    const statements = statementsOf(role(resolveTemplate(responder(), memberDeployment()), 'ResponderRole'));
    const protectedCondition = { StringEquals: { [`aws:ResourceTag/${DEFAULT_PROTECTED_TAG.key}`]: 'true' } };
    const bySid = (sid: string): Obj | undefined => statements.find((s) => s.Sid === sid);
    expect(bySid('DenyProtectedInstances')).toMatchObject({ Effect: 'Deny', Condition: protectedCondition });
    expect(bySid('DenyProtectedIdentities')).toMatchObject({ Effect: 'Deny', Condition: protectedCondition });
    const mutatingIam = responderPermissions().filter(
      (a) => /^iam:(Put|Delete|Update|Tag|Untag)/.test(a) && a !== 'iam:PassRole',
    );
    expect(strings(bySid('DenyProtectedIdentities')?.Action)).toEqual(mutatingIam);
    for (const s of statements.filter(
      (st) =>
        st.Effect === 'Allow' &&
        strings(st.Action).some((a) => /:((Create|Delete)Tags|(Tag|Untag)[A-Z]\w*)$/.test(a)),
    )) {
      // Every tagging grant names its keys or is tag-on-create only.
      const condition = obj(s.Condition, `${String(s.Sid)}.Condition`);
      const keyed = Object.entries(condition).some(
        ([op, c]) => op.startsWith('ForAllValues:') && 'aws:TagKeys' in obj(c, op),
      );
      expect({ sid: s.Sid, keyed: keyed || 'StringEquals' in condition }).toEqual({
        sid: s.Sid,
        keyed: true,
      });
    }
    expect(bySid('RecordIsolationTags')?.Condition).toMatchObject({
      'ForAllValues:StringNotEquals': { 'aws:TagKeys': [DEFAULT_PROTECTED_TAG.key] },
    });
  });

  it('defaults to the role name the responder configuration uses', () => {
    const config = loadResponderConfig({
      ENTRA_TENANT_ID: TENANT,
      API_AUDIENCE: 'api://aws-sentinel-bridge',
      AWS_HUB_ROLE_ARN: HUB_ROLE_ARN,
      AWS_WEB_IDENTITY_AUDIENCE: AUDIENCE,
      SENTINEL_SUBSCRIPTION_ID: 'd0cfe6b2-9ac0-4464-9919-dccaee2e48c0',
      SENTINEL_RESOURCE_GROUP: 'soc-rg',
      SENTINEL_WORKSPACE_NAME: 'soc-ws',
      AUDIT_LOGS_INGESTION_ENDPOINT: 'https://bridge-dce.eastus-1.ingest.monitor.azure.com',
      AUDIT_DCR_IMMUTABLE_ID: 'dcr-0123456789abcdef0123456789abcdef',
      RESPONSE_STATE_TABLE_ENDPOINT: 'https://bridgestate.table.core.windows.net',
    });
    expect(config.responderRoleName).toBe(DEFAULT_RESPONDER_ROLE_NAME);
    const parameter = (template: unknown): unknown =>
      obj(obj(obj(template, 't').Parameters, 'Parameters').ResponderRoleName, 'p').Default;
    expect(parameter(hubTrustTemplate())).toBe(config.responderRoleName);
    expect(parameter(responderRoleTemplate())).toBe(config.responderRoleName);
  });
});

describe('the credential chain fits both trusts', () => {
  it('the requests the responder makes are the ones the templates allow', async () => {
    const hubResolved = resolveTemplate(hub(), hubDeployment());
    const memberResolved = resolveTemplate(responder(), memberDeployment());
    const hubRoleArn = String(hubResolved.outputs.HubRoleArn);
    expect(hubRoleArn).toBe(HUB_ROLE_ARN);
    const webIdentity: AssumeRoleWithWebIdentityCommandInput[] = [];
    const assumeRole: AssumeRoleCommandInput[] = [];
    const credentials = {
      AccessKeyId: 'ASIAEXAMPLEONLY00000',
      SecretAccessKey: 'not-a-secret',
      SessionToken: 'token',
      Expiration: new Date(Date.now() + 3_600_000),
    };
    const chain = createResponderCredentials({
      getWebIdentityToken: async () => 'eyJ.managed-identity-token',
      hubRoleArn,
      responderRoleName: DEFAULT_RESPONDER_ROLE_NAME,
      clientFactory: (config) => {
        const client = new STSClient(config);
        const mock = mockClient(client);
        mock
          .on(AssumeRoleWithWebIdentityCommand)
          .callsFake((input: AssumeRoleWithWebIdentityCommandInput) => {
            webIdentity.push(input);
            return { Credentials: credentials };
          });
        mock.on(AssumeRoleCommand).callsFake((input: AssumeRoleCommandInput) => {
          assumeRole.push(input);
          return { Credentials: credentials };
        });
        return client;
      },
    });
    const name = sessionName({ incident: { number: 4242 }, actor: 'playbook' });
    await chain.forAccount(MEMBER, name)();

    // Hub: the role of the template; the trust then checks the token (aud and sub, tested above).
    expect(webIdentity.map((i) => i.RoleArn)).toEqual([hubRoleArn]);
    // Hub policy: the responder role ARN the chain builds matches the only resource the hub may assume.
    const [allow] = statementsOf(role(hubResolved, 'HubRole'));
    const target = assumeRole[0]?.RoleArn ?? '';
    expect(strings(allow?.Resource).some((pattern) => globMatch(pattern, target))).toBe(true);
    expect(target).toBe(`arn:aws:iam::${MEMBER}:role/${DEFAULT_RESPONDER_ROLE_NAME}`);
    expect(target).toBe(
      `arn:aws:iam::${MEMBER}:role/${String(role(memberResolved, 'ResponderRole').RoleName)}`,
    );
    // Responder trust: signed by the hub role, with a session name it accepts.
    const [trust] = policyDocument(role(memberResolved, 'ResponderRole').AssumeRolePolicyDocument).Statement;
    expect(obj(trust?.Principal, 'Principal').AWS).toBe(hubRoleArn);
    const accepted = strings(
      obj(obj(trust?.Condition, 'Condition').StringLike, 'StringLike')['sts:RoleSessionName'],
    );
    expect(accepted.some((pattern) => globMatch(pattern, assumeRole[0]?.RoleSessionName ?? ''))).toBe(true);
  });
});
