import { closestKey, TOP_LEVEL_KEYS } from '../src/validation/deepspeed-keys';
import {
  isDns1035Label, isDns1123Label, isDns1123Subdomain, isEnvVarName, isLabelValue, isPortName, isQualifiedName,
} from '../src/validation/kubernetes-syntax';

describe('Kubernetes name syntax', () => {
  test.each([
    ['worker', true], ['w0', true], ['0w', true], ['a'.repeat(63), true], ['a'.repeat(64), false], ['Worker', false],
    ['-w', false], ['w-', false], ['w_1', false], ['w.1', false], ['', false],
  ])('DNS-1123 label %j: %s', (value, valid) => expect(isDns1123Label(value)).toBe(valid));

  test.each([
    ['example.com', true], ['a.b-c.d', true], ['a..b', false], ['Example.com', false], [`${'a'.repeat(63)}.${'b'.repeat(63)}`, true],
    [Array(64).fill('abc').join('.'), false], ['', false],
  ])('DNS-1123 subdomain %j: %s', (value, valid) => expect(isDns1123Subdomain(value)).toBe(valid));

  test.each([['train', true], ['1train', false], ['t-1', true], ['t-', false], ['a'.repeat(64), false]])(
    'DNS-1035 label %j: %s', (value, valid) => expect(isDns1035Label(value)).toBe(valid));

  test('DNS-1035 label length can be checked apart', () => {
    expect(isDns1035Label('a'.repeat(80), Infinity)).toBe(true);
  });

  test.each([
    ['app', true], ['app.kubernetes.io/name', true], ['example.com/Team_Name.x', true], ['Team', true],
    ['team name', false], ['example.com/a/b', false], ['/name', false], ['Example.com/name', false],
    [`example.com/${'n'.repeat(64)}`, false], ['name-', false], ['', false],
  ])('qualified name %j: %s', (value, valid) => expect(isQualifiedName(value)).toBe(valid));

  test.each([['', true], ['ml', true], ['ML_team.v1-2', true], ['ML team', false], ['-x', false], ['x'.repeat(64), false]])(
    'label value %j: %s', (value, valid) => expect(isLabelValue(value)).toBe(valid));

  test.each([['ssh', true], ['http-2', true], ['123', false], ['a--b', false], ['ssh-port-for-mpi', false], ['SSH', false], ['-ssh', false]])(
    'port name %j: %s', (value, valid) => expect(isPortName(value)).toBe(valid));

  test.each([['NCCL_DEBUG', true], ['my.var-1', true], ['_x', true], ['1BAD', false], ['A B', false], ['', false]])(
    'environment variable name %j: %s', (value, valid) => expect(isEnvVarName(value)).toBe(valid));
});

describe('closestKey', () => {
  test.each([
    ['train_batch_sise', 'train_batch_size'],
    ['gradient_acumulation_steps', 'gradient_accumulation_steps'],
    ['FP16', 'fp16'],
    ['zero_optimisation', 'zero_optimization'],
  ])('suggests %s -> %s', (typo, expected) => expect(closestKey(typo, TOP_LEVEL_KEYS)).toBe(expected));

  test('suggests nothing for a key far from every known key', () => {
    expect(closestKey('my_custom_setting', TOP_LEVEL_KEYS)).toBeUndefined();
  });
});
