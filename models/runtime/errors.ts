// Expected model failures (missing or corrupt files, signature mismatches, bad input) as errors a
// person can act on: each names the model and the file.
import { EngramError } from '../../config/errors.js';

export class ModelError extends EngramError {
  override readonly name = 'ModelError';
}

export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new DOMException('the operation was aborted', 'AbortError');
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}
