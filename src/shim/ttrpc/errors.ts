// Typed errors that travel as a ttrpc Response status (google.rpc.Status with a gRPC code). The codes
// are those containerd's errdefs.FromGRPC maps back to its error classes, so `ctr` shows e.g.
// "not found" for NotFound. Any other thrown error becomes Unknown with its message, as in Go's ttrpc.
import { ConfigError } from '../../runtime/errors';

/** gRPC status codes (google.rpc.Code). */
export const Code = {
  OK: 0,
  Canceled: 1,
  Unknown: 2,
  InvalidArgument: 3,
  DeadlineExceeded: 4,
  NotFound: 5,
  AlreadyExists: 6,
  PermissionDenied: 7,
  ResourceExhausted: 8,
  FailedPrecondition: 9,
  Aborted: 10,
  OutOfRange: 11,
  Unimplemented: 12,
  Internal: 13,
  Unavailable: 14,
  DataLoss: 15,
  Unauthenticated: 16,
} as const;
export type Code = (typeof Code)[keyof typeof Code];

const codeNames = new Map<number, string>(Object.entries(Code).map(([k, v]) => [v, k]));
export function codeName(code: number): string {
  return codeNames.get(code) ?? `Code(${code})`;
}

/** An error with a status code; thrown by handlers, and by the client for an error response. */
export class TtrpcError extends Error {
  constructor(
    readonly code: Code,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = `TtrpcError(${codeName(code)})`;
  }
}

// One class per errdefs class, so handlers read `throw new NotFound('container "x"')`.
// containerd prints the message as is; errdefs appends nothing on the shim side.
export class InvalidArgument extends TtrpcError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(Code.InvalidArgument, message, options);
  }
}
export class NotFound extends TtrpcError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(Code.NotFound, message, options);
  }
}
export class AlreadyExists extends TtrpcError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(Code.AlreadyExists, message, options);
  }
}
export class FailedPrecondition extends TtrpcError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(Code.FailedPrecondition, message, options);
  }
}
/** errdefs.ErrNotImplemented travels as gRPC Unimplemented. */
export class Unimplemented extends TtrpcError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(Code.Unimplemented, message, options);
  }
}
export { Unimplemented as NotImplemented };
export class Unavailable extends TtrpcError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(Code.Unavailable, message, options);
  }
}
export class Internal extends TtrpcError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(Code.Internal, message, options);
  }
}
export class DeadlineExceeded extends TtrpcError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(Code.DeadlineExceeded, message, options);
  }
}
export class Canceled extends TtrpcError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(Code.Canceled, message, options);
  }
}
export class ResourceExhausted extends TtrpcError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(Code.ResourceExhausted, message, options);
  }
}

/**
 * The status a thrown value answers with. A TtrpcError keeps its code; the runtime's ConfigError (bad
 * config or argument) is InvalidArgument; anything else is Unknown, as Go's ttrpc does for errors that
 * carry no status. Messages are capped so a huge error cannot exceed the frame limit.
 */
export function statusOf(err: unknown): { code: Code; message: string } {
  const message = (err instanceof Error ? err.message : String(err)).slice(0, 64 * 1024);
  if (err instanceof TtrpcError) return { code: err.code, message };
  if (err instanceof ConfigError) return { code: Code.InvalidArgument, message };
  return { code: Code.Unknown, message };
}
