/**
 * The two Azure Functions through their handler factories, with real `@azure/functions` requests, over real
 * parts (see `test/support/respond-harness.ts`): Entra tokens from the local issuer, the AWS account model
 * behind the SDK clients, locks, blast radius and plans on Azurite, comments and labels on the local Sentinel
 * server, audit rows on the local Logs Ingestion server. Assertions are on end state.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { Handler } from '../../azure-functions/http.js';
import {
  ACCOUNT,
  EXISTING_LABELS,
  FINDING,
  FINDING_TYPE,
  INCIDENT_NAME,
  INCIDENT_NUMBER,
  KEY,
  OTHER_KEY,
  REGION,
  type Reply,
  type RespondHarness,
  ROLE,
  startRespondHarness,
  USER,
} from '../support/respond-harness.js';

let h: RespondHarness;

beforeAll(async () => {
  h = await startRespondHarness();
}, 60_000);

afterAll(async () => {
  await h.close();
});

beforeEach(() => {
  h.reset();
});

interface StepReply {
  readonly action: string;
  readonly target: string;
  readonly mode: string;
  readonly state: string;
  readonly status?: string;
  readonly verified?: boolean;
  readonly reason?: string;
  readonly release?: string;
}

interface IncidentReply {
  readonly planId: string;
  readonly incident: { readonly number?: number; readonly name?: string };
  readonly awaitingApproval: boolean;
  readonly steps: readonly StepReply[];
  readonly skipped: readonly { readonly kind: string; readonly target: string; readonly reason: string }[];
  readonly notes: readonly string[];
}

interface OutcomeReply {
  readonly status: string;
  readonly action: string;
  readonly target: string;
  readonly reason?: string;
  readonly refusal?: string;
  readonly verified?: boolean;
  readonly awaitingApproval?: boolean;
  readonly irreversible?: boolean;
  readonly calls: readonly {
    readonly operation: string;
    readonly mutating: boolean;
    readonly skipped?: boolean;
  }[];
}

interface ErrorReply {
  readonly error: { readonly code: string; readonly message: string };
}

interface CatalogueReply {
  readonly actions: readonly {
    readonly name: string;
    readonly summary: string;
    readonly targetKind: string;
    readonly input: { readonly type?: string; readonly properties?: Record<string, { pattern?: string }> };
    readonly permissions: { readonly execute: readonly string[]; readonly release: readonly string[] };
    readonly irreversible: boolean;
    readonly releasable: boolean;
  }[];
}

const bodyOf = <T>(reply: Reply): T => reply.body as T;

/** An error response a caller may see: JSON, no stack frames, no error class dumps, never the token. */
function expectSafeError(reply: Reply, secrets: readonly string[] = []): ErrorReply {
  expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
  expect(reply.text).not.toMatch(/\bat .*(\(|\s)[^\s()]+:\d+:\d+\)?/);
  expect(reply.text).not.toMatch(/\b\w*(Error|Exception):/);
  expect(reply.text).not.toMatch(/node_modules|\.ts:\d|file:\/\//);
  for (const secret of secrets) expect(reply.text).not.toContain(secret);
  const body = bodyOf<ErrorReply>(reply);
  expect(typeof body.error.code).toBe('string');
  expect(typeof body.error.message).toBe('string');
  return body;
}

const postIncident = (token: string | null, body: unknown, headers?: Record<string, string>) =>
  h.call(h.handlers.incident, { path: '/api/incidents', token, body, ...(headers ? { headers } : {}) });

const runAction = (token: string, name: string, body: unknown) =>
  h.call(h.handlers.run, { path: `/api/actions/${name}`, token, body, params: { name } });

const releaseAction = (token: string, name: string, body: unknown) =>
  h.call(h.handlers.release, { path: `/api/actions/${name}/release`, token, body, params: { name } });

const approve = (token: string, id: string) =>
  h.call(h.handlers.approve, { path: `/api/plans/${id}/approve`, token, params: { id } });

const stepOf = (reply: IncidentReply, action: string): StepReply | undefined =>
  reply.steps.find((s) => s.action === action);

const isolationGroups = () =>
  [...h.model.ec2.state.securityGroups.values()].filter((g) => g.groupName.startsWith('ir-isolation-'));

/** The seeded instance's ENIs are each in exactly the isolation group of its VPC. */
function expectIsolated(incident: string = String(INCIDENT_NUMBER)): void {
  const group = h.model.ec2.findGroup(h.seeded.vpcId, `ir-isolation-${h.seeded.vpcId}`);
  expect(group?.ingress).toEqual([]);
  expect(group?.egress).toEqual([]);
  const groups = h.model.ec2.groupsOf(h.seeded.instance.instanceId);
  expect(Object.keys(groups)).toEqual(h.seeded.instance.eniIds);
  for (const eni of h.seeded.instance.eniIds) expect(groups[eni]).toEqual([group?.groupId]);
  expect(h.model.ec2.tagsOf(h.seeded.instance.instanceId)).toMatchObject({
    'ir:status': 'isolated',
    'ir:incident': incident,
  });
}

const untouchedGroups = () => h.seeded.instance.eniGroups;
const archived = () => h.model.guardduty.finding(FINDING)?.Service?.Archived ?? false;
const details = (extra: Record<string, readonly string[]>): Record<string, readonly string[]> => ({
  AwsAccountId: [ACCOUNT],
  AwsRegion: [REGION],
  ...extra,
});

describe('sentinel-incident', () => {
  it('contains the instance and the named key, archives the finding, comments, labels and audits', async () => {
    const token = await h.token(['Responder']);
    const reply = await postIncident(token, h.fixtureEnvelope());
    expect(reply.status).toBe(200);
    const body = bodyOf<IncidentReply>(reply);
    expect(body.awaitingApproval).toBe(false);
    expect(body.incident.number).toBe(INCIDENT_NUMBER);
    const instanceId = h.seeded.instance.instanceId;
    expect(body.steps.map((s) => [s.action, s.target, s.state, s.status, s.verified])).toEqual([
      ['isolate-ec2-instance', instanceId, 'ran', 'done', true],
      ['deactivate-access-key', KEY, 'ran', 'done', true],
      ['archive-guardduty-finding', FINDING, 'ran', 'done', true],
    ]);
    expect(body.skipped.map((s) => [s.target, s.reason])).toEqual([
      [USER, 'no policy rule applies'],
      ['i-0fedcba9876543210', 'no policy rule applies'],
      ['bob', 'no policy rule applies'],
    ]);

    // AWS end state.
    expectIsolated();
    expect(isolationGroups()).toHaveLength(1);
    for (const volume of h.seeded.instance.volumeIds) expect(h.model.ec2.snapshotsOf(volume)).toHaveLength(1);
    expect(h.model.iam.keyStatus(KEY)).toBe('Inactive');
    expect(h.model.iam.keyStatus(OTHER_KEY)).toBe('Active');
    expect(archived()).toBe(true);
    expect(h.model.guardduty.feedback).toEqual([
      expect.objectContaining({ findingIds: [FINDING], feedback: 'USEFUL' }),
    ]);

    // Sentinel: one comment naming every target with its release command; labels merged.
    const comments = h.comments();
    expect(comments).toHaveLength(1);
    const [comment = ''] = comments;
    for (const step of body.steps) {
      expect(comment).toContain(step.target);
      expect(step.release).toBeDefined();
      expect(comment).toContain(`<code>${step.release ?? ''}</code>`);
    }
    expect(comment).toContain(`--target ${instanceId} --incident ${INCIDENT_NUMBER}`);
    expect(h.labels()).toEqual([...EXISTING_LABELS.map((l) => l.labelName), 'aws-contained']);
    expect(h.sentinel.incident(INCIDENT_NAME)?.properties.labels).toEqual([
      ...EXISTING_LABELS,
      { labelName: 'aws-contained', labelType: 'User' },
    ]);
    expect(h.writebackFailures).toEqual([]);

    // Audit: one row per AWS call (the model saw exactly these) plus one outcome row per step.
    const rows = h.auditRows();
    const callRows = rows.filter((r) => r.Operation !== '(outcome)');
    const outcomeRows = rows.filter((r) => r.Operation === '(outcome)');
    expect(callRows.map((r) => `${String(r.Service)}:${String(r.Operation)}`).sort()).toEqual(
      h.awsCalls().sort(),
    );
    expect(outcomeRows.map((r) => [r.Action, r.Target, r.Status, r.Verified])).toEqual(
      expect.arrayContaining([
        ['isolate-ec2-instance', instanceId, 'done', true],
        ['deactivate-access-key', KEY, 'done', true],
        ['archive-guardduty-finding', FINDING, 'done', true],
      ]),
    );
    expect(outcomeRows).toHaveLength(3);
    expect(new Set(rows.map((r) => r.CorrelationId)).size).toBe(3);
    for (const row of rows) {
      expect(row).toMatchObject({
        IncidentNumber: INCIDENT_NUMBER,
        AccountId: ACCOUNT,
        Actor: 'analyst@contoso.com',
        DryRun: false,
      });
    }
    const stats = h.ingestion.stats();
    expect([...stats.unknownColumns]).toEqual([]);
    expect(stats.typeErrors).toEqual([]);
    expect(h.auditFailures).toBe(0);
  });

  it('archives the finding only after containment succeeded', async () => {
    h.model.ec2.failNext('ModifyNetworkInterfaceAttribute', 'UnauthorizedOperation');
    const token = await h.token(['Responder']);
    const reply = await postIncident(
      token,
      h.incident([
        details({
          InstanceId: [h.seeded.instance.instanceId],
          FindingId: [FINDING],
          FindingType: [FINDING_TYPE],
        }),
      ]),
    );
    expect(reply.status).toBe(200);
    const body = bodyOf<IncidentReply>(reply);
    expect(stepOf(body, 'isolate-ec2-instance')?.status).toBe('failed');
    expect(stepOf(body, 'archive-guardduty-finding')).toMatchObject({
      state: 'not-run',
      reason: 'waits until every containment step succeeded',
    });
    expect(archived()).toBe(false);
    expect(h.model.guardduty.writeCalls()).toEqual([]);
    expect(h.labels()).toContain('aws-response-failed');
    expect(h.labels()).not.toContain('aws-contained');
  });

  it('reports every step already-done on a second delivery and changes nothing', async () => {
    const token = await h.token(['Responder']);
    expect((await postIncident(token, h.fixtureEnvelope())).status).toBe(200);
    const before = h.model.snapshot();
    const rowsBefore = h.auditRows().length;

    const again = await postIncident(token, h.fixtureEnvelope());
    expect(again.status).toBe(200);
    const body = bodyOf<IncidentReply>(again);
    expect(body.steps.map((s) => [s.action, s.state, s.status])).toEqual([
      ['isolate-ec2-instance', 'ran', 'already-done'],
      ['deactivate-access-key', 'ran', 'already-done'],
      ['archive-guardduty-finding', 'ran', 'already-done'],
    ]);
    expect(h.model.snapshot()).toEqual(before);
    expect(h.model.ec2.state.snapshots.size).toBe(2);
    const secondRun = h.auditRows().slice(rowsBefore);
    expect(secondRun.filter((r) => r.Operation === '(outcome)')).toHaveLength(3);
    expect(secondRun.every((r) => r.Mutating === false)).toBe(true);
    expect(h.labels().filter((l) => l === 'aws-contained')).toHaveLength(1);
  });

  it('has exactly one set of side effects when the incident is delivered 10 times at once', async () => {
    // At the default cap: deliveries that change nothing (already done, or losing a target lock) take no slot.
    h.reset();
    const token = await h.token(['Responder']);
    const replies = await Promise.all(
      Array.from({ length: 10 }, () => postIncident(token, h.fixtureEnvelope())),
    );
    const steps = replies.flatMap((r) => {
      expect(r.status).toBe(200);
      return bodyOf<IncidentReply>(r).steps;
    });
    for (const step of steps) {
      if (step.status === 'refused') expect(step.reason).toMatch(/^another run is acting on this target/);
      else if (step.status === undefined) expect(step.state).toBe('not-run');
      else expect(['done', 'already-done']).toContain(step.status);
    }
    expect(steps.filter((s) => s.status === 'failed')).toEqual([]);
    const done = (action: string) => steps.filter((s) => s.action === action && s.status === 'done');
    expect(done('isolate-ec2-instance')).toHaveLength(1);
    expect(done('deactivate-access-key')).toHaveLength(1);
    expect(done('archive-guardduty-finding').length).toBeLessThanOrEqual(1);

    expectIsolated();
    expect(isolationGroups()).toHaveLength(1);
    expect(h.model.ec2.state.snapshots.size).toBe(h.seeded.instance.volumeIds.length);
    expect(h.model.ec2.mutatingCalls('CreateSnapshots')).toBe(1);
    expect(h.model.iam.writeCalls()).toEqual(['UpdateAccessKey']);
    expect(h.model.iam.keyStatus(OTHER_KEY)).toBe('Active');
    expect(h.model.guardduty.feedback.length).toBeLessThanOrEqual(1);
    expect(h.labels().filter((l) => l === 'aws-contained')).toHaveLength(1);
  });

  it('treats the bare incident object like the envelope', async () => {
    const token = await h.token(['Responder']);
    const { object } = h.fixtureEnvelope() as { object: unknown };
    const reply = await postIncident(token, object);
    expect(reply.status).toBe(200);
    const body = bodyOf<IncidentReply>(reply);
    expect(body.steps.map((s) => [s.action, s.status])).toEqual([
      ['isolate-ec2-instance', 'done'],
      ['deactivate-access-key', 'done'],
      ['archive-guardduty-finding', 'done'],
    ]);
    expectIsolated();
    expect(h.model.iam.keyStatus(KEY)).toBe('Inactive');
    expect(archived()).toBe(true);
    expect(h.labels()).toContain('aws-contained');
  });

  it('finds the instance from GetFindings when an alert names only the finding', async () => {
    const token = await h.token(['Responder']);
    const reply = await postIncident(
      token,
      h.incident([details({ FindingId: [FINDING], FindingType: [FINDING_TYPE] })]),
    );
    expect(reply.status).toBe(200);
    expect(bodyOf<IncidentReply>(reply).steps.map((s) => [s.action, s.target, s.status])).toEqual([
      ['isolate-ec2-instance', h.seeded.instance.instanceId, 'done'],
      ['archive-guardduty-finding', FINDING, 'done'],
    ]);
    expectIsolated();
    expect(archived()).toBe(true);
  });

  it('answers 200 with an empty plan and the reasons when the incident names nothing it can act on', async () => {
    const token = await h.token(['Responder']);
    const reply = await postIncident(
      token,
      h.incident(
        [
          { InstanceId: [h.seeded.instance.instanceId], FindingType: [FINDING_TYPE] },
          { AwsAccountId: ['12345'], AccessKeyId: ['not-a-key'] },
        ],
        {
          relatedEntities: [
            { kind: 'Ip', properties: { address: '198.51.100.23' } },
            { kind: 'Host', properties: { hostName: 'web-01' } },
          ],
        },
      ),
    );
    expect(reply.status).toBe(200);
    const body = bodyOf<IncidentReply>(reply);
    expect(body.steps).toEqual([]);
    expect(body.awaitingApproval).toBe(false);
    expect(body.skipped).toEqual([
      {
        kind: 'ec2-instance',
        target: h.seeded.instance.instanceId,
        reason: 'the incident names no AWS account for this target',
      },
    ]);
    expect(body.notes).toEqual(
      expect.arrayContaining([
        'account "12345" is not a 12-digit AWS account id',
        'access-key "not-a-key" is not a valid id',
      ]),
    );
    expect(h.awsCalls()).toEqual([]);
    expect(h.auditRows()).toEqual([]);
    expect(h.labels()).toEqual(EXISTING_LABELS.map((l) => l.labelName));
  });

  it('refuses a body that is not JSON with 400 and a non-JSON content type with 415', async () => {
    const token = await h.token(['Responder']);
    const invalid = await postIncident(token, '{"object": {');
    expect(invalid.status).toBe(400);
    expect(expectSafeError(invalid, [token]).error.code).toBe('invalid_json');
    const empty = await postIncident(token, '  ');
    expect(empty.status).toBe(400);
    expect(expectSafeError(empty, [token]).error.code).toBe('empty_body');
    const text = await postIncident(token, JSON.stringify(h.fixtureEnvelope()), {
      'content-type': 'text/plain',
    });
    expect(text.status).toBe(415);
    expect(expectSafeError(text, [token]).error.code).toBe('unsupported_media_type');
    expect(h.awsCalls()).toEqual([]);
  });

  it('refuses an incident with a bad field with 422 naming the field path', async () => {
    const token = await h.token(['Responder']);
    const envelope = h.fixtureEnvelope() as { object: { properties: Record<string, unknown> } };
    envelope.object.properties.incidentNumber = 'forty-two';
    const reply = await postIncident(token, envelope);
    expect(reply.status).toBe(422);
    const error = expectSafeError(reply, [token]).error;
    expect(error.code).toBe('invalid_incident');
    expect(error.message).toMatch(/^object\.properties\.incidentNumber: /);

    const bare = h.incident([]) as { properties: Record<string, unknown> };
    bare.properties.alerts = [{ properties: { severity: 7 } }];
    const nested = await postIncident(token, bare);
    expect(nested.status).toBe(422);
    expect(expectSafeError(nested).error.message).toMatch(/^properties\.alerts\[0\]\.properties\.severity: /);
    expect(h.awsCalls()).toEqual([]);
  });

  it('leaves a protected instance untouched and reports it refused', async () => {
    h.reset({ instanceTags: { 'ir:protected': 'true' } });
    const ec2Before = h.model.ec2.snapshot();
    const token = await h.token(['Responder']);
    const reply = await postIncident(token, h.fixtureEnvelope());
    expect(reply.status).toBe(200);
    const body = bodyOf<IncidentReply>(reply);
    expect(stepOf(body, 'isolate-ec2-instance')).toMatchObject({ state: 'ran', status: 'refused' });
    expect(stepOf(body, 'isolate-ec2-instance')?.reason).toContain('protected tag ir:protected=true');
    expect(stepOf(body, 'archive-guardduty-finding')?.state).toBe('not-run');
    expect(h.model.ec2.snapshot()).toEqual(ec2Before);
    expect(h.model.ec2.groupsOf(h.seeded.instance.instanceId)).toEqual(untouchedGroups());
    expect(archived()).toBe(false);
    // The key is a separate target, not protected.
    expect(h.model.iam.keyStatus(KEY)).toBe('Inactive');
  });

  it('skips targets in an account outside the allowlist without calling AWS', async () => {
    const token = await h.token(['Responder']);
    const reply = await postIncident(
      token,
      h.incident([
        {
          AwsAccountId: ['999988887777'],
          AwsRegion: [REGION],
          InstanceId: [h.seeded.instance.instanceId],
          AccessKeyId: [KEY],
          FindingType: [FINDING_TYPE],
        },
      ]),
    );
    expect(reply.status).toBe(200);
    const body = bodyOf<IncidentReply>(reply);
    expect(body.steps).toEqual([]);
    expect(body.skipped).toEqual(
      expect.arrayContaining([
        {
          kind: 'ec2-instance',
          target: h.seeded.instance.instanceId,
          reason: "account 999988887777 is not in the policy's allowlist",
        },
      ]),
    );
    expect(h.awsCalls()).toEqual([]);
    expect(h.model.ec2.groupsOf(h.seeded.instance.instanceId)).toEqual(untouchedGroups());
  });
});

describe('approvals', () => {
  it('holds containment beyond the blast-radius cap until an Approver approves the plan, once', async () => {
    h.reset({ maxContainments: 1 });
    const responder = await h.token(['Responder']);
    const reply = await postIncident(
      responder,
      h.incident([
        details({ InstanceId: [h.seeded.instance.instanceId], FindingType: [FINDING_TYPE] }),
        details({ AccessKeyId: [KEY], FindingType: ['UnauthorizedAccess:IAMUser/TorIPCaller'] }),
      ]),
    );
    expect(reply.status).toBe(200);
    const held = bodyOf<IncidentReply>(reply);
    expect(held.awaitingApproval).toBe(true);
    expect(held.steps).toHaveLength(2);
    const containedNow =
      Number(h.model.ec2.tagsOf(h.seeded.instance.instanceId)['ir:status'] === 'isolated') +
      Number(h.model.iam.keyStatus(KEY) === 'Inactive');
    // The cap: exactly one containment in the window before an approval, the other held.
    expect(containedNow).toBe(1);
    expect(h.labels()).toContain('awaiting-approval');
    const waiting = held.steps.filter((s) => s.state === 'awaiting-approval');
    expect(waiting.length).toBe(2 - containedNow);
    for (const step of waiting) expect(step.reason).toMatch(/^blast-radius cap: .*held for approval$/);
    expect(h.comments()[0]).toContain('held for approval');

    // A Responder cannot approve; an unknown plan is 404. Neither changes anything.
    const heldState = h.model.snapshot();
    const forbidden = await approve(responder, held.planId);
    expect(forbidden.status).toBe(403);
    expectSafeError(forbidden, [responder]);
    const approver = await h.token(['Approver'], { name: 'lead@contoso.com' });
    const unknown = await approve(approver, 'plan-does-not-exist');
    expect(unknown.status).toBe(404);
    expect(expectSafeError(unknown, [approver]).error.code).toBe('plan_not_found');
    expect(h.model.snapshot()).toEqual(heldState);

    const approved = await approve(approver, held.planId);
    expect(approved.status).toBe(200);
    const result = bodyOf<IncidentReply>(approved);
    expect(result.awaitingApproval).toBe(false);
    // Same summary shape as POST /api/incidents; the step contained before the approval is already done.
    expect(result.steps.map((s) => [s.state, s.action, s.status])).toEqual([
      ['ran', 'isolate-ec2-instance', expect.stringMatching(/done$/)],
      ['ran', 'deactivate-access-key', expect.stringMatching(/done$/)],
    ]);
    expect(result.steps.filter((s) => s.status === 'done')).toHaveLength(1);
    expectIsolated();
    expect(h.model.iam.keyStatus(KEY)).toBe('Inactive');
    expect(h.model.iam.keyStatus(OTHER_KEY)).toBe('Active');
    expect(h.model.ec2.state.snapshots.size).toBe(2);
    expect(h.labels()).toContain('aws-contained');
    expect(h.labels()).not.toContain('awaiting-approval');
    const approvedRows = h
      .auditRows()
      .filter((r) => r.Operation === '(outcome)' && r.Actor === 'lead@contoso.com');
    expect(approvedRows.map((r) => r.Status)).toEqual(expect.arrayContaining(['done']));

    const before = h.model.snapshot();
    const again = await approve(approver, held.planId);
    expect(again.status).toBe(409);
    expect(expectSafeError(again, [approver]).error.code).toBe('plan_not_awaiting_approval');
    expect(h.model.snapshot()).toEqual(before);
  });

  it('labels the incident awaiting-approval for an approval-mode step and clears it once approved', async () => {
    const responder = await h.token(['Responder']);
    const reply = await postIncident(
      responder,
      h.incident([
        details({
          RoleName: [ROLE],
          FindingType: ['UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS'],
        }),
      ]),
    );
    expect(reply.status).toBe(200);
    const held = bodyOf<IncidentReply>(reply);
    expect(held.awaitingApproval).toBe(true);
    expect(held.steps).toEqual([
      expect.objectContaining({
        action: 'revoke-role-sessions',
        target: ROLE,
        mode: 'approval',
        state: 'awaiting-approval',
      }),
    ]);
    expect(h.awsCalls()).toEqual([]);
    expect(h.labels()).toContain('awaiting-approval');

    const approved = await approve(await h.token(['Approver']), held.planId);
    expect(approved.status).toBe(200);
    expect(h.model.iam.rolePolicy(ROLE, 'ir-revoke-sessions')).toBeDefined();
    expect(h.labels()).toEqual([...EXISTING_LABELS.map((l) => l.labelName), 'aws-contained']);
  });

  it('refuses to approve an expired plan with 410', async () => {
    h.reset({ planTtlMs: 1 });
    const reply = await postIncident(
      await h.token(['Responder']),
      h.incident([
        details({
          RoleName: [ROLE],
          FindingType: ['UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS'],
        }),
      ]),
    );
    const { planId } = bodyOf<IncidentReply>(reply);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const expired = await approve(await h.token(['Approver']), planId);
    expect(expired.status).toBe(410);
    expect(expectSafeError(expired).error.code).toBe('plan_expired');
    expect(h.model.iam.rolePolicy(ROLE, 'ir-revoke-sessions')).toBeUndefined();
  });
});

describe('response-actions', () => {
  const isolateBody = (extra: Record<string, unknown> = {}) => ({
    accountId: ACCOUNT,
    region: REGION,
    target: h.seeded.instance.instanceId,
    reason: 'C2 traffic to 203.0.113.10',
    ...extra,
  });

  it('lists the catalogue for a Reader: names, input JSON schemas, permissions', async () => {
    const reader = await h.token(['Reader']);
    const reply = await h.call(h.handlers.list, { method: 'GET', path: '/api/actions', token: reader });
    expect(reply.status).toBe(200);
    const { actions } = bodyOf<CatalogueReply>(reply);
    expect(actions.map((a) => a.name)).toEqual(h.deps.registry.names());
    for (const action of actions) {
      expect(action.input.type).toBe('object');
      expect(action.input.properties).toHaveProperty('target');
      expect(action.permissions.execute.length).toBeGreaterThan(0);
      expect(action.summary.length).toBeGreaterThan(0);
    }
    const isolate = actions.find((a) => a.name === 'isolate-ec2-instance');
    expect(isolate?.input.properties?.target?.pattern).toBe('^i-[0-9a-f]{8,17}$');
    expect(isolate?.permissions.execute).toContain('ec2:ModifyNetworkInterfaceAttribute');
    expect(isolate).toMatchObject({ targetKind: 'ec2-instance', irreversible: false, releasable: true });
    expect(actions.find((a) => a.name === 'disable-console-login')).toMatchObject({
      irreversible: true,
      releasable: false,
    });
  });

  it('runs isolate-ec2-instance as a dry run without changing anything, then for real, then releases it', async () => {
    const responder = await h.token(['Responder']);
    const before = h.model.snapshot();
    const dry = await runAction(responder, 'isolate-ec2-instance', isolateBody({ dryRun: true }));
    expect(dry.status).toBe(200);
    const dryOutcome = bodyOf<OutcomeReply>(dry);
    expect(dryOutcome.status).toBe('dry-run');
    expect(dryOutcome.calls.filter((c) => c.mutating).every((c) => c.skipped === true)).toBe(true);
    expect(dryOutcome.calls.map((c) => c.operation)).toContain('ModifyNetworkInterfaceAttribute');
    expect(h.model.snapshot()).toEqual(before);

    const run = await runAction(responder, 'isolate-ec2-instance', isolateBody());
    expect(run.status).toBe(200);
    expect(bodyOf<OutcomeReply>(run)).toMatchObject({ status: 'done', verified: true });
    expectIsolated('manual');

    const released = await releaseAction(responder, 'isolate-ec2-instance', isolateBody());
    expect(released.status).toBe(200);
    expect(bodyOf<OutcomeReply>(released)).toMatchObject({ status: 'done', verified: true });
    expect(h.model.ec2.groupsOf(h.seeded.instance.instanceId)).toEqual(untouchedGroups());
    expect(h.model.ec2.tagsOf(h.seeded.instance.instanceId)['ir:status']).toBe('released');
    const outcomes = h.auditRows().filter((r) => r.Operation === '(outcome)');
    expect(outcomes.map((r) => [r.Status, r.DryRun])).toEqual([
      ['dry-run', true],
      ['done', false],
      ['done', false],
    ]);
  });

  it('answers 404 with the valid names for an unknown action', async () => {
    const responder = await h.token(['Responder']);
    const reply = await runAction(responder, 'nuke-account', isolateBody());
    expect(reply.status).toBe(404);
    const outcome = bodyOf<OutcomeReply>(reply);
    expect(outcome).toMatchObject({ status: 'refused', refusal: 'unknown-action' });
    for (const name of h.deps.registry.names()) expect(outcome.reason).toContain(name);
    expect(h.awsCalls()).toEqual([]);
  });

  it.each([
    ['a malformed instance id', { target: 'i-XYZ' }, /invalid input at target/],
    ['a malformed account', { accountId: '1111-2222-3333' }, /not a 12-digit AWS account id/],
    ['an unknown region', { region: 'mars-north-1' }, /not an AWS region name/],
  ])('refuses %s with 422 before any AWS call', async (_what, change, reason) => {
    const responder = await h.token(['Responder']);
    const reply = await runAction(responder, 'isolate-ec2-instance', isolateBody(change));
    expect(reply.status).toBe(422);
    const outcome = bodyOf<OutcomeReply>(reply);
    expect(outcome).toMatchObject({ status: 'refused', refusal: 'invalid-input', calls: [] });
    expect(outcome.reason).toMatch(reason);
    expect(h.awsCalls()).toEqual([]);
  });

  it('refuses a body without a reason, or with unknown keys, with 422', async () => {
    const responder = await h.token(['Responder']);
    const { reason: _reason, ...withoutReason } = isolateBody();
    const missing = await runAction(responder, 'isolate-ec2-instance', withoutReason);
    expect(missing.status).toBe(422);
    expect(expectSafeError(missing, [responder]).error.message).toMatch(/^reason: /);
    const extra = await runAction(responder, 'isolate-ec2-instance', isolateBody({ force: true }));
    expect(extra.status).toBe(422);
    expectSafeError(extra, [responder]);
    expect(h.awsCalls()).toEqual([]);
  });

  it('refuses an account outside the allowlist with 403 before any AWS call', async () => {
    const responder = await h.token(['Responder']);
    const reply = await runAction(
      responder,
      'isolate-ec2-instance',
      isolateBody({ accountId: '999988887777' }),
    );
    expect(reply.status).toBe(403);
    expect(bodyOf<OutcomeReply>(reply)).toMatchObject({ status: 'refused', refusal: 'not-allowed' });
    expect(h.awsCalls()).toEqual([]);
  });

  it('holds irreversible disable-console-login for approval with 202 and keeps the login profile', async () => {
    const responder = await h.token(['Responder']);
    const reply = await runAction(responder, 'disable-console-login', {
      accountId: ACCOUNT,
      region: REGION,
      target: USER,
      reason: 'password sprayed',
    });
    expect(reply.status).toBe(202);
    expect(bodyOf<OutcomeReply>(reply)).toMatchObject({
      status: 'refused',
      refusal: 'approval-required',
      awaitingApproval: true,
      irreversible: true,
    });
    expect(h.model.iam.snapshot().users[USER]?.loginProfile).toBe(true);
    expect(h.awsCalls()).toEqual([]);

    // The held run is a one-step plan an Approver can approve; then the login profile is gone.
    const planId = bodyOf<OutcomeReply & { planId: string }>(reply).planId;
    expect(planId).toMatch(/^plan-/);
    const approver = await h.token(['Approver'], { name: 'lead@contoso.com' });
    const approved = await approve(approver, planId);
    expect(approved.status).toBe(200);
    expect(bodyOf<IncidentReply>(approved).steps.map((s) => [s.action, s.status])).toEqual([
      ['disable-console-login', 'done'],
    ]);
    expect(h.model.iam.snapshot().users[USER]?.loginProfile).toBe(false);
    expect((await approve(approver, planId)).status).toBe(409);

    const release = await releaseAction(responder, 'disable-console-login', {
      accountId: ACCOUNT,
      region: REGION,
      target: USER,
      reason: 'undo',
    });
    expect(release.status).toBe(422);
    expect(bodyOf<OutcomeReply>(release).reason).toMatch(/irreversible/);
  });

  it('answers 500 with the invocation id only when something unexpected breaks a manual run, and reports incident steps as not run', async () => {
    h.reset({
      clientsFor: () => {
        throw new TypeError('secret internal detail: AccountKey=abc123');
      },
    });
    const responder = await h.token(['Responder']);
    const manual = await runAction(responder, 'isolate-ec2-instance', isolateBody());
    const incident = await postIncident(responder, h.fixtureEnvelope());
    expect(incident.status).toBe(200);
    const steps = bodyOf<IncidentReply>(incident).steps;
    expect(steps.length).toBeGreaterThan(0);
    for (const step of steps.filter((s) => s.action !== 'archive-guardduty-finding')) {
      expect(step).toMatchObject({
        state: 'not-run',
        reason: 'could not run: internal error (see the function logs)',
      });
    }
    expect(JSON.stringify(incident.body)).not.toMatch(/secret internal detail|AccountKey|TypeError/);
    for (const reply of [manual]) {
      expect(reply.status).toBe(500);
      const body = expectSafeError(reply, [responder, 'secret internal detail', 'AccountKey', 'TypeError']);
      expect(body.error.code).toBe('internal_error');
      expect(reply.body).toMatchObject({ error: { invocationId: expect.stringMatching(/^0{8}-/) } });
      expect(reply.logs.join('\n')).not.toContain('secret internal detail');
    }
  });
});

describe('auth on every route', () => {
  interface Route {
    readonly name: string;
    readonly handler: () => Handler;
    readonly method: string;
    readonly path: string;
    readonly params?: Record<string, string>;
    readonly body?: unknown;
    /** Roles that are valid but not enough for the route. */
    readonly insufficient: readonly string[];
  }
  const routes: readonly Route[] = [
    {
      name: 'POST /api/incidents',
      handler: () => h.handlers.incident,
      method: 'POST',
      path: '/api/incidents',
      body: { object: { properties: {} } },
      insufficient: ['Reader', 'Approver'],
    },
    {
      name: 'GET /api/actions',
      handler: () => h.handlers.list,
      method: 'GET',
      path: '/api/actions',
      insufficient: ['Auditor'],
    },
    {
      name: 'POST /api/actions/{name}',
      handler: () => h.handlers.run,
      method: 'POST',
      path: '/api/actions/isolate-ec2-instance',
      params: { name: 'isolate-ec2-instance' },
      body: { accountId: ACCOUNT, region: REGION, target: 'i-00000000000000001', reason: 'test' },
      insufficient: ['Reader', 'Approver'],
    },
    {
      name: 'POST /api/actions/{name}/release',
      handler: () => h.handlers.release,
      method: 'POST',
      path: '/api/actions/isolate-ec2-instance/release',
      params: { name: 'isolate-ec2-instance' },
      body: { accountId: ACCOUNT, region: REGION, target: 'i-00000000000000001', reason: 'test' },
      insufficient: ['Reader', 'Approver'],
    },
    {
      name: 'POST /api/plans/{id}/approve',
      handler: () => h.handlers.approve,
      method: 'POST',
      path: '/api/plans/plan-1/approve',
      params: { id: 'plan-1' },
      insufficient: ['Reader', 'Responder'],
    },
  ];

  const send = (route: Route, auth: { token: string | null } | { authorization: string }) =>
    h.call(route.handler(), {
      method: route.method,
      path: route.path,
      ...('authorization' in auth ? { authorization: auth.authorization, token: null } : auth),
      ...(route.params ? { params: route.params } : {}),
      ...(route.body !== undefined ? { body: route.body } : {}),
    });

  it.each(routes)('$name: 401 with a Bearer challenge without a token', async (route) => {
    for (const auth of [
      { token: null },
      { authorization: 'Basic YWxpY2U6c2VjcmV0' },
      { authorization: 'Bearer' },
    ]) {
      const reply = await send(route, auth);
      expect(reply.status).toBe(401);
      expect(reply.headers.get('www-authenticate')).toBe('Bearer');
      expect(expectSafeError(reply).error.code).toMatch(/^(missing_token|invalid_scheme)$/);
    }
    expect(h.awsCalls()).toEqual([]);
  });

  it.each(routes)(
    '$name: 401 invalid_token for a garbage, expired, foreign or forged token',
    async (route) => {
      const roles = ['Reader', 'Responder', 'Approver'];
      const tokens: [string, string][] = [
        ['malformed_token', 'not.a.jwt'],
        ['invalid_signature', 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl'],
        ['token_expired', await h.token(roles, { expiresInSec: -3600 })],
        ['invalid_audience', await h.token(roles, { audience: 'api://someone-else' })],
        ['invalid_issuer', await h.token(roles, { issuer: 'https://login.microsoftonline.com/other/v2.0' })],
        ['invalid_signature', await h.token(roles, { signWithUnknownKey: true })],
        ['unsupported_algorithm', await h.token(roles, { alg: 'HS256' })],
      ];
      for (const [code, token] of tokens) {
        const reply = await send(route, { token });
        expect(reply.status).toBe(401);
        expect(reply.headers.get('www-authenticate')).toMatch(
          /^Bearer error="invalid_token", error_description="/,
        );
        expect(expectSafeError(reply, [token]).error.code).toBe(code);
        expect(reply.headers.get('www-authenticate')).not.toContain(token);
      }
      expect(h.awsCalls()).toEqual([]);
    },
  );

  it.each(routes)(
    '$name: 403 insufficient_scope for a valid token without the needed role',
    async (route) => {
      for (const roles of [[], ...route.insufficient.map((r) => [r])]) {
        const token = await h.token(roles);
        const reply = await send(route, { token });
        expect(reply.status).toBe(403);
        expect(reply.headers.get('www-authenticate')).toMatch(/^Bearer error="insufficient_scope"/);
        expect(expectSafeError(reply, [token]).error.code).toBe('missing_role');
      }
      expect(h.awsCalls()).toEqual([]);
      expect(h.comments()).toEqual([]);
    },
  );
});
