// Every public API element carries a doc comment, and every optional prop says its default:
// the API reference (typedoc) and IDE hovers are generated from these comments.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ts from 'typescript';

const entry = path.resolve(__dirname, '..', 'src', 'index.ts');

function undocumented(): string[] {
  const program = ts.createProgram([entry], { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, strict: true, skipLibCheck: true });
  const checker = program.getTypeChecker();
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!;
  const problems: string[] = [];
  const docOf = (symbol: ts.Symbol) => ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim();
  const isInternal = (symbol: ts.Symbol) => symbol.getJsDocTags().some(t => t.name === 'internal');

  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const declaration = symbol.declarations?.[0];
    if (!declaration || !declaration.getSourceFile().fileName.includes(`${path.sep}src${path.sep}`) || isInternal(symbol)) continue;
    if (!docOf(symbol)) problems.push(`${symbol.name}: no doc comment`);

    if (ts.isInterfaceDeclaration(declaration) || ts.isClassDeclaration(declaration) || ts.isEnumDeclaration(declaration)) {
      for (const member of checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(symbol))) {
        const memberDecl = member.declarations?.[0];
        if (!memberDecl || member.name.startsWith('_') || isInternal(member)) continue;
        const modifiers = ts.canHaveModifiers(memberDecl) ? ts.getModifiers(memberDecl) ?? [] : [];
        if (modifiers.some(m => m.kind === ts.SyntaxKind.PrivateKeyword || m.kind === ts.SyntaxKind.ProtectedKeyword)) continue;
        const where = `${symbol.name}.${member.name}`;
        if (!docOf(member)) problems.push(`${where}: no doc comment`);
        const optionalProp = ts.isPropertySignature(memberDecl) && memberDecl.questionToken !== undefined;
        if (optionalProp && !member.getJsDocTags().some(t => t.name === 'default')) problems.push(`${where}: optional prop without @default`);
      }
      if (ts.isEnumDeclaration(declaration)) {
        for (const m of declaration.members) {
          const memberSymbol = checker.getSymbolAtLocation(m.name);
          if (memberSymbol && !docOf(memberSymbol)) problems.push(`${symbol.name}.${m.name.getText()}: no doc comment`);
        }
      }
    }
  }
  return problems;
}

test('every public API element is documented and every optional prop has @default', () => {
  expect(undocumented()).toEqual([]);
});

test('the docs task generates the API reference without warnings', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'api-docs-'));
  try {
    const root = path.resolve(__dirname, '..');
    execFileSync(path.join(root, 'node_modules', '.bin', 'typedoc'), ['--out', out, '--treatWarningsAsErrors'], { cwd: root, stdio: 'pipe' });
    expect(fs.existsSync(path.join(out, 'classes', 'DeepSpeedMpiJob.html'))).toBe(true);
    expect(fs.readFileSync(path.join(out, 'interfaces', 'DeepSpeedMpiJobProps.html'), 'utf8')).toContain('cleanPodPolicy');
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}, 120_000);
