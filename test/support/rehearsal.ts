import { Duration } from 'cdk8s';
import { ILaunchManifest, LaunchRehearsal, LaunchRehearsalOptions, MpiJobManifest, RehearsalCheck, RehearsalMode, RehearsalReport, TrainJobManifest } from '../../src';

/** The one job (MPIJob or TrainJob, its runtime among the manifests or `runtimes`) in a list of synthesized manifests. */
export function launchManifest(manifests: any[], runtimes: any[] = []): ILaunchManifest {
  const jobs: ILaunchManifest[] = [...MpiJobManifest.fromManifests(manifests), ...TrainJobManifest.fromManifests(manifests, runtimes)];
  if (jobs.length !== 1) throw new Error(`expected one MPIJob or TrainJob, found ${jobs.length}`);
  return jobs[0];
}

/** Rehearses the one job in a list of synthesized manifests with the real mpirun. */
export async function rehearse(manifests: any[], options: LaunchRehearsalOptions = {}, runtimes: any[] = []): Promise<RehearsalReport> {
  return LaunchRehearsal.run(launchManifest(manifests, runtimes), options);
}

/** The check with this name; fails the test when the report has none. */
export function check(report: RehearsalReport, name: string): RehearsalCheck {
  const found = report.checks.find(c => c.name === name);
  if (!found) throw new Error(`no check '${name}' in: ${report.checks.map(c => c.name).join(', ')}`);
  return found;
}

/** The names forwarded with -x in a launcher command. */
export function exportedNames(command: string[]): string[] {
  return command.flatMap((arg, i) => arg === '-x' ? [command[i + 1].split('=')[0]] : []);
}

/** Rehearses the one MPIJob in a list of manifests over real OpenSSH (root on Linux; scripts/install-test-deps.sh). */
export function rehearseOverOpenSsh(manifests: any[], options: LaunchRehearsalOptions = {}): Promise<RehearsalReport> {
  return rehearse(manifests, { timeout: Duration.seconds(30), ...options, mode: RehearsalMode.OPENSSH });
}
