/**
 * The same Sentinel incident delivered more than once (the playbook retries, automation rules fire twice,
 * an analyst re-runs it): sequentially, 2 and 10 at once, and again after a delivery that failed half-way.
 * Whatever the interleaving, AWS sees one set of side effects, every AWS call is audited exactly once, the
 * blast-radius window counts each containment once, and the incident gets at most one comment per delivery.
 * Through the real `sentinel-incident` handler over the respond harness (Entra, AWS model, Azurite, Sentinel
 * and Logs Ingestion stand-ins).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import {
  ACCOUNT,
  FINDING,
  KEY,
  OTHER_KEY,
  type Reply,
  type RespondHarness,
  startRespondHarness,
} from '../support/respond-harness.js';

let h: RespondHarness;
let token: string;

beforeAll(async () => {
  h = await startRespondHarness();
  token = await h.token(['Responder']);
}, 60_000);

afterAll(async () => {
  await h.close();
});

beforeEach(() => {
  h.reset();
});

interface Step {
  readonly action: string;
  readonly target: string;
  readonly state: string;
  readonly status?: string;
  readonly reason?: string;
}

const CONTAINMENT = ['isolate-ec2-instance', 'deactivate-access-key'] as const;
const ACTIONS = [...CONTAINMENT, 'archive-guardduty-finding'] as const;

const deliver = (): Promise<Reply> =>
  h.call(h.handlers.incident, { path: '/api/incidents', token, body: h.fixtureEnvelope() });

function stepsOf(replies: readonly Reply[]): Step[] {
  return replies.flatMap((reply) => {
    expect(reply.status).toBe(200);
    return (reply.body as { steps: Step[] }).steps;
  });
}

const isolationGroups = () =>
  [...h.model.ec2.state.securityGroups.values()].filter((g) => g.groupName.startsWith('ir-isolation-'));
const archived = (): boolean => h.model.guardduty.finding(FINDING)?.Service?.Archived === true;
/** Comments saying the action was done (not already done) on this delivery. */
const commentsReporting = (action: string): number =>
  h.comments().filter((c) => c.includes(`<b>${action}</b>: <b>done</b>`)).length;

/** Containment actions the blast-radius window holds for the account now. */
async function windowCount(): Promise<number> {
  const window = h.deps.blastRadius;
  if (window === undefined) throw new Error('the harness configures a blast-radius window');
  return window.port.count(ACCOUNT, new Date(Date.now() - 60 * 60_000));
}

/** Containment runs that changed something in AWS, by their audit rows: each holds one slot of the window. */
const changingContainmentRuns = (): number =>
  h
    .auditRows()
    .filter(
      (r) =>
        r.Operation === '(outcome)' &&
        r.Mutating === true &&
        (CONTAINMENT as readonly unknown[]).includes(r.Action),
    ).length;

/** Steps that reached AWS (a run refused for the target lock made no call and is not audited). */
const audited = (steps: readonly Step[]): number =>
  steps.filter((s) => s.state === 'ran' && !(s.reason ?? '').startsWith('another run is acting')).length;

/** One set of side effects in AWS, whatever number of deliveries made it. */
function expectOneSetOfSideEffects(): void {
  const { instance, vpcId } = h.seeded;
  // Isolation: one isolation group, every ENI in it alone, one snapshot per volume, one CreateSnapshots.
  const groups = isolationGroups();
  expect(groups).toHaveLength(1);
  const enis = h.model.ec2.groupsOf(instance.instanceId);
  for (const eni of instance.eniIds) expect(enis[eni]).toEqual([groups[0]?.groupId]);
  expect(h.model.ec2.findGroup(vpcId, `ir-isolation-${vpcId}`)?.ingress).toEqual([]);
  for (const volume of instance.volumeIds) expect(h.model.ec2.snapshotsOf(volume)).toHaveLength(1);
  expect(h.model.ec2.state.snapshots.size).toBe(instance.volumeIds.length);
  expect(h.model.ec2.mutatingCalls('CreateSnapshots')).toBe(1);
  expect(h.model.ec2.mutatingCalls('CreateSecurityGroup')).toBeLessThanOrEqual(2);
  expect(h.model.ec2.tagsOf(instance.instanceId)['ir:status']).toBe('isolated');
  // The named key deactivated once; the other key untouched.
  expect(h.model.iam.keyStatus(KEY)).toBe('Inactive');
  expect(h.model.iam.keyStatus(OTHER_KEY)).toBe('Active');
  expect(h.model.iam.writeCalls()).toEqual(['UpdateAccessKey']);
  // Archived at most once (feedback is a write too).
  expect(h.model.guardduty.feedback.length).toBeLessThanOrEqual(1);
}

/** Every AWS call the model received is in the audit exactly once, and nothing else is; no audit row lost. */
function expectAuditMatchesAws(auditedSteps: number): void {
  const rows = h.auditRows();
  const callRows = rows.filter((r) => r.Operation !== '(outcome)');
  const outcomeRows = rows.filter((r) => r.Operation === '(outcome)');
  expect(callRows.map((r) => `${String(r.Service)}:${String(r.Operation)}`).sort()).toEqual(
    h.awsCalls().sort(),
  );
  expect(outcomeRows).toHaveLength(auditedSteps);
  // Changes are audited as changes only by the run that made them.
  const changedBy = (action: string) =>
    outcomeRows.filter((r) => r.Action === action && r.Status === 'done' && r.Mutating === true);
  for (const action of CONTAINMENT) expect(changedBy(action)).toHaveLength(1);
  expect(h.auditFailures).toBe(0);
}

describe('the same incident delivered more than once', () => {
  it('does everything on the first delivery and nothing on the second, which reports already-done', async () => {
    const first = stepsOf([await deliver()]);
    expect(first.map((s) => [s.action, s.status])).toEqual(ACTIONS.map((a) => [a, 'done']));
    const afterFirst = JSON.stringify(h.model.snapshot());
    const callsAfterFirst = h.awsCalls().length;

    const second = stepsOf([await deliver()]);
    expect(second.map((s) => [s.action, s.status])).toEqual(ACTIONS.map((a) => [a, 'already-done']));
    expect(JSON.stringify(h.model.snapshot())).toBe(afterFirst);
    // The second delivery only read.
    const secondCalls = h.awsCalls().slice(callsAfterFirst);
    expect(secondCalls.length).toBeGreaterThan(0);
    const secondRows = h
      .auditRows()
      .filter((r) => r.Operation !== '(outcome)')
      .slice(-secondCalls.length);
    expect(secondRows.every((r) => r.Mutating === false)).toBe(true);

    expectOneSetOfSideEffects();
    expect(archived()).toBe(true);
    expectAuditMatchesAws(audited(first) + audited(second));
    // One comment per delivery, the second saying nothing changed; the labels added once.
    const comments = h.comments();
    expect(comments).toHaveLength(2);
    expect(comments[1]).toContain('already done (nothing changed)');
    for (const action of ACTIONS) expect(commentsReporting(action)).toBe(1);
    expect(h.labels().filter((l) => l === 'aws-contained')).toHaveLength(1);
    expect(h.labels()).not.toContain('aws-response-failed');
    expect(h.writebackFailures).toEqual([]);
    // The second delivery gave its slots back: the window holds the two containments once.
    expect(await windowCount()).toBe(CONTAINMENT.length);
  });

  it.each([2, 10])(
    'has one set of side effects, audited once, when %i deliveries arrive at once',
    async (deliveries) => {
      const replies = await Promise.all(Array.from({ length: deliveries }, () => deliver()));
      const steps = stepsOf(replies);

      // Each step did it, found it done, lost the target lock to the run doing it, or (archiving) waited.
      for (const step of steps) {
        if (step.status === 'refused') expect(step.reason).toMatch(/^another run is acting on this target/);
        else if (step.status === undefined) {
          expect(step).toMatchObject({
            action: 'archive-guardduty-finding',
            state: 'not-run',
            reason: 'waits until every containment step succeeded',
          });
        } else expect(['done', 'already-done']).toContain(step.status);
      }
      const done = (action: string) => steps.filter((s) => s.action === action && s.status === 'done');
      for (const action of CONTAINMENT) expect(done(action)).toHaveLength(1);
      expect(done('archive-guardduty-finding').length).toBeLessThanOrEqual(1);

      expectOneSetOfSideEffects();
      expectAuditMatchesAws(audited(steps));
      // At most one comment per delivery; exactly one reports each containment as done.
      expect(h.comments().length).toBeLessThanOrEqual(deliveries);
      for (const action of CONTAINMENT) expect(commentsReporting(action)).toBe(1);
      expect(h.labels().filter((l) => l === 'aws-contained')).toHaveLength(1);
      expect(h.labels()).not.toContain('aws-response-failed');
      expect(h.writebackFailures).toEqual([]);
      // Runs that changed nothing (already done, or lost the lock) took no slot of the blast radius.
      expect(await windowCount()).toBe(CONTAINMENT.length);
      expect(changingContainmentRuns()).toBe(CONTAINMENT.length);

      // One more delivery converges: everything already done, the finding archived, still one set.
      const again = stepsOf([await deliver()]);
      for (const step of again) expect(['done', 'already-done']).toContain(step.status);
      expect(archived()).toBe(true);
      expectOneSetOfSideEffects();
      expect(await windowCount()).toBe(CONTAINMENT.length);
    },
  );

  it('finishes on redelivery what a delivery left half-done, without a second snapshot', async () => {
    // The first delivery snapshots, tags and records the way back, then the network change fails.
    h.model.ec2.failNext('ModifyNetworkInterfaceAttribute', 'RequestLimitExceeded');
    const first = stepsOf([await deliver()]);
    const isolate = first.find((s) => s.action === 'isolate-ec2-instance');
    expect(isolate?.status).toBe('failed');
    expect(first.find((s) => s.action === 'archive-guardduty-finding')?.state).toBe('not-run');
    expect(archived()).toBe(false);
    expect(h.labels()).toContain('aws-response-failed');

    const second = stepsOf([await deliver()]);
    expect(second.find((s) => s.action === 'isolate-ec2-instance')?.status).toBe('done');
    expect(second.find((s) => s.action === 'deactivate-access-key')?.status).toBe('already-done');
    expect(second.find((s) => s.action === 'archive-guardduty-finding')?.status).toBe('done');
    expectOneSetOfSideEffects();
    expect(archived()).toBe(true);
    expectAuditMatchesAws(audited(first) + audited(second));
    // The failed run changed things (snapshots, tags) and keeps its slot; the second run takes one more.
    expect(await windowCount()).toBe(changingContainmentRuns());
    expect(await windowCount()).toBe(CONTAINMENT.length + 1);
  });
});
