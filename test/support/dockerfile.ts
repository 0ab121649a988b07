import { DockerfileParser, Instruction, ModifiableInstruction } from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';

/** `DiagnosticSeverity.Error` of the Language Server Protocol, which dockerfile-utils reports in. */
const LSP_ERROR = 1;

/** A parsed instruction: keyword, argument text (without flags) and its flags as written. */
export interface ParsedInstruction {
  readonly keyword: string;
  readonly args: string;
  readonly flags: string[];
}

/** Parses a Dockerfile with dockerfile-ast (the parser of the Docker VS Code extension). */
export function parseInstructions(text: string): ParsedInstruction[] {
  return DockerfileParser.parse(text).getInstructions().map((i: Instruction) => ({
    keyword: i.getKeyword(),
    args: i.getArgumentsContent() ?? '',
    flags: i instanceof ModifiableInstruction ? i.getFlags().map(f => f.toString()) : [],
  }));
}

/** The text of every comment, as dockerfile-ast sees it. */
export function parseComments(text: string): string[] {
  return DockerfileParser.parse(text).getComments().map(c => c.getContent() ?? '');
}

/** Errors of the dockerfile-utils linter at its default settings, as `line: message`. */
export function lint(text: string): string[] {
  return validate(text)
    .filter(d => d.severity === LSP_ERROR)
    .map(d => `${d.range.start.line + 1}: ${d.message}`);
}

/** Every diagnostic of the linter, errors and warnings. */
export function lintAll(text: string): string[] {
  return validate(text).map(d => `${d.range.start.line + 1}: ${d.message}`);
}

/** The argument text of every RUN. */
export function runs(text: string): string[] {
  return parseInstructions(text).filter(i => i.keyword === 'RUN').map(i => i.args);
}

/** The single RUN whose text contains `needle`. */
export function runContaining(text: string, needle: string): string {
  const found = runs(text).filter(r => r.includes(needle));
  if (found.length !== 1) throw new Error(`expected one RUN containing ${needle}, found ${found.length}`);
  return found[0];
}

/** Splits a RUN's argument text into its `&&`-separated commands, whitespace collapsed. */
export function commands(run: string): string[] {
  return run.split('&&').map(c => c.replace(/\s+/g, ' ').trim());
}

/**
 * Problems with apt in a Dockerfile: an install that is not preceded by `apt-get update` in the
 * same RUN, that keeps recommended packages, that leaves the package lists behind, or a bare `apt`.
 */
export function aptProblems(text: string): string[] {
  const problems: string[] = [];
  for (const run of runs(text)) {
    const steps = commands(run);
    steps.forEach((step, i) => {
      if (/(^|\s)apt\s/.test(` ${step}`)) problems.push(`bare apt: ${step}`);
      if (!/apt-get install/.test(step)) return;
      if (!steps.slice(0, i).some(s => /^apt-get update$/.test(s))) problems.push(`install without update in the same RUN: ${step}`);
      if (!step.includes('--no-install-recommends')) problems.push(`install with recommends: ${step}`);
      if (!steps.slice(i + 1).some(s => s === 'rm -rf /var/lib/apt/lists/*')) problems.push(`lists kept: ${step}`);
    });
  }
  return problems;
}

/** Lines that are neither empty, a comment, an instruction nor part of one. */
export function strayLines(text: string): string[] {
  const parsed = DockerfileParser.parse(text);
  const covered = new Set<number>();
  for (const i of parsed.getInstructions()) {
    const r = i.getRange();
    for (let line = r.start.line; line <= r.end.line; line++) covered.add(line);
  }
  for (const c of parsed.getComments()) covered.add(c.getRange().start.line);
  return text.split('\n').filter((line, n) => line.trim() !== '' && !covered.has(n));
}

/** The lines a `printf '%s\n' 'a' 'b' > path` command writes to `path`, from a RUN's text. */
export function printedFile(text: string, path: string): string[] {
  for (const command of runs(text).flatMap(run => run.split('&&'))) {
    const match = /^\s*printf '%s\\n'\s+([\s\S]*)\s+>\s+(\S+)\s*$/.exec(command);
    if (match && match[2] === path) {
      return [...match[1].matchAll(/'((?:[^']|'\\'')*)'/g)].map(m => m[1].replace(/'\\''/g, '\''));
    }
  }
  throw new Error(`no printf writes ${path}`);
}

/** Names of the variables the Dockerfile's ENV instructions set, in order. */
export function envNames(text: string): string[] {
  return DockerfileParser.parse(text).getENVs().flatMap(env => env.getProperties().map(p => p.getName()));
}
