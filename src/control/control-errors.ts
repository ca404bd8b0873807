// Typed failures of control-plane operations that a caller should answer with a clear message (the admin
// API maps each code to an HTTP status); anything else thrown by the control plane is a bug or an outage.

export type ControlErrorCode =
  /** The input is malformed (a bad token name or role, a weak bootstrap token, a bad revision number). */
  | 'INVALID_INPUT'
  /** The named revision or token does not exist. */
  | 'NOT_FOUND'
  /** The request is well formed but would leave the gateway in a bad state (revoking the last admin token). */
  | 'CONFLICT';

export class ControlError extends Error {
  readonly code: ControlErrorCode;

  constructor(code: ControlErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ControlError';
    this.code = code;
  }
}

export function isControlError(err: unknown): err is ControlError {
  return err instanceof ControlError;
}
