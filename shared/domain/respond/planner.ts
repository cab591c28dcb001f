import type { ExtractedIncident, ExtractedTarget, IncidentSummary } from './incident.js';
import { globMatches, type Mode, type Policy, severityRank } from './policy.js';
import type { TargetKind } from './targets.js';

/** What the planner needs to know of each catalogue action. */
export interface CatalogueEntry {
  readonly name: string;
  readonly targetKind: TargetKind;
  readonly irreversible: boolean;
  readonly containment: boolean;
}

export interface PlanStep {
  readonly action: string;
  readonly target: string;
  readonly targetKind: TargetKind;
  readonly accountId: string;
  readonly region: string;
  readonly mode: Mode;
  /** The policy rule that chose this step. */
  readonly rule: string;
  readonly containment: boolean;
  readonly irreversible: boolean;
  readonly options?: Readonly<Record<string, unknown>>;
  readonly findingType?: string;
}

export interface Plan {
  readonly id: string;
  readonly createdAt: string;
  readonly incident: IncidentSummary;
  /** Containment steps first; bookkeeping steps (archive the finding) after them. */
  readonly steps: readonly PlanStep[];
  readonly skipped: readonly {
    readonly kind: TargetKind;
    readonly target: string;
    readonly reason: string;
  }[];
  readonly notes: readonly string[];
}

function ruleApplies(
  rule: Policy['rules'][number],
  target: ExtractedTarget,
  incident: IncidentSummary,
): boolean {
  if (!rule.match.targetKinds.includes(target.kind)) return false;
  if (rule.match.findingTypes) {
    const type = target.findingType;
    if (!type || !rule.match.findingTypes.some((glob) => globMatches(glob, type))) return false;
  }
  if (rule.match.minSeverity && severityRank(incident.severity) < severityRank(rule.match.minSeverity))
    return false;
  return true;
}

/**
 * Turns an incident's targets into a plan under the policy. Pure: no AWS call. The first matching rule wins
 * per action and target; irreversible actions never run without approval; targets outside the account
 * allowlist, or without an account or region, are skipped with the reason. The blast-radius cap is applied
 * when the plan is executed (it depends on what already ran).
 */
export function planResponse(
  extracted: ExtractedIncident,
  policy: Policy,
  catalogue: readonly CatalogueEntry[],
  meta: { readonly id: string; readonly now: Date },
): Plan {
  const steps: PlanStep[] = [];
  const skipped: { kind: TargetKind; target: string; reason: string }[] = [];
  const seen = new Set<string>();
  const targets: ExtractedTarget[] = [
    ...extracted.targets,
    ...extracted.findings.map(
      (f): ExtractedTarget => ({
        kind: 'guardduty-finding',
        id: f.id,
        source: 'custom-details',
        ...(f.accountId ? { accountId: f.accountId } : {}),
        ...(f.region ? { region: f.region } : {}),
        ...(f.type ? { findingType: f.type } : {}),
      }),
    ),
  ];

  for (const target of targets) {
    const matching = policy.rules.filter((rule) => ruleApplies(rule, target, extracted.incident));
    if (matching.length === 0) {
      skipped.push({ kind: target.kind, target: target.id, reason: 'no policy rule applies' });
      continue;
    }
    if (!target.accountId) {
      skipped.push({
        kind: target.kind,
        target: target.id,
        reason: 'the incident names no AWS account for this target',
      });
      continue;
    }
    if (!policy.accounts.allow.includes(target.accountId)) {
      skipped.push({
        kind: target.kind,
        target: target.id,
        reason: `account ${target.accountId} is not in the policy's allowlist`,
      });
      continue;
    }
    if (!target.region) {
      skipped.push({
        kind: target.kind,
        target: target.id,
        reason: 'the incident names no AWS region for this target',
      });
      continue;
    }
    for (const rule of matching) {
      for (const step of rule.actions) {
        const entry = catalogue.find((c) => c.name === step.action);
        if (!entry || entry.targetKind !== target.kind) continue;
        const key = `${entry.name}|${target.accountId}|${target.region}|${target.id}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const mode: Mode = entry.irreversible && step.mode === 'auto' ? 'approval' : step.mode;
        steps.push({
          action: entry.name,
          target: target.id,
          targetKind: target.kind,
          accountId: target.accountId,
          region: target.region,
          mode,
          rule: rule.name,
          containment: entry.containment,
          irreversible: entry.irreversible,
          ...(step.options ? { options: step.options } : {}),
          ...(target.findingType ? { findingType: target.findingType } : {}),
        });
      }
    }
  }
  steps.sort((a, b) => Number(b.containment) - Number(a.containment));
  return {
    id: meta.id,
    createdAt: meta.now.toISOString(),
    incident: extracted.incident,
    steps,
    skipped,
    notes: [...extracted.ignored],
  };
}
