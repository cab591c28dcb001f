/**
 * The project's error taxonomy. Every error has a stable `name`, a `retryable` flag and an optional `cause`.
 * Messages are safe to show to a caller (no secrets, no stack traces); HTTP responses only ever carry
 * `message`, never the error object.
 */
export abstract class BridgeError extends Error {
  abstract readonly retryable: boolean;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Input that can never succeed, whatever the number of retries (a poison record, a bad request). */
export class ValidationError extends BridgeError {
  readonly retryable = false;
  constructor(
    message: string,
    readonly field: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A setting is missing or malformed; raised once at start by `loadConfig()`. */
export class ConfigError extends BridgeError {
  readonly retryable = false;
}

/** A downstream service failed in a way a later attempt may not (throttling, 5xx, network). */
export class TransientError extends BridgeError {
  readonly retryable = true;
}
