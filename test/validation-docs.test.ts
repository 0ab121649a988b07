import * as fs from 'fs';
import * as path from 'path';

const validationDir = path.join(__dirname, '..', 'src', 'validation');
const ruleFiles = fs.readdirSync(validationDir).filter(file => file.endsWith('-rules.ts')).sort();

/**
 * Every `'family/name'` string in a rule file is a rule id: the first argument of error()/warning()
 * or of a helper that builds an error. Right after `warning(` it is reported as a warning, anywhere
 * else as an error.
 */
const RULE_ID = /(warning\(\s*)?'([a-z]+\/[a-z0-9-]+)'/g;
const reported = ruleFiles.flatMap(file =>
  [...fs.readFileSync(path.join(validationDir, file), 'utf8').matchAll(RULE_ID)]
    .map(m => ({ file, id: m[2], severity: m[1] ? 'warning' : 'error' })));

const documented = [...fs.readFileSync(path.join(__dirname, '..', 'docs', 'validation.md'), 'utf8')
  .matchAll(/^\| `([a-z]+\/[a-z0-9-]+)` \| [^|]+ \| (error|warning) \|/gm)].map(m => ({ id: m[1], severity: m[2] }));

const ids = (findings: Array<{ id: string }>) => [...new Set(findings.map(f => f.id))].sort();
const idsWithSeverity = (findings: Array<{ id: string; severity: string }>) => [...new Set(findings.map(f => `${f.id} ${f.severity}`))].sort();

test('every rule file declares rule ids', () => {
  expect(ruleFiles.length).toBeGreaterThanOrEqual(12);
  expect(ruleFiles.filter(file => !reported.some(r => r.file === file))).toEqual([]);
});

test('docs/validation.md documents exactly the rules the code reports', () => {
  expect(ids(reported).filter(id => !ids(documented).includes(id))).toEqual([]);
  expect(ids(documented).filter(id => !ids(reported).includes(id))).toEqual([]);
});

test('docs/validation.md has a row for each severity a rule reports, and no other', () => {
  expect(idsWithSeverity(documented)).toEqual(idsWithSeverity(reported));
});
