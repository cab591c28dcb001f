/**
 * The response state adapter (locks, blast radius, plans) against Azurite's table service, a real Table
 * Storage implementation with etags and conditional writes. Each test uses its own tables.
 */
import type { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  createTableBlastRadius,
  createTableLocks,
  createTablePlanStore,
  createTableResponseState,
  type ResponseTables,
  responseTablesFromConnectionString,
  toTableKey,
} from '../../shared/adapters/azure/table-state.js';
import { ConfigError, ValidationError } from '../../shared/domain/errors.js';
import type { LockHeld, LockResult, NewPlan } from '../../shared/ports/response-state.js';
import { type Azurite, startAzurite } from '../support/azurite.js';

let azurite: Azurite;
let tableCount = 0;

beforeAll(async () => {
  azurite = await startAzurite();
});

afterAll(async () => {
  await azurite.stop();
});

/** Fresh tables for one test. */
function tables(): ResponseTables {
  tableCount++;
  return responseTablesFromConnectionString(azurite.connectionString, {
    names: { locks: `Locks${tableCount}`, actions: `Actions${tableCount}`, plans: `Plans${tableCount}` },
    clientOptions: { allowInsecureConnection: true, retryOptions: { maxRetries: 0 } },
  });
}

/** Each call builds its own client, as separate Function instances would. */
function clientsOf(pick: (t: ResponseTables) => TableClient, count: number): TableClient[] {
  const first = tables();
  const name = pick(first).tableName;
  return Array.from({ length: count }, (_, i) =>
    i === 0
      ? pick(first)
      : pick(
          responseTablesFromConnectionString(azurite.connectionString, {
            names: { locks: name, actions: name, plans: name },
            clientOptions: { allowInsecureConnection: true },
          }),
        ),
  );
}

function clock(start: string): { now: () => Date; advance(ms: number): void } {
  let t = Date.parse(start);
  return {
    now: () => new Date(t),
    advance(ms: number) {
      t += ms;
    },
  };
}

function expectHeld(result: LockResult): LockHeld {
  if (!result.ok) throw new Error(`expected to hold the lock, it is held by ${result.heldBy}`);
  return result;
}

const TARGET = '111122223333:us-east-1:isolate-ec2-instance:i-0abc1234def567890';

describe('table keys', () => {
  it('escapes the characters Table Storage refuses and keeps the mapping reversible', () => {
    expect(toTableKey('a/b\\c#d?e%f')).toBe('a%2Fb%5Cc%23d%3Fe%25f');
    expect(toTableKey('tab\tnl\ndel\u007fc1\u0085')).toBe('tab%09nl%0Adel%7Fc1%85');
    expect(toTableKey('a%2Fb')).not.toBe(toTableKey('a/b'));
    expect(toTableKey('arn:aws:iam::111122223333:role/ops ünïcødé 🔒')).toBe(
      'arn:aws:iam::111122223333:role%2Fops ünïcødé 🔒',
    );
  });

  it('shortens long keys with a hash so distinct values stay distinct', () => {
    const long = 'x'.repeat(2000);
    expect(toTableKey(long).length).toBeLessThanOrEqual(512);
    expect(toTableKey(long)).not.toBe(toTableKey(`${long}y`));
    expect(toTableKey(long)).toBe(toTableKey('x'.repeat(2000)));
  });

  it('refuses an empty key', () => {
    expect(() => toTableKey('')).toThrow(ValidationError);
  });
});

describe('target locks', () => {
  it('lets exactly one of ten concurrent acquirers win', async () => {
    const clients = clientsOf((t) => t.locks, 10);
    const locks = clients.map((client) => createTableLocks(client));
    const results = await Promise.all(locks.map((lock, i) => lock.acquire(TARGET, `run-${i}`, 60_000)));
    const winners = results.filter((r) => r.ok);
    expect(winners).toHaveLength(1);
    const winner = results.findIndex((r) => r.ok);
    for (const r of results) {
      if (!r.ok) expect(r.heldBy).toBe(`run-${winner}`);
    }
  });

  it('refuses a held lock with its holder and expiry, also to the same owner', async () => {
    const time = clock('2026-12-03T10:00:00Z');
    const locks = createTableLocks(tables().locks, { now: time.now });
    const first = expectHeld(await locks.acquire(TARGET, 'run-a', 60_000));
    expect(first.expiresAt).toEqual(new Date('2026-12-03T10:01:00Z'));
    time.advance(30_000);
    expect(await locks.acquire(TARGET, 'run-b', 60_000)).toEqual({
      ok: false,
      heldBy: 'run-a',
      expiresAt: new Date('2026-12-03T10:01:00Z'),
    });
    expect((await locks.acquire(TARGET, 'run-a', 60_000)).ok).toBe(false);
  });

  it('keeps locks on different targets independent', async () => {
    const locks = createTableLocks(tables().locks);
    expectHeld(await locks.acquire(`${TARGET}-1`, 'run-a', 60_000));
    expectHeld(await locks.acquire(`${TARGET}-2`, 'run-b', 60_000));
    expectHeld(
      await locks.acquire('111122223333:us-east-1:revoke-role-sessions:role/a#b?c', 'run-c', 60_000),
    );
    expect((await locks.acquire('111122223333:us-east-1:revoke-role-sessions:role/a#b?c', 'x', 1)).ok).toBe(
      false,
    );
  });

  it('hands an expired lock to exactly one of ten concurrent takers', async () => {
    const time = clock('2026-12-03T10:00:00Z');
    const clients = clientsOf((t) => t.locks, 10);
    const locks = clients.map((client) => createTableLocks(client, { now: time.now }));
    const [firstLocks] = locks;
    if (firstLocks === undefined) throw new Error('no lock clients');
    const stale = expectHeld(await firstLocks.acquire(TARGET, 'crashed-run', 1_000));
    time.advance(1_001);
    const results = await Promise.all(locks.map((lock, i) => lock.acquire(TARGET, `taker-${i}`, 60_000)));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    const winner = results.findIndex((r) => r.ok);
    for (const r of results) {
      if (!r.ok) expect(r.heldBy).toBe(`taker-${winner}`);
    }
    // The crashed run coming back to release must not free the new holder's lock.
    await stale.release();
    expect(await firstLocks.acquire(TARGET, 'late', 60_000)).toMatchObject({
      ok: false,
      heldBy: `taker-${winner}`,
    });
  });

  it('frees the lock on release, and a second release changes nothing', async () => {
    const locks = createTableLocks(tables().locks);
    const first = expectHeld(await locks.acquire(TARGET, 'run-a', 60_000));
    await first.release();
    const second = expectHeld(await locks.acquire(TARGET, 'run-b', 60_000));
    await first.release();
    expect(await locks.acquire(TARGET, 'run-c', 60_000)).toMatchObject({ ok: false, heldBy: 'run-b' });
    await second.release();
    expectHeld(await locks.acquire(TARGET, 'run-c', 60_000));
  });

  it('refuses an empty owner and a TTL that is not a positive whole number', async () => {
    const locks = createTableLocks(tables().locks);
    await expect(locks.acquire(TARGET, '', 1_000)).rejects.toThrow(ValidationError);
    await expect(locks.acquire(TARGET, 'run', 0)).rejects.toThrow(ValidationError);
    await expect(locks.acquire(TARGET, 'run', Number.NaN)).rejects.toThrow(ValidationError);
    await expect(locks.acquire('', 'run', 1_000)).rejects.toThrow(ValidationError);
  });
});

describe('blast radius', () => {
  const minute = 60_000;
  const t0 = Date.parse('2026-12-03T10:00:00Z');
  const at = (minutes: number): Date => new Date(t0 + minutes * minute);

  it('counts the actions of one account inside the window', async () => {
    const blast = createTableBlastRadius(tables().actions);
    for (const [i, m] of [0, 5, 10, 14, 20].entries())
      await blast.record('111122223333', at(m), `action-${i}`);
    await blast.record('444455556666', at(12), 'other-account');
    expect(await blast.count('111122223333', at(-1))).toBe(5);
    expect(await blast.count('111122223333', at(5))).toBe(4); // the start of the window is inclusive
    expect(await blast.count('111122223333', at(6))).toBe(3);
    expect(await blast.count('111122223333', at(14))).toBe(2);
    expect(await blast.count('111122223333', at(21))).toBe(0);
    expect(await blast.count('444455556666', at(0))).toBe(1);
    expect(await blast.count('777788889999', at(0))).toBe(0);
  });

  it('counts an action recorded twice once and concurrent records all', async () => {
    const blast = createTableBlastRadius(tables().actions);
    await blast.record('111122223333', at(1), 'isolate/i-0abc#1');
    await blast.record('111122223333', at(1), 'isolate/i-0abc#1');
    await Promise.all(
      Array.from({ length: 8 }, (_, i) => blast.record('111122223333', at(2), `concurrent-${i}`)),
    );
    expect(await blast.count('111122223333', at(0))).toBe(9);
  });

  it('refuses invalid dates and empty ids', async () => {
    const blast = createTableBlastRadius(tables().actions);
    await expect(blast.record('111122223333', new Date(Number.NaN), 'a')).rejects.toThrow(ValidationError);
    await expect(blast.record('111122223333', at(0), '')).rejects.toThrow(ValidationError);
    await expect(blast.count('111122223333', new Date('nope'))).rejects.toThrow(ValidationError);
  });
});

describe('plans', () => {
  const plan = (id: string, body: unknown = { actions: [{ name: 'isolate-ec2-instance' }] }): NewPlan => ({
    id,
    status: 'awaiting-approval',
    body,
    createdAt: new Date('2026-12-03T10:00:00Z'),
    expiresAt: new Date('2026-12-04T10:00:00Z'),
  });

  it('stores a plan and reads it back as saved', async () => {
    const plans = createTablePlanStore(tables().plans);
    expect(await plans.save(plan('plan-1'))).toBe(true);
    expect(await plans.get('plan-1')).toEqual(plan('plan-1'));
    expect(await plans.get('plan-2')).toBeUndefined();
  });

  it('keeps the first plan when an id is saved twice', async () => {
    const plans = createTablePlanStore(tables().plans);
    expect(await plans.save(plan('plan-1', { v: 1 }))).toBe(true);
    expect(await plans.save(plan('plan-1', { v: 2 }))).toBe(false);
    expect((await plans.get('plan-1'))?.body).toEqual({ v: 1 });
  });

  it('round-trips a body larger than one table property and ids with reserved characters', async () => {
    const plans = createTablePlanStore(tables().plans);
    const body = {
      calls: Array.from({ length: 3_000 }, (_, i) => ({ op: 'CreateSnapshot', volume: `vol-${i}` })),
    };
    expect(JSON.stringify(body).length).toBeGreaterThan(100_000);
    expect(await plans.save(plan('incident/4242#plan?1', body))).toBe(true);
    expect((await plans.get('incident/4242#plan?1'))?.body).toEqual(body);
  });

  it('refuses a body too large for one entity', async () => {
    const plans = createTablePlanStore(tables().plans);
    await expect(plans.save(plan('huge', 'x'.repeat(500_000)))).rejects.toThrow(ValidationError);
  });

  it('approves a plan once however many approvers race, then executes it once', async () => {
    const time = clock('2026-12-03T10:05:00Z');
    const clients = clientsOf((t) => t.plans, 10);
    const stores = clients.map((client) => createTablePlanStore(client, { now: time.now }));
    const [store] = stores;
    if (store === undefined) throw new Error('no plan stores');
    await store.save(plan('plan-1'));

    const approvals = await Promise.all(
      stores.map((s, i) => s.transition('plan-1', 'awaiting-approval', 'approved', `approver-${i}`)),
    );
    expect(approvals.filter(Boolean)).toHaveLength(1);
    const approver = approvals.indexOf(true);
    expect(await store.get('plan-1')).toMatchObject({
      status: 'approved',
      statusChangedBy: `approver-${approver}`,
    });
    const executions = await Promise.all(stores.map((s) => s.transition('plan-1', 'approved', 'executed')));
    expect(executions.filter(Boolean)).toHaveLength(1);

    expect(await store.transition('plan-1', 'awaiting-approval', 'rejected')).toBe(false);
    const stored = await store.get('plan-1');
    expect(stored).toMatchObject({ status: 'executed', statusChangedAt: new Date('2026-12-03T10:05:00Z') });
    expect(stored?.statusChangedBy).toBeUndefined();
  });

  it('records who changed the status', async () => {
    const plans = createTablePlanStore(tables().plans);
    await plans.save(plan('plan-1'));
    expect(await plans.transition('plan-1', 'awaiting-approval', 'rejected', 'analyst@contoso.com')).toBe(
      true,
    );
    expect(await plans.get('plan-1')).toMatchObject({
      status: 'rejected',
      statusChangedBy: 'analyst@contoso.com',
    });
  });

  it('does not transition a plan that does not exist, and refuses a transition to the same status', async () => {
    const plans = createTablePlanStore(tables().plans);
    expect(await plans.transition('missing', 'awaiting-approval', 'approved')).toBe(false);
    await expect(plans.transition('missing', 'approved', 'approved')).rejects.toThrow(ValidationError);
  });
});

describe('composition', () => {
  it('builds all three stores over one set of tables', async () => {
    const state = createTableResponseState(tables());
    expectHeld(await state.locks.acquire(TARGET, 'run', 60_000));
    await state.blastRadius.record('111122223333', new Date(), 'a');
    expect(await state.blastRadius.count('111122223333', new Date(Date.now() - 60_000))).toBe(1);
    expect(await state.plans.save(approvedPlan('p'))).toBe(true);
    expect((await state.plans.get('p'))?.body).toBeNull();
  });

  it('refuses table names Table Storage would refuse', () => {
    expect(() =>
      responseTablesFromConnectionString(azurite.connectionString, { names: { locks: 'response-locks' } }),
    ).toThrow(ConfigError);
  });
});

function approvedPlan(id: string): NewPlan {
  return {
    id,
    status: 'approved',
    body: null,
    createdAt: new Date('2026-12-03T10:00:00Z'),
    expiresAt: new Date('2026-12-04T10:00:00Z'),
  };
}
