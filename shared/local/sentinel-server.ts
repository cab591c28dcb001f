/**
 * A local Microsoft Sentinel incidents API (Azure Resource Manager, `Microsoft.SecurityInsights`), for tests,
 * the offline demo and evaluation.
 *
 * It follows the wire contract that `@azure/arm-securityinsight` 1.0.0-beta.6 speaks (api-version
 * 2022-09-01-preview), so the real `SecurityInsights` client talks to it over HTTPS:
 *
 *   {scope} = /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.OperationalInsights/workspaces/{ws}
 *             /providers/Microsoft.SecurityInsights
 *   GET  {scope}/incidents/{id}                       -> 200 incident
 *   PUT  {scope}/incidents/{id}                       -> 201 created, 200 updated
 *   GET  {scope}/incidents/{id}/comments              -> 200 { value: [comment] }
 *   GET  {scope}/incidents/{id}/comments/{commentId}  -> 200 comment
 *   PUT  {scope}/incidents/{id}/comments/{commentId}  -> 201 created, 200 updated
 *
 * Semantics modelled on the real service:
 *  - PUT replaces the incident: writable properties missing from the body are gone afterwards (title,
 *    description, owner, labels, ...); read-only ones (number, creation time, URL, counts) are kept.
 *  - Optimistic concurrency: updating an incident needs the current `etag` in the body; a missing or stale
 *    one is refused with 409 `Conflict` ("Newer version of resource '...' exists. Data was not saved"). An
 *    `If-Match` header that does not match is refused with 412 `PreconditionFailed`. Every change makes a
 *    new etag.
 *  - Labels are sent as `{ labelName }` (the client drops the read-only `labelType`); the service keeps the
 *    type of a label it already had and gives new ones `User`.
 *  - A comment's message is required and at most 30,000 characters.
 *  - Errors are ARM's `{ "error": { "code", "message" } }`; 401 carries a `WWW-Authenticate` challenge.
 *
 * Two bearer tokens: `token` may read and write; `readerToken` may only read (a Sentinel Reader), writes get
 * 403 `AuthorizationFailed`. Faults: queued 500s, 429s and connection resets, and races (another writer
 * changes the incident right after a read is served, so a write with the etag just read is stale).
 *
 * Run it on its own with `node --import tsx shared/local/sentinel-server.ts --port 8444`.
 */

import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import type { TokenCredential } from '@azure/core-auth';
import {
  closeOnSignal,
  runIfEntryPoint,
  startLocalHttpsServer,
  staticTokenCredential,
} from './https-server.js';

/** The api-version `@azure/arm-securityinsight` 1.0.0-beta.6 sends. */
export const SDK_API_VERSION = '2022-09-01-preview';
/** api-versions accepted (the SDK's and the GA versions with the same incident and comment shapes). */
export const SUPPORTED_API_VERSIONS: readonly string[] = [
  '2022-09-01-preview',
  '2023-02-01',
  '2024-03-01',
  '2024-09-01',
];
/** Longest comment message the service accepts. */
export const MAX_COMMENT_CHARS = 30_000;
export const DEFAULT_SUBSCRIPTION_ID = '00000000-0000-0000-0000-000000000000';
export const DEFAULT_RESOURCE_GROUP = 'rg-sentinel';
export const DEFAULT_WORKSPACE = 'sentinel-workspace';

const MAX_BODY_BYTES = 4 * 1024 * 1024;
const SEVERITIES = ['High', 'Medium', 'Low', 'Informational'];
const STATUSES = ['New', 'Active', 'Closed'];
/** Properties a PUT sets (absent ones are removed); all others are the service's own. */
const WRITABLE_PROPERTIES = [
  'title',
  'description',
  'severity',
  'status',
  'classification',
  'classificationComment',
  'classificationReason',
  'owner',
  'labels',
  'firstActivityTimeUtc',
  'lastActivityTimeUtc',
  'providerName',
  'providerIncidentId',
] as const;
/** Kept when a PUT omits them (set by the provider that raised the incident). */
const STICKY_PROPERTIES = new Set(['providerName', 'providerIncidentId']);

export interface IncidentLabelResource {
  readonly labelName: string;
  readonly labelType: 'User' | 'AutoAssigned';
}

export interface IncidentProperties {
  readonly title: string;
  readonly severity: string;
  readonly status: string;
  readonly incidentNumber: number;
  readonly labels: readonly IncidentLabelResource[];
  readonly [property: string]: unknown;
}

export interface IncidentResource {
  readonly id: string;
  readonly name: string;
  readonly etag: string;
  readonly type: 'Microsoft.SecurityInsights/Incidents';
  readonly properties: IncidentProperties;
}

export interface CommentResource {
  readonly id: string;
  readonly name: string;
  readonly etag: string;
  readonly type: 'Microsoft.SecurityInsights/Incidents/Comments';
  readonly properties: {
    readonly message: string;
    readonly createdTimeUtc: string;
    readonly lastModifiedTimeUtc: string;
    readonly author: Readonly<Record<string, string>>;
  };
}

export interface IncidentSeed {
  /** Resource name (a GUID in Sentinel); default a random UUID. */
  readonly name?: string;
  /** Default: the next number of the workspace, from 1. */
  readonly incidentNumber?: number;
  readonly title: string;
  readonly severity?: string;
  readonly status?: string;
  readonly description?: string;
  readonly labels?: readonly { readonly labelName: string; readonly labelType?: 'User' | 'AutoAssigned' }[];
  readonly owner?: Readonly<Record<string, string>>;
  /** Any other properties (e.g. `relatedAnalyticRuleIds`, `additionalData`), stored as given. */
  readonly extra?: Readonly<Record<string, unknown>>;
}

/** Changes an incident's properties in place; used for races and direct edits by "another writer". */
export type IncidentChange = (properties: Record<string, unknown>) => void;

export type SentinelFault =
  /** 500 `InternalServerError`; nothing is changed. */
  | { readonly kind: 'server-error' }
  /** 429 with `Retry-After`; nothing is changed. */
  | { readonly kind: 'throttle'; readonly retryAfterSeconds: number }
  /** The connection is destroyed without a response; nothing is changed. */
  | { readonly kind: 'reset' };

export interface SentinelRequestRecord {
  readonly method: string;
  readonly path: string;
  readonly apiVersion: string | null;
  /** HTTP status sent; 0 when the connection was reset. */
  readonly status: number;
  readonly errorCode?: string;
  readonly fault?: SentinelFault['kind'];
  readonly incident?: string;
  readonly comment?: string;
  readonly ifMatch?: string;
  /** The parsed JSON body of a PUT. */
  readonly body?: unknown;
  readonly at: Date;
}

export interface SentinelServerOptions {
  /** Port on 127.0.0.1; default 0 (ephemeral). */
  readonly port?: number;
  /** Token that may read and write; default random. */
  readonly token?: string;
  /** Token that may only read; default random. */
  readonly readerToken?: string;
  readonly subscriptionId?: string;
  readonly resourceGroup?: string;
  readonly workspace?: string;
  /** Author recorded on comments (the caller's identity in the real service). */
  readonly author?: Readonly<Record<string, string>>;
  /** Clock for timestamps; default the system clock. */
  readonly now?: () => Date;
  readonly incidents?: readonly IncidentSeed[];
  readonly onRequest?: (request: SentinelRequestRecord) => void;
}

export interface SentinelServer {
  /** `https://127.0.0.1:PORT`: the `endpoint` to give `SecurityInsights`. */
  readonly endpoint: string;
  readonly port: number;
  /** PEM certificate of the server; pass as `{ tlsOptions: { ca } }`. */
  readonly ca: string;
  readonly caPath: string;
  readonly token: string;
  readonly readerToken: string;
  /** Returns `token`. */
  readonly credential: TokenCredential;
  /** Returns `readerToken`. */
  readonly readerCredential: TokenCredential;
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly workspace: string;
  readonly requests: readonly SentinelRequestRecord[];
  /** Adds (or replaces) an incident as if Sentinel had raised it. */
  addIncident(seed: IncidentSeed): IncidentResource;
  /** The stored incident (a copy), or undefined. Names are case-insensitive, as in ARM. */
  incident(name: string): IncidentResource | undefined;
  /** Comments of an incident in creation order (copies); empty for an unknown incident. */
  comments(name: string): readonly CommentResource[];
  /** Another writer changes the incident now (new etag). Throws for an unknown incident. */
  updateIncident(name: string, change: IncidentChange): IncidentResource;
  /**
   * After each of the next `times` (default 1) successful GETs of the incident, another writer changes it
   * (default: adds a `User` label `concurrent-edit-<n>`), so a write with the etag just read is stale.
   */
  raceAfterRead(name: string, options?: { readonly times?: number; readonly change?: IncidentChange }): void;
  /** Queues faults; each applies to one request, in order of arrival. */
  injectFaults(...faults: SentinelFault[]): void;
  /** Forgets incidents, comments, requests, faults and races. */
  reset(): void;
  close(): Promise<void>;
}

interface ErrorReply {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly headers?: Readonly<Record<string, string>>;
}

interface StoredComment {
  name: string;
  etag: string;
  message: string;
  createdTimeUtc: string;
  lastModifiedTimeUtc: string;
  author: Record<string, string>;
}

interface StoredIncident {
  name: string;
  etag: string;
  properties: Record<string, unknown>;
  comments: Map<string, StoredComment>;
}

interface Race {
  remaining: number;
  readonly change: IncidentChange | undefined;
}

type Route =
  | { readonly kind: 'incident'; readonly incident: string }
  | { readonly kind: 'comments'; readonly incident: string }
  | { readonly kind: 'comment'; readonly incident: string; readonly comment: string };

/** Starts the server on 127.0.0.1 with a fresh self-signed certificate. */
export async function startSentinelServer(options: SentinelServerOptions = {}): Promise<SentinelServer> {
  const token = options.token ?? randomBytes(32).toString('base64url');
  const readerToken = options.readerToken ?? randomBytes(32).toString('base64url');
  const subscriptionId = options.subscriptionId ?? DEFAULT_SUBSCRIPTION_ID;
  const resourceGroup = options.resourceGroup ?? DEFAULT_RESOURCE_GROUP;
  const workspace = options.workspace ?? DEFAULT_WORKSPACE;
  const author = { ...(options.author ?? { name: 'aws-sentinel-bridge', objectId: randomUUID() }) };
  const now = options.now ?? (() => new Date());
  const scope = `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.OperationalInsights/workspaces/${workspace}/providers/Microsoft.SecurityInsights`;

  const { server, port, ca, caPath, removeFiles } = await startLocalHttpsServer(
    'sentinel-server',
    options.port ?? 0,
  );

  const incidents = new Map<string, StoredIncident>();
  const races = new Map<string, Race>();
  const requests: SentinelRequestRecord[] = [];
  let faults: SentinelFault[] = [];
  let etagCounter = 0;
  let nextNumber = 1;
  let raceCounter = 0;
  let closed = false;

  const newEtag = (): string => {
    etagCounter += 1;
    return `"${etagCounter.toString(16).padStart(8, '0')}-0000-0000-0000-${randomBytes(6).toString('hex')}"`;
  };
  const key = (name: string): string => name.toLowerCase();
  const incidentUrl = (name: string): string =>
    `https://portal.azure.com/#asset/Microsoft_Azure_Security_Insights/Incident${scope}/Incidents/${name}`;

  const render = (stored: StoredIncident): IncidentResource => {
    const properties = structuredClone(stored.properties);
    const additionalData = isRecord(properties.additionalData) ? properties.additionalData : {};
    properties.additionalData = { ...additionalData, commentsCount: stored.comments.size };
    return {
      id: `${scope}/Incidents/${stored.name}`,
      name: stored.name,
      etag: stored.etag,
      type: 'Microsoft.SecurityInsights/Incidents',
      properties: properties as unknown as IncidentProperties,
    };
  };
  const renderComment = (incident: StoredIncident, comment: StoredComment): CommentResource => ({
    id: `${scope}/Incidents/${incident.name}/Comments/${comment.name}`,
    name: comment.name,
    etag: comment.etag,
    type: 'Microsoft.SecurityInsights/Incidents/Comments',
    properties: {
      message: comment.message,
      createdTimeUtc: comment.createdTimeUtc,
      lastModifiedTimeUtc: comment.lastModifiedTimeUtc,
      author: { ...comment.author },
    },
  });

  const change = (stored: StoredIncident, apply: IncidentChange): void => {
    const properties = structuredClone(stored.properties);
    apply(properties);
    properties.lastModifiedTimeUtc = now().toISOString();
    stored.properties = properties;
    stored.etag = newEtag();
  };

  const createStored = (seed: IncidentSeed): StoredIncident => {
    const name = seed.name ?? randomUUID();
    const number = seed.incidentNumber ?? nextNumber;
    nextNumber = Math.max(nextNumber, number + 1);
    const at = now().toISOString();
    const properties: Record<string, unknown> = {
      ...structuredClone(seed.extra ?? {}),
      title: seed.title,
      severity: seed.severity ?? 'Medium',
      status: seed.status ?? 'New',
      labels: (seed.labels ?? []).map((l) => ({ labelName: l.labelName, labelType: l.labelType ?? 'User' })),
      incidentNumber: number,
      createdTimeUtc: at,
      lastModifiedTimeUtc: at,
      incidentUrl: incidentUrl(name),
      providerName: 'Azure Sentinel',
      providerIncidentId: String(number),
    };
    if (seed.description !== undefined) properties.description = seed.description;
    if (seed.owner !== undefined) properties.owner = { ...seed.owner };
    const stored: StoredIncident = { name, etag: newEtag(), properties, comments: new Map() };
    incidents.set(key(name), stored);
    return stored;
  };
  const addIncident = (seed: IncidentSeed): IncidentResource => render(createStored(seed));
  for (const seed of options.incidents ?? []) addIncident(seed);

  const notFound = (name: string): ErrorReply => ({
    status: 404,
    code: 'NotFound',
    message: `Incident '${name}' was not found in workspace '${workspace}'.`,
  });

  const putIncident = (name: string, body: unknown, ifMatch: string | undefined): [number, unknown] => {
    const invalid = validateIncidentBody(body);
    if (invalid !== undefined) throw invalid;
    const input = body as Record<string, unknown>;
    const inputProperties = input.properties as Record<string, unknown>;
    const stored = incidents.get(key(name));
    if (stored === undefined) {
      const created = createStored({ name, title: String(inputProperties.title) });
      created.properties = applyWritable(created.properties, inputProperties, []);
      return [201, render(created)];
    }
    if (ifMatch !== undefined && ifMatch !== '*' && ifMatch !== stored.etag) {
      throw {
        status: 412,
        code: 'PreconditionFailed',
        message: `The condition specified using HTTP conditional header(s) is not met for resource '${stored.name}'.`,
      } satisfies ErrorReply;
    }
    if (ifMatch === undefined && input.etag !== stored.etag) {
      throw {
        status: 409,
        code: 'Conflict',
        message: `Newer version of resource '${stored.name}' exists. Data was not saved`,
      } satisfies ErrorReply;
    }
    const labels = Array.isArray(stored.properties.labels)
      ? (stored.properties.labels as IncidentLabelResource[])
      : [];
    stored.properties = applyWritable(stored.properties, inputProperties, labels);
    stored.properties.lastModifiedTimeUtc = now().toISOString();
    stored.etag = newEtag();
    return [200, render(stored)];
  };

  const putComment = (incidentName: string, commentName: string, body: unknown): [number, unknown] => {
    const stored = incidents.get(key(incidentName));
    if (stored === undefined) throw notFound(incidentName);
    const message =
      isRecord(body) && isRecord(body.properties)
        ? (body.properties as { message?: unknown }).message
        : undefined;
    if (typeof message !== 'string' || message.trim() === '') {
      throw {
        status: 400,
        code: 'BadRequest',
        message: "The comment's 'properties.message' is required.",
      } satisfies ErrorReply;
    }
    if (message.length > MAX_COMMENT_CHARS) {
      throw {
        status: 400,
        code: 'BadRequest',
        message: `The comment's message has ${message.length} characters; at most ${MAX_COMMENT_CHARS} are allowed.`,
      } satisfies ErrorReply;
    }
    const at = now().toISOString();
    const existing = stored.comments.get(key(commentName));
    if (existing !== undefined) {
      const etag = isRecord(body) ? body.etag : undefined;
      if (etag !== undefined && etag !== existing.etag) {
        throw {
          status: 409,
          code: 'Conflict',
          message: `Newer version of resource '${existing.name}' exists. Data was not saved`,
        } satisfies ErrorReply;
      }
      existing.message = message;
      existing.lastModifiedTimeUtc = at;
      existing.etag = newEtag();
      return [200, renderComment(stored, existing)];
    }
    const comment: StoredComment = {
      name: commentName,
      etag: newEtag(),
      message,
      createdTimeUtc: at,
      lastModifiedTimeUtc: at,
      author: { ...author },
    };
    stored.comments.set(key(commentName), comment);
    return [201, renderComment(stored, comment)];
  };

  const afterRead = (stored: StoredIncident): void => {
    const race = races.get(key(stored.name));
    if (race === undefined) return;
    race.remaining -= 1;
    if (race.remaining <= 0) races.delete(key(stored.name));
    raceCounter += 1;
    const n = raceCounter;
    change(
      stored,
      race.change ??
        ((properties) => {
          const labels = Array.isArray(properties.labels) ? properties.labels : [];
          properties.labels = [...labels, { labelName: `concurrent-edit-${n}`, labelType: 'User' }];
        }),
    );
  };

  const parseRoute = (pathname: string): Route | ErrorReply => {
    const segments = pathname.split('/').map(safeDecode);
    // '', subscriptions, {sub}, resourceGroups, {rg}, providers, Microsoft.OperationalInsights, workspaces,
    // {ws}, providers, Microsoft.SecurityInsights, incidents, {id}, [comments, [{commentId}]]
    const literal = (index: number, value: string): boolean =>
      (segments[index] ?? '').toLowerCase() === value.toLowerCase();
    const shape =
      segments[0] === '' &&
      literal(1, 'subscriptions') &&
      literal(3, 'resourceGroups') &&
      literal(5, 'providers') &&
      literal(6, 'Microsoft.OperationalInsights') &&
      literal(7, 'workspaces') &&
      literal(9, 'providers') &&
      literal(10, 'Microsoft.SecurityInsights') &&
      literal(11, 'incidents') &&
      segments.length >= 13 &&
      segments.length <= 15 &&
      (segments.length === 13 || literal(13, 'comments'));
    const incident = segments[12] ?? '';
    if (!shape || incident === '') {
      return { status: 404, code: 'NotFound', message: `No route for '${pathname}'.` };
    }
    if (!literal(2, subscriptionId)) {
      return {
        status: 404,
        code: 'SubscriptionNotFound',
        message: `The subscription '${segments[2] ?? ''}' could not be found.`,
      };
    }
    if (!literal(4, resourceGroup) || !literal(8, workspace)) {
      return {
        status: 404,
        code: 'ResourceNotFound',
        message: `The Resource 'Microsoft.OperationalInsights/workspaces/${segments[8] ?? ''}' under resource group '${segments[4] ?? ''}' was not found.`,
      };
    }
    if (segments.length === 13) return { kind: 'incident', incident };
    const comment = segments[14];
    if (comment === undefined) return { kind: 'comments', incident };
    if (comment === '') return { status: 404, code: 'NotFound', message: `No route for '${pathname}'.` };
    return { kind: 'comment', incident, comment };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const at = new Date();
    const method = req.method ?? '';
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    // The SDK may send `api%2Dversion=...`; URLSearchParams decodes the name.
    const apiVersion = new URLSearchParams(url.search).get('api-version');
    const ifMatchHeader = req.headers['if-match'];
    const ifMatch = typeof ifMatchHeader === 'string' ? ifMatchHeader : undefined;
    const fault = faults.shift();
    let raw: Buffer;
    try {
      raw = await readBody(req, MAX_BODY_BYTES);
    } catch {
      requests.push({ method, path: url.pathname, apiVersion, status: 0, at });
      return;
    }
    const route = parseRoute(url.pathname);
    const ids =
      'status' in route
        ? {}
        : { incident: route.incident, ...(route.kind === 'comment' ? { comment: route.comment } : {}) };
    let body: unknown;
    let bodyError: ErrorReply | undefined;
    if (method === 'PUT') {
      try {
        body = JSON.parse(raw.toString('utf8')) as unknown;
      } catch (error) {
        bodyError = {
          status: 400,
          code: 'InvalidRequestContent',
          message: `The request content was invalid and could not be deserialized: ${error instanceof Error ? error.message : 'not JSON'}`,
        };
      }
    }
    const base = {
      method,
      path: url.pathname,
      apiVersion,
      at,
      ...ids,
      ...(ifMatch === undefined ? {} : { ifMatch }),
      ...(body === undefined ? {} : { body }),
      ...(fault === undefined ? {} : { fault: fault.kind }),
    };
    const record = (entry: SentinelRequestRecord): void => {
      requests.push(entry);
      options.onRequest?.(entry);
    };
    const headers = (): Record<string, string> => {
      const out: Record<string, string> = {
        'x-ms-request-id': randomUUID(),
        'x-ms-correlation-request-id': randomUUID(),
      };
      const clientRequestId = req.headers['x-ms-client-request-id'];
      if (typeof clientRequestId === 'string') out['x-ms-client-request-id'] = clientRequestId;
      return out;
    };
    const send = (status: number, payload: unknown, extra: Readonly<Record<string, string>> = {}): void => {
      if (closed || res.destroyed) {
        record({ ...base, status: 0 });
        return;
      }
      const text = JSON.stringify(payload);
      res
        .writeHead(status, {
          ...headers(),
          ...extra,
          'content-type': 'application/json; charset=utf-8',
          'content-length': String(Buffer.byteLength(text)),
        })
        .end(text);
    };
    const fail = (error: ErrorReply): void => {
      send(error.status, { error: { code: error.code, message: error.message } }, error.headers);
      record({ ...base, status: error.status, errorCode: error.code });
    };

    switch (fault?.kind) {
      case 'reset':
        req.socket.destroy();
        record({ ...base, status: 0 });
        return;
      case 'server-error':
        fail({ status: 500, code: 'InternalServerError', message: 'An internal error occurred.' });
        return;
      case 'throttle':
        fail({
          status: 429,
          code: 'TooManyRequests',
          message: 'The request was throttled.',
          headers: { 'retry-after': String(fault.retryAfterSeconds) },
        });
        return;
      case undefined:
        break;
    }

    const authError = checkAuthorization(req.headers.authorization, token, readerToken);
    if (authError !== undefined) {
      fail(authError);
      return;
    }
    if (apiVersion === null) {
      fail({
        status: 400,
        code: 'MissingApiVersionParameter',
        message: 'The api-version query parameter (?api-version=) is required for all requests.',
      });
      return;
    }
    if (!SUPPORTED_API_VERSIONS.includes(apiVersion)) {
      fail({
        status: 400,
        code: 'InvalidApiVersionParameter',
        message: `The api-version '${apiVersion}' is invalid. The supported versions are '${SUPPORTED_API_VERSIONS.join("','")}'.`,
      });
      return;
    }
    if ('status' in route) {
      fail(route);
      return;
    }
    const reader = isToken(req.headers.authorization, readerToken);
    if (method === 'PUT' && reader) {
      const resource = route.kind === 'incident' ? 'incidents' : 'incidents/comments';
      fail({
        status: 403,
        code: 'AuthorizationFailed',
        message: `The client does not have authorization to perform action 'Microsoft.SecurityInsights/${resource}/write' over scope '${url.pathname}' or the scope is invalid.`,
      });
      return;
    }
    if (bodyError !== undefined) {
      fail(bodyError);
      return;
    }

    try {
      if (method === 'GET' && route.kind === 'incident') {
        const stored = incidents.get(key(route.incident));
        if (stored === undefined) throw notFound(route.incident);
        send(200, render(stored));
        record({ ...base, status: 200 });
        afterRead(stored);
        return;
      }
      if (method === 'PUT' && route.kind === 'incident') {
        const [status, payload] = putIncident(route.incident, body, ifMatch);
        send(status, payload);
        record({ ...base, status });
        return;
      }
      if (method === 'GET' && route.kind === 'comments') {
        const stored = incidents.get(key(route.incident));
        if (stored === undefined) throw notFound(route.incident);
        send(200, { value: [...stored.comments.values()].map((c) => renderComment(stored, c)) });
        record({ ...base, status: 200 });
        return;
      }
      if (method === 'GET' && route.kind === 'comment') {
        const stored = incidents.get(key(route.incident));
        if (stored === undefined) throw notFound(route.incident);
        const comment = stored.comments.get(key(route.comment));
        if (comment === undefined) {
          throw {
            status: 404,
            code: 'NotFound',
            message: `Comment '${route.comment}' was not found on incident '${route.incident}'.`,
          } satisfies ErrorReply;
        }
        send(200, renderComment(stored, comment));
        record({ ...base, status: 200 });
        return;
      }
      if (method === 'PUT' && route.kind === 'comment') {
        const [status, payload] = putComment(route.incident, route.comment, body);
        send(status, payload);
        record({ ...base, status });
        return;
      }
      fail({
        status: 405,
        code: 'MethodNotAllowed',
        message: `The method '${method}' is not supported on '${url.pathname}'.`,
      });
    } catch (error) {
      if (isErrorReply(error)) {
        fail(error);
        return;
      }
      throw error;
    }
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch(() => {
      if (!res.headersSent && !res.destroyed) res.writeHead(500).end();
      else res.destroy();
    });
  });

  return {
    endpoint: `https://127.0.0.1:${port}`,
    port,
    ca,
    caPath,
    token,
    readerToken,
    credential: staticTokenCredential(token),
    readerCredential: staticTokenCredential(readerToken),
    subscriptionId,
    resourceGroup,
    workspace,
    get requests(): readonly SentinelRequestRecord[] {
      return requests;
    },
    addIncident,
    incident: (name) => {
      const stored = incidents.get(key(name));
      return stored === undefined ? undefined : render(stored);
    },
    comments: (name) => {
      const stored = incidents.get(key(name));
      return stored === undefined ? [] : [...stored.comments.values()].map((c) => renderComment(stored, c));
    },
    updateIncident: (name, apply) => {
      const stored = incidents.get(key(name));
      if (stored === undefined) throw new RangeError(`No incident '${name}'`);
      change(stored, apply);
      return render(stored);
    },
    raceAfterRead: (name, raceOptions = {}) => {
      const times = raceOptions.times ?? 1;
      if (!Number.isInteger(times) || times < 1) throw new RangeError('times must be a positive integer');
      races.set(key(name), { remaining: times, change: raceOptions.change });
    },
    injectFaults: (...queued) => {
      for (const fault of queued) {
        if (
          fault.kind === 'throttle' &&
          !(Number.isFinite(fault.retryAfterSeconds) && fault.retryAfterSeconds >= 0)
        ) {
          throw new RangeError('retryAfterSeconds must be a non-negative number');
        }
      }
      faults.push(...queued);
    },
    reset: () => {
      incidents.clear();
      races.clear();
      requests.length = 0;
      faults = [];
      nextNumber = 1;
    },
    close: async () => {
      if (closed) return;
      closed = true;
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await stopped;
      await removeFiles();
    },
  };
}

/** The incident after a PUT: writable properties from the body, the service's own from before. */
function applyWritable(
  current: Record<string, unknown>,
  input: Record<string, unknown>,
  previousLabels: readonly IncidentLabelResource[],
): Record<string, unknown> {
  const next: Record<string, unknown> = {};
  const writable = new Set<string>(WRITABLE_PROPERTIES);
  for (const [property, value] of Object.entries(current)) {
    if (!writable.has(property) || STICKY_PROPERTIES.has(property)) next[property] = structuredClone(value);
  }
  for (const property of WRITABLE_PROPERTIES) {
    const value = input[property];
    if (value === undefined || value === null) continue;
    if (property === 'labels' && Array.isArray(value)) {
      next.labels = value.map((label: { labelName: string }) => ({
        labelName: label.labelName,
        labelType: previousLabels.find((l) => l.labelName === label.labelName)?.labelType ?? 'User',
      }));
      continue;
    }
    next[property] = structuredClone(value);
  }
  if (!Array.isArray(next.labels)) next.labels = [];
  return next;
}

function validateIncidentBody(body: unknown): ErrorReply | undefined {
  const bad = (message: string): ErrorReply => ({ status: 400, code: 'BadRequest', message });
  if (!isRecord(body) || !isRecord(body.properties)) {
    return bad("The request body must be an incident object with 'properties'.");
  }
  const properties = body.properties;
  if (typeof properties.title !== 'string' || properties.title.trim() === '') {
    return bad("'properties.title' is required.");
  }
  if (typeof properties.severity !== 'string' || !SEVERITIES.includes(properties.severity)) {
    return bad(`'properties.severity' is required and must be one of ${SEVERITIES.join(', ')}.`);
  }
  if (typeof properties.status !== 'string' || !STATUSES.includes(properties.status)) {
    return bad(`'properties.status' is required and must be one of ${STATUSES.join(', ')}.`);
  }
  if (properties.status === 'Closed' && typeof properties.classification !== 'string') {
    return bad("Closing an incident requires 'properties.classification'.");
  }
  if (properties.labels !== undefined && properties.labels !== null) {
    if (!Array.isArray(properties.labels)) return bad("'properties.labels' must be an array.");
    for (const label of properties.labels) {
      if (!isRecord(label) || typeof label.labelName !== 'string' || label.labelName.trim() === '') {
        return bad("Every label needs a non-empty 'labelName'.");
      }
    }
  }
  for (const time of ['firstActivityTimeUtc', 'lastActivityTimeUtc']) {
    const value = properties[time];
    if (
      value !== undefined &&
      value !== null &&
      (typeof value !== 'string' || Number.isNaN(Date.parse(value)))
    ) {
      return bad(`'properties.${time}' must be a date-time.`);
    }
  }
  if (body.etag !== undefined && body.etag !== null && typeof body.etag !== 'string') {
    return bad("'etag' must be a string.");
  }
  return undefined;
}

function bearer(header: string | undefined): Buffer | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1] === undefined ? undefined : Buffer.from(match[1]);
}

function isToken(header: string | undefined, token: string): boolean {
  const presented = bearer(header);
  const expected = Buffer.from(token);
  return (
    presented !== undefined && presented.length === expected.length && timingSafeEqual(presented, expected)
  );
}

function checkAuthorization(
  header: string | undefined,
  token: string,
  readerToken: string,
): ErrorReply | undefined {
  const challenge = (error: string): Record<string, string> => ({
    'www-authenticate': `Bearer authorization_uri="https://login.microsoftonline.com/common", error="${error}", error_description="The access token is missing or invalid."`,
  });
  if (header === undefined || header.trim() === '') {
    return {
      status: 401,
      code: 'AuthenticationFailed',
      message: "Authentication failed. The 'Authorization' header is missing.",
      headers: challenge('invalid_request'),
    };
  }
  if (!isToken(header, token) && !isToken(header, readerToken)) {
    return {
      status: 401,
      code: 'InvalidAuthenticationToken',
      message: 'The access token is invalid.',
      headers: challenge('invalid_token'),
    };
  }
  return undefined;
}

function isErrorReply(value: unknown): value is ErrorReply {
  return (
    isRecord(value) &&
    typeof value.status === 'number' &&
    typeof value.code === 'string' &&
    typeof value.message === 'string'
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes <= limit) chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
    req.on('aborted', () => reject(new Error('request aborted')));
  });
}

async function main(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      port: { type: 'string', default: '0' },
      token: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log('Usage: node --import tsx shared/local/sentinel-server.ts [--port 8444] [--token T]');
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new RangeError(`--port must be an integer between 0 and 65535, got '${values.port}'`);
  }
  const server = await startSentinelServer({
    port,
    ...(values.token === undefined ? {} : { token: values.token }),
    incidents: [
      {
        name: '7a3b2c1d-0000-4000-8000-000000004242',
        incidentNumber: 4242,
        title: 'GuardDuty: UnauthorizedAccess:EC2/SSHBruteForce',
        severity: 'High',
      },
    ],
    onRequest: (r) =>
      console.log(`${r.at.toISOString()} ${r.method} ${r.path} -> ${r.status} ${r.errorCode ?? ''}`),
  });
  console.log(`Sentinel incidents API listening (Ctrl-C to stop)
  endpoint:        ${server.endpoint}
  subscription:    ${server.subscriptionId}
  resource group:  ${server.resourceGroup}
  workspace:       ${server.workspace}
  token:           ${server.token}
  reader token:    ${server.readerToken}
  ca:              ${server.caPath}
  incident:        7a3b2c1d-0000-4000-8000-000000004242 (number 4242)`);
  closeOnSignal(server.close);
}

runIfEntryPoint(import.meta.url, main);
