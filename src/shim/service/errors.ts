// Runtime library errors as the ttrpc status codes containerd's errdefs understand.
import { ConfigError, RuntimeError } from '../../runtime/errors';
import { AlreadyExists, InvalidArgument, NotFound, TtrpcError } from '../ttrpc/errors';

/** ConfigError -> InvalidArgument, "does not exist" -> NotFound, "already exists" -> AlreadyExists, else Unknown. */
export function asTtrpcError(err: unknown): unknown {
  if (err instanceof TtrpcError) return err;
  if (err instanceof ConfigError) return new InvalidArgument(err.message);
  if (err instanceof RuntimeError && /does not exist/.test(err.message)) return new NotFound(err.message);
  if (err instanceof RuntimeError && /already exists/.test(err.message)) return new AlreadyExists(err.message);
  return err;
}

/** Runs `fn`, answering with the mapped error. */
export async function mapped<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw asTtrpcError(err);
  }
}
