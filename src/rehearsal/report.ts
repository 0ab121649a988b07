import { parseWorkerWaitStep } from '../worker-wait';
import { CheckStatus } from './checks';
import { EnvSource } from './container-env';
import { RehearsalReport } from './rehearsal';
import { ownership } from './ssh-auth-mount';

const STATUS_LABEL: Record<CheckStatus, string> = {
  [CheckStatus.PASSED]: 'PASS',
  [CheckStatus.FAILED]: 'FAIL',
  [CheckStatus.WARNING]: 'WARN',
};

function quoteArg(arg: string): string {
  return /^[\w@%+=:,./^-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, col) => Math.max(...rows.map(r => r[col].length)));
  return rows.map(r => r.map((cell, col) => col === r.length - 1 ? cell : cell.padEnd(widths[col])).join('  ').trimEnd());
}

/**
 * A rehearsal report as text: the command, one line per rank (pod, local rank, argv),
 * the forwarded variables, then every check and the verdict.
 */
export function formatRehearsalReport(report: RehearsalReport): string {
  const out: string[] = [`${report.jobKind} ${report.jobName}`];
  // The wait step's program is a page of Python: name it instead of printing it.
  const command = parseWorkerWaitStep(report.command) ? report.command.map((arg, i) => i === 2 ? '<wait-for-workers program>' : quoteArg(arg)) : report.command.map(quoteArg);
  out.push(`  command: ${command.join(' ')}`);
  if (report.ranks.length > 0) {
    out.push('  ranks:');
    const rows = [['rank', 'pod', 'local', 'cwd', 'argv'], ...report.ranks.map(r => [
      String(r.rank), r.pod, `${r.localRank}/${r.localSize}`, r.cwd, r.argv.map(quoteArg).join(' '),
    ])];
    out.push(...table(rows).map(line => `    ${line}`));
    const forwarded = report.launcherEnv.filter(v => report.forwardedEnvNames.includes(v.name));
    if (forwarded.length > 0) {
      out.push('  forwarded with -x (value on the launcher, and where it comes from):');
      for (const v of forwarded) out.push(`    ${v.name}=${v.value}  (${v.source === EnvSource.IMAGE ? 'not in the manifest: the image\'s, emulated' : v.source})`);
    }
  }
  if (report.workers && report.workers.length > 0) {
    out.push('  worker pods (real OpenSSH):');
    const rows = [['pod', 'sshd at', 'up after', 'hostfile name'], ...report.workers.map(w => [
      w.hostname,
      w.address ? `${w.address}:${w.port}` : '-',
      w.heldBack ? 'held back' : w.upAfterSeconds === undefined ? 'never' : `${w.upAfterSeconds.toFixed(1)} s`,
      w.hostfileName,
    ])];
    out.push(...table(rows).map(line => `    ${line}`));
  }
  if (report.keyFiles && report.keyFiles.length > 0) {
    out.push(`  key files: ${report.keyFiles.map(f => `${f.path} ${ownership(f)}`).join(', ')}`);
  }
  out.push('  checks:');
  for (const check of report.checks) out.push(`    ${STATUS_LABEL[check.status]}  ${check.name}: ${check.detail}`);
  if (report.workDirectory) out.push(`  work directory kept: ${report.workDirectory}`);
  out.push(report.passed ? '  PASSED' : '  FAILED');
  return out.join('\n');
}
