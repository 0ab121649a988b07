import { randomInt } from 'crypto';

/**
 * A random loopback address for one emulated pod: 127.A.B.C with A in 100-254, so it avoids
 * 127.0.0.1, Debian's 127.0.1.1 and the low blocks people pick by hand. Linux routes all of
 * 127.0.0.0/8 to the loopback interface, so any of them can be bound without setup; other
 * rehearsals running at the same time pick their own, and a bind failure picks again.
 */
export function randomLoopbackAddress(taken: Set<string> = new Set()): string {
  for (;;) {
    const address = `127.${randomInt(100, 255)}.${randomInt(0, 256)}.${randomInt(1, 255)}`;
    if (!taken.has(address)) {
      taken.add(address);
      return address;
    }
  }
}
