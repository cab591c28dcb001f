import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { createAwsClients } from '../adapters/aws/clients.js';
import { parsePolicy } from '../domain/respond/policy.js';
import { type ActionRequest, runAction } from '../respond/executor.js';
import { planIncident } from '../respond/incident-response.js';
import { catalogueEntries, createRegistry } from '../respond/registry.js';
import type { ActionOutcome, AwsClients } from '../respond/types.js';

export interface RespondCliDeps {
  /** SDK clients per account and region; default: the AWS default credential chain (profile, env, SSO). */
  readonly clientsFor?: (accountId: string, region: string, sessionName: string) => AwsClients;
  readonly out?: (line: string) => void;
}

export class CliUsageError extends Error {}

const DEFAULT_POLICY = new URL('../respond/default-policy.json', import.meta.url);

/** Exit codes: 0 done / already-done / dry-run / skipped; 1 failed; 2 refused for bad input; 3 refused otherwise. */
export function exitCodeOf(outcome: ActionOutcome): number {
  if (outcome.status === 'failed') return 1;
  if (outcome.status !== 'refused') return 0;
  return outcome.refusal === 'invalid-input' || outcome.refusal === 'unknown-action' ? 2 : 3;
}

function options(values: readonly string[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of values ?? []) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new CliUsageError(`--option expects key=value, got "${pair}"`);
    const raw = pair.slice(at + 1);
    out[pair.slice(0, at)] =
      raw === 'true' ? true : raw === 'false' ? false : /^\d+$/.test(raw) ? Number(raw) : raw;
  }
  return out;
}

/** `respond` and `release`: the real executor, with the operator's own AWS credentials. */
export async function respondCommand(
  args: string[],
  release: boolean,
  deps: RespondCliDeps = {},
): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      action: { type: 'string' },
      account: { type: 'string' },
      region: { type: 'string' },
      target: { type: 'string' },
      incident: { type: 'string' },
      reason: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      option: { type: 'string', multiple: true },
    },
    strict: true,
  });
  for (const required of ['action', 'account', 'region', 'target'] as const) {
    if (!values[required]) throw new CliUsageError(`--${required} is required`);
  }
  const incidentNumber = values.incident === undefined ? undefined : Number(values.incident);
  if (incidentNumber !== undefined && (!Number.isInteger(incidentNumber) || incidentNumber < 0)) {
    throw new CliUsageError('--incident must be the incident number, e.g. 4242');
  }
  const request: ActionRequest = {
    action: values.action ?? '',
    accountId: values.account ?? '',
    region: values.region ?? '',
    target: values.target ?? '',
    reason: values.reason ?? (release ? 'released from the command line' : 'contained from the command line'),
    actor: `cli-${process.env.USER ?? 'operator'}`,
    dryRun: values['dry-run'] ?? false,
    release,
    approved: !release, // the operator at the console is the approver of what they type
    options: options(values.option),
    ...(incidentNumber !== undefined ? { incident: { number: incidentNumber } } : {}),
  };
  const outcome = await runAction(request, {
    registry: createRegistry(),
    clientsFor: deps.clientsFor ?? ((_account, region) => createAwsClients(region)),
  });
  (deps.out ?? ((line) => process.stdout.write(`${line}\n`)))(JSON.stringify(outcome, null, 2));
  return exitCodeOf(outcome);
}

/** `plan --input FILE [--policy FILE] [--account ID]...`: the plan for an incident payload, as JSON, without acting. */
export async function planCommand(args: string[], deps: RespondCliDeps = {}): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      input: { type: 'string' },
      policy: { type: 'string' },
      account: { type: 'string', multiple: true },
    },
    strict: true,
  });
  if (!values.input)
    throw new CliUsageError('--input FILE is required (a Sentinel incident or its trigger envelope)');
  const payload = JSON.parse(await readFile(values.input, 'utf8')) as unknown;
  const policyDoc = JSON.parse(await readFile(values.policy ?? DEFAULT_POLICY, 'utf8')) as {
    accounts?: { allow?: string[] };
  };
  if (values.account?.length) policyDoc.accounts = { allow: values.account };
  const registry = createRegistry();
  const policy = parsePolicy(policyDoc, registry.names());
  const planned = await planIncident(payload, {
    policy,
    catalogue: catalogueEntries(),
    clientsFor: deps.clientsFor ?? ((_account, region) => createAwsClients(region)),
  });
  const out = deps.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  if (!planned.ok) {
    process.stderr.write(`${values.input}: ${planned.field || '(payload)'}: ${planned.reason}\n`);
    return 2;
  }
  out(JSON.stringify(planned.plan, null, 2));
  return 0;
}
