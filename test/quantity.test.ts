import { Size } from 'cdk8s';
import * as fc from 'fast-check';
import {
  compareQuantities, isNegativeQuantity, isWholeQuantity, normalizeQuantity, parseQuantity, Quantity,
  quantityToNumber, sizeToQuantity,
} from '../src/quantity';

function q(text: string | number): Quantity {
  const parsed = parseQuantity(text);
  if (parsed === undefined) throw new Error(`${text} does not parse`);
  return parsed;
}

describe('parseQuantity', () => {
  test.each([
    ['300m', '0.3'],
    ['1Gi', '1073741824'],
    ['1Ki', '1024'],
    ['1k', '1000'],
    ['1e3', '1k'],
    ['1E3', '1000'],
    ['1E', '1e18'],
    ['2Ei', String(2n ** 61n)],
    ['+5', '5'],
    ['.5', '500m'],
    ['5.', '5'],
    ['1500m', '1.5'],
    ['100u', '0.1m'],
    ['1n', '0.000000001'],
    ['16Gi', '17179869184'],
    [0.5, '500m'],
    [1e21, '1e21'],
    ['0', '-0'],
  ])('%s equals %s exactly', (a, b) => {
    expect(compareQuantities(q(a), q(b))).toBe(0);
  });

  test.each(['', ' 1', '1 ', '1GB', '1K', '1ki', '1.5.5', '.', 'e3', '1e', '1Mi3', 'abc', '1 Gi', '--1', '0x10'])(
    '%j is not a quantity', text => {
      expect(parseQuantity(text)).toBeUndefined();
    });

  test.each([null, true, {}, Number.NaN, Number.POSITIVE_INFINITY])('%p is not a quantity', value => {
    expect(parseQuantity(value)).toBeUndefined();
  });

  test('values keep their exact digits', () => {
    expect(q('1500m')).toEqual({ mantissa: 15n, exponent: -1 });
    expect(q('32Gi')).toEqual({ mantissa: 34359738368n, exponent: 0 });
    expect(q('-2.50k')).toEqual({ mantissa: -25n, exponent: 2 });
  });
});

describe('compareQuantities', () => {
  test.each([
    ['999m', '1', -1],
    ['1.0001', '1', 1],
    ['2Gi', '2G', 1],
    ['-2', '-1', -1],
    ['-1', '0', -1],
    ['1e400', '1e399', 1],
    ['2001m', '2', 1],
    ['8', '4', 1],
  ])('%s compared with %s is %d', (a, b, expected) => {
    expect(Math.sign(compareQuantities(q(a), q(b)))).toBe(expected);
    expect(Math.sign(compareQuantities(q(b), q(a)))).toBe(-expected);
  });

  test('orders integers with the same suffix like their numbers', () => {
    const suffix = fc.constantFrom('', 'm', 'k', 'Ki', 'Mi', 'Gi', 'e3', 'n');
    fc.assert(fc.property(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), suffix, (a, b, s) => {
      const expected = a < b ? -1 : a > b ? 1 : 0;
      expect(Math.sign(compareQuantities(q(`${a}${s}`), q(`${b}${s}`)))).toBe(expected);
    }));
  });

  test('n millis equal n / 1000 written as a decimal', () => {
    fc.assert(fc.property(fc.nat(10_000_000), n => {
      const decimal = `${Math.floor(n / 1000)}.${String(n % 1000).padStart(3, '0')}`;
      expect(compareQuantities(q(`${n}m`), q(decimal))).toBe(0);
    }));
  });
});

describe('quantity predicates', () => {
  test.each([['2000m', true], ['500m', false], ['1Ki', true], ['1.5', false], ['0', true], ['3e-1', false], ['2', true]])(
    '%s is whole: %s', (text, whole) => {
      expect(isWholeQuantity(q(text))).toBe(whole);
    });

  test('negative quantities', () => {
    expect(isNegativeQuantity(q('-1m'))).toBe(true);
    expect(isNegativeQuantity(q('0'))).toBe(false);
    expect(isNegativeQuantity(q('1'))).toBe(false);
  });

  test('numeric value', () => {
    expect(quantityToNumber(q('32Gi'))).toBe(34359738368);
    expect(quantityToNumber(q('250m'))).toBe(0.25);
    expect(quantityToNumber(q(2))).toBe(2);
  });
});

describe('rendering sizes and binary quantities', () => {
  test.each([
    [Size.gibibytes(32), '32Gi'],
    [Size.mebibytes(1024), '1Gi'],
    [Size.mebibytes(1536), '1536Mi'],
    [Size.tebibytes(1), '1Ti'],
    [Size.pebibyte(3), '3Pi'],
    [Size.kibibytes(3), '3Ki'],
  ])('sizeToQuantity(%p) is %s', (size, expected) => {
    expect(sizeToQuantity(size)).toBe(expected);
  });

  test.each([
    ['1024Mi', '1Gi'],
    ['2048Ki', '2Mi'],
    ['1536Mi', '1536Mi'],
    ['500m', '500m'],
    ['1G', '1G'],
  ])('normalizeQuantity(%s) is %s', (input, expected) => {
    expect(normalizeQuantity(input)).toBe(expected);
  });
});
