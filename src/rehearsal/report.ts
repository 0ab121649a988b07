import { parseWorkerWaitStep } from '../worker-wait';
import { CheckStatus } from './checks';
import { EnvSource, LauncherEnvVar } from './container-env';
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

/** Where a forwarded variable's value comes from, and whether it is the real one. */
function envOrigin(v: LauncherEnvVar): string {
  if (v.source === EnvSource.IMAGE) {
    if (v.unknownValue === undefined) return 'not in the manifest: the image\'s, as the rehearsal sets it up';
    return v.value === `<${v.name} from the image>`
      ? `not in the manifest: ${v.unknownValue}, unknown here`
      : `not in the manifest: this machine's ${v.name}, standing in for ${v.unknownValue}`;
  }
  if (v.source === EnvSource.REHEARSAL_ENVIRONMENT) return `manifest: the ${v.unknownValue}; the rehearsal environment's ${v.name} stands in`;
  if (v.unknownValue !== undefined) return `${v.source}: the ${v.unknownValue}, a marker here`;
  return v.source;
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
    if (forwarded.length > 0 || report.leftOutEnv.length > 0) {
      out.push('  forwarded with -x (value on the launcher, and where it comes from):');
      for (const v of forwarded) out.push(`    ${v.name}=${v.value}  (${envOrigin(v)})`);
      for (const v of report.leftOutEnv) out.push(`    ${v.name}  (manifest: the ${v.unknownValue}; left out, only the cluster can read it)`);
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
