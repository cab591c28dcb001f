/**
 * Writing the response back to the Sentinel incident: a comment saying what was planned or done per target,
 * and labels (`aws-contained`, `aws-response-failed`, `awaiting-approval`).
 *
 * The adapter goes through the real `@azure/arm-securityinsight` client: the comment is a PUT with a new
 * GUID (a retried PUT cannot add it twice); labels are read-modify-write on the incident with its etag, and
 * a 409/412 (another writer changed the incident between our read and our write) re-reads and tries again,
 * a bounded number of times. The update sends back everything the read returned, with only the labels
 * changed, because the service's PUT replaces the incident (an omitted owner or description is erased).
 *
 * `renderIncidentComment` and `chooseLabels` are pure.
 */
import { randomUUID } from 'node:crypto';
import type { Incident, IncidentLabel, SecurityInsights } from '@azure/arm-securityinsight';
import { BridgeError } from '../domain/errors.js';
import type { ActionOutcome, OutcomeStatus } from './types.js';

export const LABEL_CONTAINED = 'aws-contained';
export const LABEL_FAILED = 'aws-response-failed';
export const LABEL_AWAITING_APPROVAL = 'awaiting-approval';
/** Every label the bridge manages. */
export const RESPONSE_LABELS: readonly string[] = [LABEL_CONTAINED, LABEL_FAILED, LABEL_AWAITING_APPROVAL];

/** Longest comment Sentinel accepts (characters of the message, HTML included). */
export const MAX_COMMENT_CHARS = 30_000;
/** Default attempts of the labels update (the first one and two retries after an etag conflict). */
export const DEFAULT_UPDATE_ATTEMPTS = 3;

// ---------------------------------------------------------------------------------------------------------
// Plans, as far as the comment and the labels need them (structurally compatible with the planner's Plan).

export interface CommentPlanStep {
  readonly action: string;
  readonly target: string;
  readonly accountId: string;
  readonly region: string;
  /** `auto`, `approval` or `notify`. */
  readonly mode: string;
  readonly containment?: boolean;
  readonly irreversible?: boolean;
}

export interface CommentPlan {
  readonly id: string;
  readonly steps: readonly CommentPlanStep[];
  readonly skipped?: readonly { readonly kind: string; readonly target: string; readonly reason: string }[];
  readonly notes?: readonly string[];
}

export interface RenderOptions {
  /** Default 30,000 (Sentinel's limit). */
  readonly maxChars?: number;
  /** Shown in the footer, so the audit rows of the run can be found. */
  readonly correlationId?: string;
}

// ---------------------------------------------------------------------------------------------------------
// Labels

export interface LabelChoice {
  readonly add: readonly string[];
  readonly remove: readonly string[];
}

export interface LabelOptions {
  /** Whether an action contains a resource (counts for `aws-contained`); default: every action but archiving. */
  readonly isContainment?: (action: string) => boolean;
}

const sameStep = (step: CommentPlanStep, outcome: ActionOutcome): boolean =>
  step.action === outcome.action &&
  step.target === outcome.target &&
  step.accountId === outcome.accountId &&
  step.region === outcome.region;

/**
 * Plan steps waiting for an approver: approval-mode steps no outcome (other than a dry run) has carried out
 * yet, and steps the executor held back (blast-radius cap, irreversible action).
 */
function pendingSteps(outcomes: readonly ActionOutcome[], plan: CommentPlan | undefined): CommentPlanStep[] {
  if (plan === undefined) return [];
  return plan.steps.filter((step) => {
    const ran = outcomes.filter((o) => o.status !== 'dry-run' && sameStep(step, o));
    if (ran.some((o) => o.awaitingApproval)) return true;
    return step.mode === 'approval' && ran.length === 0;
  });
}

/**
 * The labels to add and remove after a run:
 * - `aws-response-failed` when an outcome failed (never removed automatically: an analyst clears it);
 * - `aws-contained` when a containment action is done or already done, and verified (not for dry runs);
 * - `awaiting-approval` while plan steps wait for an approval; removed once a plan has none left.
 */
export function chooseLabels(
  outcomes: readonly ActionOutcome[],
  plan?: CommentPlan,
  options: LabelOptions = {},
): LabelChoice {
  const containment = (outcome: ActionOutcome): boolean => {
    const step = plan?.steps.find((s) => sameStep(s, outcome));
    if (step?.containment !== undefined) return step.containment;
    return (options.isContainment ?? ((action) => action !== 'archive-guardduty-finding'))(outcome.action);
  };
  const add: string[] = [];
  const remove: string[] = [];
  if (outcomes.some((o) => o.status === 'failed' || (o.status === 'done' && o.verified === false))) {
    add.push(LABEL_FAILED);
  }
  if (
    outcomes.some(
      (o) => (o.status === 'done' || o.status === 'already-done') && o.verified !== false && containment(o),
    )
  ) {
    add.push(LABEL_CONTAINED);
  }
  if (plan !== undefined) {
    if (pendingSteps(outcomes, plan).length > 0) add.push(LABEL_AWAITING_APPROVAL);
    else if (outcomes.some((o) => o.status !== 'dry-run')) remove.push(LABEL_AWAITING_APPROVAL);
  }
  return { add, remove };
}

/**
 * The incident's labels with `add` and without `remove` (names compared case-insensitively): existing
 * labels keep their spelling, type and order, duplicates collapse to the first, new labels are `User`.
 */
export function mergeLabels(
  existing: readonly IncidentLabel[],
  add: readonly string[],
  remove: readonly string[] = [],
): { readonly labels: IncidentLabel[]; readonly changed: boolean } {
  const norm = (name: string): string => name.trim().toLowerCase();
  const removed = new Set(remove.map(norm));
  const seen = new Set<string>();
  const labels: IncidentLabel[] = [];
  for (const label of existing) {
    const name = norm(label.labelName);
    if (removed.has(name) || seen.has(name)) continue;
    seen.add(name);
    labels.push(label);
  }
  for (const raw of add) {
    const labelName = raw.trim();
    const name = norm(labelName);
    if (name === '' || removed.has(name) || seen.has(name)) continue;
    seen.add(name);
    labels.push({ labelName, labelType: 'User' });
  }
  const changed =
    labels.length !== existing.length || labels.some((label, index) => label !== existing[index]);
  return { labels, changed };
}

// ---------------------------------------------------------------------------------------------------------
// Comment

const STATUS_TEXT: Record<OutcomeStatus, string> = {
  done: 'done',
  'already-done': 'already done (nothing changed)',
  'dry-run': 'dry run (nothing changed)',
  skipped: 'skipped',
  refused: 'refused',
  failed: 'FAILED',
};

const STATUS_RANK: Record<OutcomeStatus | 'awaiting-approval' | 'planned', number> = {
  failed: 0,
  refused: 1,
  'awaiting-approval': 2,
  done: 3,
  'already-done': 4,
  'dry-run': 5,
  skipped: 6,
  planned: 7,
};

const MAX_FIELD = { target: 200, reason: 500, observed: 800, release: 500, calls: 600, note: 300 } as const;

function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** `text` cut to `max` characters ending with `marker`, never splitting a surrogate pair. */
function cut(text: string, max: number, marker = '…'): string {
  if (text.length <= max) return text;
  let end = Math.max(0, max - marker.length);
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}${marker}`;
}

/** One line of text (whitespace collapsed), cut to `max` characters. */
const clip = (text: string, max: number): string => cut(text.replace(/\s+/g, ' ').trim(), max);

const text = (value: string, max: number): string => escapeHtml(clip(value, max));
const code = (value: string, max: number): string => `<code>${text(value, max)}</code>`;

/** What a read-back saw, as one line: `eni-1: sg-iso; eni-2: sg-iso`. */
function describeObserved(observed: Readonly<Record<string, unknown>>): string {
  const part = (value: unknown): string => {
    if (typeof value === 'string') return value;
    if (Array.isArray(value)) return value.map(part).join(', ');
    if (typeof value === 'object' && value !== null) {
      return Object.entries(value)
        .map(([k, v]) => `${k}=${part(v)}`)
        .join(' ');
    }
    return String(value);
  };
  return Object.entries(observed)
    .map(([key, value]) => `${key}: ${part(value)}`)
    .join('; ');
}

function outcomeItem(outcome: ActionOutcome): string {
  const status = outcome.awaitingApproval ? 'awaiting approval' : STATUS_TEXT[outcome.status];
  const lines: string[] = [`<b>${text(outcome.action, 100)}</b>: <b>${status}</b>`];
  if (outcome.verified !== undefined) {
    const seen =
      outcome.observed === undefined
        ? ''
        : ` (seen: ${text(describeObserved(outcome.observed), MAX_FIELD.observed)})`;
    lines[0] += outcome.verified ? ` · verified${seen}` : ` · <b>NOT verified</b>${seen}`;
  } else if (outcome.observed !== undefined) {
    lines[0] += ` · seen: ${text(describeObserved(outcome.observed), MAX_FIELD.observed)}`;
  }
  if (outcome.reason !== undefined) lines.push(`Reason: ${text(outcome.reason, MAX_FIELD.reason)}`);
  const failed = outcome.calls.filter((call) => call.error !== undefined);
  if (outcome.status === 'dry-run') {
    const would = outcome.calls.filter((call) => call.skipped === true);
    if (would.length > 0) {
      const names = would.map((call) => `${call.service}:${call.operation}`).join(', ');
      lines.push(`Would call (${would.length}): ${text(names, MAX_FIELD.calls)}`);
    }
  } else {
    const changes = outcome.calls.filter((c) => c.mutating && c.skipped !== true && c.error === undefined);
    if (outcome.calls.length > 0) {
      lines.push(`AWS calls: ${outcome.calls.length} (${changes.length} changes)`);
    }
  }
  if (failed.length > 0) {
    const names = failed.map((call) => `${call.service}:${call.operation} ${call.error ?? ''}`).join(', ');
    lines.push(`Failed calls: ${text(names, MAX_FIELD.calls)}`);
  }
  if (outcome.irreversible === true) lines.push('Irreversible: cannot be released.');
  else if (outcome.release !== undefined) lines.push(`Release: ${code(outcome.release, MAX_FIELD.release)}`);
  return `<li>${lines.join('<br>')}</li>`;
}

function planItem(step: CommentPlanStep): string {
  const status =
    step.mode === 'approval'
      ? '<b>awaiting approval</b>'
      : step.mode === 'notify'
        ? '<b>notify only</b> (not run)'
        : '<b>planned</b> (not run yet)';
  const irreversible = step.irreversible === true ? '<br>Irreversible once run: cannot be released.' : '';
  return `<li><b>${text(step.action, 100)}</b>: ${status}${irreversible}</li>`;
}

interface TargetGroup {
  readonly heading: string;
  readonly items: { readonly html: string; readonly rank: number }[];
}

/**
 * The incident comment for a run, in the basic HTML Sentinel renders: per target (account, region), each
 * action with its status, whether the read-back verified it and what it saw, and how to release it (or
 * that it is irreversible); plan steps not run (awaiting approval, notify only) are listed too. Targets with
 * failures come first. Longer than `maxChars` (30,000), whole entries are dropped from the end and counted
 * in a closing line, so the same input always gives the same comment.
 */
export function renderIncidentComment(
  outcomes: readonly ActionOutcome[],
  plan?: CommentPlan,
  options: RenderOptions = {},
): string {
  const maxChars = options.maxChars ?? MAX_COMMENT_CHARS;
  const groups = new Map<string, TargetGroup>();
  const groupOf = (target: string, accountId: string, region: string): TargetGroup => {
    const id = JSON.stringify([accountId, region, target]);
    let group = groups.get(id);
    if (group === undefined) {
      group = {
        heading: `<b>${text(target, MAX_FIELD.target)}</b> · account ${text(accountId, 20)} · ${text(region, 30)}`,
        items: [],
      };
      groups.set(id, group);
    }
    return group;
  };
  for (const outcome of outcomes) {
    groupOf(outcome.target, outcome.accountId, outcome.region).items.push({
      html: outcomeItem(outcome),
      rank: outcome.awaitingApproval ? STATUS_RANK['awaiting-approval'] : STATUS_RANK[outcome.status],
    });
  }
  for (const step of plan?.steps ?? []) {
    if (outcomes.some((o) => sameStep(step, o))) continue;
    groupOf(step.target, step.accountId, step.region).items.push({
      html: planItem(step),
      rank: step.mode === 'approval' ? STATUS_RANK['awaiting-approval'] : STATUS_RANK.planned,
    });
  }
  const ordered = [...groups.values()]
    .map((group, index) => ({ group, index, rank: Math.min(...group.items.map((item) => item.rank)) }))
    .sort((a, b) => a.rank - b.rank || a.index - b.index)
    .map((entry) => entry.group);

  const incident = outcomes.find((o) => o.incident?.number !== undefined)?.incident?.number;
  const counts = new Map<string, number>();
  for (const outcome of outcomes) {
    if (!outcome.awaitingApproval) counts.set(outcome.status, (counts.get(outcome.status) ?? 0) + 1);
  }
  const pending = pendingSteps(outcomes, plan).length;
  const summary = [
    ...[...counts].map(
      ([status, n]) => `${n} ${STATUS_TEXT[status as OutcomeStatus].replace(/ \(.*\)$/, '')}`,
    ),
    ...(pending > 0 ? [`${pending} awaiting approval`] : []),
  ].join(', ');
  const header =
    `<p><b>AWS response</b>${incident === undefined ? '' : ` for incident ${incident}`}` +
    `${plan === undefined ? '' : ` · plan ${code(plan.id, 100)}`}` +
    `${summary === '' ? '' : ` · ${escapeHtml(summary)}`}</p>`;

  const extras: string[] = [];
  if (plan?.skipped !== undefined && plan.skipped.length > 0) {
    const skipped = plan.skipped
      .map(
        (s) =>
          `<li>${text(s.kind, 40)} ${code(s.target, MAX_FIELD.target)}: ${text(s.reason, MAX_FIELD.reason)}</li>`,
      )
      .join('');
    extras.push(`<p>Not acted on:</p><ul>${skipped}</ul>`);
  }
  for (const note of plan?.notes ?? []) extras.push(`<p>Note: ${text(note, MAX_FIELD.note)}</p>`);
  const footer =
    '<p><i>Every AWS API call is recorded in AWSResponseAudit_CL' +
    `${options.correlationId === undefined ? '' : ` (CorrelationId ${code(options.correlationId, 100)})`}.</i></p>`;

  // Entries in order; a target heading opens its list, the list closes after its last entry shown.
  const entries: { readonly open: string; readonly html: string }[] = [];
  for (const group of ordered) {
    group.items.forEach((item, index) => {
      entries.push({ open: index === 0 ? `<p>${group.heading}</p><ul>` : '', html: item.html });
    });
  }
  const omittedLine = (n: number): string =>
    `<p><b>${n} more ${n === 1 ? 'entry' : 'entries'} not shown</b> (comment limit ${maxChars} characters); see AWSResponseAudit_CL.</p>`;

  let body = '';
  let open = false;
  let shown = 0;
  const fixed = header.length + footer.length;
  for (const entry of entries) {
    const opening = (open && entry.open !== '' ? '</ul>' : '') + entry.open;
    const piece = opening + entry.html;
    const remaining = entries.length - shown - 1;
    const reserve = '</ul>'.length + (remaining > 0 ? omittedLine(remaining).length : 0);
    if (fixed + body.length + piece.length + reserve > maxChars) break;
    body += piece;
    open = true;
    shown += 1;
  }
  if (open) body += '</ul>';
  const omitted = entries.length - shown;
  if (omitted > 0) body += omittedLine(omitted);
  let extrasHtml = '';
  for (const extra of extras) {
    if (fixed + body.length + extrasHtml.length + extra.length > maxChars) break;
    extrasHtml += extra;
  }
  const html = header + body + extrasHtml + footer;
  // Only reachable with a maxChars too small for the header and footer: plain text, cut.
  return html.length <= maxChars ? html : clip(html.replace(/<[^>]*>/g, ' '), maxChars);
}

// ---------------------------------------------------------------------------------------------------------
// Adapter

export type WritebackFailure =
  | 'not-found'
  | 'unauthorized'
  | 'forbidden'
  | 'conflict'
  | 'invalid'
  | 'unavailable';

/** Writing back failed; `message` is safe to show (status, error code and the service's message, no token). */
export class IncidentWritebackError extends BridgeError {
  readonly retryable: boolean;
  constructor(
    message: string,
    readonly failure: WritebackFailure,
    readonly step: 'comment' | 'read' | 'update',
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.retryable = failure === 'unavailable' || failure === 'conflict';
  }
}

export interface WritebackRequest {
  /** HTML or Markdown; cut to 30,000 characters; an empty comment is not posted. */
  readonly comment: string;
  readonly addLabels: readonly string[];
  readonly removeLabels?: readonly string[];
}

export interface WritebackResult {
  /** Name (GUID) of the comment added, when there was one. */
  readonly commentId?: string;
  /** The incident's label names after the write-back. */
  readonly labels: readonly string[];
  /** Whether the incident was updated (false when the labels were already as wanted). */
  readonly updated: boolean;
  /** Reads of the incident made (1 plus one per etag conflict). */
  readonly attempts: number;
}

export interface IncidentWriteback {
  writeBack(incidentName: string, request: WritebackRequest): Promise<WritebackResult>;
}

export interface IncidentWritebackOptions {
  readonly client: SecurityInsights;
  readonly resourceGroup: string;
  readonly workspace: string;
  /** Attempts of the read-modify-write of the labels; default 3. */
  readonly maxAttempts?: number;
  /** Comment ids; default `randomUUID`. */
  readonly newId?: () => string;
}

function statusOf(error: unknown): number | undefined {
  const status =
    typeof error === 'object' && error !== null ? (error as { statusCode?: unknown }).statusCode : undefined;
  return typeof status === 'number' ? status : undefined;
}

function codeOf(error: unknown): string | undefined {
  const value = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof value === 'string' ? value : undefined;
}

const isEtagConflict = (error: unknown): boolean => statusOf(error) === 409 || statusOf(error) === 412;

function failureOf(status: number | undefined): WritebackFailure {
  if (status === 404) return 'not-found';
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 409 || status === 412) return 'conflict';
  if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429)
    return 'invalid';
  return 'unavailable';
}

const STEP_TEXT = {
  comment: 'adding the comment to',
  read: 'reading',
  update: 'updating the labels of',
} as const;

function writebackError(
  step: 'comment' | 'read' | 'update',
  incident: string,
  workspace: string,
  error: unknown,
): IncidentWritebackError {
  const status = statusOf(error);
  const failure = failureOf(status);
  const detail = error instanceof Error ? error.message.replace(/\s+/g, ' ').slice(0, 300) : String(error);
  const code = codeOf(error);
  const what =
    failure === 'not-found'
      ? `Incident '${incident}' was not found in workspace '${workspace}'`
      : failure === 'conflict' && step === 'update'
        ? `Incident '${incident}' kept changing while ${STEP_TEXT[step]} it (etag conflict on every attempt)`
        : `Failed ${STEP_TEXT[step]} incident '${incident}'`;
  const tag = [status === undefined ? undefined : String(status), code]
    .filter((p) => p !== undefined)
    .join(' ');
  return new IncidentWritebackError(
    `${what}${tag === '' ? '' : ` (${tag})`}: ${detail}`,
    failure,
    step,
    status,
    {
      cause: error,
    },
  );
}

/** Cuts a comment to Sentinel's limit (a rendered comment is already within it). */
export function fitComment(comment: string, maxChars: number = MAX_COMMENT_CHARS): string {
  return cut(comment, maxChars, '… [truncated]');
}

export function createIncidentWriteback(options: IncidentWritebackOptions): IncidentWriteback {
  const { client, resourceGroup, workspace } = options;
  const maxAttempts = options.maxAttempts ?? DEFAULT_UPDATE_ATTEMPTS;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new RangeError('maxAttempts must be a positive integer');
  }
  const newId = options.newId ?? randomUUID;

  const step = async <T>(
    name: 'comment' | 'read' | 'update',
    incident: string,
    run: () => Promise<T>,
  ): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      throw writebackError(name, incident, workspace, error);
    }
  };

  return {
    async writeBack(incidentName, request) {
      let commentId: string | undefined;
      if (request.comment.trim() !== '') {
        const id = newId();
        await step('comment', incidentName, () =>
          client.incidentComments.createOrUpdate(resourceGroup, workspace, incidentName, id, {
            message: fitComment(request.comment),
          }),
        );
        commentId = id;
      }
      const withComment = commentId === undefined ? {} : { commentId };

      for (let attempt = 1; ; attempt++) {
        const incident: Incident = await step('read', incidentName, () =>
          client.incidents.get(resourceGroup, workspace, incidentName),
        );
        const merged = mergeLabels(incident.labels ?? [], request.addLabels, request.removeLabels);
        const names = merged.labels.map((label) => label.labelName);
        if (!merged.changed) return { ...withComment, labels: names, updated: false, attempts: attempt };
        try {
          // Everything the read returned goes back (read-only fields are dropped by the client's serialiser).
          await client.incidents.createOrUpdate(resourceGroup, workspace, incidentName, {
            ...incident,
            labels: merged.labels,
          });
          return { ...withComment, labels: names, updated: true, attempts: attempt };
        } catch (error) {
          if (isEtagConflict(error) && attempt < maxAttempts) continue;
          throw writebackError('update', incidentName, workspace, error);
        }
      }
    },
  };
}
