import { SecurityInsights } from '@azure/arm-securityinsight';
import type { TokenCredential } from '@azure/core-auth';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createLogsIngestionAdapter } from '../../shared/adapters/azure/logs-ingestion.js';
import { AWS_RESPONSE_AUDIT } from '../../shared/domain/tables/audit-columns.js';
import { startIngestionServer } from '../../shared/local/ingestion-server.js';
import {
  type IncidentProperties,
  type IncidentResource,
  MAX_COMMENT_CHARS,
  SDK_API_VERSION,
  type SentinelServer,
  startSentinelServer,
} from '../../shared/local/sentinel-server.js';
import { auditRows, createIngestionAudit } from '../../shared/respond/audit.js';
import {
  type CommentPlan,
  chooseLabels,
  createIncidentWriteback,
  IncidentWritebackError,
  LABEL_AWAITING_APPROVAL,
  LABEL_CONTAINED,
  LABEL_FAILED,
  mergeLabels,
  renderIncidentComment,
} from '../../shared/respond/incident-writeback.js';
import type { ActionOutcome } from '../../shared/respond/types.js';

const INCIDENT = '7a3b2c1d-0000-4000-8000-000000004242';
const OWNER = {
  objectId: '2b1c9f3e-5d6a-4b7c-8d9e-0f1a2b3c4d5e',
  email: 'soc@contoso.com',
  assignedTo: 'SOC Tier 2',
  userPrincipalName: 'soc@contoso.com',
};

let server: SentinelServer;
beforeAll(async () => {
  server = await startSentinelServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.reset();
  server.addIncident({
    name: INCIDENT,
    incidentNumber: 4242,
    title: 'GuardDuty: UnauthorizedAccess:EC2/SSHBruteForce',
    severity: 'High',
    status: 'Active',
    description: 'SSH brute force against i-0123456789abcdef0',
    owner: OWNER,
    labels: [
      { labelName: 'analyst-triage', labelType: 'User' },
      { labelName: 'GuardDuty', labelType: 'AutoAssigned' },
    ],
    extra: { relatedAnalyticRuleIds: ['/rules/guardduty-high'] },
  });
});

function client(credential: TokenCredential = server.credential, retries = 0): SecurityInsights {
  return new SecurityInsights(credential, server.subscriptionId, {
    endpoint: server.endpoint,
    tlsOptions: { ca: server.ca },
    retryOptions: { maxRetries: retries, retryDelayInMs: 5, maxRetryDelayInMs: 20 },
  });
}

function writeback(sdk: SecurityInsights = client(), maxAttempts?: number) {
  return createIncidentWriteback({
    client: sdk,
    resourceGroup: server.resourceGroup,
    workspace: server.workspace,
    ...(maxAttempts === undefined ? {} : { maxAttempts }),
  });
}

function propertiesOf(incident: IncidentResource | undefined): IncidentProperties {
  if (incident === undefined) throw new Error('no such incident');
  return incident.properties;
}
const labelsOf = (name: string = INCIDENT) => server.incident(name)?.properties.labels ?? [];
const puts = (suffix: RegExp) => server.requests.filter((r) => r.method === 'PUT' && suffix.test(r.path));

async function rejection(promise: Promise<unknown>): Promise<IncidentWritebackError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof IncidentWritebackError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('incident write-back through the real SecurityInsights client', () => {
  it('adds the comment on the real REST path and api-version', async () => {
    const result = await writeback().writeBack(INCIDENT, {
      comment: '<p><b>AWS response</b>: isolated</p>',
      addLabels: [LABEL_CONTAINED],
    });
    const comments = server.comments(INCIDENT);
    expect(comments).toHaveLength(1);
    expect(comments[0]?.name).toBe(result.commentId);
    expect(comments[0]?.properties.message).toBe('<p><b>AWS response</b>: isolated</p>');
    const [put] = puts(/\/comments\//);
    expect(put?.path).toBe(
      `/subscriptions/${server.subscriptionId}/resourceGroups/${server.resourceGroup}/providers/Microsoft.OperationalInsights/workspaces/${server.workspace}/providers/Microsoft.SecurityInsights/incidents/${INCIDENT}/comments/${result.commentId}`,
    );
    expect(server.requests.every((r) => r.apiVersion === SDK_API_VERSION)).toBe(true);
    const listed = await client().incidentComments.list(server.resourceGroup, server.workspace, INCIDENT);
    const messages: string[] = [];
    for await (const comment of listed) messages.push(comment.message ?? '');
    expect(messages).toEqual(['<p><b>AWS response</b>: isolated</p>']);
  });

  it('merges the labels, keeping the other labels with their types and every other field of the incident', async () => {
    const before = server.incident(INCIDENT);
    const result = await writeback().writeBack(INCIDENT, { comment: 'done', addLabels: [LABEL_CONTAINED] });
    expect(result).toMatchObject({ updated: true, attempts: 1 });
    expect(result.labels).toEqual(['analyst-triage', 'GuardDuty', LABEL_CONTAINED]);
    expect(labelsOf()).toEqual([
      { labelName: 'analyst-triage', labelType: 'User' },
      { labelName: 'GuardDuty', labelType: 'AutoAssigned' },
      { labelName: LABEL_CONTAINED, labelType: 'User' },
    ]);
    const after = server.incident(INCIDENT);
    const { labels: _a, lastModifiedTimeUtc: _b, additionalData: _c, ...kept } = propertiesOf(after);
    const { labels: _d, lastModifiedTimeUtc: _e, additionalData: _f, ...was } = propertiesOf(before);
    expect(kept).toEqual(was);
    expect(after?.properties).toMatchObject({ owner: OWNER, description: before?.properties.description });
    expect(after?.etag).not.toBe(before?.etag);
    // The update carried the etag it read.
    const [update] = puts(new RegExp(`/incidents/${INCIDENT}$`));
    expect(update?.body).toMatchObject({ etag: before?.etag });
  });

  it('adds no duplicate label, whatever its case, and makes no update when nothing changes', async () => {
    server.updateIncident(INCIDENT, (properties) => {
      properties.labels = [
        { labelName: 'AWS-Contained', labelType: 'User' },
        { labelName: 'analyst-triage', labelType: 'User' },
      ];
    });
    const result = await writeback().writeBack(INCIDENT, {
      comment: '',
      addLabels: [LABEL_CONTAINED, LABEL_CONTAINED, 'analyst-triage'],
    });
    expect(result).toEqual({ labels: ['AWS-Contained', 'analyst-triage'], updated: false, attempts: 1 });
    expect(puts(/./)).toEqual([]);
    expect(server.comments(INCIDENT)).toEqual([]);
  });

  it('is idempotent: a second identical write-back adds its comment but changes no label', async () => {
    const wb = writeback();
    await wb.writeBack(INCIDENT, { comment: 'first', addLabels: [LABEL_CONTAINED] });
    const second = await wb.writeBack(INCIDENT, { comment: 'second', addLabels: [LABEL_CONTAINED] });
    expect(second.updated).toBe(false);
    expect(labelsOf().filter((l) => l.labelName === LABEL_CONTAINED)).toHaveLength(1);
    expect(server.comments(INCIDENT).map((c) => c.properties.message)).toEqual(['first', 'second']);
  });

  it('removes the labels it is asked to remove and leaves the rest', async () => {
    server.updateIncident(INCIDENT, (properties) => {
      properties.labels = [
        { labelName: 'analyst-triage', labelType: 'User' },
        { labelName: LABEL_AWAITING_APPROVAL, labelType: 'User' },
      ];
    });
    const result = await writeback().writeBack(INCIDENT, {
      comment: 'approved and done',
      addLabels: [LABEL_CONTAINED],
      removeLabels: [LABEL_AWAITING_APPROVAL],
    });
    expect(result.labels).toEqual(['analyst-triage', LABEL_CONTAINED]);
    expect(labelsOf().map((l) => l.labelName)).toEqual(['analyst-triage', LABEL_CONTAINED]);
  });

  it('re-reads and retries after an etag conflict, keeping the other writer change', async () => {
    server.raceAfterRead(INCIDENT);
    const result = await writeback().writeBack(INCIDENT, { comment: 'x', addLabels: [LABEL_CONTAINED] });
    expect(result).toMatchObject({ updated: true, attempts: 2 });
    expect(labelsOf().map((l) => l.labelName)).toEqual([
      'analyst-triage',
      'GuardDuty',
      'concurrent-edit-1',
      LABEL_CONTAINED,
    ]);
    const updates = puts(new RegExp(`/incidents/${INCIDENT}$`));
    expect(updates.map((r) => [r.status, r.errorCode])).toEqual([
      [409, 'Conflict'],
      [200, undefined],
    ]);
    expect(server.comments(INCIDENT)).toHaveLength(1);
  });

  it('gives up after the bounded number of attempts with a retryable conflict error', async () => {
    server.raceAfterRead(INCIDENT, { times: 10 });
    const error = await rejection(
      writeback(client(), 3).writeBack(INCIDENT, { comment: 'x', addLabels: [LABEL_CONTAINED] }),
    );
    expect(error).toMatchObject({ failure: 'conflict', step: 'update', status: 409, retryable: true });
    expect(error.message).toContain('etag conflict on every attempt');
    expect(puts(new RegExp(`/incidents/${INCIDENT}$`))).toHaveLength(3);
    expect(labelsOf().map((l) => l.labelName)).not.toContain(LABEL_CONTAINED);
  });

  it('surfaces a wrong token as unauthorized, before anything is written', async () => {
    const wrong: TokenCredential = {
      getToken: async () => ({ token: 'not-the-token', expiresOnTimestamp: Date.now() + 60_000 }),
    };
    const error = await rejection(
      writeback(client(wrong)).writeBack(INCIDENT, { comment: 'x', addLabels: [LABEL_CONTAINED] }),
    );
    expect(error).toMatchObject({ failure: 'unauthorized', step: 'comment', status: 401, retryable: false });
    expect(error.message).toContain('InvalidAuthenticationToken');
    expect(error.message).not.toContain('not-the-token');
    expect(server.comments(INCIDENT)).toEqual([]);
  });

  it('surfaces a read-only identity as forbidden', async () => {
    const error = await rejection(
      writeback(client(server.readerCredential)).writeBack(INCIDENT, { comment: 'x', addLabels: [] }),
    );
    expect(error).toMatchObject({ failure: 'forbidden', status: 403 });
    expect(error.message).toContain('AuthorizationFailed');
  });

  it('reports an unknown incident as not found, naming it and the workspace', async () => {
    const error = await rejection(
      writeback().writeBack('00000000-dead-4bad-8bad-000000000000', {
        comment: 'x',
        addLabels: [LABEL_CONTAINED],
      }),
    );
    expect(error).toMatchObject({ failure: 'not-found', step: 'comment', status: 404, retryable: false });
    expect(error.message).toContain(
      `Incident '00000000-dead-4bad-8bad-000000000000' was not found in workspace '${server.workspace}' (404 NotFound)`,
    );
  });

  it('reports an unknown incident as not found when only labels are written', async () => {
    const error = await rejection(
      writeback().writeBack('00000000-dead-4bad-8bad-000000000000', { comment: '', addLabels: ['x'] }),
    );
    expect(error).toMatchObject({ failure: 'not-found', step: 'read', status: 404 });
  });

  it('cuts a comment over the 30,000-character limit instead of having it refused', async () => {
    const result = await writeback().writeBack(INCIDENT, { comment: 'a'.repeat(40_000), addLabels: [] });
    const [comment] = server.comments(INCIDENT);
    expect(comment?.name).toBe(result.commentId);
    expect(comment?.properties.message.length).toBe(MAX_COMMENT_CHARS);
    expect(comment?.properties.message.endsWith('… [truncated]')).toBe(true);
  });

  it('adds the comment once when the SDK retries it after a server error (same comment id)', async () => {
    server.injectFaults({ kind: 'server-error' });
    await writeback(client(server.credential, 2)).writeBack(INCIDENT, { comment: 'once', addLabels: [] });
    const commentPuts = puts(/\/comments\//);
    expect(commentPuts.map((r) => r.status)).toEqual([500, 201]);
    expect(new Set(commentPuts.map((r) => r.comment)).size).toBe(1);
    expect(server.comments(INCIDENT)).toHaveLength(1);
  });
});

describe('local Sentinel server semantics, through the SDK', () => {
  it('refuses an update with a stale etag with 409 Conflict, as the service does', async () => {
    const sdk = client();
    const incident = await sdk.incidents.get(server.resourceGroup, server.workspace, INCIDENT);
    server.updateIncident(INCIDENT, (properties) => {
      properties.severity = 'Medium';
    });
    await expect(
      sdk.incidents.createOrUpdate(server.resourceGroup, server.workspace, INCIDENT, {
        ...incident,
        title: 'x',
      }),
    ).rejects.toMatchObject({ statusCode: 409, code: 'Conflict' });
    expect(server.incident(INCIDENT)?.properties.title).toBe(
      'GuardDuty: UnauthorizedAccess:EC2/SSHBruteForce',
    );
  });

  it('refuses an update without an etag with 409, and an If-Match that does not match with 412', async () => {
    const sdk = client();
    const { etag: _etag, ...incident } = await sdk.incidents.get(
      server.resourceGroup,
      server.workspace,
      INCIDENT,
    );
    await expect(
      sdk.incidents.createOrUpdate(server.resourceGroup, server.workspace, INCIDENT, incident),
    ).rejects.toMatchObject({ statusCode: 409 });
    await expect(
      sdk.incidents.createOrUpdate(server.resourceGroup, server.workspace, INCIDENT, incident, {
        requestOptions: { customHeaders: { 'If-Match': '"stale"' } },
      }),
    ).rejects.toMatchObject({ statusCode: 412, code: 'PreconditionFailed' });
  });

  it('replaces the incident on PUT: an omitted owner and description are erased, read-only fields kept', async () => {
    const sdk = client();
    const incident = await sdk.incidents.get(server.resourceGroup, server.workspace, INCIDENT);
    const { owner: _owner, description: _description, labels: _labels, ...partial } = incident;
    await sdk.incidents.createOrUpdate(server.resourceGroup, server.workspace, INCIDENT, partial);
    const after = server.incident(INCIDENT)?.properties;
    expect(after).not.toHaveProperty('owner');
    expect(after).not.toHaveProperty('description');
    expect(after?.labels).toEqual([]);
    expect(after).toMatchObject({ incidentNumber: 4242, relatedAnalyticRuleIds: ['/rules/guardduty-high'] });
  });

  it('returns the incident with its etag, labels, owner and comment count as the SDK models them', async () => {
    await writeback().writeBack(INCIDENT, { comment: 'c', addLabels: [] });
    const incident = await client().incidents.get(server.resourceGroup, server.workspace, INCIDENT);
    expect(incident).toMatchObject({
      name: INCIDENT,
      etag: server.incident(INCIDENT)?.etag,
      incidentNumber: 4242,
      severity: 'High',
      owner: OWNER,
      labels: [
        { labelName: 'analyst-triage', labelType: 'User' },
        { labelName: 'GuardDuty', labelType: 'AutoAssigned' },
      ],
      additionalData: { commentsCount: 1 },
    });
    expect(incident.createdTimeUtc).toBeInstanceOf(Date);
  });

  it('refuses a comment over 30,000 characters with 400', async () => {
    await expect(
      client().incidentComments.createOrUpdate(server.resourceGroup, server.workspace, INCIDENT, 'c1', {
        message: 'a'.repeat(MAX_COMMENT_CHARS + 1),
      }),
    ).rejects.toMatchObject({ statusCode: 400, code: 'BadRequest' });
  });
});

// ---------------------------------------------------------------------------------------------------------

const RELEASE =
  'npm run -s cli -- release --action isolate-ec2-instance --account 123456789012 --region eu-west-1 --target i-0123456789abcdef0 --incident 4242';

const isolated: ActionOutcome = {
  status: 'done',
  action: 'isolate-ec2-instance',
  target: 'i-0123456789abcdef0',
  accountId: '123456789012',
  region: 'eu-west-1',
  incident: { id: INCIDENT, number: 4242 },
  calls: [
    { service: 'ec2', operation: 'DescribeInstances', input: {}, why: 'read', mutating: false },
    { service: 'ec2', operation: 'CreateSnapshot', input: {}, why: 'snapshot', mutating: true },
    {
      service: 'ec2',
      operation: 'ModifyNetworkInterfaceAttribute',
      input: {},
      why: 'isolate',
      mutating: true,
    },
  ],
  verified: true,
  observed: { 'eni-0a1b': ['sg-isolation'], 'eni-0c2d': ['sg-isolation'] },
  release: RELEASE,
};

const keyFailed: ActionOutcome = {
  status: 'failed',
  action: 'deactivate-access-key',
  target: 'AKIAIOSFODNN7EXAMPLE',
  accountId: '123456789012',
  region: 'us-east-1',
  incident: { id: INCIDENT, number: 4242 },
  reason: 'UpdateAccessKey was refused: <AccessDenied> for "responder"',
  calls: [
    {
      service: 'iam',
      operation: 'UpdateAccessKey',
      input: {},
      why: 'deactivate',
      mutating: true,
      error: 'AccessDenied',
    },
  ],
};

const archived: ActionOutcome = {
  status: 'already-done',
  action: 'archive-guardduty-finding',
  target: '90b82273685661b9318f078d0851fe9a',
  accountId: '123456789012',
  region: 'eu-west-1',
  reason: 'finding already archived',
  calls: [],
  irreversible: true,
};

const plan: CommentPlan = {
  id: 'plan-6f1c',
  steps: [
    {
      action: 'isolate-ec2-instance',
      target: 'i-0123456789abcdef0',
      accountId: '123456789012',
      region: 'eu-west-1',
      mode: 'auto',
      containment: true,
    },
    {
      action: 'disable-console-login',
      target: 'alice',
      accountId: '123456789012',
      region: 'us-east-1',
      mode: 'approval',
      containment: true,
      irreversible: true,
    },
  ],
  skipped: [{ kind: 'ip', target: '203.0.113.7', reason: 'no action applies to an IP address' }],
};

describe('renderIncidentComment', () => {
  it('lists per target what was done, its status, verification, what was seen and how to release it', () => {
    const html = renderIncidentComment([isolated, keyFailed, archived], plan, { correlationId: 'run-1' });
    expect(html).toContain('<b>i-0123456789abcdef0</b> · account 123456789012 · eu-west-1');
    expect(html).toContain(
      '<b>isolate-ec2-instance</b>: <b>done</b> · verified (seen: eni-0a1b: sg-isolation; eni-0c2d: sg-isolation)',
    );
    expect(html).toContain(`Release: <code>${RELEASE}</code>`);
    expect(html).toContain('AWS calls: 3 (2 changes)');
    expect(html).toContain('Irreversible: cannot be released.');
    expect(html).toContain('<b>disable-console-login</b>: <b>awaiting approval</b>');
    expect(html).toContain('203.0.113.7');
    expect(html).toContain('CorrelationId <code>run-1</code>');
    expect(html.startsWith('<p><b>AWS response</b> for incident 4242 · plan <code>plan-6f1c</code>')).toBe(
      true,
    );
  });

  it('puts failed targets first and escapes text from AWS', () => {
    const html = renderIncidentComment([isolated, keyFailed]);
    expect(html.indexOf('AKIAIOSFODNN7EXAMPLE')).toBeLessThan(html.indexOf('i-0123456789abcdef0'));
    expect(html).toContain('&lt;AccessDenied&gt; for &quot;responder&quot;');
    expect(html).not.toContain('<AccessDenied>');
    expect(html).toContain('Failed calls: iam:UpdateAccessKey AccessDenied');
  });

  it('shows the calls a dry run would make', () => {
    const { verified: _v, observed: _o, ...rest } = isolated;
    const outcome: ActionOutcome = {
      ...rest,
      status: 'dry-run',
      calls: isolated.calls.map((c) => (c.mutating ? { ...c, skipped: true as const } : c)),
    };
    const html = renderIncidentComment([outcome]);
    expect(html).toContain('<b>dry run (nothing changed)</b>');
    expect(html).toContain('Would call (2): ec2:CreateSnapshot, ec2:ModifyNetworkInterfaceAttribute');
  });

  it('stays under the limit by dropping whole entries from the end, the same way every time', () => {
    const many: ActionOutcome[] = Array.from({ length: 400 }, (_, i) => ({
      ...isolated,
      target: `i-${i.toString(16).padStart(17, '0')}`,
      reason: `reason ${i} ${'x'.repeat(400)}`,
    }));
    const html = renderIncidentComment(many, undefined, { correlationId: 'run-2' });
    expect(html.length).toBeLessThanOrEqual(30_000);
    expect(renderIncidentComment(many, undefined, { correlationId: 'run-2' })).toBe(html);
    expect(html).toMatch(/<b>\d+ more entries not shown<\/b>/);
    expect(html.endsWith('(CorrelationId <code>run-2</code>).</i></p>')).toBe(true);
    expect(html.split('<ul>').length).toBe(html.split('</ul>').length);
    expect(html.split('<li>').length).toBe(html.split('</li>').length);
    const shown = html.split('<li>').length - 1;
    const omitted = Number(/<b>(\d+) more entries/.exec(html)?.[1]);
    expect(shown + omitted).toBe(400);
    expect(renderIncidentComment(many, undefined, { maxChars: 5_000 }).length).toBeLessThanOrEqual(5_000);
  });
});

describe('chooseLabels and mergeLabels', () => {
  it('labels a verified containment as contained, a failure as failed, and held steps as awaiting approval', () => {
    expect(chooseLabels([isolated, keyFailed], plan)).toEqual({
      add: [LABEL_FAILED, LABEL_CONTAINED, LABEL_AWAITING_APPROVAL],
      remove: [],
    });
  });

  it('removes awaiting-approval once no step waits, and does not count archiving or dry runs as containment', () => {
    const approved: ActionOutcome = {
      ...isolated,
      action: 'disable-console-login',
      target: 'alice',
      region: 'us-east-1',
    };
    expect(chooseLabels([isolated, approved], plan)).toEqual({
      add: [LABEL_CONTAINED],
      remove: [LABEL_AWAITING_APPROVAL],
    });
    expect(chooseLabels([archived])).toEqual({ add: [], remove: [] });
    expect(chooseLabels([{ ...isolated, status: 'dry-run' }])).toEqual({ add: [], remove: [] });
    expect(chooseLabels([{ ...isolated, verified: false }])).toEqual({ add: [LABEL_FAILED], remove: [] });
  });

  it('merges without duplicates, keeping existing labels first and as they were', () => {
    const existing = [
      { labelName: 'GuardDuty', labelType: 'AutoAssigned' },
      { labelName: 'guardduty', labelType: 'User' },
      { labelName: 'awaiting-approval', labelType: 'User' },
    ];
    expect(mergeLabels(existing, [' aws-contained ', 'GUARDDUTY', ''], ['Awaiting-Approval'])).toEqual({
      labels: [
        { labelName: 'GuardDuty', labelType: 'AutoAssigned' },
        { labelName: 'aws-contained', labelType: 'User' },
      ],
      changed: true,
    });
    expect(mergeLabels(existing.slice(0, 1), ['guardduty']).changed).toBe(false);
  });
});

describe('audit rows through the local Logs Ingestion server', () => {
  it('stores every row in AWSResponseAudit_CL with only declared columns of the declared types', async () => {
    const ingestion = await startIngestionServer({ tables: [AWS_RESPONSE_AUDIT] });
    try {
      const port = createLogsIngestionAdapter({
        endpoint: ingestion.endpoint,
        ruleId: ingestion.dcrImmutableId,
        credential: ingestion.credential,
        clientOptions: { tlsOptions: { ca: ingestion.ca }, retryOptions: { maxRetries: 0 } },
      });
      const meta = { actor: 'sentinel-automation', correlationId: 'run-3', at: new Date() };
      const rows = [isolated, keyFailed, archived].flatMap((o) => auditRows(o, meta));
      await expect(createIngestionAudit(port).write(rows)).resolves.toEqual({ failed: 0 });
      expect(ingestion.rows('AWSResponseAudit_CL')).toHaveLength(rows.length);
      const stats = ingestion.stats();
      expect([...stats.unknownColumns]).toEqual([]);
      expect(stats.typeErrors).toEqual([]);
    } finally {
      await ingestion.close();
    }
  });
});
