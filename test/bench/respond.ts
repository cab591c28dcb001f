/**
 * `respond`: the AWS calls on the critical path of `isolate-ec2-instance` for an instance with 2 ENIs and 2
 * volumes, against a naive plan that makes the same calls one after the other. Every call of the real SDK
 * clients (answered by the stateful `AwsAccountModel`) gets 50 ms of injected latency by wrapping `send`;
 * each call's start and end are recorded, and a call's round is 1 + the highest round of the calls that had
 * ended before it started, so the rounds are the sequential depth whatever the model's own speed.
 * Twice: the first isolation in a VPC (isolation and conversion groups created) and a second instance in
 * the same VPC (groups reused).
 */
import { isolateEc2InstanceAction } from '../../shared/respond/actions/isolate-ec2-instance.js';
import { createActionContext } from '../../shared/respond/context.js';
import type { AwsClients } from '../../shared/respond/types.js';
import { AwsAccountModel } from '../support/aws-model/index.js';
import { median, nowMs, progress, round, sleep } from './common.js';

export const DELAY_MS = 50;

export interface Span {
  readonly operation: string;
  readonly start: number;
  readonly end: number;
}

export interface IsolationFigure {
  /** Sequential rounds of AWS calls (the critical path). */
  readonly isolateSequentialCalls: number;
  readonly wallMsAt50msPerCall: number;
  /** Every call one after the other: the number of calls. */
  readonly naiveSequentialCalls: number;
  readonly naiveWallMsAt50msPerCall: number;
  /** Naive wall time over the real one. */
  readonly speedup: number;
  /** The calls of each round, in order. */
  readonly rounds: readonly (readonly string[])[];
}

export interface RespondResults {
  readonly delayMsPerCall: number;
  /** The worse of the two scenarios (the goal applies to both). */
  readonly isolateSequentialCalls: number;
  readonly firstInVpc: IsolationFigure;
  readonly groupsReused: IsolationFigure;
  readonly repetitions: number;
}

interface Sendable {
  send: (...args: never[]) => Promise<unknown>;
}

function operationOf(command: unknown): string {
  if (typeof command === 'object' && command !== null) {
    return command.constructor.name.replace(/Command$/, '');
  }
  return 'unknown';
}

/**
 * The clients with `delayMs` before every call; `serial` makes every call wait for the one before it (the
 * naive plan), without changing the order the action issues them in. Each call's span goes to `spans`.
 */
export function instrument<C extends { readonly [K in keyof C]: Sendable }>(
  clients: C,
  delayMs: number,
  serial: boolean,
  spans: Span[],
): C {
  let chain: Promise<unknown> = Promise.resolve();
  const wrap = <S extends Sendable>(client: S): S =>
    new Proxy(client, {
      get(target, property, receiver) {
        const value: unknown = Reflect.get(target, property, receiver);
        if (property !== 'send' || typeof value !== 'function') return value;
        return (...args: unknown[]): Promise<unknown> => {
          const call = async (): Promise<unknown> => {
            const start = nowMs();
            await sleep(delayMs);
            try {
              return await Reflect.apply(value, target, args);
            } finally {
              spans.push({ operation: operationOf(args[0]), start, end: nowMs() });
            }
          };
          if (!serial) return call();
          const result = chain.then(call, call);
          chain = result.catch(() => undefined);
          return result;
        };
      },
    });
  const entries = Object.entries(clients) as [string, Sendable][];
  return Object.fromEntries(entries.map(([name, client]) => [name, wrap(client)])) as C;
}

/** Round of each call: 1 + the highest round among the calls that ended before it started. */
export function rounds(spans: readonly Span[]): string[][] {
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  const depth: number[] = [];
  const out: string[][] = [];
  sorted.forEach((span, i) => {
    let d = 1;
    for (let j = 0; j < i; j++) {
      const before = sorted[j];
      if (before !== undefined && before.end <= span.start) d = Math.max(d, (depth[j] ?? 0) + 1);
    }
    depth.push(d);
    const round = out[d - 1] ?? [];
    round.push(span.operation);
    out[d - 1] = round;
  });
  return out;
}

interface Run {
  readonly wallMs: number;
  readonly spans: readonly Span[];
}

/** A fresh account: one VPC, two instances with 2 ENIs and 2 volumes each; isolates both, in turn. */
async function isolateTwice(serial: boolean): Promise<{ first: Run; second: Run }> {
  const model = new AwsAccountModel();
  const { vpcId } = model.ec2.addVpc();
  const instances = [
    model.ec2.addInstance({ vpcId, enis: 2, volumes: 2 }),
    model.ec2.addInstance({ vpcId, enis: 2, volumes: 2 }),
  ];
  const runs: Run[] = [];
  for (const [index, instance] of instances.entries()) {
    const spans: Span[] = [];
    const ctx = createActionContext({
      accountId: model.accountId,
      region: model.region,
      clients: instrument<AwsClients>(model.clients(), DELAY_MS, serial, spans),
      reason: 'benchmark: C2 traffic to 203.0.113.10',
      incident: { number: 4242 + index },
    });
    const started = nowMs();
    const outcome = await isolateEc2InstanceAction.execute({ target: instance.instanceId }, ctx);
    const wallMs = nowMs() - started;
    if (outcome.status !== 'done') {
      throw new Error(`isolation of instance ${index + 1} ended ${outcome.status}: ${outcome.reason ?? ''}`);
    }
    runs.push({ wallMs, spans });
  }
  const [first, second] = runs;
  if (first === undefined || second === undefined) throw new Error('isolation runs missing');
  return { first, second };
}

function figure(parallel: readonly Run[], naive: readonly Run[]): IsolationFigure {
  const sample = parallel[0];
  const naiveSample = naive[0];
  if (sample === undefined || naiveSample === undefined) throw new Error('no isolation run');
  const wall = median(parallel.map((r) => r.wallMs));
  const naiveWall = median(naive.map((r) => r.wallMs));
  const perRound = rounds(sample.spans);
  return {
    isolateSequentialCalls: perRound.length,
    wallMsAt50msPerCall: Math.round(wall),
    naiveSequentialCalls: naiveSample.spans.length,
    naiveWallMsAt50msPerCall: Math.round(naiveWall),
    speedup: round(naiveWall / wall, 2),
    rounds: perRound,
  };
}

export async function benchRespond(options: { readonly repetitions: number }): Promise<RespondResults> {
  const parallel: { first: Run; second: Run }[] = [];
  const naive: { first: Run; second: Run }[] = [];
  for (let rep = 0; rep < options.repetitions; rep++) {
    parallel.push(await isolateTwice(false));
    naive.push(await isolateTwice(true));
  }
  const firstInVpc = figure(
    parallel.map((p) => p.first),
    naive.map((n) => n.first),
  );
  const groupsReused = figure(
    parallel.map((p) => p.second),
    naive.map((n) => n.second),
  );
  progress(
    `respond: first in VPC ${firstInVpc.isolateSequentialCalls} rounds (${firstInVpc.wallMsAt50msPerCall} ms), reused ${groupsReused.isolateSequentialCalls} rounds (${groupsReused.wallMsAt50msPerCall} ms)`,
  );
  return {
    delayMsPerCall: DELAY_MS,
    isolateSequentialCalls: Math.max(firstInVpc.isolateSequentialCalls, groupsReused.isolateSequentialCalls),
    firstInVpc,
    groupsReused,
    repetitions: options.repetitions,
  };
}
