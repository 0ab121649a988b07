import { Size } from 'cdk8s';
import { normalizeQuantity, sizeToQuantity } from '../src/quantity';

describe('quantities', () => {
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
