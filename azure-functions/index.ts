/**
 * Azure Functions (v4 programming model) entry: registers the routes. Every route requires a function key
 * (`authLevel: 'function'`) AND a valid Entra ID bearer token with the route's app role, checked explicitly.
 */
import { app } from '@azure/functions';
import type { Handler } from './http.js';
import { createResponseActionsHandlers } from './response-actions.js';
import { defaultResponderDeps } from './runtime.js';
import { createSentinelIncidentHandler } from './sentinel-incident.js';

let handlers:
  | { incident: Handler; list: Handler; run: Handler; release: Handler; approve: Handler }
  | undefined;

/** Built on first request, so a configuration error is reported by the first call, once, with every problem. */
function routes(): NonNullable<typeof handlers> {
  if (!handlers) {
    const deps = defaultResponderDeps();
    handlers = { incident: createSentinelIncidentHandler(deps), ...createResponseActionsHandlers(deps) };
  }
  return handlers;
}

app.http('sentinel-incident', {
  methods: ['POST'],
  authLevel: 'function',
  route: 'incidents',
  handler: (request, context) => routes().incident(request, context),
});
app.http('response-actions-list', {
  methods: ['GET'],
  authLevel: 'function',
  route: 'actions',
  handler: (request, context) => routes().list(request, context),
});
app.http('response-actions-run', {
  methods: ['POST'],
  authLevel: 'function',
  route: 'actions/{name}',
  handler: (request, context) => routes().run(request, context),
});
app.http('response-actions-release', {
  methods: ['POST'],
  authLevel: 'function',
  route: 'actions/{name}/release',
  handler: (request, context) => routes().release(request, context),
});
app.http('response-plans-approve', {
  methods: ['POST'],
  authLevel: 'function',
  route: 'plans/{id}/approve',
  handler: (request, context) => routes().approve(request, context),
});
