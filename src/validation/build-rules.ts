import { BuildContext, BuildRule } from './context';
import { error, Finding, show } from './finding';

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

/** Rules for in-cluster image builds (`InClusterImageBuild`). */
export const BUILD_RULES: BuildRule[] = [gitSource];
