import { describe, expect, it } from '@jest/globals';
import * as z from 'zod';
import { TARGET_KINDS } from '../../shared/domain/respond/targets.js';
import { ACTIONS, createRegistry, responderPermissions } from '../../shared/respond/registry.js';

describe('response catalogue conformance', () => {
  it.each(ACTIONS.map((a) => [a.name, a] as const))(
    '%s declares everything the registry, docs and IAM need',
    (name, action) => {
      expect(name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)+$/);
      expect(action.summary.length).toBeGreaterThan(10);
      expect(action.docs.length).toBeGreaterThan(200);
      expect(Object.keys(TARGET_KINDS)).toContain(action.targetKind);
      expect(action.permissions.execute.length).toBeGreaterThan(0);
      for (const permission of [...action.permissions.execute, ...action.permissions.release]) {
        expect(permission).toMatch(/^(ec2|iam|guardduty|autoscaling|elasticloadbalancing):[A-Z][A-Za-z]+$/);
      }
      // Reversible or explicitly irreversible, never neither.
      if (action.irreversible) {
        expect(action.release).toBeUndefined();
        expect(action.permissions.release).toEqual([]);
      } else {
        expect(typeof action.release).toBe('function');
        expect(action.permissions.release.length).toBeGreaterThan(0);
      }
      // The input schema takes the target kind's example and refuses a malformed target.
      expect(action.input.safeParse({ target: TARGET_KINDS[action.targetKind].example }).success).toBe(true);
      expect(action.input.safeParse({ target: 'not a valid id!' }).success).toBe(false);
      expect(() => z.toJSONSchema(action.input, { io: 'input' })).not.toThrow();
    },
  );

  it('rejects unknown names and lists the valid ones', () => {
    const registry = createRegistry();
    expect(registry.get('nuke-account')).toBeUndefined();
    expect(registry.names()).toEqual(ACTIONS.map((a) => a.name));
    expect(() => createRegistry([...ACTIONS, ...ACTIONS.slice(0, 1)])).toThrow(/share a name/);
  });

  it('derives one responder permission list without wildcards', () => {
    const permissions = responderPermissions();
    expect(permissions).toEqual([...new Set(permissions)].sort());
    expect(permissions.some((p) => p.includes('*'))).toBe(false);
    expect(permissions).toContain('ec2:ModifyNetworkInterfaceAttribute');
    expect(permissions).toContain('iam:UpdateAccessKey');
    expect(permissions).not.toContain('iam:DeleteAccessKey');
  });
});
