import { App } from 'cdk8s';
import { IConstruct } from 'constructs';

/** Writes files into the app's output directory. */
export type OutputWriter = (outdir: string) => void;

const WRITERS = Symbol.for('cdk8s-deepspeed.outputWriters');

/**
 * Runs `write(app.outdir)` right after `app.synth()` of the app that contains `scope` has
 * written its manifests.
 *
 * cdk8s has no hook for files besides manifests, so the first call wraps that App instance's
 * `synth`. `App.synth()` validates every construct before it writes anything and throws on an
 * error, so a failed validation writes nothing here either. `Testing.synth(chart)` and
 * `app.synthYaml()` do not call `synth()` and write nothing.
 * @internal
 */
export function writeAfterSynth(scope: IConstruct, write: OutputWriter): void {
  const root = scope.node.root;
  if (!(root instanceof App)) return;
  const app = root as App & { [WRITERS]?: OutputWriter[] };
  let writers = app[WRITERS];
  if (!writers) {
    const registered: OutputWriter[] = [];
    writers = registered;
    Object.defineProperty(app, WRITERS, { value: registered });
    const synthManifests = app.synth.bind(app);
    app.synth = () => {
      synthManifests();
      for (const writer of registered) writer(app.outdir);
    };
  }
  writers.push(write);
}
