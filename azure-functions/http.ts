import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import {
  type AppRole,
  authFailureResponse,
  type EntraVerifier,
  type Principal,
} from '../shared/adapters/azure/entra-auth.js';

/** What a route needs to check its caller. */
export type Verifier = Pick<EntraVerifier, 'verify'>;

export type Handler = (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;

/** A JSON error response; messages are written for callers, never an internal error text or stack. */
export function problem(
  status: number,
  code: string,
  message: string,
  details?: Record<string, unknown>,
): HttpResponseInit {
  return { status, jsonBody: { error: { code, message, ...(details ?? {}) } } };
}

/** Reads a JSON body; undefined plus a 400 response when it is missing or not JSON. */
export async function readJson(
  request: HttpRequest,
): Promise<{ ok: true; body: unknown } | { ok: false; response: HttpResponseInit }> {
  const type = request.headers.get('content-type') ?? '';
  if (type !== '' && !/^application\/(.+\+)?json\b/i.test(type)) {
    return {
      ok: false,
      response: problem(415, 'unsupported_media_type', 'send the body as application/json'),
    };
  }
  const text = await request.text();
  if (text.trim() === '')
    return {
      ok: false,
      response: problem(400, 'empty_body', 'the request body is empty; send a JSON object'),
    };
  if (text.length > 4 * 1024 * 1024)
    return { ok: false, response: problem(413, 'body_too_large', 'the request body is over 4 MB') };
  try {
    return { ok: true, body: JSON.parse(text) };
  } catch {
    return { ok: false, response: problem(400, 'invalid_json', 'the request body is not valid JSON') };
  }
}

/** Wraps a route: verifies the bearer token for `role`, then runs it; any unexpected error is a bare 500. */
export function authorized(
  verifier: Verifier,
  role: AppRole,
  route: (
    request: HttpRequest,
    principal: Principal,
    context: InvocationContext,
  ) => Promise<HttpResponseInit>,
): Handler {
  return async (request, context) => {
    const auth = await verifier.verify(request.headers.get('authorization') ?? undefined, role);
    if (!auth.ok) return authFailureResponse(auth);
    try {
      return await route(request, auth.principal, context);
    } catch (error) {
      context.error('unhandled error', error instanceof Error ? error.name : 'unknown');
      return problem(
        500,
        'internal_error',
        'the request could not be completed; see the function logs with the invocation id',
        {
          invocationId: context.invocationId,
        },
      );
    }
  };
}

/** Who acted, for session names and the audit. */
export function actorOf(principal: Principal): string {
  return principal.name ?? principal.appId ?? principal.objectId ?? principal.subject;
}
