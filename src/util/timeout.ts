import { clock } from "./clock";

/**
 * Gives up on a binding call that hangs: resolves as `promise` does, or rejects with a `TimeoutError` after
 * `ms` on the clock. The call itself is not cancelled (bindings cannot be), so whatever it does still
 * happens; callers only use this where a late completion is harmless (a cache read, a token spent but never used).
 * @example const value = await withTimeout(env.KEY_CACHE.get(name), KV_READ_TIMEOUT_MS);
 */
export async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let cancel: (() => void) | undefined;
  const timeout = new Promise<never>((_, reject) => {
    cancel = clock.timer(ms, () => reject(new DOMException(`no answer within ${ms} ms`, "TimeoutError")));
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    cancel?.();
  }
}
