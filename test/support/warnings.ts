/**
 * The library's warning channel in tests. Synthesis writes each warning to stderr as
 * `[cdk8s-deepspeed warning] <message>`; test/support/setup.ts captures those lines instead of
 * printing them, and fails a test that leaves any of them unasserted. A test that provokes
 * warnings takes them with `takeWarnings()` and asserts them.
 */

const PREFIX = '[cdk8s-deepspeed warning] ';

interface WarningCapture {
  /** Messages (without the prefix) written since the last take, in order. */
  pending: string[];
}

const STATE_KEY = Symbol.for('cdk8s-deepspeed.test.warnings');

function state(): WarningCapture {
  const g = globalThis as any;
  g[STATE_KEY] ??= { pending: [] };
  return g[STATE_KEY];
}

/** The warnings written since the last take (each message once per line written), and forgets them. */
export function takeWarnings(): string[] {
  return state().pending.splice(0);
}

/** Puts taken warnings back, before any written since, for a later take. */
export function restoreWarnings(warnings: string[]): void {
  state().pending.unshift(...warnings);
}

/** Replaces `process.stderr.write` with one that keeps warning lines and passes everything else through. */
export function captureWarnings(): void {
  // Test files that share a worker share its process.stderr: each file installs its own wrapper
  // over the original write, so its warnings land in its own state.
  const stderr = process.stderr as any;
  stderr.__cdk8sDeepspeedOriginalWrite ??= stderr.write;
  const write = stderr.__cdk8sDeepspeedOriginalWrite.bind(stderr);
  const capture = state();
  stderr.write = (chunk: any, ...rest: any[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : undefined;
    if (text === undefined || !text.includes(PREFIX)) return write(chunk, ...rest);
    const others: string[] = [];
    for (const line of text.split('\n')) {
      if (line.startsWith(PREFIX)) capture.pending.push(line.slice(PREFIX.length));
      else others.push(line);
    }
    const passed = others.join('\n');
    if (passed.trim() !== '') return write(passed, ...rest);
    const callback = rest.find(r => typeof r === 'function');
    if (callback) callback();
    return true;
  };
}

/** Throws when warnings were written and not taken: `where` says when they were written. */
export function failOnUntakenWarnings(where: string): void {
  const untaken = takeWarnings();
  if (untaken.length === 0) return;
  throw new Error(`${where} wrote ${untaken.length} cdk8s-deepspeed warning(s) that no assertion took `
    + `(take them with takeWarnings() from test/support/warnings and assert them):\n  ${untaken.join('\n  ')}`);
}

/**
 * Takes the warnings written since the last take and asserts them, in order: each expected entry
 * is the start of a message (construct path, the prop and its value); the full texts are asserted
 * where each rule is tested.
 */
export function expectWarnings(...starts: string[]): void {
  const taken = takeWarnings();
  expect(taken.map((message, i) => starts[i] !== undefined && message.startsWith(starts[i]) ? starts[i] : message)).toEqual(starts);
}
