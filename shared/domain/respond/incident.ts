import * as z from 'zod';
import { firstIssue } from '../schema-helpers.js';
import { ACCOUNT_ID, GLOBAL_KINDS, IAM_REGION, isTargetId, REGION, type TargetKind } from './targets.js';

/**
 * A Sentinel incident as the playbook forwards it: the incident trigger envelope (`{ object: incident }`) or
 * the bare incident object (`{ id, name, properties }`). Unknown fields are accepted.
 */
const entitySchema = z.looseObject({
  kind: z.string(),
  properties: z.looseObject({}).optional(),
});

const alertSchema = z.looseObject({
  properties: z
    .looseObject({
      alertDisplayName: z.string().optional(),
      severity: z.string().optional(),
      additionalData: z.looseObject({ 'Custom Details': z.unknown().optional() }).optional(),
    })
    .optional(),
});

export const incidentSchema = z.looseObject({
  id: z.string().optional(),
  name: z.string().optional(),
  properties: z.looseObject({
    title: z.string().optional(),
    severity: z.string().optional(),
    status: z.string().optional(),
    incidentNumber: z.number().int().nonnegative().optional(),
    labels: z.array(z.looseObject({ labelName: z.string() })).optional(),
    alerts: z.array(alertSchema).optional(),
    relatedEntities: z.array(entitySchema).optional(),
  }),
});
export type Incident = z.infer<typeof incidentSchema>;

export interface ExtractedTarget {
  readonly kind: TargetKind;
  readonly id: string;
  readonly accountId?: string;
  readonly region?: string;
  readonly findingType?: string;
  /** Where the target was read from. */
  readonly source: 'custom-details' | 'entity' | 'finding';
}

export interface IncidentSummary {
  readonly id?: string;
  readonly name?: string;
  readonly number?: number;
  readonly title?: string;
  readonly severity?: string;
}

export interface ExtractedIncident {
  readonly incident: IncidentSummary;
  readonly targets: readonly ExtractedTarget[];
  /** GuardDuty findings named by the alerts; when a finding is all that is known, its targets come from GetFindings. */
  readonly findings: readonly {
    readonly id: string;
    readonly accountId?: string;
    readonly region?: string;
    readonly type?: string;
  }[];
  readonly ips: readonly string[];
  /** What was found but not usable (malformed ids, unknown account formats), for the plan's notes. */
  readonly ignored: readonly string[];
}

export type ParsedIncident =
  | { ok: true; value: ExtractedIncident }
  | { ok: false; field: string; reason: string };

/** Custom details arrive as a JSON string of `{ "Key": ["value", ...] }` (or, from some tools, as the object). */
function customDetails(value: unknown): Record<string, string[]> {
  let parsed = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      return {};
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
  const out: Record<string, string[]> = {};
  for (const [key, raw] of Object.entries(parsed)) {
    const values = (Array.isArray(raw) ? raw : [raw]).filter(
      (v) => typeof v === 'string' || typeof v === 'number',
    );
    out[key] = values.map((v) => String(v).trim()).filter((v) => v !== '');
  }
  return out;
}

const CUSTOM_DETAIL_KINDS: readonly [string, TargetKind][] = [
  ['InstanceId', 'ec2-instance'],
  ['AccessKeyId', 'access-key'],
  ['UserName', 'iam-user'],
  ['RoleName', 'iam-role'],
];

/** `arn:aws:iam::123:user/path/alice`, `arn:aws:iam::123:role/x`, `arn:aws:sts::123:assumed-role/x/session`. */
function fromArn(arn: string): { kind: TargetKind; id: string; accountId: string } | undefined {
  const m = /^arn:aws[a-z-]*:(iam|sts)::(\d{12}):(user|role|assumed-role)\/(.+)$/.exec(arn);
  if (!m) return undefined;
  const [, , accountId = '', type, rest = ''] = m;
  const parts = rest.split('/');
  if (type === 'user') return { kind: 'iam-user', id: parts.at(-1) ?? '', accountId };
  if (type === 'role') return { kind: 'iam-role', id: parts.at(-1) ?? '', accountId };
  return { kind: 'iam-role', id: parts[0] ?? '', accountId };
}

function stringProp(props: Record<string, unknown> | undefined, key: string): string | undefined {
  const value = props?.[key];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/**
 * Reads the AWS targets of an incident: alert custom details (`AwsAccountId`, `AwsRegion`, `InstanceId`,
 * `AccessKeyId`, `UserName`, `RoleName`, `FindingId`, `FindingType`), then entities (Host names that are
 * instance ids, Account entities that are access keys or IAM ARNs, IPs). Malformed ids are ignored, with a note.
 */
export function extractIncident(input: unknown): ParsedIncident {
  const body =
    typeof input === 'object' && input !== null && 'object' in input
      ? (input as { object: unknown }).object
      : input;
  const parsed = incidentSchema.safeParse(body);
  if (!parsed.success) {
    const issue = firstIssue(parsed.error);
    const prefixed = typeof input === 'object' && input !== null && 'object' in input;
    return {
      ok: false,
      field: prefixed ? (issue.field ? `object.${issue.field}` : 'object') : issue.field,
      reason: issue.reason,
    };
  }
  const incident = parsed.data;
  const targets = new Map<string, ExtractedTarget>();
  const findings = new Map<string, { id: string; accountId?: string; region?: string; type?: string }>();
  const ignored: string[] = [];
  const ips = new Set<string>();
  const accounts = new Set<string>();
  const regions = new Set<string>();

  const add = (target: ExtractedTarget): void => {
    if (!isTargetId(target.kind, target.id)) {
      ignored.push(`${target.kind} "${target.id.slice(0, 80)}" is not a valid id`);
      return;
    }
    const region = target.region ?? (GLOBAL_KINDS.includes(target.kind) ? IAM_REGION : undefined);
    const key = `${target.kind}|${target.id}|${target.accountId ?? ''}`;
    const existing = targets.get(key);
    targets.set(key, {
      ...existing,
      ...target,
      ...(region ? { region } : {}),
      ...(existing?.findingType && !target.findingType ? { findingType: existing.findingType } : {}),
    });
  };

  for (const alert of incident.properties.alerts ?? []) {
    const details = customDetails(alert.properties?.additionalData?.['Custom Details']);
    const accountId = details.AwsAccountId?.find((a) => ACCOUNT_ID.test(a));
    const region = details.AwsRegion?.find((r) => REGION.test(r));
    for (const a of details.AwsAccountId ?? []) if (ACCOUNT_ID.test(a)) accounts.add(a);
    for (const r of details.AwsRegion ?? []) if (REGION.test(r)) regions.add(r);
    for (const bad of details.AwsAccountId ?? [])
      if (!ACCOUNT_ID.test(bad))
        ignored.push(`account "${bad.slice(0, 40)}" is not a 12-digit AWS account id`);
    const findingType = details.FindingType?.[0];
    for (const [key, kind] of CUSTOM_DETAIL_KINDS) {
      for (const id of details[key] ?? []) {
        add({
          kind,
          id,
          source: 'custom-details',
          ...(accountId ? { accountId } : {}),
          ...(region ? { region } : {}),
          ...(findingType ? { findingType } : {}),
        });
      }
    }
    for (const id of details.FindingId ?? []) {
      if (!isTargetId('guardduty-finding', id)) {
        ignored.push(`finding "${id.slice(0, 80)}" is not a GuardDuty finding id`);
        continue;
      }
      findings.set(id, {
        id,
        ...(accountId ? { accountId } : {}),
        ...(region ? { region } : {}),
        ...(findingType ? { type: findingType } : {}),
      });
    }
  }

  // Entities carry no account or region; they take the incident's when it names exactly one.
  const onlyAccount = accounts.size === 1 ? [...accounts][0] : undefined;
  const onlyRegion = regions.size === 1 ? [...regions][0] : undefined;
  const context = {
    ...(onlyAccount ? { accountId: onlyAccount } : {}),
    ...(onlyRegion ? { region: onlyRegion } : {}),
  };
  for (const entity of incident.properties.relatedEntities ?? []) {
    const props = entity.properties as Record<string, unknown> | undefined;
    if (entity.kind === 'Host') {
      const host = stringProp(props, 'hostName') ?? stringProp(props, 'friendlyName');
      if (host && /^i-[0-9a-f]{8,17}$/.test(host))
        add({ kind: 'ec2-instance', id: host, source: 'entity', ...context });
    } else if (entity.kind === 'Account') {
      const name = stringProp(props, 'accountName') ?? stringProp(props, 'friendlyName');
      if (!name) continue;
      const arn = fromArn(name);
      if (arn) add({ ...arn, source: 'entity', ...(onlyRegion ? { region: onlyRegion } : {}) });
      else if (/^(AKIA|ASIA)[A-Z0-9]{16}$/.test(name))
        add({ kind: 'access-key', id: name, source: 'entity', ...context });
      else if (onlyAccount && /^[\w+=,.@-]{1,64}$/.test(name))
        add({ kind: 'iam-user', id: name, source: 'entity', ...context });
    } else if (entity.kind === 'Ip') {
      const address = stringProp(props, 'address');
      if (address) ips.add(address);
    }
  }

  const summary: IncidentSummary = {
    ...(incident.id ? { id: incident.id } : {}),
    ...(incident.name ? { name: incident.name } : {}),
    ...(incident.properties.incidentNumber !== undefined
      ? { number: incident.properties.incidentNumber }
      : {}),
    ...(incident.properties.title ? { title: incident.properties.title } : {}),
    ...(incident.properties.severity ? { severity: incident.properties.severity } : {}),
  };
  return {
    ok: true,
    value: {
      incident: summary,
      targets: [...targets.values()],
      findings: [...findings.values()],
      ips: [...ips],
      ignored,
    },
  };
}
