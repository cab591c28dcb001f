/**
 * Helpers for action modules (IAM, GuardDuty): AWS errors become `failed` outcomes (programming
 * errors still throw), optional reads, pagination, inline policy documents, the protected-tag guard.
 */
import { outcome, releaseCommand } from '../context.js';
import type { ActionContext, ActionOutcome, AwsService, SdkCommand } from '../types.js';

/** An AWS call made through the context failed; the context has already recorded it with its error name. */
export class AwsCallFailed extends Error {
  readonly operation: string;
  readonly errorName: string;
  constructor(operation: string, cause: unknown) {
    const errorName = cause instanceof Error ? cause.name : 'Error';
    const message = cause instanceof Error ? cause.message : String(cause);
    super(`${operation} failed: ${errorName}: ${message}`, { cause });
    this.name = 'AwsCallFailed';
    this.operation = operation;
    this.errorName = errorName;
  }
}

function operationOf(command: SdkCommand): string {
  return command.constructor.name.replace(/Command$/, '');
}

/** `ctx.read`, with an AWS error turned into `AwsCallFailed`. */
export async function read<O>(
  ctx: ActionContext,
  service: AwsService,
  command: SdkCommand,
  why: string,
): Promise<O> {
  try {
    return await ctx.read<O>(service, command, why);
  } catch (error) {
    throw new AwsCallFailed(operationOf(command), error);
  }
}

/** `ctx.write` (skipped in a dry run), with an AWS error turned into `AwsCallFailed`. */
export async function write<O>(
  ctx: ActionContext,
  service: AwsService,
  command: SdkCommand,
  why: string,
): Promise<O | undefined> {
  try {
    return await ctx.write<O>(service, command, why);
  } catch (error) {
    throw new AwsCallFailed(operationOf(command), error);
  }
}

/** Error names meaning "no such entity": the SDK's class name, and the bare IAM code some emulators return. */
const MISSING = new Set(['NoSuchEntityException', 'NoSuchEntity']);

/** A read whose NoSuchEntity answer means "absent": resolves undefined instead of failing. */
export async function readIfExists<O>(
  ctx: ActionContext,
  service: AwsService,
  command: SdkCommand,
  why: string,
): Promise<O | undefined> {
  try {
    return await ctx.read<O>(service, command, why);
  } catch (error) {
    if (error instanceof Error && MISSING.has(error.name)) return undefined;
    throw new AwsCallFailed(operationOf(command), error);
  }
}

/** Every page of an IAM List call (`Marker` / `IsTruncated`), concatenated. */
export async function readAllPages<
  P extends { IsTruncated?: boolean | undefined; Marker?: string | undefined },
  T,
>(
  ctx: ActionContext,
  command: (marker: string | undefined) => SdkCommand,
  items: (page: P) => readonly T[] | undefined,
  why: string,
): Promise<T[]> {
  const all: T[] = [];
  let marker: string | undefined;
  do {
    const page = await read<P>(ctx, 'iam', command(marker), why);
    all.push(...(items(page) ?? []));
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker !== undefined);
  return all;
}

/** `{ Marker }` when there is one (exactOptionalPropertyTypes-friendly). */
export function markerOf(marker: string | undefined): { Marker?: string } {
  return marker === undefined ? {} : { Marker: marker };
}

/** An inline policy document as IAM returns it (URL-encoded JSON), parsed; undefined when unreadable. */
export function decodePolicy(document: string | undefined): unknown {
  if (document === undefined) return undefined;
  try {
    return JSON.parse(decodeURIComponent(document));
  } catch {
    try {
      return JSON.parse(document);
    } catch {
      return undefined;
    }
  }
}

/** Structural equality of two JSON values (key order ignored). */
export function sameJson(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}

/** The outcome fields of a refusal because the resource carries the protected tag. */
export function protectedRefusal(
  ctx: ActionContext,
  what: string,
): { readonly reason: string; readonly refusal: 'protected' } {
  return {
    reason: `${what} carries the protected tag ${ctx.protectedTag.key}=${ctx.protectedTag.value}; it is never touched`,
    refusal: 'protected',
  };
}

/** Whether the context made (not skipped) a write that succeeded: then a failure may have changed something. */
export function wroteSomething(ctx: ActionContext): boolean {
  return ctx.calls.some((c) => c.mutating && c.skipped === undefined && c.error === undefined);
}

/**
 * Runs an action body; an AWS error ends it as `failed` with the operation and error name in the reason.
 * `phase` adds what the outcome must say: for `execute` of a reversible action that already changed
 * something, the release command; for an `irreversible` action, `irreversible: true`. Other errors are bugs
 * and propagate.
 */
export async function failOnAwsError(
  ctx: ActionContext,
  action: string,
  target: string,
  phase: 'execute' | 'release' | 'irreversible',
  body: () => Promise<ActionOutcome>,
): Promise<ActionOutcome> {
  try {
    return await body();
  } catch (error) {
    if (!(error instanceof AwsCallFailed)) throw error;
    return outcome(ctx, action, target, 'failed', {
      reason: error.message,
      ...(phase === 'execute' && wroteSomething(ctx) ? { release: releaseCommand(action, ctx, target) } : {}),
      ...(phase === 'irreversible' ? { irreversible: true } : {}),
    });
  }
}
