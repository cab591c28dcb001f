/**
 * The few ARM template building blocks the Azure generator needs: JSON types, expression helpers and the
 * role assignment shape every grant of the template uses (deterministic `guid()` name, role id from a named
 * variable, scope = exactly one resource).
 */

export type Json = string | number | boolean | null | readonly Json[] | JsonObject;
export interface JsonObject {
  readonly [key: string]: Json;
}

/** An ARM template expression: `[...]` around the expression text. */
export const expr = (text: string): string => `[${text}]`;
export const param = (name: string): string => `parameters('${name}')`;
export const variable = (name: string): string => `variables('${name}')`;
/** A quoted ARM string literal (single quotes doubled). */
export const lit = (text: string): string => `'${text.replace(/'/g, "''")}'`;

/** `resourceId('<type>', <name expressions...>)` of a resource of this resource group. */
export const resourceId = (type: string, ...names: readonly string[]): string =>
  `resourceId(${[lit(type), ...names].join(', ')})`;

/** The principal id of a resource's system-assigned identity (known once the resource exists). */
export const principalIdOf = (type: string, name: string, apiVersion: string): string =>
  `reference(${resourceId(type, name)}, ${lit(apiVersion)}, 'full').identity.principalId`;

/** A grant on exactly one resource: `type` (e.g. `Microsoft.Insights/dataCollectionRules`) and its name expression. */
export interface RoleScope {
  readonly type: string;
  readonly name: string;
}

export interface RoleGrant {
  /** Template variable holding the built-in role definition GUID. */
  readonly roleVariable: string;
  readonly scope: RoleScope;
  /** Expression of the principal's object id. */
  readonly principalId: string;
  /** Expression that makes the assignment name unique per principal; must be known at template start. */
  readonly principalKey: string;
  readonly description: string;
  readonly dependsOn: readonly string[];
}

/** Relative id of the scope resource, the form an extension resource's `scope` takes. */
export const scopeOf = (scope: RoleScope): string => `format(${lit(`${scope.type}/{0}`)}, ${scope.name})`;

export function roleAssignment(grant: RoleGrant): JsonObject {
  return {
    type: 'Microsoft.Authorization/roleAssignments',
    apiVersion: '2022-04-01',
    name: expr(
      `guid(${resourceId(grant.scope.type, grant.scope.name)}, ${grant.principalKey}, ${variable(grant.roleVariable)})`,
    ),
    scope: expr(scopeOf(grant.scope)),
    dependsOn: [...grant.dependsOn],
    properties: {
      roleDefinitionId: expr(
        `subscriptionResourceId('Microsoft.Authorization/roleDefinitions', ${variable(grant.roleVariable)})`,
      ),
      principalId: expr(grant.principalId),
      principalType: 'ServicePrincipal',
      description: grant.description,
    },
  };
}
