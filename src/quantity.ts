import { Size, SizeRoundingBehavior } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-27';

const BINARY_UNITS: Array<[string, (s: Size) => number]> = [
  ['Pi', s => s.toPebibytes({ rounding: SizeRoundingBehavior.NONE })],
  ['Ti', s => s.toTebibytes({ rounding: SizeRoundingBehavior.NONE })],
  ['Gi', s => s.toGibibytes({ rounding: SizeRoundingBehavior.NONE })],
  ['Mi', s => s.toMebibytes({ rounding: SizeRoundingBehavior.NONE })],
  ['Ki', s => s.toKibibytes({ rounding: SizeRoundingBehavior.NONE })],
];

/**
 * Renders a Size as a Kubernetes quantity in the largest binary unit that holds it
 * exactly, so `Size.gibibytes(32)` becomes `32Gi` rather than `32768Mi`.
 */
export function sizeToQuantity(size: Size): string {
  for (const [suffix, convert] of BINARY_UNITS) {
    const amount = convert(size);
    if (Number.isInteger(amount)) {
      return `${amount}${suffix}`;
    }
  }
  // Sizes below 1 KiB cannot be built from the Size factories; keep a clear failure anyway.
  throw new Error(`cannot render size ${size.toKibibytes({ rounding: SizeRoundingBehavior.NONE })} KiB as a quantity`);
}

/**
 * Rewrites a binary-unit quantity (`1024Mi`) in the largest unit that holds it exactly (`1Gi`);
 * anything else is returned unchanged.
 */
export function normalizeQuantity(quantity: string): string {
  const match = /^([0-9]+)(Ki|Mi|Gi|Ti|Pi)$/.exec(quantity);
  if (!match) return quantity;
  return sizeToQuantity(Size.kibibytes(Number(match[1]) * 1024 ** ['Ki', 'Mi', 'Gi', 'Ti', 'Pi'].indexOf(match[2])));
}

/** Renders a Cpu (`Cpu.units(8)` is `8`, `Cpu.millis(500)` is `500m`). */
export function cpuToQuantity(cpu: Cpu): string {
  return cpu.amount;
}

const QUANTITY = /^([+-]?[0-9.]+)([eE][+-]?[0-9]+|[numkMGTPE]|[KMGTPE]i)?$/;
const SUFFIX_FACTOR: Record<string, number> = {
  'n': 1e-9, 'u': 1e-6, 'm': 1e-3, '': 1, 'k': 1e3, 'M': 1e6, 'G': 1e9, 'T': 1e12, 'P': 1e15, 'E': 1e18,
  'Ki': 2 ** 10, 'Mi': 2 ** 20, 'Gi': 2 ** 30, 'Ti': 2 ** 40, 'Pi': 2 ** 50, 'Ei': 2 ** 60,
};

/**
 * Parses a Kubernetes quantity string (`500m`, `32Gi`, `1e3`) into a number of base units.
 * Returns undefined when the string is not a quantity the API server would accept.
 */
export function parseQuantity(quantity: string | number): number | undefined {
  if (typeof quantity === 'number') {
    return Number.isFinite(quantity) ? quantity : undefined;
  }
  const match = QUANTITY.exec(quantity.trim() === quantity ? quantity : '');
  if (!match || !/^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$/.test(match[1])) {
    return undefined;
  }
  const base = Number(match[1]);
  const suffix = match[2] ?? '';
  if (/^[eE]/.test(suffix)) {
    return base * 10 ** Number(suffix.slice(1));
  }
  return base * SUFFIX_FACTOR[suffix];
}

/** Whether a resource is measured in bytes (and reads best in binary units). */
function isByteResource(name: string): boolean {
  return name === 'memory' || name === 'storage' || name === 'ephemeral-storage' || name.startsWith('hugepages-');
}

/**
 * Renders an amount of a resource as a quantity: bytes in the largest exact binary unit
 * (`66Gi`), whole counts as integers (`9`), fractions in millis (`1500m`).
 */
export function formatQuantity(resourceName: string, amount: number): string {
  if (!Number.isInteger(amount)) {
    return `${Math.ceil(Math.round(amount * 1e6) / 1e3)}m`;
  }
  if (isByteResource(resourceName) && amount >= 1024 && amount % 1024 === 0) {
    return sizeToQuantity(Size.kibibytes(amount / 1024));
  }
  return String(amount);
}
