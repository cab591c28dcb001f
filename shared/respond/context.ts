import type {
  ActionContext,
  ActionOutcome,
  AwsClients,
  AwsService,
  IncidentRef,
  OutcomeStatus,
  ProtectedTag,
  RecordedCall,
  SdkCommand,
} from './types.js';
import { DEFAULT_PROTECTED_TAG } from './types.js';

export interface ContextOptions {
  readonly accountId: string;
  readonly region: string;
  readonly clients: AwsClients;
  readonly reason: string;
  readonly dryRun?: boolean;
  readonly incident?: IncidentRef;
  readonly protectedTag?: ProtectedTag;
  readonly now?: () => Date;
}

/** `CreateTagsCommand` -> `CreateTags` (esbuild keeps class names: `keepNames` in serverless.yml). */
function operationOf(command: SdkCommand): string {
  return command.constructor.name.replace(/Command$/, '');
}

function errorName(error: unknown): string {
  if (error instanceof Error) return error.name;
  return 'Error';
}

interface Sender {
  send(command: SdkCommand): Promise<unknown>;
}

/** The action context over real SDK clients, recording every call (reads and writes) in order. */
export function createActionContext(options: ContextOptions): ActionContext {
  const calls: RecordedCall[] = [];
  const dryRun = options.dryRun ?? false;
  const send = async (
    service: AwsService,
    command: SdkCommand,
    why: string,
    mutating: boolean,
  ): Promise<unknown> => {
    const base = { service, operation: operationOf(command), input: { ...command.input }, why, mutating };
    try {
      const output = await (options.clients[service] as unknown as Sender).send(command);
      calls.push(base);
      return output;
    } catch (error) {
      calls.push({ ...base, error: errorName(error) });
      throw error;
    }
  };
  return {
    accountId: options.accountId,
    region: options.region,
    ...(options.incident ? { incident: options.incident } : {}),
    reason: options.reason,
    dryRun,
    protectedTag: options.protectedTag ?? DEFAULT_PROTECTED_TAG,
    clients: options.clients,
    now: options.now ?? (() => new Date()),
    calls,
    async read<O>(service: AwsService, command: SdkCommand, why: string): Promise<O> {
      return (await send(service, command, why, false)) as O;
    },
    async write<O>(service: AwsService, command: SdkCommand, why: string): Promise<O | undefined> {
      if (dryRun) {
        calls.push({
          service,
          operation: operationOf(command),
          input: { ...command.input },
          why,
          mutating: true,
          skipped: true,
        });
        return undefined;
      }
      return (await send(service, command, why, true)) as O;
    },
  };
}

/** Builds an outcome from the context (calls so far) and the action's verdict. */
export function outcome(
  ctx: ActionContext,
  action: string,
  target: string,
  status: OutcomeStatus,
  extra: Partial<Omit<ActionOutcome, 'status' | 'action' | 'target' | 'accountId' | 'region' | 'calls'>> = {},
): ActionOutcome {
  return {
    status,
    action,
    target,
    accountId: ctx.accountId,
    region: ctx.region,
    ...(ctx.incident ? { incident: ctx.incident } : {}),
    calls: [...ctx.calls],
    ...extra,
  };
}

/** Whether AWS-style tags (`[{Key, Value}]`) carry the protected tag. */
export function isProtected(
  tags: readonly { Key?: string | undefined; Value?: string | undefined }[] | undefined,
  guard: ProtectedTag,
): boolean {
  return (tags ?? []).some(
    (t) => t.Key === guard.key && (t.Value ?? '').toLowerCase() === guard.value.toLowerCase(),
  );
}

/** The label an action leaves on what it touched: the incident number, or `manual`. */
export function incidentLabel(ctx: ActionContext): string {
  return ctx.incident?.number !== undefined ? String(ctx.incident.number) : (ctx.incident?.id ?? 'manual');
}

/** The CLI command that releases an action (shown in outcomes and incident comments). */
export function releaseCommand(action: string, ctx: ActionContext, target: string): string {
  const incident = ctx.incident?.number !== undefined ? ` --incident ${ctx.incident.number}` : '';
  return `npm run -s cli -- release --action ${action} --account ${ctx.accountId} --region ${ctx.region} --target ${target}${incident}`;
}
