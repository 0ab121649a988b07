import { Size, SizeRoundingBehavior } from 'cdk8s';
import { Cpu } from './cpu';

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
  const kibibytes = size.toKibibytes({ rounding: SizeRoundingBehavior.NONE });
  if (kibibytes === 0) return '0';
  for (const [suffix, convert] of BINARY_UNITS) {
    const amount = convert(size);
    if (Number.isInteger(amount)) {
      return `${amount}${suffix}`;
    }
  }
  // Not a whole number of KiB (Size.kibibytes(0.5), Size.mebibytes(1.3)): plain bytes, a quantity
  // the API server accepts (it rounds a fraction of a byte up); never throw while rendering.
  return String(kibibytes * 1024);
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

/**
 * An exact Kubernetes quantity: `mantissa × 10^exponent`, with the mantissa free of trailing zeros.
 * Exact, so `300m` equals `0.3` (in floating point 300 × 0.001 is just above 0.3).
 */
export interface Quantity {
  readonly mantissa: bigint;
  readonly exponent: number;
}

// The API server's grammar: sign, digits with an optional fraction, then one suffix
// (binary SI, decimal SI, or a decimal exponent such as e3).
const QUANTITY = /^([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:([eE][+-]?[0-9]+)|(Ki|Mi|Gi|Ti|Pi|Ei)|([numkMGTPE]))?$/;
const BINARY_POWER: Record<string, bigint> = { Ki: 10n, Mi: 20n, Gi: 30n, Ti: 40n, Pi: 50n, Ei: 60n };
const DECIMAL_POWER: Record<string, number> = { n: -9, u: -6, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

function normalized(mantissa: bigint, exponent: number): Quantity {
  if (mantissa === 0n) return { mantissa, exponent: 0 };
  while (mantissa % 10n === 0n) {
    mantissa /= 10n;
    exponent += 1;
  }
  return { mantissa, exponent };
}

/**
 * Parses a Kubernetes quantity (`500m`, `32Gi`, `1e3`, or a JSON number) exactly.
 * Returns undefined when the API server would not accept it as a quantity.
 */
export function parseQuantity(quantity: unknown): Quantity | undefined {
  if (typeof quantity === 'number') {
    return Number.isFinite(quantity) ? parseQuantity(String(quantity)) : undefined;
  }
  if (typeof quantity !== 'string') return undefined;
  const match = QUANTITY.exec(quantity);
  if (!match) return undefined;
  const [, sign, number, exponentSuffix, binarySuffix, decimalSuffix] = match;
  const [whole, fraction = ''] = number.split('.');
  let mantissa = BigInt((whole || '0') + fraction);
  let exponent = 0 - fraction.length; // not -length, which is -0 for whole numbers
  if (exponentSuffix) exponent += Number(exponentSuffix.slice(1));
  if (decimalSuffix) exponent += DECIMAL_POWER[decimalSuffix];
  if (binarySuffix) mantissa <<= BINARY_POWER[binarySuffix];
  return normalized(sign === '-' ? -mantissa : mantissa, exponent);
}

/** Compares two parsed quantities: negative when a < b, 0 when equal, positive when a > b. */
export function compareQuantities(a: Quantity, b: Quantity): number {
  const signA = a.mantissa === 0n ? 0 : a.mantissa < 0n ? -1 : 1;
  const signB = b.mantissa === 0n ? 0 : b.mantissa < 0n ? -1 : 1;
  if (signA !== signB || signA === 0) return signA - signB;
  // Same sign: compare magnitudes by order of magnitude first, then digit by digit.
  const digitsA = (signA < 0 ? -a.mantissa : a.mantissa).toString();
  const digitsB = (signB < 0 ? -b.mantissa : b.mantissa).toString();
  const orderA = digitsA.length + a.exponent;
  const orderB = digitsB.length + b.exponent;
  let magnitude = Math.sign(orderA - orderB);
  if (magnitude === 0) {
    const width = Math.max(digitsA.length, digitsB.length);
    const paddedA = digitsA.padEnd(width, '0');
    const paddedB = digitsB.padEnd(width, '0');
    magnitude = paddedA === paddedB ? 0 : paddedA < paddedB ? -1 : 1;
  }
  return magnitude === 0 ? 0 : signA * magnitude;
}

/** Whether a parsed quantity is a whole number (`2`, `2000m`, `1Ki`; not `500m`). */
export function isWholeQuantity(quantity: Quantity): boolean {
  return quantity.exponent >= 0;
}

/** Whether a parsed quantity is below zero. */
export function isNegativeQuantity(quantity: Quantity): boolean {
  return quantity.mantissa < 0n;
}

/** The approximate numeric value of a parsed quantity, for counts and messages. */
export function quantityToNumber(quantity: Quantity): number {
  return Number(quantity.mantissa) * 10 ** quantity.exponent;
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
