/**
 * Renders the README sections that come from code (the single sources of truth), between
 * `<!-- generated:NAME -->` and `<!-- /generated:NAME -->` markers. `npm run docs` rewrites README.md;
 * a unit test fails when the committed README is out of date.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { permissionTable as awsPermissionTable } from '../../infra/tools/render-aws.js';
import { permissionsTable as azurePermissionsTable } from '../../infra/tools/render-azure.js';
import { DEAD_LETTER_ATTRIBUTES } from '../../shared/adapters/aws/sqs-dead-letters.js';
import {
  FORWARDER_OPTIONAL_SETTINGS_HELP,
  FORWARDER_SETTINGS_HELP,
} from '../../shared/config/forwarder-config.js';
import { RESPONDER_SETTINGS_HELP } from '../../shared/config/responder-config.js';
import { S3_LOGS_SETTINGS_HELP } from '../../shared/config/s3-logs-config.js';
import iamEvents from '../../shared/domain/cloudtrail/iam-change-events.json' with { type: 'json' };
import { TARGET_KINDS } from '../../shared/domain/respond/targets.js';
import { RESERVED_COLUMNS, TABLES } from '../../shared/domain/tables/columns.js';
import { REFERENCE_QUERIES } from '../../shared/domain/tables/reference-queries.js';
import { ACTIONS, responderPermissions } from '../../shared/respond/registry.js';

const README = new URL('../../README.md', import.meta.url);
const ACTIONS_DOC = new URL('../../shared/respond/ACTIONS.md', import.meta.url);

const escapeCell = (text: string): string => text.replace(/\|/g, '\\|');

function columns(): string {
  const parts: string[] = [];
  for (const table of TABLES) {
    parts.push(`**${table.table}** (stream \`${table.stream}\` -> \`${table.outputStream}\`)\n`);
    parts.push('| Column | Type | From |', '| --- | --- | --- |');
    for (const column of table.columns)
      parts.push(`| \`${column.name}\` | ${column.type} | ${escapeCell(column.source)} |`);
    parts.push('');
  }
  parts.push(`Never sent (owned by Log Analytics): ${RESERVED_COLUMNS.map((c) => `\`${c}\``).join(', ')}.`);
  return parts.join('\n');
}

function iamChangeEvents(): string {
  const reasons: Record<string, string> = iamEvents.reasons;
  return iamEvents.eventNames.map((name) => `- \`${name}\`: ${reasons[name] ?? ''}`).join('\n');
}

function settings(): string {
  const required = FORWARDER_SETTINGS_HELP.map((s) => `| \`${s.name}\` | yes | ${escapeCell(s.help)} |`);
  const optional = FORWARDER_OPTIONAL_SETTINGS_HELP.map(
    (s) => `| \`${s.name}\` | no | ${escapeCell(s.help)} |`,
  );
  return [
    '| Variable | Required | Meaning |',
    '| --- | --- | --- |',
    ...required,
    ...optional,
    ...S3_LOGS_SETTINGS_HELP.map(
      (s) =>
        `| \`${s.name}\` | s3-logs only${s.name === 'SKIP_REALTIME_IAM_EVENTS' ? ' (optional)' : ''} | ${escapeCell(s.help)} |`,
    ),
    '| `POWERTOOLS_SERVICE_NAME`, `POWERTOOLS_METRICS_NAMESPACE`, `POWERTOOLS_LOG_LEVEL` | no | Powertools logger and metrics settings |',
  ].join('\n');
}

function deadLetterAttributes(): string {
  const meaning: Record<keyof typeof DEAD_LETTER_ATTRIBUTES, string> = {
    reason: 'why the message can never succeed (one line)',
    field: 'the offending field, relative to the finding or record (`(item)` for the whole message)',
    source: '`guardduty` or `cloudtrail`',
    itemId: 'the finding id or CloudTrail event id, when one could be read',
    originalMessageId: 'the SQS message id the message had on the source queue',
  };
  return Object.entries(DEAD_LETTER_ATTRIBUTES)
    .map(([key, name]) => `- \`${name}\`: ${meaning[key as keyof typeof DEAD_LETTER_ATTRIBUTES]}`)
    .join('\n');
}

function referenceQueries(): string {
  return REFERENCE_QUERIES.map((q) => `\`\`\`kql\n${q.kql}\n\`\`\`${q.note ? `\n${q.note}` : ''}`).join(
    '\n\n',
  );
}

function actionsTable(): string {
  return [
    '| Action | Target | Reversible | Counts toward the blast-radius cap | What it does |',
    '| --- | --- | --- | --- | --- |',
    ...ACTIONS.map(
      (a) =>
        `| [\`${a.name}\`](shared/respond/ACTIONS.md#${a.name}) | ${a.targetKind} | ${a.irreversible ? '**no** (approval only)' : 'yes (release)'} | ${a.containment ? 'yes' : 'no'} | ${escapeCell(a.summary)} |`,
    ),
  ].join('\n');
}

/** The per-action reference, generated from the catalogue (`shared/respond/ACTIONS.md`). */
export function renderActionsDoc(): string {
  const parts = [
    '# Response actions',
    '',
    'Generated from the catalogue (`shared/respond/actions/*.ts`) by `npm run docs`; do not edit by hand.',
    'Every action is idempotent (a second run reports `already-done` and changes nothing), supports `--dry-run`',
    '(the reads run, the writes are listed and not made), refuses resources tagged `ir:protected=true`, verifies',
    'its effect by reading the resource back, and writes one audit row per AWS call to `AWSResponseAudit_CL`.',
    '',
  ];
  for (const a of ACTIONS) {
    const kind = TARGET_KINDS[a.targetKind];
    parts.push(
      `## ${a.name}`,
      '',
      a.summary,
      '',
      `- Target: ${a.targetKind} (\`${kind.pattern.source}\`, e.g. \`${kind.example}\`)`,
      `- ${a.irreversible ? 'Irreversible: runs only after an approval; there is no release.' : 'Reversible: `release` undoes it.'}`,
      `- ${a.containment ? 'Containment: counts toward the blast-radius cap.' : 'Bookkeeping: does not count toward the blast-radius cap.'}`,
      `- Permissions to execute: ${a.permissions.execute.map((p) => `\`${p}\``).join(', ')}`,
      `- Permissions to release: ${a.permissions.release.length ? a.permissions.release.map((p) => `\`${p}\``).join(', ') : 'none'}`,
      '',
      '```sh',
      `npm run -s cli -- respond --action ${a.name} --account 111122223333 --region us-east-1 --target ${kind.example} --dry-run`,
      '```',
      '',
      a.docs,
      '',
    );
  }
  parts.push(
    '## Responder role permissions',
    '',
    'The union of the lists above (the responder role policy is generated from it):',
    '',
  );
  parts.push(...responderPermissions().map((p) => `- \`${p}\``), '');
  return parts.join('\n');
}

export function readActionsDoc(): string {
  try {
    return readFileSync(ACTIONS_DOC, 'utf8');
  } catch {
    return '';
  }
}

function responderSettings(): string {
  return [
    '| Variable | Required | Meaning |',
    '| --- | --- | --- |',
    ...RESPONDER_SETTINGS_HELP.map((s) => `| \`${s.name}\` | yes | ${escapeCell(s.help)} |`),
    '| `RESPONSE_STATE_TABLE_ENDPOINT` | yes (or `RESPONSE_STATE_CONNECTION`) | Table Storage endpoint for target locks, the blast-radius window and plans awaiting approval (managed identity: *Storage Table Data Contributor*); a connection string only for local runs (Azurite) |',
    '| `AWS_RESPONDER_ROLE_NAME` | no | role assumed in each member account (default `SentinelResponder`) |',
    '| `RESPONSE_POLICY` | no | the response policy as inline JSON (default: `shared/respond/default-policy.json`) |',
    "| `RESPONSE_ALLOWED_ACCOUNTS` | no | comma-separated AWS accounts the responder may act in (overrides the policy's allowlist) |",
    '| `MANAGED_IDENTITY_CLIENT_ID` | no | client id of a user-assigned managed identity (default: the system-assigned one) |',
  ].join('\n');
}

export const SECTIONS: Readonly<Record<string, () => string>> = {
  'azure-permissions': azurePermissionsTable,
  'aws-permissions': () => awsPermissionTable(),
  'responder-settings': responderSettings,
  actions: actionsTable,
  columns,
  'iam-events': iamChangeEvents,
  settings,
  'dead-letter-attributes': deadLetterAttributes,
  'reference-queries': referenceQueries,
};

export function render(readme: string): string {
  let out = readme;
  for (const [name, make] of Object.entries(SECTIONS)) {
    const start = `<!-- generated:${name} -->`;
    const end = `<!-- /generated:${name} -->`;
    const from = out.indexOf(start);
    const to = out.indexOf(end);
    if (from === -1 || to === -1 || to < from)
      throw new Error(`README.md lacks the markers ${start} ... ${end}`);
    out = `${out.slice(0, from + start.length)}\n${make()}\n${out.slice(to)}`;
  }
  return out;
}

export function readReadme(): string {
  return readFileSync(README, 'utf8');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rendered = render(readReadme());
  if (process.argv.includes('--write')) {
    writeFileSync(README, rendered);
    writeFileSync(ACTIONS_DOC, renderActionsDoc());
  } else process.stdout.write(rendered);
}
