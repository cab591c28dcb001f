/**
 * The Respond side wired from real parts, for tests of the Azure Functions handlers:
 *  - Entra ID: the local issuer (HTTPS JWKS, signed tokens) and the real verifier;
 *  - AWS: a stateful `AwsAccountModel` behind the real SDK clients, seeded with an instance (2 ENIs,
 *    2 volumes), an IAM user with 2 access keys (one `AKIAIOSFODNN7EXAMPLE`) and a GuardDuty finding;
 *  - state: Azurite's table service through `createTableResponseState` (locks, blast radius, plans);
 *  - Sentinel: the local ARM server and the real `SecurityInsights` client for comments and labels;
 *  - audit: the local Logs Ingestion server and the real `LogsIngestionClient` adapter.
 *
 * `startRespondHarness()` starts the servers once per test file; `reset()` gives every test a fresh model,
 * fresh tables, a re-seeded incident and empty audit rows, and builds the handlers over them.
 */
import { readFileSync } from 'node:fs';
import { SecurityInsights } from '@azure/arm-securityinsight';
import { HttpRequest, HttpResponse, type HttpResponseInit, InvocationContext } from '@azure/functions';
import type { Handler } from '../../azure-functions/http.js';
import { createResponseActionsHandlers } from '../../azure-functions/response-actions.js';
import { createSentinelIncidentHandler } from '../../azure-functions/sentinel-incident.js';
import {
  type AppRole,
  createEntraVerifier,
  type EntraVerifier,
} from '../../shared/adapters/azure/entra-auth.js';
import { createLogsIngestionAdapter } from '../../shared/adapters/azure/logs-ingestion.js';
import {
  createTableResponseState,
  responseTablesFromConnectionString,
} from '../../shared/adapters/azure/table-state.js';
import { type Policy, parsePolicy } from '../../shared/domain/respond/policy.js';
import { AWS_RESPONSE_AUDIT } from '../../shared/domain/tables/audit-columns.js';
import {
  type IssueOptions,
  type LocalEntraIssuer,
  startLocalEntraIssuer,
} from '../../shared/local/entra-issuer.js';
import { type IngestionServer, startIngestionServer } from '../../shared/local/ingestion-server.js';
import {
  type IncidentSeed,
  type SentinelServer,
  startSentinelServer,
} from '../../shared/local/sentinel-server.js';
import { createIngestionAudit } from '../../shared/respond/audit.js';
import type { IncidentResponseDeps } from '../../shared/respond/incident-response.js';
import { createIncidentWriteback } from '../../shared/respond/incident-writeback.js';
import { catalogueEntries, createRegistry } from '../../shared/respond/registry.js';
import { auditSink, sentinelWriteback } from '../../shared/respond/sinks.js';
import type { AwsClients } from '../../shared/respond/types.js';
import type { SeededInstance } from './aws-model/ec2.js';
import { AwsAccountModel } from './aws-model/index.js';
import { type Azurite, startAzurite } from './azurite.js';
import { guardDutyFinding } from './events.js';

export const ACCOUNT = '111122223333';
export const REGION = 'us-east-1';
/** The incident of `test/fixtures/incidents/envelope-ec2-and-key.json`. */
export const INCIDENT_NAME = '2f4d8c52-6a63-4c55-9d7e-7b0a3f1e9b10';
export const INCIDENT_NUMBER = 4242;
/** The instance id the fixture names; `fixtureEnvelope()` replaces it with the seeded instance's id. */
export const FIXTURE_INSTANCE = 'i-0123456789abcdef0';
export const USER = 'alice';
export const KEY = 'AKIAIOSFODNN7EXAMPLE';
export const OTHER_KEY = 'AKIAI44QH8DHBEXAMPLE';
export const ROLE = 'web-tier-role';
export const FINDING = '90b82273685661b9318f078d0851fe9a';
export const DETECTOR = '12abc34d567e8fa901bc2d34e56789f0';
export const FINDING_TYPE = 'Backdoor:EC2/C&CActivity.B!DNS';
/** Labels the seeded incident carries before any write-back. */
export const EXISTING_LABELS = [
  { labelName: 'analyst-triage', labelType: 'User' },
  { labelName: 'GuardDuty', labelType: 'AutoAssigned' },
] as const;

const FIXTURE_TEXT = readFileSync(
  new URL('../fixtures/incidents/envelope-ec2-and-key.json', import.meta.url),
  'utf8',
);
const DEFAULT_POLICY = JSON.parse(
  readFileSync(new URL('../../shared/respond/default-policy.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;

/** What a handler answered, read through the real `HttpResponse` class. */
export interface Reply {
  readonly status: number;
  readonly headers: HttpResponse['headers'];
  /** The raw body text (empty when there is none). */
  readonly text: string;
  /** The parsed JSON body (undefined when there is none). */
  readonly body: unknown;
  /** What the handler logged through its invocation context. */
  readonly logs: readonly string[];
}

export interface CallOptions {
  readonly method?: string;
  readonly path: string;
  /** A value is sent as JSON; a string is sent as it is. */
  readonly body?: unknown;
  /** The bearer token; `null` sends no Authorization header. */
  readonly token: string | null;
  /** Replaces the Authorization header entirely. */
  readonly authorization?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly params?: Readonly<Record<string, string>>;
}

export interface ResetOptions {
  /** The blast-radius cap; default the policy's (5). */
  readonly maxContainments?: number;
  /** Replaces `() => model.clients()` (e.g. to make the AWS side throw). */
  readonly clientsFor?: (accountId: string, region: string, session: string) => AwsClients;
  /** Tags of the seeded instance. */
  readonly instanceTags?: Readonly<Record<string, string>>;
  /** Plan lifetime (default 24 h). */
  readonly planTtlMs?: number;
}

export interface Seeded {
  readonly vpcId: string;
  readonly instance: SeededInstance;
  readonly detectorId: string;
}

export interface Handlers {
  readonly incident: Handler;
  readonly list: Handler;
  readonly run: Handler;
  readonly release: Handler;
  readonly approve: Handler;
}

export interface RespondHarness {
  readonly issuer: LocalEntraIssuer;
  readonly sentinel: SentinelServer;
  readonly ingestion: IngestionServer;
  readonly verifier: EntraVerifier;
  readonly policy: Policy;
  /** The current test's AWS account (replaced by `reset`). */
  readonly model: AwsAccountModel;
  readonly seeded: Seeded;
  readonly deps: IncidentResponseDeps;
  readonly handlers: Handlers;
  /** Write-back failures reported by `sentinelWriteback` since the last reset. */
  readonly writebackFailures: readonly unknown[];
  /** Audit rows not stored, since the last reset. */
  readonly auditFailures: number;
  reset(options?: ResetOptions): void;
  /** A valid access token with these app roles. */
  token(roles: readonly AppRole[] | readonly string[], options?: IssueOptions): Promise<string>;
  call(handler: Handler, options: CallOptions): Promise<Reply>;
  /** The fixture envelope, naming the seeded instance. */
  fixtureEnvelope(): Record<string, unknown>;
  /** A bare incident (no envelope) with one alert per custom-details record. */
  incident(
    alerts: readonly Readonly<Record<string, readonly string[]>>[],
    extra?: IncidentExtra,
  ): Record<string, unknown>;
  /** Rows stored in `AWSResponseAudit_CL`. */
  auditRows(): readonly Record<string, unknown>[];
  /** Label names of the seeded incident. */
  labels(): string[];
  /** Messages of the seeded incident's comments. */
  comments(): string[];
  /** Every AWS call the model received, as `service:Operation`. */
  awsCalls(): string[];
  close(): Promise<void>;
}

export interface IncidentExtra {
  readonly severity?: string;
  readonly title?: string;
  readonly relatedEntities?: readonly Record<string, unknown>[];
}

let tableGeneration = 0;

export async function startRespondHarness(): Promise<RespondHarness> {
  const [issuer, sentinel, ingestion, azurite] = await Promise.all([
    startLocalEntraIssuer(),
    startSentinelServer(),
    startIngestionServer({ tables: [AWS_RESPONSE_AUDIT] }),
    startAzurite(),
  ]);
  return buildHarness(issuer, sentinel, ingestion, azurite);
}

function buildHarness(
  issuer: LocalEntraIssuer,
  sentinel: SentinelServer,
  ingestion: IngestionServer,
  azurite: Azurite,
): RespondHarness {
  const verifier = createEntraVerifier({
    tenantId: issuer.tenantId,
    audience: issuer.audience,
    jwksUri: issuer.jwksUri,
    ca: issuer.ca,
  });
  const registry = createRegistry();
  const policy = parsePolicy({ ...DEFAULT_POLICY, accounts: { allow: [ACCOUNT] } }, registry.names());
  const securityInsights = new SecurityInsights(sentinel.credential, sentinel.subscriptionId, {
    endpoint: sentinel.endpoint,
    tlsOptions: { ca: sentinel.ca },
    retryOptions: { maxRetries: 0 },
  });
  const writeback = createIncidentWriteback({
    client: securityInsights,
    resourceGroup: sentinel.resourceGroup,
    workspace: sentinel.workspace,
  });
  const audit = createIngestionAudit(
    createLogsIngestionAdapter({
      endpoint: ingestion.endpoint,
      ruleId: ingestion.dcrImmutableId,
      credential: ingestion.credential,
      clientOptions: { tlsOptions: { ca: ingestion.ca }, retryOptions: { maxRetries: 0 } },
    }),
  );

  let model = new AwsAccountModel(ACCOUNT, REGION);
  let seeded: Seeded | undefined;
  let deps: IncidentResponseDeps | undefined;
  let handlers: Handlers | undefined;
  let writebackFailures: unknown[] = [];
  let auditFailures = 0;
  let invocations = 0;

  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`respond harness: call reset() before using ${what}`);
    return value;
  };

  const reset = (options: ResetOptions = {}): void => {
    model = new AwsAccountModel(ACCOUNT, REGION);
    const { vpcId } = model.ec2.addVpc();
    const instance = model.ec2.addInstance({
      vpcId,
      enis: 2,
      volumes: 2,
      ...(options.instanceTags ? { tags: options.instanceTags } : {}),
    });
    model.iam
      .addUser(USER, { loginProfile: true })
      .addAccessKey(USER, KEY)
      .addAccessKey(USER, OTHER_KEY)
      .addUser('bob')
      .addRole(ROLE);
    const detectorId = model.guardduty.addDetector(DETECTOR);
    model.guardduty.addFinding(
      guardDutyFinding(1, {
        id: FINDING,
        arn: `arn:aws:guardduty:${REGION}:${ACCOUNT}:detector/${DETECTOR}/finding/${FINDING}`,
        resource: { resourceType: 'Instance', instanceDetails: { instanceId: instance.instanceId } },
      }),
      { detectorId },
    );
    seeded = { vpcId, instance, detectorId };

    sentinel.reset();
    const seed: IncidentSeed = {
      name: INCIDENT_NAME,
      incidentNumber: INCIDENT_NUMBER,
      title: `AWS GuardDuty - ${FINDING_TYPE}`,
      severity: 'High',
      status: 'New',
      labels: EXISTING_LABELS.map((l) => ({ ...l })),
    };
    sentinel.addIncident(seed);
    ingestion.reset();
    writebackFailures = [];
    auditFailures = 0;

    tableGeneration += 1;
    const g = `${process.pid}x${tableGeneration}`;
    const state = createTableResponseState(
      responseTablesFromConnectionString(azurite.connectionString, {
        names: { locks: `Locks${g}`, actions: `Actions${g}`, plans: `Plans${g}` },
        clientOptions: { allowInsecureConnection: true },
      }),
    );
    const current = model;
    deps = {
      registry,
      clientsFor: options.clientsFor ?? (() => current.clients()),
      allowedAccounts: policy.accounts.allow,
      protectedTag: policy.protectedTag,
      blastRadius: {
        port: state.blastRadius,
        maxContainments: options.maxContainments ?? policy.blastRadius.maxContainments,
        windowMinutes: policy.blastRadius.windowMinutes,
      },
      locks: state.locks,
      audit: auditSink(audit, (failed) => {
        auditFailures += failed;
      }),
      policy,
      catalogue: catalogueEntries(),
      plans: state.plans,
      writeback: sentinelWriteback(writeback, (error) => writebackFailures.push(error)),
      ...(options.planTtlMs !== undefined ? { planTtlMs: options.planTtlMs } : {}),
    };
    const actions = createResponseActionsHandlers({ verifier, incident: deps });
    handlers = {
      incident: createSentinelIncidentHandler({ verifier, incident: deps }),
      list: actions.list,
      run: actions.run,
      release: actions.release,
      approve: actions.approve,
    };
  };

  const call = async (handler: Handler, options: CallOptions): Promise<Reply> => {
    const headers: Record<string, string> = {};
    if (options.authorization !== undefined) headers.authorization = options.authorization;
    else if (options.token !== null) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    Object.assign(headers, options.headers ?? {});
    const text =
      options.body === undefined
        ? undefined
        : typeof options.body === 'string'
          ? options.body
          : JSON.stringify(options.body);
    const request = new HttpRequest({
      method: options.method ?? 'POST',
      url: `https://bridge.example.net${options.path}`,
      headers,
      ...(text !== undefined ? { body: { string: text } } : {}),
      ...(options.params ? { params: { ...options.params } } : {}),
    });
    invocations += 1;
    const logs: string[] = [];
    const context = new InvocationContext({
      invocationId: `00000000-0000-4000-8000-${String(invocations).padStart(12, '0')}`,
      functionName: options.path,
      logHandler: (level, ...args) => {
        logs.push(`${level}: ${args.map((a) => (a instanceof Error ? a.name : String(a))).join(' ')}`);
      },
    });
    const init: HttpResponseInit = await handler(request, context);
    const response = new HttpResponse(init);
    const body = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      text: body,
      body: body === '' ? undefined : (JSON.parse(body) as unknown),
      logs,
    };
  };

  const incident = (
    alerts: readonly Readonly<Record<string, readonly string[]>>[],
    extra: IncidentExtra = {},
  ): Record<string, unknown> => ({
    id: `/subscriptions/${sentinel.subscriptionId}/resourceGroups/${sentinel.resourceGroup}/providers/Microsoft.OperationalInsights/workspaces/${sentinel.workspace}/providers/Microsoft.SecurityInsights/Incidents/${INCIDENT_NAME}`,
    name: INCIDENT_NAME,
    properties: {
      title: extra.title ?? `AWS GuardDuty - ${FINDING_TYPE}`,
      severity: extra.severity ?? 'High',
      status: 'New',
      incidentNumber: INCIDENT_NUMBER,
      labels: [],
      alerts: alerts.map((details, i) => ({
        name: `alert-${i}`,
        kind: 'SecurityAlert',
        properties: {
          alertDisplayName: `alert ${i}`,
          severity: extra.severity ?? 'High',
          additionalData: { 'Custom Details': JSON.stringify(details) },
        },
      })),
      relatedEntities: extra.relatedEntities ?? [],
    },
  });

  return {
    issuer,
    sentinel,
    ingestion,
    verifier,
    policy,
    get model() {
      return model;
    },
    get seeded() {
      return need(seeded, 'seeded');
    },
    get deps() {
      return need(deps, 'deps');
    },
    get handlers() {
      return need(handlers, 'handlers');
    },
    get writebackFailures() {
      return writebackFailures;
    },
    get auditFailures() {
      return auditFailures;
    },
    reset,
    token: (roles, options = {}) =>
      issuer.issue({ name: 'analyst@contoso.com', ...options, roles: [...roles] }),
    call,
    fixtureEnvelope: () =>
      JSON.parse(
        FIXTURE_TEXT.replaceAll(FIXTURE_INSTANCE, need(seeded, 'seeded').instance.instanceId),
      ) as Record<string, unknown>,
    incident,
    auditRows: () => ingestion.rows(AWS_RESPONSE_AUDIT.table),
    labels: () => (sentinel.incident(INCIDENT_NAME)?.properties.labels ?? []).map((l) => l.labelName),
    comments: () => sentinel.comments(INCIDENT_NAME).map((c) => c.properties.message),
    awsCalls: () => [
      ...model.ec2.calls().map((c) => `${c.service}:${c.operation}`),
      ...model.iam.calls.map((c) => `iam:${c.operation}`),
      ...model.guardduty.calls.map((c) => `guardduty:${c.operation}`),
    ],
    close: async () => {
      await Promise.allSettled([issuer.close(), sentinel.close(), ingestion.close(), azurite.stop()]);
    },
  };
}
