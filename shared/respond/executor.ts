import { ACCOUNT_ID, REGION } from '../domain/respond/targets.js';
import type { BlastRadiusPort, LockPort } from '../ports/response-state.js';
import { createActionContext } from './context.js';
import type {
  ActionContext,
  ActionModule,
  ActionOutcome,
  AwsClients,
  IncidentRef,
  ProtectedTag,
  RefusalCode,
} from './types.js';
import { DEFAULT_PROTECTED_TAG } from './types.js';

export interface Registry {
  get(name: string): ActionModule | undefined;
  names(): readonly string[];
}

export interface ActionRequest {
  readonly action: string;
  readonly accountId: string;
  readonly region: string;
  readonly target: string;
  readonly options?: Readonly<Record<string, unknown>>;
  readonly incident?: IncidentRef;
  readonly reason: string;
  readonly dryRun?: boolean;
  /** Run the action's release instead of its execute. */
  readonly release?: boolean;
  /** Set by the approval flow: the run was approved by an Approver. */
  readonly approved?: boolean;
  /** Who asked (user principal name, app id, `cli`), for the audit. */
  readonly actor: string;
}

/** Receives every outcome with its calls (the audit table). */
export interface AuditSink {
  record(
    outcome: ActionOutcome,
    meta: { readonly actor: string; readonly correlationId: string; readonly at: Date },
  ): Promise<void>;
}

export interface ExecutorDeps {
  readonly registry: Registry;
  /** SDK clients for an account and region, assuming the responder role with this session name. */
  readonly clientsFor: (accountId: string, region: string, sessionName: string) => AwsClients;
  /** Accounts the responder may act in; undefined = any (the CLI with the operator's own credentials). */
  readonly allowedAccounts?: readonly string[];
  readonly protectedTag?: ProtectedTag;
  readonly blastRadius?: {
    readonly port: BlastRadiusPort;
    readonly maxContainments: number;
    readonly windowMinutes: number;
  };
  readonly locks?: LockPort;
  readonly audit?: AuditSink;
  readonly now?: () => Date;
  readonly newId?: () => string;
  /** How long a target stays locked by a run that died (default 5 minutes). */
  readonly lockTtlMs?: number;
}

/** Session names show in the member account's CloudTrail: who acted and why (`sentinel-4242`, `manual-alice`). */
export function sessionName(request: Pick<ActionRequest, 'incident' | 'actor'>): string {
  const raw =
    request.incident?.number !== undefined
      ? `sentinel-${request.incident.number}`
      : `manual-${request.actor || 'unknown'}`;
  const cleaned = raw.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
  return cleaned.length >= 2 ? cleaned : `${cleaned}--`;
}

function refusal(
  request: ActionRequest,
  code: RefusalCode,
  reason: string,
  extra: Partial<ActionOutcome> = {},
): ActionOutcome {
  return {
    status: 'refused',
    action: request.action,
    target: request.target,
    accountId: request.accountId,
    region: request.region,
    ...(request.incident ? { incident: request.incident } : {}),
    reason,
    refusal: code,
    calls: [],
    ...extra,
  };
}

/**
 * Runs one action (or its release) under every safety rule, in this order, refusing before any AWS call:
 * known action; well-formed account, region and input; account allowlist; irreversible actions only when
 * approved; the blast-radius cap (a containment beyond it is held for approval); one run per target at a
 * time (lock). Then the action reads, acts (or records the calls of a dry run) and verifies; the outcome
 * and every call go to the audit.
 */
export async function runAction(request: ActionRequest, deps: ExecutorDeps): Promise<ActionOutcome> {
  const now = deps.now ?? (() => new Date());
  const module = deps.registry.get(request.action);
  if (!module)
    return refusal(
      request,
      'unknown-action',
      `unknown action "${request.action}"; valid actions: ${deps.registry.names().join(', ')}`,
    );
  if (!ACCOUNT_ID.test(request.accountId))
    return refusal(
      request,
      'invalid-input',
      `account "${request.accountId}" is not a 12-digit AWS account id`,
    );
  if (!REGION.test(request.region))
    return refusal(request, 'invalid-input', `region "${request.region}" is not an AWS region name`);
  const parsed = module.input.safeParse({ ...(request.options ?? {}), target: request.target });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return refusal(
      request,
      'invalid-input',
      `invalid input${issue?.path.length ? ` at ${issue.path.join('.')}` : ''}: ${issue?.message ?? 'invalid'}`,
    );
  }
  if (deps.allowedAccounts && !deps.allowedAccounts.includes(request.accountId)) {
    return refusal(request, 'not-allowed', `account ${request.accountId} is not in the allowlist`);
  }
  if (request.release && !module.release) {
    return refusal(request, 'invalid-input', `${module.name} is irreversible: it has no release`, {
      irreversible: true,
    });
  }
  if (module.irreversible && !request.release && !request.approved && !request.dryRun) {
    return refusal(
      request,
      'approval-required',
      `${module.name} is irreversible and runs only after approval`,
      {
        awaitingApproval: true,
        irreversible: true,
      },
    );
  }
  const correlationId =
    deps.newId?.() ?? `${now().getTime().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
  const countsTowardCap = module.containment && !request.release && !request.dryRun;
  // One run per target at a time: taken before anything else, so a run that loses the race changes nothing
  // and takes no blast-radius slot.
  let unlock: (() => Promise<void>) | undefined;
  if (deps.locks && !request.dryRun) {
    const key = `${request.accountId}:${request.region}:${module.name}:${request.target}`;
    const lock = await deps.locks.acquire(key, correlationId, deps.lockTtlMs ?? 300_000);
    if (!lock.ok) {
      return refusal(
        request,
        'conflict',
        `another run is acting on this target (until ${lock.expiresAt.toISOString()})`,
      );
    }
    unlock = lock.release;
  }
  const context = (dryRun: boolean): ActionContext =>
    createActionContext({
      accountId: request.accountId,
      region: request.region,
      clients: deps.clientsFor(request.accountId, request.region, sessionName(request)),
      reason: request.reason,
      dryRun,
      protectedTag: deps.protectedTag ?? DEFAULT_PROTECTED_TAG,
      now,
      ...(request.incident ? { incident: request.incident } : {}),
    });
  const run = request.release ? module.release : module.execute;
  const finish = async (outcome: ActionOutcome): Promise<ActionOutcome> => {
    const final: ActionOutcome = module.irreversible ? { ...outcome, irreversible: true } : outcome;
    await deps.audit?.record(final, { actor: request.actor, correlationId, at: now() });
    return final;
  };
  try {
    if (!run) return refusal(request, 'invalid-input', 'no release');
    let slot: Date | undefined;
    if (countsTowardCap && deps.blastRadius) {
      // Reserve the slot, then count (the count includes this run), so concurrent runs cannot all slip under
      // the cap; the slot is given back below when the run changes nothing.
      const { port, maxContainments, windowMinutes } = deps.blastRadius;
      slot = now();
      await port.record(request.accountId, slot, correlationId);
      if (!request.approved) {
        const count = await port.count(request.accountId, new Date(now().getTime() - windowMinutes * 60_000));
        if (count > maxContainments) {
          await port.forget(request.accountId, slot, correlationId);
          // Over the cap: only a run that would change something is held. A dry run tells (reads only).
          const probe = await run.call(module, parsed.data, context(true));
          if (probe.status !== 'dry-run') return await finish(probe);
          return refusal(
            request,
            'approval-required',
            `blast-radius cap: ${count - 1} containment actions already in account ${request.accountId} in the last ${windowMinutes} minutes (at most ${maxContainments}); held for approval`,
            { awaitingApproval: true },
          );
        }
      }
    }
    const outcome = await run.call(module, parsed.data, context(request.dryRun ?? false));
    const changed = outcome.calls.some((c) => c.mutating && !c.skipped && !c.error);
    if (slot && deps.blastRadius && !changed)
      await deps.blastRadius.port.forget(request.accountId, slot, correlationId);
    return await finish(outcome);
  } finally {
    await unlock?.();
  }
}
