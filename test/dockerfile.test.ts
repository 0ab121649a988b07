import { execFileSync } from 'child_process';
import * as fc from 'fast-check';
import { Dockerfile, renderComment, ShellCommand, shellQuote } from '../src/dockerfile';
import { aptProblems, lint, parseComments, parseInstructions, runs, strayLines } from './support/dockerfile';

/** What /bin/sh makes of a quoted word. */
function shellEcho(quoted: string): string {
  return execFileSync('/bin/sh', ['-c', `printf '%s' ${quoted}`]).toString();
}

describe('Dockerfile model', () => {
  test('every comment line gets a #, so free text never becomes an instruction', () => {
    const text = new Dockerfile()
      .addHeaderComment('Generated')
      .from('debian:12.7', 'Install OpenSSH\n RUN rm -rf /\n\nUSER root')
      .render();
    expect(text).toBe([
      '# Generated',
      '',
      '# Install OpenSSH',
      '#  RUN rm -rf /',
      '#',
      '# USER root',
      'FROM debian:12.7',
      '',
    ].join('\n'));
    expect(parseInstructions(text).map(i => i.keyword)).toEqual(['FROM']);
    expect(lint(text)).toEqual([]);
  });

  test('any comment text renders as comments only (property)', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme-ascii', maxLength: 80 }), fc.string({ maxLength: 40 }), (a, b) => {
      const text = new Dockerfile()
        .addHeaderComment('Generated')
        .from('debian:12.7', a)
        .run([ShellCommand.of('true')], `${a}\n${b}`)
        .render();
      expect(parseInstructions(text).map(i => i.keyword)).toEqual(['FROM', 'RUN']);
      expect(strayLines(text)).toEqual([]);
      expect(lint(text)).toEqual([]);
    }), { numRuns: 200 });
  });

  test('a first comment line that reads as a parser directive is refused', () => {
    expect(() => new Dockerfile().addHeaderComment('escape=`').from('debian:12.7').render())
      .toThrow('The first line would be read as a parser directive: # escape=`');
  });

  test('apt installs always refresh the lists first and remove them after, in one RUN', () => {
    const text = new Dockerfile()
      .from('debian:12.7')
      .aptInstall(['openssh-server', 'openssh-client'], { then: [ShellCommand.of('mkdir', '-p', '/run/sshd')] })
      .render();
    expect(runs(text)).toHaveLength(1);
    expect(text).toContain([
      'RUN apt-get update && \\',
      '    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\',
      '        openssh-server \\',
      '        openssh-client && \\',
      '    mkdir -p /run/sshd && \\',
      '    rm -rf /var/lib/apt/lists/*',
    ].join('\n'));
    expect(aptProblems(text)).toEqual([]);
    expect(lint(text)).toEqual([]);
  });

  test('plain RUN refuses apt commands, even behind variable assignments', () => {
    expect(() => new Dockerfile().from('debian:12.7').run([ShellCommand.of('DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', 'x')]))
      .toThrow('Use aptInstall() for apt commands, got: DEBIAN_FRONTEND=noninteractive apt-get install x');
    expect(() => new Dockerfile().from('debian:12.7').run([ShellCommand.of('apt', 'update')])).toThrow('Use aptInstall()');
  });

  test('the apt checker of the tests catches the blog post\'s install without update', () => {
    const blog = 'FROM debian:12.7\nRUN apt-get install -y --no-install-recommends openssh-client openssh-server\n';
    expect(aptProblems(blog)).toEqual([
      'install without update in the same RUN: apt-get install -y --no-install-recommends openssh-client openssh-server',
      'lists kept: apt-get install -y --no-install-recommends openssh-client openssh-server',
    ]);
  });

  test('instructions come after exactly one FROM', () => {
    expect(() => new Dockerfile().run([ShellCommand.of('true')])).toThrow('FROM must come first');
    expect(() => new Dockerfile().from('a:1').from('b:1')).toThrow('FROM appears once');
    expect(() => new Dockerfile().render()).toThrow('A Dockerfile needs a FROM instruction');
  });

  test('line breaks in words, values and paths are refused', () => {
    expect(() => ShellCommand.of('echo', 'a\nRUN b')).toThrow('A shell word must be a single line: "a\\nRUN b"');
    expect(() => new Dockerfile().from('a:1').env([['A', 'x\ny']])).toThrow('A Dockerfile value must be a single line');
    expect(() => new Dockerfile().from('a:1').workdir('/a\n/b')).toThrow('WORKDIR must be a single line');
    expect(() => new Dockerfile().from('a:1').env([['1A', 'x']])).toThrow('Invalid environment variable name: "1A"');
  });

  test('ENV values survive parsing: quotes and spaces are escaped, $VAR stays expandable', () => {
    const text = new Dockerfile().from('a:1').env([['PATH', '/opt/venv/bin:$PATH'], ['GREETING', 'say "hi" \\ bye']]).render();
    expect(text).toContain('ENV PATH=/opt/venv/bin:$PATH \\\n    GREETING="say \\"hi\\" \\\\ bye"');
    expect(lint(text)).toEqual([]);
  });

  test('shellQuote round-trips any word through /bin/sh (property)', () => {
    fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 30 }).filter(s => !/[\0\r\n]/.test(s)), word => {
      expect(shellEcho(shellQuote(word))).toBe(word);
    }), { numRuns: 60 });
  });

  test('writeFile prints exactly the given lines, quotes included', () => {
    const command = ShellCommand.writeFile('/tmp/x', ['Host *', '    it\'s $HOME']);
    const script = command._render().replace('> /tmp/x', '');
    expect(execFileSync('/bin/sh', ['-c', script]).toString()).toBe('Host *\n    it\'s $HOME\n');
  });

  test('COPY switches to the JSON form when a path needs quoting', () => {
    const text = new Dockerfile().from('a:1').copy(['my data'], '/opt/data', { chown: '1000:1000' }).render();
    expect(text).toContain('COPY --chown=1000:1000 ["my data","/opt/data"]');
    expect(lint(text)).toEqual([]);
  });

  test('renderComment marks empty lines too', () => {
    expect(renderComment('a\r\n\nb')).toBe('# a\n#\n# b');
    expect(parseComments(renderComment('a\n\nb'))).toEqual(['a', '', 'b']);
  });
});
