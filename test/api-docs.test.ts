// Every public API element carries a doc comment, and every optional prop says its default:
// the API reference (API.md, jsii-docgen; kept current by test/package.test.ts), the docstrings of every
// language's package and IDE hovers are generated from these comments.
import * as path from 'path';
import * as ts from 'typescript';

const entry = path.resolve(__dirname, '..', 'src', 'index.ts');

// Both checks read one program: building it (the library and its cdk8s types) is most of their time.
let apiProgram: ts.Program | undefined;
function publicApiProgram(): ts.Program {
  apiProgram ??= ts.createProgram([entry], { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, strict: true, skipLibCheck: true });
  return apiProgram;
}

function undocumented(): string[] {
  const program = publicApiProgram();
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

/** Union types (other than `| undefined`) and generic type references in public signatures. */
function jsiiUnfriendly(): string[] {
  const program = publicApiProgram();
  const checker = program.getTypeChecker();
  const problems: string[] = [];
  const visitType = (where: string, node: ts.TypeNode | undefined): void => {
    if (!node) return;
    if (ts.isTypeReferenceNode(node)) {
      // A cdk8s-plus class in a public signature ties the user's app to our flavour (issue 13).
      let target = checker.getSymbolAtLocation(node.typeName);
      if (target && target.flags & ts.SymbolFlags.Alias) target = checker.getAliasedSymbol(target);
      const from = target?.declarations?.[0]?.getSourceFile().fileName ?? '';
      const flavour = /node_modules[\\/](cdk8s-plus-[0-9]+)[\\/]/.exec(from);
      if (flavour) problems.push(`${where}: ${flavour[1]} type ${node.getText()}`);
    }
    if (ts.isUnionTypeNode(node)) {
      const members = node.types.filter(t => t.kind !== ts.SyntaxKind.UndefinedKeyword);
      if (members.length > 1) problems.push(`${where}: union type ${node.getText()}`);
      members.forEach(t => visitType(where, t));
    } else if (ts.isTypeReferenceNode(node) && node.typeArguments?.length && node.typeName.getText() !== 'Promise') {
      // jsii maps async methods (Promise<T>) but no other generic.
      problems.push(`${where}: generic type ${node.getText()}`);
    } else if (ts.isArrayTypeNode(node)) {
      visitType(where, node.elementType);
    } else if (ts.isTypeLiteralNode(node)) {
      for (const m of node.members) {
        if (ts.isIndexSignatureDeclaration(m)) visitType(where, m.type);
        else problems.push(`${where}: inline object type ${node.getText()}`);
      }
    } else if (ts.isFunctionTypeNode(node)) {
      problems.push(`${where}: function type ${node.getText()}`);
    }
  };
  const isPublic = (node: ts.Node) => {
    const modifiers = ts.canHaveModifiers(node) ? ts.getModifiers(node) ?? [] : [];
    return !modifiers.some(m => m.kind === ts.SyntaxKind.PrivateKeyword || m.kind === ts.SyntaxKind.ProtectedKeyword);
  };
  const isInternal = (node: ts.Node) => ts.getJSDocTags(node).some(t => t.tagName.text === 'internal');
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!;
  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    for (const decl of symbol.declarations ?? []) {
      if (!decl.getSourceFile().fileName.includes(`${path.sep}src${path.sep}`) || isInternal(decl)) continue;
      if (ts.isTypeAliasDeclaration(decl)) problems.push(`${symbol.name}: type alias`);
      if (ts.isFunctionDeclaration(decl)) {
        decl.parameters.forEach(p => visitType(`${symbol.name}(${p.name.getText()})`, p.type));
        visitType(`${symbol.name}()`, decl.type);
      }
      if (!ts.isInterfaceDeclaration(decl) && !ts.isClassDeclaration(decl)) continue;
      if (decl.typeParameters?.length) problems.push(`${symbol.name}: generic declaration`);
      for (const clause of decl.heritageClauses ?? []) {
        for (const base of clause.types) {
          let target = checker.getSymbolAtLocation(base.expression);
          if (target && target.flags & ts.SymbolFlags.Alias) target = checker.getAliasedSymbol(target);
          if (/node_modules[\\/]cdk8s-plus-/.test(target?.declarations?.[0]?.getSourceFile().fileName ?? '')) {
            problems.push(`${symbol.name}: extends or implements ${base.getText()} of cdk8s-plus`);
          }
        }
      }
      for (const member of decl.members) {
        const name = `${symbol.name}.${member.name?.getText() ?? 'constructor'}`;
        if (!isPublic(member) || isInternal(member) || member.name?.getText().startsWith('_')) continue;
        if (ts.isPropertySignature(member) || ts.isPropertyDeclaration(member)) visitType(name, member.type);
        if (ts.isGetAccessorDeclaration(member)) visitType(name, member.type);
        if (ts.isMethodDeclaration(member) || ts.isMethodSignature(member) || ts.isConstructorDeclaration(member)) {
          member.parameters.forEach(p => visitType(`${name}(${p.name.getText()})`, p.type));
          if (!ts.isConstructorDeclaration(member)) visitType(`${name}()`, member.type);
        }
      }
    }
  }
  return problems;
}

test('the public API is jsii-friendly and flavour-free: no unions, generics, inline object or function types, no cdk8s-plus types', () => {
  expect(jsiiUnfriendly()).toEqual([]);
});
