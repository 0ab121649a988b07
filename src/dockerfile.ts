/**
 * A small typed model of a single-stage Dockerfile and its renderer.
 *
 * The model makes two classes of mistakes impossible by construction:
 * - free text can never become an instruction: every comment line is rendered with `# `;
 * - `apt-get install` only exists inside an apt step, which always runs `apt-get update` first
 *   in the same RUN and removes the package lists afterwards.
 *
 * @internal Not part of the public API; the image recipe is the only user.
 */

/** Words that only an apt step may run. */
const APT_COMMANDS = new Set(['apt', 'apt-get', 'aptitude']);

/** Continuation indent of the commands in a RUN. */
const COMMAND_INDENT = '    ';
/** Indent of the items of a command that lists one item per line (e.g. packages). */
const ITEM_INDENT = '        ';

/** A comment line BuildKit reads as a parser directive when it opens the file. */
const PARSER_DIRECTIVE = /^#\s*[A-Za-z]+\s*=/;

/** Characters a shell word may contain without quoting. */
const SHELL_SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quotes a literal word for a POSIX shell. Never use it for operators such as `>` or `&&`. */
export function shellQuote(word: string): string {
  if (word.length > 0 && SHELL_SAFE.test(word)) return word;
  return `'${word.replace(/'/g, '\'\\\'\'')}'`;
}

function assertSingleLine(what: string, text: string): void {
  if (/[\r\n]/.test(text)) {
    throw new Error(`${what} must be a single line: ${JSON.stringify(text)}`);
  }
}

/**
 * One shell command of a RUN: words that are already quoted where needed (see `shellQuote`).
 */
export class ShellCommand {
  /** A command from already-quoted words and operators. */
  public static of(...words: string[]): ShellCommand {
    return new ShellCommand(words, [], []);
  }

  /**
   * A command whose `items` are rendered one per line (e.g. packages); `tail` (e.g. a
   * redirection) follows the last item.
   */
  public static withItems(head: string[], items: string[], tail: string[] = []): ShellCommand {
    return new ShellCommand(head, items, tail);
  }

  /** `printf` that writes `lines` to `path`, each line quoted. */
  public static writeFile(path: string, lines: string[]): ShellCommand {
    return ShellCommand.withItems(['printf', shellQuote('%s\\n')], lines.map(shellQuote), ['>', shellQuote(path)]);
  }

  private constructor(
    private readonly head: string[],
    private readonly items: string[],
    private readonly tail: string[],
  ) {
    if (head.length === 0) throw new Error('A shell command needs at least one word');
    this.words.forEach(word => assertSingleLine('A shell word', word));
  }

  /** All words, in order. */
  public get words(): string[] {
    return [...this.head, ...this.items, ...this.tail];
  }

  /** The program the command runs, after leading `NAME=value` assignments. */
  public get program(): string {
    return this.words.find(word => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(word)) ?? '';
  }

  /** @internal */
  public _render(): string {
    if (this.items.length === 0) return [...this.head, ...this.tail].join(' ');
    const lines = [this.head.join(' '), ...this.items.map(item => ITEM_INDENT + item)];
    lines[lines.length - 1] = [lines[lines.length - 1], ...this.tail].join(' ');
    return lines.join(' \\\n');
  }
}

/** An instruction of the model. */
interface Instruction {
  readonly comment?: string;
  render(): string;
}

/** Renders a Dockerfile value for ENV/ARG: bare when safe, otherwise double-quoted. */
function dockerValue(value: string): string {
  assertSingleLine('A Dockerfile value', value);
  if (/^[A-Za-z0-9_@%+=:,./${}-]+$/.test(value)) return value;
  return `"${value.replace(/(["\\])/g, '\\$1')}"`;
}

/** Renders COPY/ADD-style paths: plain when none needs quoting, JSON form otherwise. */
function dockerPaths(paths: string[]): string {
  paths.forEach(path => assertSingleLine('A path', path));
  if (paths.every(path => /^[^\s"'\\[]+$/.test(path))) return paths.join(' ');
  return JSON.stringify(paths);
}

/** Renders comment text: every line, including empty ones, starts with `#`. */
export function renderComment(text: string): string {
  return text.split(/\r\n|\r|\n/).map(line => (line.trim() === '' ? '#' : `# ${line.trimEnd()}`)).join('\n');
}

/**
 * A single-stage Dockerfile, built step by step and rendered once.
 */
export class Dockerfile {
  private readonly header: string[] = [];
  private readonly instructions: Instruction[] = [];
  private hasFrom = false;

  /** Adds comment lines at the top of the file, before FROM. */
  public addHeaderComment(text: string): this {
    this.header.push(text);
    return this;
  }

  /** `FROM image`. Exactly once, before any other instruction. */
  public from(image: string, comment?: string): this {
    if (this.hasFrom) throw new Error('This model renders single-stage Dockerfiles: FROM appears once');
    assertSingleLine('FROM', image);
    this.hasFrom = true;
    return this.add({ comment, render: () => `FROM ${image}` });
  }

  /** `ENV NAME=value ...`, one variable per line. */
  public env(variables: Array<[string, string]>, comment?: string): this {
    if (variables.length === 0) return this;
    for (const [name] of variables) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`Invalid environment variable name: ${JSON.stringify(name)}`);
    }
    const pairs = variables.map(([name, value]) => `${name}=${dockerValue(value)}`);
    return this.add({ comment, render: () => `ENV ${pairs.join(` \\\n${COMMAND_INDENT}`)}` });
  }

  /** `RUN a && b && ...`. apt commands are rejected: use `aptInstall`. */
  public run(commands: ShellCommand[], comment?: string): this {
    const apt = commands.find(command => APT_COMMANDS.has(command.program));
    if (apt) throw new Error(`Use aptInstall() for apt commands, got: ${apt.words.join(' ')}`);
    return this.addRun(commands, comment);
  }

  /**
   * One RUN that refreshes the package lists, installs `packages` without recommended extras
   * and removes the lists again. `setup` runs first (e.g. adding a repository), `then` after
   * the install and before the lists are removed.
   */
  public aptInstall(packages: string[], options: AptInstallOptions = {}): this {
    if (packages.length === 0) throw new Error('aptInstall needs at least one package');
    const commands = [
      ...(options.setup ?? []),
      ShellCommand.of('apt-get', 'update'),
      ShellCommand.withItems(['DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '--no-install-recommends'],
        packages.map(shellQuote)),
      ...(options.then ?? []),
      ShellCommand.of('rm', '-rf', '/var/lib/apt/lists/*'),
    ];
    return this.addRun(commands, options.comment);
  }

  /** `COPY [--chown=owner] sources... destination`. */
  public copy(sources: string[], destination: string, options: CopyOptions = {}): this {
    const flags = options.chown ? `--chown=${options.chown} ` : '';
    return this.add({ comment: options.comment, render: () => `COPY ${flags}${dockerPaths([...sources, destination])}` });
  }

  /** `WORKDIR path` (absolute). */
  public workdir(path: string, comment?: string): this {
    assertSingleLine('WORKDIR', path);
    if (!path.startsWith('/')) throw new Error(`WORKDIR must be absolute: ${path}`);
    return this.add({ comment, render: () => `WORKDIR ${dockerPaths([path])}` });
  }

  /** `USER user`. */
  public user(user: string, comment?: string): this {
    assertSingleLine('USER', user);
    return this.add({ comment, render: () => `USER ${user}` });
  }

  /** The Dockerfile text. */
  public render(): string {
    if (!this.hasFrom) throw new Error('A Dockerfile needs a FROM instruction');
    const blocks = [
      ...this.header.map(renderComment),
      ...this.instructions.map(i => (i.comment ? `${renderComment(i.comment)}\n${i.render()}` : i.render())),
    ];
    // A leading `# key=value` comment would be read as a parser directive (e.g. escape=).
    if (PARSER_DIRECTIVE.test(blocks[0])) {
      throw new Error(`The first line would be read as a parser directive: ${blocks[0].split('\n')[0]}`);
    }
    return blocks.join('\n\n') + '\n';
  }

  private addRun(commands: ShellCommand[], comment?: string): this {
    if (commands.length === 0) throw new Error('RUN needs at least one command');
    return this.add({
      comment,
      render: () => `RUN ${commands.map(c => c._render()).join(` && \\\n${COMMAND_INDENT}`)}`,
    });
  }

  private add(instruction: Instruction): this {
    if (!this.hasFrom) throw new Error('FROM must come first');
    this.instructions.push(instruction);
    return this;
  }
}

/** Options of `Dockerfile.aptInstall`. */
export interface AptInstallOptions {
  readonly comment?: string;
  /** Commands before `apt-get update`, e.g. adding a repository. */
  readonly setup?: ShellCommand[];
  /** Commands after the install, before the lists are removed. */
  readonly then?: ShellCommand[];
}

/** Options of `Dockerfile.copy`. */
export interface CopyOptions {
  readonly comment?: string;
  /** `user:group` that owns the copied files. */
  readonly chown?: string;
}
