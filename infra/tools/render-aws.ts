/**
 * Renders the AWS CloudFormation templates of `infra/aws/` from code, the single sources of truth:
 *
 * - `hub-trust.json` (hub / security account): the IAM OIDC provider for Entra ID and the hub role, whose
 *   trust pins the token's `aud` (our application ID URI) and `sub` (the Function App identity's object id),
 *   and whose only permission is `sts:AssumeRole` into the responder role of the member accounts.
 * - `responder-role.json` (every member account, StackSets-ready): the responder role, trusting the hub role
 *   only, whose permissions are generated from the response catalogue (`responderPermissions()`), each
 *   action scoped to the resources it acts on.
 *
 * `node --import tsx infra/tools/render-aws.ts --write` rewrites the files (then formats them with Biome);
 * `--check` exits 1 when a committed file is out of date. `test/unit/infra-aws.test.ts` fails in that case too.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ISOLATION_TAGS } from '../../shared/respond/actions/isolate-ec2-instance.js';
import { DEACTIVATED_KEYS_TAG } from '../../shared/respond/actions/quarantine-iam-user.js';
import { responderPermissions } from '../../shared/respond/registry.js';
import { DEFAULT_PROTECTED_TAG } from '../../shared/respond/types.js';

export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };
type JsonObject = { readonly [key: string]: Json };

/** Default of `AWS_RESPONDER_ROLE_NAME` in `shared/config/responder-config.ts` (a test keeps them equal). */
export const DEFAULT_RESPONDER_ROLE_NAME = 'SentinelResponder';
export const DEFAULT_HUB_ROLE_NAME = 'SentinelBridgeHub';
/** Role session names the bridge uses (`sessionName()` in the executor: `sentinel-<incident>`, `manual-<actor>`). */
export const SESSION_NAME_PATTERNS = ['sentinel-*', 'manual-*'] as const;
/** The role of the deny-all instance profile that `isolate-ec2-instance` may swap in (`replaceInstanceProfile`). */
export const DEFAULT_QUARANTINE_ROLE_PATTERN = 'ir-quarantine*';
export const MAX_SESSION_SECONDS = 3600;

/** Values of the `ir:purpose` tag that `isolate-ec2-instance` puts on the per-VPC groups it creates. */
const GROUP_PURPOSE = { isolation: 'isolation', conversion: 'conversion' } as const;
const PROTECTED_KEY = DEFAULT_PROTECTED_TAG.key;
const ISOLATION_TAG_PREFIX = 'ir:';

const sub = (text: string): Json => ({ 'Fn::Sub': text });
const ref = (name: string): Json => ({ Ref: name });
const NO_VALUE = ref('AWS::NoValue');
const ifCondition = (condition: string, whenTrue: Json, whenFalse: Json): Json => ({
  'Fn::If': [condition, whenTrue, whenFalse],
});

/** A Fn::Sub variable: `${name}` in the template. */
const v = (name: string): string => `\${${name}}`;
const PARTITION = v('AWS::Partition');
const ACCOUNT = v('AWS::AccountId');
/** `arn:<partition>:ec2:<any region>:<this account>:<type>/*` */
const ec2Arn = (type: string): Json => sub(`arn:${PARTITION}:ec2:*:${ACCOUNT}:${type}/*`);
const iamArn = (path: string): Json => sub(`arn:${PARTITION}:iam::${ACCOUNT}:${path}`);

// ------------------------------------------------------------------------------------ the responder policy

/** One statement of the responder policy: which resources (and under which condition) its actions apply to. */
interface Scope {
  readonly sid: string;
  readonly resources: readonly Json[];
  readonly condition?: JsonObject;
  /** CloudFormation condition under which the statement exists (absent: always). */
  readonly onlyIf?: string;
  /** Why these actions need these resources: shown in the permission table. */
  readonly why: string;
}

const SCOPES = {
  noResourceType: {
    sid: 'ReadActionsWithoutResourceTypes',
    resources: ['*'],
    why: 'these read actions have no resource type in the Service Authorization Reference: IAM only accepts "*"',
  },
  createGroup: {
    sid: 'CreateIsolationGroups',
    resources: [ec2Arn('security-group')],
    condition: {
      StringEquals: {
        [`aws:RequestTag/${ISOLATION_TAGS.purpose}`]: [GROUP_PURPOSE.isolation, GROUP_PURPOSE.conversion],
      },
    },
    why: `only groups tagged ${ISOLATION_TAGS.purpose}=isolation|conversion at creation (the per-VPC groups of isolate-ec2-instance)`,
  },
  createGroupInVpc: {
    sid: 'CreateGroupsInVpcs',
    resources: [ec2Arn('vpc')],
    why: 'CreateSecurityGroup also authorizes the VPC the group is created in',
  },
  isolationGroupRules: {
    sid: 'EmptyIsolationGroups',
    resources: [ec2Arn('security-group')],
    condition: { StringEquals: { [`aws:ResourceTag/${ISOLATION_TAGS.purpose}`]: GROUP_PURPOSE.isolation } },
    why: 'removes the default egress rule, only of groups tagged ir:purpose=isolation',
  },
  conversionGroupRules: {
    sid: 'OpenConversionGroups',
    resources: [ec2Arn('security-group')],
    condition: { StringEquals: { [`aws:ResourceTag/${ISOLATION_TAGS.purpose}`]: GROUP_PURPOSE.conversion } },
    why: 'opens inbound traffic, only on groups tagged ir:purpose=conversion',
  },
  instances: {
    sid: 'ChangeInstances',
    resources: [ec2Arn('instance')],
    why: 'termination protection and the instance profile swap, on instances of this account',
  },
  networkInterfaces: {
    sid: 'MoveNetworkInterfaces',
    resources: [ec2Arn('network-interface'), ec2Arn('security-group'), ec2Arn('instance'), ec2Arn('vpc')],
    why: 'moves ENIs between groups; release restores the original groups, which can be any group of the account',
  },
  snapshots: {
    sid: 'SnapshotInstanceVolumes',
    resources: [ec2Arn('instance'), ec2Arn('volume'), sub(`arn:${PARTITION}:ec2:*::snapshot/*`)],
    why: 'evidence: snapshots of the volumes of instances of this account (snapshot ARNs have no account)',
  },
  recordTags: {
    sid: 'RecordIsolationTags',
    resources: [ec2Arn('instance'), ec2Arn('network-interface')],
    condition: {
      'ForAllValues:StringLike': { 'aws:TagKeys': [`${ISOLATION_TAG_PREFIX}*`] },
      'ForAllValues:StringNotEquals': { 'aws:TagKeys': [PROTECTED_KEY] },
    },
    why: `only ${ISOLATION_TAG_PREFIX}* tag keys (the isolation records), never ${PROTECTED_KEY}`,
  },
  tagNewGroups: {
    sid: 'TagGroupsOnCreation',
    resources: [ec2Arn('security-group')],
    condition: {
      StringEquals: { 'ec2:CreateAction': 'CreateSecurityGroup' },
      'ForAllValues:StringEquals': { 'aws:TagKeys': [ISOLATION_TAGS.purpose] },
    },
    why: 'tags a group only while creating it (CreateSecurityGroup), with ir:purpose only',
  },
  tagNewSnapshots: {
    sid: 'TagSnapshotsOnCreation',
    resources: [sub(`arn:${PARTITION}:ec2:*::snapshot/*`)],
    condition: { StringEquals: { 'ec2:CreateAction': 'CreateSnapshots' } },
    why: 'tags snapshots only while creating them (incident tags and the tags copied from the volume)',
  },
  passQuarantineRole: {
    sid: 'PassQuarantineRole',
    resources: [iamArn(`role/${v('QuarantineRoleNamePattern')}`)],
    condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
    why: 'the role of the deny-all quarantine instance profile, to EC2 only',
  },
  passReleaseRoles: {
    sid: 'PassOriginalRolesOnRelease',
    resources: [iamArn(`role/${v('ReleasePassRoleNamePattern')}`)],
    condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
    onlyIf: 'AllowReleasePassRole',
    why: 'only when ReleasePassRoleNamePattern is set: release puts the original instance profile back',
  },
  autoScalingGroups: {
    sid: 'DetachFromAutoScalingGroups',
    resources: [sub(`arn:${PARTITION}:autoscaling:*:${ACCOUNT}:autoScalingGroup:*:autoScalingGroupName/*`)],
    why: 'Auto Scaling groups of this account',
  },
  targetGroups: {
    sid: 'TargetGroupMembership',
    resources: [sub(`arn:${PARTITION}:elasticloadbalancing:*:${ACCOUNT}:targetgroup/*/*`)],
    why: 'target groups of this account',
  },
  detectors: {
    sid: 'GuardDutyFindings',
    resources: [sub(`arn:${PARTITION}:guardduty:*:${ACCOUNT}:detector/*`)],
    why: 'GuardDuty detectors of this account',
  },
  users: {
    sid: 'ContainIamUsers',
    resources: [iamArn('user/*')],
    why: 'IAM users of this account (users tagged as protected are denied below)',
  },
  userRecordTag: {
    sid: 'RecordDeactivatedKeys',
    resources: [iamArn('user/*')],
    condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': [DEACTIVATED_KEYS_TAG] } },
    why: `only the ${DEACTIVATED_KEYS_TAG} tag key`,
  },
  roles: {
    sid: 'RevokeRoleSessions',
    resources: [iamArn('role/*')],
    why: 'IAM roles of this account (protected roles and the bridge roles themselves are denied below)',
  },
} as const satisfies Record<string, Scope>;
type ScopeName = keyof typeof SCOPES;

/**
 * Where each IAM action of the catalogue applies. An action the catalogue needs but this table lacks stops the
 * generator: its scope is a decision to make (and review), not a default.
 */
const ACTION_SCOPES: Readonly<Record<string, readonly ScopeName[]>> = {
  'autoscaling:DescribeAutoScalingInstances': ['noResourceType'],
  'autoscaling:DetachInstances': ['autoScalingGroups'],
  'ec2:AuthorizeSecurityGroupIngress': ['conversionGroupRules'],
  'ec2:CreateSecurityGroup': ['createGroup', 'createGroupInVpc'],
  'ec2:CreateSnapshots': ['snapshots'],
  'ec2:CreateTags': ['recordTags', 'tagNewGroups', 'tagNewSnapshots'],
  'ec2:DeleteTags': ['recordTags'],
  'ec2:DescribeIamInstanceProfileAssociations': ['noResourceType'],
  'ec2:DescribeInstances': ['noResourceType'],
  'ec2:DescribeNetworkInterfaces': ['noResourceType'],
  'ec2:DescribeSecurityGroups': ['noResourceType'],
  'ec2:ModifyInstanceAttribute': ['instances'],
  'ec2:ModifyNetworkInterfaceAttribute': ['networkInterfaces'],
  'ec2:ReplaceIamInstanceProfileAssociation': ['instances'],
  'ec2:RevokeSecurityGroupEgress': ['isolationGroupRules'],
  'elasticloadbalancing:DeregisterTargets': ['targetGroups'],
  'elasticloadbalancing:RegisterTargets': ['targetGroups'],
  'guardduty:ArchiveFindings': ['detectors'],
  'guardduty:GetFindings': ['detectors'],
  'guardduty:ListDetectors': ['noResourceType'],
  'guardduty:UnarchiveFindings': ['detectors'],
  'guardduty:UpdateFindingsFeedback': ['detectors'],
  'iam:DeleteLoginProfile': ['users'],
  'iam:DeleteRolePolicy': ['roles'],
  'iam:DeleteUserPolicy': ['users'],
  'iam:GetAccessKeyLastUsed': ['users'],
  'iam:GetLoginProfile': ['users'],
  'iam:GetRole': ['roles'],
  'iam:GetRolePolicy': ['roles'],
  'iam:GetUserPolicy': ['users'],
  'iam:ListAccessKeys': ['users'],
  'iam:ListInstanceProfilesForRole': ['roles'],
  'iam:ListRoleTags': ['roles'],
  'iam:ListUserTags': ['users'],
  'iam:PassRole': ['passQuarantineRole', 'passReleaseRoles'],
  'iam:PutRolePolicy': ['roles'],
  'iam:PutUserPolicy': ['users'],
  'iam:TagUser': ['userRecordTag'],
  'iam:UntagUser': ['userRecordTag'],
  'iam:UpdateAccessKey': ['users'],
};

/** Mutating actions on EC2 instances, denied on instances carrying the protected tag. */
const INSTANCE_WRITES = [
  'ec2:CreateSnapshots',
  'ec2:CreateTags',
  'ec2:DeleteTags',
  'ec2:ModifyInstanceAttribute',
  'ec2:ModifyNetworkInterfaceAttribute',
  'ec2:ReplaceIamInstanceProfileAssociation',
];
/** Mutating actions on IAM users and roles, denied on those carrying the protected tag. */
const IDENTITY_WRITES = [
  'iam:DeleteLoginProfile',
  'iam:DeleteRolePolicy',
  'iam:DeleteUserPolicy',
  'iam:PutRolePolicy',
  'iam:PutUserPolicy',
  'iam:TagUser',
  'iam:UntagUser',
  'iam:UpdateAccessKey',
];
/** Changes to a role's own permissions, denied on the bridge's roles whatever their tags. */
const ROLE_WRITES = ['iam:DeleteRolePolicy', 'iam:PutRolePolicy'];

export interface Grant {
  readonly sid: string;
  readonly effect: 'Allow' | 'Deny';
  readonly actions: readonly string[];
  readonly resources: readonly Json[];
  readonly condition?: JsonObject;
  readonly onlyIf?: string;
  readonly why: string;
}

/** The responder policy as grants (one statement each), from the catalogue's permission lists. */
export function responderGrants(permissions: readonly string[] = responderPermissions()): Grant[] {
  const missing = permissions.filter((action) => ACTION_SCOPES[action] === undefined);
  if (missing.length > 0) {
    throw new Error(
      `no scope for ${missing.join(', ')}: add them to ACTION_SCOPES in infra/tools/render-aws.ts`,
    );
  }
  const stale = Object.keys(ACTION_SCOPES).filter((action) => !permissions.includes(action));
  if (stale.length > 0) {
    throw new Error(
      `ACTION_SCOPES names ${stale.join(', ')}, which the catalogue no longer needs: remove them`,
    );
  }
  const untracked = Object.values(ISOLATION_TAGS).filter((key) => !key.startsWith(ISOLATION_TAG_PREFIX));
  if (untracked.length > 0) {
    throw new Error(
      `isolation tags outside ${ISOLATION_TAG_PREFIX}*: ${untracked.join(', ')} (RecordIsolationTags)`,
    );
  }
  const allows: Grant[] = [];
  for (const [name, scope] of Object.entries(SCOPES) as [ScopeName, Scope][]) {
    const actions = permissions.filter((action) => ACTION_SCOPES[action]?.includes(name)).sort();
    if (actions.length === 0) continue;
    allows.push({
      sid: scope.sid,
      effect: 'Allow',
      actions,
      resources: scope.resources,
      ...(scope.condition ? { condition: scope.condition } : {}),
      ...(scope.onlyIf ? { onlyIf: scope.onlyIf } : {}),
      why: scope.why,
    });
  }
  const needed = (list: readonly string[]): string[] => list.filter((a) => permissions.includes(a)).sort();
  const protectedCondition = {
    StringEquals: { [`aws:ResourceTag/${PROTECTED_KEY}`]: DEFAULT_PROTECTED_TAG.value },
  };
  const denies: Grant[] = [
    {
      sid: 'DenyProtectedInstances',
      effect: 'Deny',
      actions: needed(INSTANCE_WRITES),
      resources: [ec2Arn('instance')],
      condition: protectedCondition,
      why: `instances tagged ${PROTECTED_KEY}=${DEFAULT_PROTECTED_TAG.value} are never changed (backs the responder's own check)`,
    },
    {
      sid: 'DenyProtectedIdentities',
      effect: 'Deny',
      actions: needed(IDENTITY_WRITES),
      resources: [iamArn('user/*'), iamArn('role/*')],
      condition: protectedCondition,
      why: `users and roles tagged ${PROTECTED_KEY}=${DEFAULT_PROTECTED_TAG.value} (this role included) are never changed`,
    },
    {
      sid: 'DenyChangesToBridgeRoles',
      effect: 'Deny',
      actions: needed(ROLE_WRITES),
      resources: [iamArn(`role/${v('ResponderRoleName')}`), ref('HubRoleArn')],
      why: 'the responder never changes its own permissions or the hub role, even if their tags are removed',
    },
  ];
  return [...allows, ...denies.filter((d) => d.actions.length > 0)];
}

function statement(grant: Grant): Json {
  const body: JsonObject = {
    Sid: grant.sid,
    Effect: grant.effect,
    Action: grant.actions,
    Resource: grant.resources,
    ...(grant.condition ? { Condition: grant.condition } : {}),
  };
  return grant.onlyIf ? ifCondition(grant.onlyIf, body, NO_VALUE) : body;
}

// ---------------------------------------------------------------------------------------------- parameters

const ROLE_NAME_PATTERN = '^[\\w+=,.@-]{1,64}$';
const GUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
/** At least three literal characters before any wildcard: never a bare `*`. */
const ROLE_PATTERN_PATTERN = '^[\\w+=,.@/-]{3,}[\\w+=,.@/*-]*$';
/** The bridge's own IAM resources carry the protected tag: the responder never acts on them. */
const protectedTags: Json = [{ Key: PROTECTED_KEY, Value: DEFAULT_PROTECTED_TAG.value }];

// ---------------------------------------------------------------------------------------------- templates

/** The hub account's template: the Entra ID OIDC provider and the hub role. */
export function hubTrustTemplate(): Json {
  const providerArn = `arn:${PARTITION}:iam::${ACCOUNT}:oidc-provider/sts.windows.net/${v('TenantId')}/`;
  // The condition keys contain the tenant id, and a JSON key cannot be an intrinsic function: the trust policy
  // is a Fn::Sub over its JSON text. The parameters' AllowedPatterns keep quotes and backslashes out of it.
  const trust = {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'FunctionAppManagedIdentityOnly',
        Effect: 'Allow',
        Principal: { Federated: v('ProviderArn') },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: {
            [`sts.windows.net/${v('TenantId')}/:aud`]: v('Audience'),
            [`sts.windows.net/${v('TenantId')}/:sub`]: v('ManagedIdentityObjectId'),
          },
        },
      },
    ],
  };
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description:
      'aws-sentinel-bridge hub trust (hub/security account): the IAM OIDC provider for Entra ID and the hub role that the Function App managed identity assumes with AssumeRoleWithWebIdentity; its only permission is sts:AssumeRole into the responder role of the member accounts. Generated by infra/tools/render-aws.ts.',
    Parameters: {
      TenantId: {
        Type: 'String',
        AllowedPattern: GUID_PATTERN,
        Description:
          'Entra ID tenant id. The provider URL is https://sts.windows.net/<tenant>/, the issuer of v1 access tokens: the app registration of the audience must keep accessTokenAcceptedVersion 1 (or null).',
      },
      Audience: {
        Type: 'String',
        AllowedPattern: '^[\\w:/.~%+=@-]{1,255}$',
        Description:
          'The application ID URI (or client id) the managed identity asks a token for (AWS_WEB_IDENTITY_AUDIENCE, e.g. api://aws-sentinel-bridge): the provider audience and the pinned aud.',
      },
      ManagedIdentityObjectId: {
        Type: 'String',
        AllowedPattern: GUID_PATTERN,
        Description:
          "Object (principal) id of the Function App's managed identity: the pinned sub. Without it any app of the tenant with a token for the audience could assume the hub role.",
      },
      HubRoleName: { Type: 'String', Default: DEFAULT_HUB_ROLE_NAME, AllowedPattern: ROLE_NAME_PATTERN },
      ResponderRoleName: {
        Type: 'String',
        Default: DEFAULT_RESPONDER_ROLE_NAME,
        AllowedPattern: ROLE_NAME_PATTERN,
        Description: 'Name of the responder role in every member account (AWS_RESPONDER_ROLE_NAME).',
      },
      OrganizationId: {
        Type: 'String',
        Default: '',
        AllowedPattern: '^(o-[a-z0-9]{10,32})?$',
        Description:
          'AWS Organizations id (o-...). When given, the hub role may assume responder roles only in accounts of this organization (aws:ResourceOrgID).',
      },
      CreateOidcProvider: {
        Type: 'String',
        Default: 'true',
        AllowedValues: ['true', 'false'],
        Description:
          'false when this account already has the IAM OIDC provider for https://sts.windows.net/<tenant>/ (one per URL and account): add the audience to its client id list instead.',
      },
    },
    Conditions: {
      CreateProvider: { 'Fn::Equals': [ref('CreateOidcProvider'), 'true'] },
      RestrictToOrganization: { 'Fn::Not': [{ 'Fn::Equals': [ref('OrganizationId'), ''] }] },
    },
    Resources: {
      EntraIdProvider: {
        Type: 'AWS::IAM::OIDCProvider',
        Condition: 'CreateProvider',
        // No ThumbprintList: IAM verifies the Entra ID JWKS endpoint against its library of trusted root CAs
        // (thumbprints are only used for IdPs whose certificate no trusted CA signed), and the property is
        // optional in the resource schema.
        Properties: {
          Url: sub(`https://sts.windows.net/${v('TenantId')}/`),
          ClientIdList: [ref('Audience')],
          Tags: protectedTags,
        },
      },
      HubRole: {
        Type: 'AWS::IAM::Role',
        Properties: {
          RoleName: ref('HubRoleName'),
          Description:
            'aws-sentinel-bridge hub: assumed by the Function App managed identity only (aud and sub pinned); assumes the responder roles.',
          MaxSessionDuration: MAX_SESSION_SECONDS,
          AssumeRolePolicyDocument: {
            'Fn::Sub': [
              JSON.stringify(trust),
              { ProviderArn: ifCondition('CreateProvider', ref('EntraIdProvider'), sub(providerArn)) },
            ],
          },
          Policies: [
            {
              PolicyName: 'assume-responder-roles',
              PolicyDocument: {
                Version: '2012-10-17',
                Statement: [
                  {
                    Sid: 'AssumeResponderRoles',
                    Effect: 'Allow',
                    Action: ['sts:AssumeRole'],
                    // Any account: the member account is the one named in the finding, only known at run time;
                    // the role name is fixed, the organization condition and the responder's account allowlist
                    // bound the accounts, and each responder role trusts this role by ARN.
                    Resource: [sub(`arn:${PARTITION}:iam::*:role/${v('ResponderRoleName')}`)],
                    Condition: ifCondition(
                      'RestrictToOrganization',
                      { StringEquals: { 'aws:ResourceOrgID': ref('OrganizationId') } },
                      NO_VALUE,
                    ),
                  },
                ],
              },
            },
          ],
          Tags: protectedTags,
        },
      },
    },
    Outputs: {
      HubRoleArn: {
        Description: 'AWS_HUB_ROLE_ARN of the Function App, and HubRoleArn of the responder-role StackSet',
        Value: { 'Fn::GetAtt': ['HubRole', 'Arn'] },
      },
      OidcProviderArn: {
        Value: ifCondition('CreateProvider', ref('EntraIdProvider'), sub(providerArn)),
      },
    },
  };
}

/** Every member account's template (StackSets-ready: nothing account-specific): the responder role. */
export function responderRoleTemplate(permissions: readonly string[] = responderPermissions()): Json {
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description:
      'aws-sentinel-bridge responder role (every member account; deploy with a StackSet in one region per account, IAM is global): trusts the hub role only; its permissions are generated from the response catalogue by infra/tools/render-aws.ts.',
    Parameters: {
      HubRoleArn: {
        Type: 'String',
        AllowedPattern: '^arn:aws[a-z-]*:iam::\\d{12}:role/[\\w+=,.@/-]+$',
        Description: 'ARN of the hub role (output HubRoleArn of hub-trust.json).',
      },
      ResponderRoleName: {
        Type: 'String',
        Default: DEFAULT_RESPONDER_ROLE_NAME,
        AllowedPattern: ROLE_NAME_PATTERN,
        Description: 'AWS_RESPONDER_ROLE_NAME of the Function App (same in every account).',
      },
      QuarantineRoleNamePattern: {
        Type: 'String',
        Default: DEFAULT_QUARANTINE_ROLE_PATTERN,
        AllowedPattern: ROLE_PATTERN_PATTERN,
        Description:
          'Name (with path, wildcards allowed after three characters) of the role in the deny-all instance profile that isolate-ec2-instance may swap in (replaceInstanceProfile): the only role it may pass, to EC2 only.',
      },
      ReleasePassRoleNamePattern: {
        Type: 'String',
        Default: '',
        AllowedPattern: `^(${ROLE_PATTERN_PATTERN.slice(1, -1)})?$`,
        Description:
          "Empty (default): releasing an instance profile swap fails at putting the original profile back (AccessDenied; the network is restored first) and an operator restores it. Set to the name pattern of the instances' own roles to let release pass them back, to EC2 only.",
      },
    },
    Conditions: {
      AllowReleasePassRole: { 'Fn::Not': [{ 'Fn::Equals': [ref('ReleasePassRoleNamePattern'), ''] }] },
    },
    Resources: {
      ResponderRole: {
        Type: 'AWS::IAM::Role',
        Properties: {
          RoleName: ref('ResponderRoleName'),
          Description:
            'aws-sentinel-bridge responder: assumed by the hub role only, in sessions named sentinel-<incident> or manual-<actor>.',
          MaxSessionDuration: MAX_SESSION_SECONDS,
          AssumeRolePolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Sid: 'HubRoleOnly',
                Effect: 'Allow',
                Principal: { AWS: ref('HubRoleArn') },
                Action: 'sts:AssumeRole',
                Condition: { StringLike: { 'sts:RoleSessionName': [...SESSION_NAME_PATTERNS] } },
              },
            ],
          },
          Policies: [
            {
              PolicyName: 'sentinel-responder',
              PolicyDocument: {
                Version: '2012-10-17',
                Statement: responderGrants(permissions).map(statement),
              },
            },
          ],
          Tags: protectedTags,
        },
      },
    },
    Outputs: {
      ResponderRoleArn: { Value: { 'Fn::GetAtt': ['ResponderRole', 'Arn'] } },
    },
  };
}

// ------------------------------------------------------------------------------------------ documentation

/** A resource as text: Fn::Sub templates shown as written, `${AWS::AccountId}` as `<account>`. */
function resourceText(resource: Json): string {
  if (typeof resource === 'string') return resource;
  const text =
    typeof resource === 'object' && resource !== null && 'Fn::Sub' in resource
      ? String(resource['Fn::Sub'])
      : typeof resource === 'object' && resource !== null && 'Ref' in resource
        ? `<${String(resource.Ref)}>`
        : JSON.stringify(resource);
  return text
    .replaceAll(v('AWS::Partition'), '<partition>')
    .replaceAll(v('AWS::AccountId'), '<account>')
    .replace(/\$\{(\w+)\}/g, '<$1>');
}

/** Markdown table of every permission both roles get, with its scope and why (for the README). */
export function permissionTable(permissions: readonly string[] = responderPermissions()): string {
  const cell = (text: string): string => text.replace(/\|/g, '\\|');
  const rows = [
    '| Role | Effect | Actions | Resources | Condition | Why |',
    '| --- | --- | --- | --- | --- | --- |',
    `| hub | Allow | \`sts:AssumeRoleWithWebIdentity\` (trust) | the Entra ID OIDC provider | \`aud\` = audience and \`sub\` = Function App identity | the only way into the hub role |`,
    `| hub | Allow | \`sts:AssumeRole\` | \`arn:<partition>:iam::*:role/<ResponderRoleName>\` | \`aws:ResourceOrgID\` (when OrganizationId is given) | the member account is the finding's, known at run time |`,
    `| responder | Allow | \`sts:AssumeRole\` (trust) | the hub role ARN | \`sts:RoleSessionName\` like ${SESSION_NAME_PATTERNS.map((p) => `\`${p}\``).join(', ')} | the only way into the responder role |`,
  ];
  for (const grant of responderGrants(permissions)) {
    rows.push(
      `| responder | ${grant.effect} | ${grant.actions.map((a) => `\`${a}\``).join(', ')} | ${grant.resources
        .map((r) => `\`${cell(resourceText(r))}\``)
        .join(
          ', ',
        )} | ${grant.condition ? `\`${cell(JSON.stringify(grant.condition))}\`` : ''} | ${cell(grant.why)} |`,
    );
  }
  return rows.join('\n');
}

// ------------------------------------------------------------------------------------------------- files

const REPO_ROOT = new URL('../../', import.meta.url);

export const AWS_TEMPLATES: readonly { readonly path: string; readonly render: () => Json }[] = [
  { path: 'infra/aws/hub-trust.json', render: hubTrustTemplate },
  { path: 'infra/aws/responder-role.json', render: () => responderRoleTemplate() },
];

export function readCommitted(path: string): unknown {
  return JSON.parse(readFileSync(new URL(path, REPO_ROOT), 'utf8'));
}

/** Paths of the committed templates that differ (as JSON) from what the code renders. */
export function outdatedTemplates(): string[] {
  return AWS_TEMPLATES.filter(({ path, render }) => {
    try {
      return JSON.stringify(sortKeys(readCommitted(path))) !== JSON.stringify(sortKeys(render()));
    } catch {
      return true;
    }
  }).map(({ path }) => path);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => [k, sortKeys(v)]),
  );
}

/** Writes every template, then formats them with the repository's Biome (its JSON style). */
export function writeTemplates(): string[] {
  const paths = AWS_TEMPLATES.map(({ path, render }) => {
    writeFileSync(new URL(path, REPO_ROOT), `${JSON.stringify(render(), null, 2)}\n`);
    return path;
  });
  const biome = fileURLToPath(new URL('node_modules/@biomejs/biome/bin/biome', REPO_ROOT));
  execFileSync(process.execPath, [biome, 'format', '--write', ...paths], {
    cwd: fileURLToPath(REPO_ROOT),
    stdio: 'ignore',
  });
  return paths;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv.includes('--write')) {
    for (const path of writeTemplates()) console.log(`wrote ${path}`);
  } else {
    const outdated = outdatedTemplates();
    for (const path of outdated) console.error(`${path} is out of date: run npm run docs`);
    if (outdated.length > 0) process.exitCode = 1;
  }
}
