/**
 * A value built once per jest worker rather than once per test file (test/support/environment.ts).
 * Only for pure results of files that do not change during a run, keyed by everything they depend
 * on. Outside the suite's environment (a plain jest config) it builds every time.
 */
export function cachedPerWorker<T>(key: string, build: () => T): T {
  const cache: Map<string, unknown> | undefined = (globalThis as any).__cdk8sDeepspeedWorkerCache;
  if (!cache) return build();
  if (!cache.has(key)) cache.set(key, build());
  return cache.get(key) as T;
}
