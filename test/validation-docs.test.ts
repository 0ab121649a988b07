import * as fs from 'fs';
import * as path from 'path';

const validationDir = path.join(__dirname, '..', 'src', 'validation');
// The five groups of synth-time validation; the feature rule files are documented in docs/production.md.
const ruleFiles = ['operator-rules.ts', 'kubernetes-rules.ts', 'launch-rules.ts', 'deepspeed-rules.ts', 'scheduling-rules.ts'];
const ruleIds = new Set(ruleFiles.flatMap(file =>
  [...fs.readFileSync(path.join(validationDir, file), 'utf8').matchAll(/'((?:operator|kubernetes|launch|deepspeed|scheduling)\/[a-z0-9-]+)'/g)]
    .map(m => m[1])));
const documented = new Set([...fs.readFileSync(path.join(__dirname, '..', 'docs', 'validation.md'), 'utf8')
  .matchAll(/^\| `([a-z]+\/[a-z0-9-]+)` \|/gm)].map(m => m[1]));

test('the rule files define rules in all five groups', () => {
  expect(new Set([...ruleIds].map(id => id.split('/')[0]))).toEqual(new Set(['operator', 'kubernetes', 'launch', 'deepspeed', 'scheduling']));
});

test('docs/validation.md documents exactly the rules the code reports', () => {
  expect([...documented].sort()).toEqual([...ruleIds].sort());
});
