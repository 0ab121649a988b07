import { BuildContext, BuildRule } from './context';
import { error, Finding, show } from './finding';
import { isLabelValue, isQualifiedName } from './kubernetes-syntax';

/** The in-cluster build context holds only the Dockerfile. */
const gitSource: BuildRule = (ctx: BuildContext): Finding[] => {
  const source = ctx.build.image.source;
  if (source?.buildContext === undefined) return [];
  return [error('build/source', {
    path: ctx.path,
    field: 'image.source',
    value: `SourceCode.fromBuildContext(${show(source.buildContext)})`,
    why: 'the in-cluster build context holds only the Dockerfile, so BuildKit never sees the local directory and COPY fails',
    fix: 'Use SourceCode.fromGitRepository() for images built in the cluster, or build this one in CI with docker build.',
  })];
};

/** The build Job's node selector must be labels the API server accepts. */
const nodeSelector: BuildRule = (ctx: BuildContext): Finding[] =>
  Object.entries(ctx.build.nodeSelector)
    .filter(([key, value]) => !isQualifiedName(key) || !isLabelValue(value))
    .map(([key, value]) => error('build/node-selector', {
      path: ctx.path,
      field: `nodeSelector ${show(key)}`,
      value: show(value),
      why: 'the API server rejects a Job whose nodeSelector is not label keys (an optional DNS prefix and a name of at most 63 characters) with label values (at most 63 characters of letters, digits, \'-\', \'_\' and \'.\')',
      fix: 'Use the label key and value of a node label, e.g. \'node.kubernetes.io/instance-type\': \'m5.4xlarge\'.',
    }));

/** The build Job's retries and TTL are whole numbers of 0 or more (the Job's API validation). */
const jobNumbers: BuildRule = (ctx: BuildContext): Finding[] => {
  const spec = ctx.build.job.toJson().spec ?? {};
  const given: Array<[string, unknown, string]> = [
    ['ttlAfterFinished', spec.ttlSecondsAfterFinished, 'it becomes the Job\'s ttlSecondsAfterFinished, whole seconds of 0 or more'],
    ['backoffLimit', spec.backoffLimit, 'it becomes the Job\'s backoffLimit, a whole number of retries of 0 or more'],
  ];
  return given.filter(([, value]) => value !== undefined && !(Number.isInteger(value) && (value as number) >= 0))
    .map(([field, value, what]) => error('build/job-numbers', {
      path: ctx.path,
      field,
      value: field === 'ttlAfterFinished' ? `${value} s` : show(value),
      why: `${what}, and the API server rejects the build Job`,
      fix: field === 'ttlAfterFinished' ? 'Give ttlAfterFinished in whole seconds, e.g. Duration.hours(1), or remove it.' : 'Set backoffLimit to a whole number of 0 or more, or remove it for 1.',
    }));
};

/** Rules for in-cluster image builds (`InClusterImageBuild`). */
export const BUILD_RULES: BuildRule[] = [gitSource, nodeSelector, jobNumbers];
