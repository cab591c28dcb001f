import type { CatalogueEntry } from '../domain/respond/planner.js';
import { archiveGuardDutyFindingAction } from './actions/archive-guardduty-finding.js';
import { deactivateAccessKeyAction } from './actions/deactivate-access-key.js';
import { disableConsoleLoginAction } from './actions/disable-console-login.js';
import { isolateEc2InstanceAction } from './actions/isolate-ec2-instance.js';
import { quarantineIamUserAction } from './actions/quarantine-iam-user.js';
import { revokeRoleSessionsAction } from './actions/revoke-role-sessions.js';
import type { Registry } from './executor.js';
import type { ActionModule } from './types.js';

/** The response catalogue: one module per action. Adding an action means adding it here, nothing else. */
export const ACTIONS: readonly ActionModule[] = [
  isolateEc2InstanceAction,
  deactivateAccessKeyAction,
  revokeRoleSessionsAction,
  quarantineIamUserAction,
  disableConsoleLoginAction,
  archiveGuardDutyFindingAction,
];

export function createRegistry(actions: readonly ActionModule[] = ACTIONS): Registry {
  const byName = new Map(actions.map((a) => [a.name, a]));
  if (byName.size !== actions.length) throw new Error('two catalogue actions share a name');
  return {
    get: (name) => byName.get(name),
    names: () => [...byName.keys()],
  };
}

/** What the planner needs of each action. */
export function catalogueEntries(actions: readonly ActionModule[] = ACTIONS): CatalogueEntry[] {
  return actions.map((a) => ({
    name: a.name,
    targetKind: a.targetKind,
    irreversible: a.irreversible,
    containment: a.containment,
  }));
}

/** Every IAM action the responder role needs: the union of the catalogue's permissions (sorted, unique). */
export function responderPermissions(actions: readonly ActionModule[] = ACTIONS): string[] {
  return [...new Set(actions.flatMap((a) => [...a.permissions.execute, ...a.permissions.release]))].sort();
}
