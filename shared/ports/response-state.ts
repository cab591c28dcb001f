/**
 * Durable state the response executor shares between concurrent runs (several Function instances, the CLI):
 * target locks, the per-account blast-radius window and plans held for approval. Pure interfaces; the
 * Azure Table Storage adapter is `shared/adapters/azure/table-state.ts`.
 */

/** A lock this caller holds until `release()` or `expiresAt`, whichever comes first. */
export interface LockHeld {
  readonly ok: true;
  readonly expiresAt: Date;
  /**
   * Gives the lock up. Idempotent; never removes a lock someone else took over after this one expired
   * (the delete is conditional on the version this caller wrote).
   */
  release(): Promise<void>;
}

/** The lock is held by someone else (or by the same owner in another run: locks are not re-entrant). */
export interface LockRefused {
  readonly ok: false;
  readonly heldBy: string;
  readonly expiresAt: Date;
}

export type LockResult = LockHeld | LockRefused;

/**
 * Mutual exclusion per target, e.g. `111122223333:us-east-1:isolate-ec2-instance:i-0abc`, so two concurrent
 * runs for the same target cannot both act. A lock past its `expiresAt` can be taken over; of several
 * concurrent takers exactly one wins.
 */
export interface LockPort {
  acquire(key: string, owner: string, ttlMs: number): Promise<LockResult>;
}

/** Containment actions per account in a sliding window; the executor applies the cap (e.g. 5 per 15 min). */
export interface BlastRadiusPort {
  /** Records one action. Recording the same `actionId` at the same `at` twice counts once. */
  record(accountId: string, at: Date, actionId: string): Promise<void>;
  /** Actions recorded for the account at or after `since`. */
  count(accountId: string, since: Date): Promise<number>;
  /** Gives back a slot recorded with `record` (the run changed nothing). Idempotent. */
  forget(accountId: string, at: Date, actionId: string): Promise<void>;
}

export type PlanStatus = 'awaiting-approval' | 'approved' | 'executed' | 'rejected';

export interface StoredPlan {
  readonly id: string;
  readonly status: PlanStatus;
  /** Any JSON value; the caller validates it when reading back. */
  readonly body: unknown;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  /** When and by whom the status last changed (absent until the first transition). */
  readonly statusChangedAt?: Date;
  readonly statusChangedBy?: string;
}

export type NewPlan = Pick<StoredPlan, 'id' | 'status' | 'body' | 'createdAt' | 'expiresAt'>;

/** Plans held for approval. Expiry is reported (`expiresAt`), not enforced: the caller refuses stale plans. */
export interface PlanStorePort {
  /** Stores a new plan; false (and nothing changes) when a plan with this id exists. */
  save(plan: NewPlan): Promise<boolean>;
  get(id: string): Promise<StoredPlan | undefined>;
  /**
   * Moves the plan from `from` to `to` atomically; false when the plan does not exist or its status was not
   * `from` (so of concurrent approvals exactly one returns true, and a plan is executed once).
   */
  transition(id: string, from: PlanStatus, to: PlanStatus, by?: string): Promise<boolean>;
}

/** The three stores together, as the composition root hands them to the executor. */
export interface ResponseState {
  readonly locks: LockPort;
  readonly blastRadius: BlastRadiusPort;
  readonly plans: PlanStorePort;
}
