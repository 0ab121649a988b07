// The suite's jest environment: Node's, plus one cache that lives as long as the jest worker.
// Jest gives every test file a fresh global and module registry, so anything a support module
// keeps in a module variable is rebuilt once per file; compiling the strict MPIJob CRD schema
// alone takes about a second. Support modules keep such results in `workerCache` (see
// test/support/worker-cache.ts) to build them once per worker instead.
import NodeEnvironment from 'jest-environment-node';

const WORKER_CACHE_KEY = '__cdk8sDeepspeedWorkerCache';
const workerCache = new Map<string, unknown>();

export default class SuiteEnvironment extends NodeEnvironment {
  constructor(...args: ConstructorParameters<typeof NodeEnvironment>) {
    super(...args);
    this.global[WORKER_CACHE_KEY] = workerCache;
  }
}
