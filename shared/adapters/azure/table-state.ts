import { createHash, randomUUID } from 'node:crypto';
import type { TokenCredential } from '@azure/core-auth';
import { odata, TableClient, type TableServiceClientOptions } from '@azure/data-tables';
import { ConfigError, TransientError, ValidationError } from '../../domain/errors.js';
import type {
  BlastRadiusPort,
  LockPort,
  LockResult,
  NewPlan,
  PlanStatus,
  PlanStorePort,
  ResponseState,
  StoredPlan,
} from '../../ports/response-state.js';

/**
 * Response state in Azure Table Storage (tested against Azurite):
 *  - locks: one entity per target; `createEntity` wins a free lock (409 when held), an expired one is taken
 *    over with `updateEntity(..., 'Replace', { etag })` (412 for every taker but one), release is
 *    `deleteEntity` with the etag this holder wrote (so it never removes a successor's lock);
 *  - blast radius: one entity per action, partition = account, row key = ISO time (sorts by time), counted
 *    with a range query;
 *  - plans: one entity per plan, status changed with an etag-conditional merge.
 * Expiry decisions use this process's clock (`now`); keep TTLs well above the clock skew between instances.
 */

export interface TableNames {
  readonly locks: string;
  readonly actions: string;
  readonly plans: string;
}

export const DEFAULT_TABLE_NAMES: TableNames = {
  locks: 'ResponseLocks',
  actions: 'ResponseActions',
  plans: 'ResponsePlans',
};

export interface ResponseTables {
  readonly locks: TableClient;
  readonly actions: TableClient;
  readonly plans: TableClient;
}

export interface ResponseTablesOptions {
  readonly names?: Partial<TableNames>;
  /** E.g. `{ allowInsecureConnection: true }` for Azurite over http, `retryOptions`. */
  readonly clientOptions?: TableServiceClientOptions;
}

export interface TableStateOptions {
  readonly now?: () => Date;
}

const TABLE_NAME = /^[A-Za-z][A-Za-z0-9]{2,62}$/;
/** Keys up to this many characters are kept as they are (escaped); longer ones are cut and hashed. */
const MAX_KEY_CHARS = 512;
/** Table Storage string properties hold at most 32K UTF-16 characters; plan bodies are split below that. */
const BODY_CHUNK_CHARS = 30_000;
const MAX_BODY_CHUNKS = 15;
const MAX_ATTEMPTS = 5;
const LOCK_ROW = 'lock';
const PLAN_ROW = 'plan';
const PLAN_STATUSES: readonly PlanStatus[] = ['awaiting-approval', 'approved', 'executed', 'rejected'];

function names(options: ResponseTablesOptions): TableNames {
  const chosen = { ...DEFAULT_TABLE_NAMES, ...options.names };
  for (const [role, name] of Object.entries(chosen)) {
    if (!TABLE_NAME.test(name)) {
      throw new ConfigError(`table name for ${role} must be 3-63 letters and digits starting with a letter`);
    }
  }
  return chosen;
}

/** Table clients from a storage connection string (Azurite: pass `allowInsecureConnection: true`). */
export function responseTablesFromConnectionString(
  connectionString: string,
  options: ResponseTablesOptions = {},
): ResponseTables {
  const n = names(options);
  const make = (table: string): TableClient =>
    TableClient.fromConnectionString(connectionString, table, options.clientOptions);
  return { locks: make(n.locks), actions: make(n.actions), plans: make(n.plans) };
}

/**
 * Table clients for `https://<account>.table.core.windows.net` with an Entra credential (the Function App's
 * managed identity; it needs *Storage Table Data Contributor* on the account).
 */
export function responseTablesFromEndpoint(
  endpoint: string,
  credential: TokenCredential,
  options: ResponseTablesOptions = {},
): ResponseTables {
  const n = names(options);
  const make = (table: string): TableClient =>
    new TableClient(endpoint, table, credential, options.clientOptions);
  return { locks: make(n.locks), actions: make(n.actions), plans: make(n.plans) };
}

export function createTableResponseState(
  tables: ResponseTables,
  options: TableStateOptions = {},
): ResponseState {
  return {
    locks: createTableLocks(tables.locks, options),
    blastRadius: createTableBlastRadius(tables.actions),
    plans: createTablePlanStore(tables.plans, options),
  };
}

function isUnsafeKeyChar(code: number): boolean {
  // `/ \ # ?` are refused in keys, as are control characters; `%` is escaped so the mapping is reversible.
  return (
    code === 0x2f ||
    code === 0x5c ||
    code === 0x23 ||
    code === 0x3f ||
    code === 0x25 ||
    code <= 0x1f ||
    (code >= 0x7f && code <= 0x9f)
  );
}

/**
 * A valid PartitionKey / RowKey for any non-empty string: `/ \ # ? %` and control characters become `%XX`;
 * results over 512 characters keep a prefix and a SHA-256 of the whole value (distinct values stay distinct).
 */
export function toTableKey(value: string): string {
  if (value.length === 0) throw new ValidationError('a table key must not be empty', 'key');
  let escaped = '';
  for (const char of value) {
    const code = char.charCodeAt(0);
    escaped += isUnsafeKeyChar(code) ? `%${code.toString(16).toUpperCase().padStart(2, '0')}` : char;
  }
  if (escaped.length <= MAX_KEY_CHARS) return escaped;
  const digest = createHash('sha256').update(value).digest('hex');
  return `${escaped.slice(0, MAX_KEY_CHARS - digest.length - 1)}~${digest}`;
}

function statusOf(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null && 'statusCode' in error) {
    const status = (error as { statusCode: unknown }).statusCode;
    return typeof status === 'number' ? status : undefined;
  }
  return undefined;
}

/** Storage failures in the project's taxonomy; messages never carry the service's response text. */
function storageError(error: unknown, what: string): Error {
  const status = statusOf(error);
  if (status === 401 || status === 403) {
    return new ConfigError(
      `table storage refused to ${what} (status ${status}): check the identity's data role`,
      {
        cause: error,
      },
    );
  }
  if (status === undefined || status === 408 || status === 429 || status >= 500) {
    return new TransientError(`table storage failed to ${what}${status ? ` (status ${status})` : ''}`, {
      cause: error,
    });
  }
  return error instanceof Error
    ? error
    : new TransientError(`table storage failed to ${what}`, { cause: error });
}

/** Creates the table on first use (once per client; a failure is retried by the next call). */
function tableReady(client: TableClient): () => Promise<void> {
  let ready: Promise<void> | undefined;
  return () => {
    ready ??= client.createTable().catch((error: unknown) => {
      ready = undefined;
      throw storageError(error, `create table ${client.tableName}`);
    });
    return ready;
  };
}

function toDate(value: unknown): Date {
  const date = value instanceof Date ? value : new Date(String(value));
  if (Number.isNaN(date.getTime())) throw new TransientError('table storage returned an unreadable date');
  return date;
}

function requireDate(value: Date, field: string): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new ValidationError(`${field} must be a valid date`, field);
  }
  return value;
}

interface LockEntity {
  key: string;
  owner: string;
  lockId: string;
  acquiredAt: Date;
  expiresAt: Date;
}

export function createTableLocks(client: TableClient, options: TableStateOptions = {}): LockPort {
  const now = options.now ?? (() => new Date());
  const ready = tableReady(client);

  const held = (
    partitionKey: string,
    lockId: string,
    etag: string | undefined,
    expiresAt: Date,
  ): LockResult => {
    let released = false;
    return {
      ok: true,
      expiresAt,
      async release(): Promise<void> {
        if (released) return;
        released = true;
        try {
          let version = etag;
          if (version === undefined) {
            const current = await client.getEntity<LockEntity>(partitionKey, LOCK_ROW);
            if (current.lockId !== lockId) return;
            version = current.etag;
          }
          await client.deleteEntity(partitionKey, LOCK_ROW, { etag: version });
        } catch (error) {
          const status = statusOf(error);
          // 404: gone already; 412: expired and taken over by someone else, whose lock stays.
          if (status === 404 || status === 412) return;
          released = false;
          throw storageError(error, 'release a lock');
        }
      },
    };
  };

  return {
    async acquire(key: string, owner: string, ttlMs: number): Promise<LockResult> {
      if (owner.length === 0) throw new ValidationError('a lock owner must not be empty', 'owner');
      if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) {
        throw new ValidationError('a lock TTL must be a positive whole number of milliseconds', 'ttlMs');
      }
      const partitionKey = toTableKey(key);
      await ready();
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const at = now();
        const expiresAt = new Date(at.getTime() + ttlMs);
        const lockId = randomUUID();
        const entity = {
          partitionKey,
          rowKey: LOCK_ROW,
          key: key.slice(0, 1024),
          owner,
          lockId,
          acquiredAt: at,
          expiresAt,
        };
        try {
          const created = await client.createEntity(entity);
          return held(partitionKey, lockId, created.etag, expiresAt);
        } catch (error) {
          if (statusOf(error) !== 409) throw storageError(error, 'create a lock');
        }
        let current: Awaited<ReturnType<typeof client.getEntity<LockEntity>>>;
        try {
          current = await client.getEntity<LockEntity>(partitionKey, LOCK_ROW);
        } catch (error) {
          if (statusOf(error) === 404) continue; // released in between: try to create it again
          throw storageError(error, 'read a lock');
        }
        const currentExpiry = toDate(current.expiresAt);
        if (currentExpiry.getTime() > at.getTime()) {
          return { ok: false, heldBy: String(current.owner), expiresAt: currentExpiry };
        }
        try {
          const replaced = await client.updateEntity(entity, 'Replace', { etag: current.etag });
          return held(partitionKey, lockId, replaced.etag, expiresAt);
        } catch (error) {
          const status = statusOf(error);
          // 412: another taker replaced it first; 404: released in between. Either way: look again.
          if (status !== 412 && status !== 404) throw storageError(error, 'take over an expired lock');
        }
      }
      throw new TransientError('the lock kept changing hands; try again');
    },
  };
}

interface ActionEntity {
  at: Date;
  actionId: string;
}

export function createTableBlastRadius(client: TableClient): BlastRadiusPort {
  const ready = tableReady(client);
  return {
    async record(accountId: string, at: Date, actionId: string): Promise<void> {
      requireDate(at, 'at');
      if (actionId.length === 0) throw new ValidationError('an action id must not be empty', 'actionId');
      await ready();
      const entity = {
        partitionKey: toTableKey(accountId),
        rowKey: toTableKey(`${at.toISOString()}|${actionId}`),
        at,
        actionId: actionId.slice(0, 1024),
      };
      try {
        await client.upsertEntity<ActionEntity>(entity, 'Replace');
      } catch (error) {
        throw storageError(error, 'record an action');
      }
    },

    async count(accountId: string, since: Date): Promise<number> {
      requireDate(since, 'since');
      await ready();
      const partitionKey = toTableKey(accountId);
      const filter = odata`PartitionKey eq ${partitionKey} and RowKey ge ${since.toISOString()}`;
      let total = 0;
      try {
        for await (const _ of client.listEntities({ queryOptions: { filter, select: ['RowKey'] } })) total++;
      } catch (error) {
        throw storageError(error, 'count actions');
      }
      return total;
    },

    async forget(accountId: string, at: Date, actionId: string): Promise<void> {
      requireDate(at, 'at');
      await ready();
      try {
        await client.deleteEntity(toTableKey(accountId), toTableKey(`${at.toISOString()}|${actionId}`));
      } catch (error) {
        if (statusOf(error) === 404) return;
        throw storageError(error, 'forget an action');
      }
    },
  };
}

interface PlanEntity {
  id: string;
  status: string;
  createdAt: Date;
  expiresAt: Date;
  bodyChunks: number;
  statusChangedAt?: Date;
  statusChangedBy?: string;
}

function isPlanStatus(value: unknown): value is PlanStatus {
  return typeof value === 'string' && (PLAN_STATUSES as readonly string[]).includes(value);
}

function requireStatus(value: PlanStatus, field: string): PlanStatus {
  if (!isPlanStatus(value))
    throw new ValidationError(`${field} must be one of ${PLAN_STATUSES.join(', ')}`, field);
  return value;
}

function bodyChunks(body: unknown): Record<`body${number}`, string> & { bodyChunks: number } {
  const text = JSON.stringify(body) ?? 'null';
  const count = Math.max(1, Math.ceil(text.length / BODY_CHUNK_CHARS));
  if (count > MAX_BODY_CHUNKS) {
    throw new ValidationError(
      `a plan body must be at most ${MAX_BODY_CHUNKS * BODY_CHUNK_CHARS} characters of JSON`,
      'body',
    );
  }
  const chunks: Record<`body${number}`, string> = {};
  for (let i = 0; i < count; i++)
    chunks[`body${i}`] = text.slice(i * BODY_CHUNK_CHARS, (i + 1) * BODY_CHUNK_CHARS);
  return { ...chunks, bodyChunks: count };
}

function readBody(entity: PlanEntity): unknown {
  const chunks = entity as unknown as Record<string, unknown>;
  let text = '';
  for (let i = 0; i < entity.bodyChunks; i++) {
    const chunk = chunks[`body${i}`];
    if (typeof chunk !== 'string') throw new TransientError('a stored plan body is incomplete');
    text += chunk;
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new TransientError('a stored plan body does not parse', { cause: error });
  }
}

export function createTablePlanStore(client: TableClient, options: TableStateOptions = {}): PlanStorePort {
  const now = options.now ?? (() => new Date());
  const ready = tableReady(client);

  const read = async (id: string) => {
    try {
      return await client.getEntity<PlanEntity>(toTableKey(id), PLAN_ROW);
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw storageError(error, 'read a plan');
    }
  };

  return {
    async save(plan: NewPlan): Promise<boolean> {
      if (plan.id.length === 0) throw new ValidationError('a plan id must not be empty', 'id');
      requireStatus(plan.status, 'status');
      requireDate(plan.createdAt, 'createdAt');
      requireDate(plan.expiresAt, 'expiresAt');
      const entity = {
        partitionKey: toTableKey(plan.id),
        rowKey: PLAN_ROW,
        id: plan.id,
        status: plan.status,
        createdAt: plan.createdAt,
        expiresAt: plan.expiresAt,
        ...bodyChunks(plan.body),
      };
      await ready();
      try {
        await client.createEntity(entity);
        return true;
      } catch (error) {
        if (statusOf(error) === 409) return false;
        throw storageError(error, 'save a plan');
      }
    },

    async get(id: string): Promise<StoredPlan | undefined> {
      if (id.length === 0) return undefined;
      await ready();
      const entity = await read(id);
      if (entity === undefined) return undefined;
      if (!isPlanStatus(entity.status)) throw new TransientError('a stored plan has an unknown status');
      return {
        id: entity.id,
        status: entity.status,
        body: readBody(entity),
        createdAt: toDate(entity.createdAt),
        expiresAt: toDate(entity.expiresAt),
        ...(entity.statusChangedAt !== undefined ? { statusChangedAt: toDate(entity.statusChangedAt) } : {}),
        ...(entity.statusChangedBy ? { statusChangedBy: entity.statusChangedBy } : {}),
      };
    },

    async transition(id: string, from: PlanStatus, to: PlanStatus, by?: string): Promise<boolean> {
      requireStatus(from, 'from');
      requireStatus(to, 'to');
      if (from === to) throw new ValidationError('a transition must change the status', 'to');
      if (id.length === 0) return false;
      await ready();
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const current = await read(id);
        if (current === undefined || current.status !== from) return false;
        try {
          await client.updateEntity(
            {
              partitionKey: toTableKey(id),
              rowKey: PLAN_ROW,
              status: to,
              statusChangedAt: now(),
              statusChangedBy: (by ?? '').slice(0, 1024),
            },
            'Merge',
            { etag: current.etag },
          );
          return true;
        } catch (error) {
          const status = statusOf(error);
          if (status === 404) return false;
          if (status !== 412) throw storageError(error, 'change a plan status');
          // 412: someone changed it since the read; read again (it is most likely no longer `from`).
        }
      }
      throw new TransientError('the plan kept changing; try again');
    },
  };
}
