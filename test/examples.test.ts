import * as fs from 'fs';
import * as path from 'path';
import { CheckStatus, ILaunchManifest, LaunchRehearsal, MpiJobManifest, TrainJobManifest, Validation } from '../src';
import { aptProblems, commands, lintAll, parseInstructions, runContaining } from './support/dockerfile';
import {
  deepspeedConfigOf, EXAMPLES_DIR, excerptMismatches, excerptProblem, exampleNames, manifest, referencedOutputPaths,
  synthExample, SynthesizedExample, yamlExcerpts,
} from './support/examples';
import { expectValidManifests } from './support/k8s-schema';
import { asOperatorCreatesIt, restrictedViolations } from './support/pod-security';
import { exportedNames } from './support/rehearsal';
import { container, mpirunCommand } from './support/synth';

/** The MPIJob's launcher and worker specs, and the launcher's command. */
function replicas(mpiJob: any): { launcher: any; worker: any; command: string[] } {
  const launcher = mpiJob.spec.mpiReplicaSpecs.Launcher;
  return { launcher, worker: mpiJob.spec.mpiReplicaSpecs.Worker, command: mpirunCommand(launcher) };
}

/** Every control of the restricted Pod Security Standard the job's pods break, as the operator creates them. */
function restrictedBreaches(mpiJob: any): string[] {
  const { launcher, worker } = replicas(mpiJob);
  const sshPath = mpiJob.spec.sshAuthMountPath;
  return [
    ...restrictedViolations(asOperatorCreatesIt(launcher.template, 'launcher', sshPath)).map(v => `launcher: ${v.control} (${v.where})`),
    ...restrictedViolations(asOperatorCreatesIt(worker.template, 'worker', sshPath)).map(v => `worker: ${v.control} (${v.where})`),
  ];
}

/** Every finding of every job and image recipe of an example, as `severity rule: message`. */
function findings(example: SynthesizedExample): string[] {
  return [...example.jobs.flatMap(Validation.validateJob), ...example.images.flatMap(Validation.validateImage)]
    .map(f => `${f.severity} ${f.rule}: ${f.message}`);
}

/** The arguments the launcher passes to the script (after the interpreter and the script). */
function scriptArguments(command: string[], script: string): string[] {
  return command.slice(command.indexOf(script) + 1);
}

describe('examples/bert-zero3', () => {
  const example = synthExample('bert-zero3');
  const manifests = example.charts['bert-zero3'];
  const mpiJob = manifest(manifests, 'MPIJob', 'bert-zero3');
  const { launcher, worker, command } = replicas(mpiJob);
  const dsConfig = deepspeedConfigOf(manifests, 'bert-zero3');

  test('4 workers x 8 GPUs: slots 8, -np 32, GPUs requested with request = limit', () => {
    expect(worker.replicas).toBe(4);
    expect(mpiJob.spec.slotsPerWorker).toBe(8);
    expect(command.slice(0, 3)).toEqual(['mpirun', '-np', '32']);
    expect(example.jobs[0].worldSize).toBe(32);
    const resources = container(worker).resources;
    expect(resources.requests['nvidia.com/gpu']).toBe(8);
    expect(resources.limits).toEqual(resources.requests);
    expect(resources.requests).toEqual({ 'cpu': '64', 'memory': '768Gi', 'nvidia.com/gpu': 8 });
    expect(container(launcher).resources.limits['nvidia.com/gpu']).toBeUndefined();
  });

  test('the ConfigMap is ZeRO-3 with optimizer and parameter offload to the CPU, in bf16', () => {
    expect(dsConfig.zero_optimization).toMatchObject({
      stage: 3,
      offload_optimizer: { device: 'cpu', pin_memory: true },
      offload_param: { device: 'cpu', pin_memory: true },
    });
    expect(dsConfig.bf16).toEqual({ enabled: true });
    expect(dsConfig.fp16).toBeUndefined();
  });

  test('batch sizes add up for world size 32, and the schedule ends at the script\'s last step', () => {
    expect(dsConfig.train_batch_size).toBe(dsConfig.train_micro_batch_size_per_gpu * dsConfig.gradient_accumulation_steps * 32);
    expect(dsConfig.train_batch_size).toBe(512);
    const args = scriptArguments(command, 'train_bert_mlm.py');
    expect(args[args.indexOf('--max_steps') + 1]).toBe(String(dsConfig.scheduler.params.total_num_steps));
  });

  test('checkpoints go to a new ReadWriteMany claim, mounted read-write on every pod and passed as --checkpoint_dir', () => {
    const claim = manifest(manifests, 'PersistentVolumeClaim', 'bert-zero3-checkpoints');
    expect(claim.metadata.namespace).toBe('ml');
    expect(claim.spec).toMatchObject({ accessModes: ['ReadWriteMany'], storageClassName: 'cephfs', resources: { requests: { storage: '2048Gi' } } });
    for (const replica of [launcher, worker]) {
      expect(replica.template.spec.volumes).toContainEqual({
        name: 'checkpoints', persistentVolumeClaim: { claimName: 'bert-zero3-checkpoints', readOnly: false },
      });
      expect(container(replica).volumeMounts).toContainEqual({ name: 'checkpoints', mountPath: '/checkpoints', readOnly: false });
      expect(container(replica).volumeMounts).toContainEqual({ name: 'corpus', mountPath: '/data', readOnly: true });
    }
    const args = scriptArguments(command, 'train_bert_mlm.py');
    expect(args.slice(args.indexOf('--checkpoint_dir'), args.indexOf('--checkpoint_dir') + 2)).toEqual(['--checkpoint_dir', '/checkpoints/bert-zero3']);
    expect(args.slice(-2)).toEqual(['--deepspeed_config', '/etc/deepspeed/ds_config.json']);
  });

  test('every flag the launcher passes is one the script declares, and every flag it requires is passed', () => {
    const source = fs.readFileSync(path.join(EXAMPLES_DIR, 'bert-zero3', 'train_bert_mlm.py'), 'utf8');
    const declared = [...source.matchAll(/add_argument\('(--\w+)'/g)].map(m => m[1]);
    const required = [...source.matchAll(/add_argument\('(--\w+)'[^)]*required=True/g)].map(m => m[1]);
    expect(required).toEqual(['--train_file', '--checkpoint_dir']);
    // deepspeed.add_config_arguments adds --deepspeed and --deepspeed_config.
    expect(source).toContain('deepspeed.add_config_arguments(parser)');
    const passed = scriptArguments(command, 'train_bert_mlm.py').filter(arg => arg.startsWith('--'));
    expect(passed.filter(flag => !declared.includes(flag))).toEqual(['--deepspeed_config']);
    expect(required.filter(flag => !passed.includes(flag))).toEqual([]);
    // DeepSpeed's MPI discovery gives each rank its local rank; the script takes none.
    expect(declared).not.toContain('--local_rank');
  });

  test('non-root recipe: the pods run as its user, keys go to its home, and they meet the restricted standard', () => {
    for (const replica of [launcher, worker]) {
      expect(replica.template.spec.securityContext).toMatchObject({ runAsUser: 1001, runAsGroup: 1001, runAsNonRoot: true });
    }
    expect(mpiJob.spec.sshAuthMountPath).toBe('/home/trainer/.ssh');
    expect(command).not.toContain('--allow-run-as-root');
    expect(restrictedBreaches(mpiJob)).toEqual([]);
    const instructions = parseInstructions(example.images[0].dockerfile);
    expect(instructions.find(i => i.keyword === 'USER')!.args).toBe('1001:1001');
  });

  test('the Dockerfile copies the script from the build context and leaves DeepSpeedCPUAdam to compile on each node; it lints clean', () => {
    const image = example.images[0];
    const dockerfile = image.dockerfile;
    expect(lintAll(dockerfile)).toEqual([]);
    expect(aptProblems(dockerfile)).toEqual([]);
    const instructions = parseInstructions(dockerfile);
    expect(instructions[0].args).toBe('pytorch/pytorch:2.4.1-cuda12.4-cudnn9-devel');
    expect(instructions.find(i => i.keyword === 'COPY')).toEqual({ keyword: 'COPY', args: '. /workspace', flags: ['--chown=1001:1001'] });
    expect(instructions.find(i => i.keyword === 'WORKDIR')!.args).toBe(container(launcher).workingDir);
    // A CPU op pre-built here would carry the build host's -march=native (DeepSpeed issue #1886).
    expect(dockerfile).toContain('RUN /opt/conda/bin/python -m pip install --no-cache-dir --no-build-isolation deepspeed==0.16.3');
    expect(dockerfile).not.toContain('DS_BUILD_');
    expect(dockerfile).toContain('pip install --no-cache-dir transformers==4.46.3');
    // Only the script reaches the image: not the cdk8s program or the README.
    expect(image.dockerignore()!.split('\n')).toEqual(expect.arrayContaining(['*.ts', '*.md']));
    expect(fs.readdirSync(path.join(EXAMPLES_DIR, 'bert-zero3')).filter(f => !/\.(ts|md)$/.test(f))).toEqual(['train_bert_mlm.py']);
  });

  test('passes validation without errors or warnings', () => {
    expect(findings(example)).toEqual([]);
  });
});

describe('examples/kueue-gang', () => {
  const example = synthExample('kueue-gang');
  const manifests = example.charts['kueue-gang'];
  const mpiJob = manifest(manifests, 'MPIJob', 'cifar10-queued');
  const { launcher, worker, command } = replicas(mpiJob);

  test('queued through Kueue: LocalQueue and WorkloadPriorityClass labels, created suspended', () => {
    expect(mpiJob.metadata.labels).toEqual({
      'kueue.x-k8s.io/queue-name': 'team-a-gpu',
      'kueue.x-k8s.io/priority-class': 'research-high',
    });
    expect(mpiJob.spec.runPolicy.suspend).toBe(true);
    expect(mpiJob.spec.runPolicy.managedBy).toBeUndefined();
  });

  test('gang scheduled: the PodGroup is every pod, since a suspended job starts its launcher with the workers (kubeflow/mpi-operator#615)', () => {
    expect(mpiJob.spec.launcherCreationPolicy).toBe('AtStartup');
    expect(mpiJob.spec.runPolicy.schedulingPolicy).toEqual({
      minAvailable: worker.replicas + 1,
      // the launcher (1 CPU, 2Gi) and 2 workers x (16 CPU, 64Gi, 4 GPUs)
      minResources: { 'cpu': '33', 'memory': '130Gi', 'nvidia.com/gpu': '8' },
      scheduleTimeoutSeconds: 600,
    });
    expect(worker.replicas).toBe(2);
    expect(container(worker).readinessProbe.tcpSocket.port).toBe(2222);
  });

  test('the launcher waits for both workers on their sshd port before mpirun', () => {
    expect(container(launcher).command.slice(3, 10)).toEqual(['--hostfile', '/etc/mpi/hostfile', '--port', '2222', '--timeout', '900', '--']);
  });

  test('the pods of both roles carry the PriorityClass', () => {
    expect(launcher.template.spec.priorityClassName).toBe('training-high');
    expect(worker.template.spec.priorityClassName).toBe('training-high');
  });

  test('2 workers x 4 GPUs: -np 8, request = limit, batch of 8 per GPU', () => {
    expect(mpiJob.spec.slotsPerWorker).toBe(4);
    expect(command.slice(0, 3)).toEqual(['mpirun', '-np', '8']);
    const resources = container(worker).resources;
    expect(resources.requests['nvidia.com/gpu']).toBe(4);
    expect(resources.limits).toEqual(resources.requests);
    const dsConfig = deepspeedConfigOf(manifests, 'cifar10-queued');
    expect([dsConfig.train_batch_size, dsConfig.train_micro_batch_size_per_gpu, dsConfig.gradient_accumulation_steps]).toEqual([64, 8, 1]);
  });

  test('runs the CIFAR-10 image of examples/cifar10 in its checkout', () => {
    expect(container(launcher).image).toBe('registry.example.com/cifards:v0.0.1');
    expect(container(launcher).workingDir).toBe('/opt/DeepSpeedExamples');
    expect(scriptArguments(command, '/opt/conda/bin/python')[0]).toBe('training/cifar/cifar10_deepspeed.py');
  });

  test('meets the restricted standard and passes validation without errors or warnings', () => {
    expect(restrictedBreaches(mpiJob)).toEqual([]);
    expect(findings(example)).toEqual([]);
  });
});

describe('examples/rdma', () => {
  const example = synthExample('rdma');

  describe('InfiniBand', () => {
    const manifests = example.charts['rdma-infiniband'];
    const mpiJob = manifest(manifests, 'MPIJob', 'cifar10-ib');
    const { launcher, worker, command } = replicas(mpiJob);

    test('the workers request the HCA and the GPUs with request = limit, without IPC_LOCK (non-root ranks never hold it)', () => {
      const resources = container(worker).resources;
      expect(resources.requests).toMatchObject({ 'rdma/hca_shared_devices_a': 1, 'nvidia.com/gpu': 8 });
      expect(resources.limits).toEqual(resources.requests);
      expect(container(worker).securityContext.capabilities).toEqual({ drop: ['ALL'] });
      // The launcher hosts no ranks, so it gets no devices.
      expect(Object.keys(container(launcher).resources.requests)).toEqual(['cpu', 'memory']);
      expect(container(launcher).securityContext.capabilities).toEqual({ drop: ['ALL'] });
    });

    test('the NCCL variables are set on the launcher and forwarded to every rank with -x', () => {
      expect(container(launcher).env).toEqual([
        { name: 'NCCL_IB_DISABLE', value: '0' },
        { name: 'NCCL_IB_HCA', value: 'mlx5_0,mlx5_1,mlx5_2,mlx5_3' },
        { name: 'NCCL_DEBUG', value: 'INFO' },
        { name: 'NCCL_DEBUG_SUBSYS', value: 'INIT,NET' },
      ]);
      expect(exportedNames(command)).toEqual(['PATH', 'LD_LIBRARY_PATH', 'NCCL_IB_DISABLE', 'NCCL_IB_HCA', 'NCCL_DEBUG', 'NCCL_DEBUG_SUBSYS']);
      expect(container(worker).env).toBeUndefined();
      expect(command.slice(0, 3)).toEqual(['mpirun', '-np', '16']);
    });

    test('the image installs the verbs libraries NCCL loads', () => {
      const image = example.images.find(i => i.node.path === 'rdma-infiniband/image')!;
      expect(aptProblems(image.dockerfile)).toEqual([]);
      const install = commands(runContaining(image.dockerfile, 'apt-get install')).find(c => c.includes('apt-get install'))!;
      expect(install.split(' ')).toEqual(expect.arrayContaining(['ibverbs-providers', 'libibverbs1']));
    });

    test('meets the restricted standard and synthesizes without findings; Open MPI\'s own traffic stays on TCP', () => {
      expect(findings({ ...example, jobs: example.jobs.filter(j => j.node.path === 'rdma-infiniband/train'), images: example.images })).toEqual([]);
      expect(restrictedBreaches(mpiJob)).toEqual([]);
      expect(command.join(' ')).toContain('--mca pml ob1 --mca btl ^openib');
    });
  });

  describe('AWS EFA', () => {
    const manifests = example.charts['rdma-efa'];
    const mpiJob = manifest(manifests, 'MPIJob', 'cifar10-efa');
    const { launcher, worker, command } = replicas(mpiJob);

    test('the workers request 4 EFA devices, huge pages and 8 GPUs with request = limit, on p4d nodes', () => {
      const resources = container(worker).resources;
      expect(resources.requests).toEqual({
        'cpu': '88', 'memory': '1000Gi', 'hugepages-2Mi': '5Gi', 'nvidia.com/gpu': 8, 'vpc.amazonaws.com/efa': 4,
      });
      expect(resources.limits).toEqual(resources.requests);
      expect(worker.template.spec.nodeSelector).toEqual({ 'node.kubernetes.io/instance-type': 'p4d.24xlarge' });
      expect(container(launcher).resources.requests['vpc.amazonaws.com/efa']).toBeUndefined();
    });

    test('libfabric\'s EFA provider and GPUDirect RDMA are forwarded to every rank; no IB or socket settings', () => {
      expect(container(launcher).env).toEqual([
        { name: 'FI_PROVIDER', value: 'efa' },
        { name: 'FI_EFA_USE_DEVICE_RDMA', value: '1' },
        { name: 'NCCL_DEBUG', value: 'INFO' },
        { name: 'NCCL_DEBUG_SUBSYS', value: 'INIT,NET' },
      ]);
      expect(exportedNames(command)).toEqual(['PATH', 'LD_LIBRARY_PATH', 'FI_PROVIDER', 'FI_EFA_USE_DEVICE_RDMA', 'NCCL_DEBUG', 'NCCL_DEBUG_SUBSYS']);
    });

    test('meets the restricted standard and passes validation without errors or warnings', () => {
      expect(restrictedBreaches(mpiJob)).toEqual([]);
      expect(findings({ ...example, jobs: example.jobs.filter(j => j.node.path === 'rdma-efa/train'), images: [] })).toEqual([]);
    });
  });

  test('both jobs run 16 ranks with the CIFAR-10 batch of 8 per GPU', () => {
    for (const [chart, name] of [['rdma-infiniband', 'cifar10-ib'], ['rdma-efa', 'cifar10-efa']]) {
      expect(manifest(example.charts[chart], 'MPIJob', name).spec.slotsPerWorker).toBe(8);
      expect(deepspeedConfigOf(example.charts[chart], name).train_batch_size).toBe(128);
    }
  });
});

describe('every example', () => {
  const charts = exampleNames().flatMap(name => Object.entries(synthExample(name).charts).map(([chart, manifests]) => ({ name, chart, manifests })));

  test.each(charts)('examples/$name, chart $chart: MPIJobs fit the v0.8.0 CRD, TrainJobs and TrainingRuntimes the Trainer v2.3.0 CRDs, the rest the Kubernetes 1.27 schemas', ({ manifests }) => {
    expectValidManifests(manifests);
  });

  // The real Open MPI mpirun, one emulated pod per worker (docs/rehearsal.md); every job of a sweep.
  const jobs = charts.flatMap(({ name, chart, manifests }) =>
    [...MpiJobManifest.fromManifests(manifests), ...TrainJobManifest.fromManifests(manifests)].map((job: ILaunchManifest) => ({ name, chart, job })));
  test.each(jobs)('examples/$name, chart $chart, job $job.name: the launch rehearsal passes every check', async ({ job }) => {
    const report = await LaunchRehearsal.run(job);
    expect(report.checks.filter(c => c.status !== CheckStatus.PASSED)).toEqual([]);
    expect(report.ranks).toHaveLength(job.totalSlots);
  }, 120_000);
});

describe('example warnings', () => {
  test.each(exampleNames())('examples/%s: synth prints no warnings', name => {
    expect(synthExample(name).warnings).toEqual([]);
  });
});

describe('example READMEs', () => {
  test.each(exampleNames())('examples/%s/README.md: every yaml excerpt is in the synthesized output', name => {
    const readme = fs.readFileSync(path.join(EXAMPLES_DIR, name, 'README.md'), 'utf8');
    const excerpts = yamlExcerpts(readme);
    expect(excerpts.length).toBeGreaterThan(0);
    const manifests = synthExample(name).manifests;
    const problems = excerpts.flatMap(e => e.documents.map(doc => excerptProblem(doc, manifests)).filter(p => p !== undefined)
      .map(p => `README.md line ${e.line}: ${p}`));
    expect(problems).toEqual([]);
  });

  test.each(exampleNames())('examples/%s/README.md tells how to apply the output', name => {
    const readme = fs.readFileSync(path.join(EXAMPLES_DIR, name, 'README.md'), 'utf8');
    expect(readme).toContain('npx projen synth:examples');
    expect(readme).toMatch(new RegExp(`kubectl apply -f dist/examples/${name}/\\S+\\.k8s\\.yaml`));
  });

  test('the excerpt check reports a changed value, a missing key and a list element out of order', () => {
    const actual = { spec: { replicas: 2, command: ['mpirun', '-np', '8', 'python'], labels: { a: '1' } } };
    expect(excerptMismatches(actual, { spec: { command: ['mpirun', '-np', '8'] } })).toEqual([]);
    expect(excerptMismatches(actual, { spec: { command: ['-np', 'mpirun'] } })).toEqual(['.spec.command[1]: "mpirun" is not in ["8","python"]']);
    expect(excerptMismatches(actual, { spec: { replicas: 3 } })).toEqual(['.spec.replicas: 3 in the excerpt, 2 synthesized']);
    expect(excerptMismatches(actual, { spec: { labels: { b: '2' } } })).toEqual(['.spec.labels.b: missing']);
    const configMap = { data: { 'ds_config.json': '{\n  "zero_optimization": {\n    "stage": 3\n  }\n}\n' } };
    expect(excerptMismatches(configMap, { data: { 'ds_config.json': '{"zero_optimization": {"stage": 2}}' } }))
      .toEqual(['.data.ds_config.json(json).zero_optimization.stage: 2 in the excerpt, 3 synthesized']);
    expect(excerptProblem({ spec: {} }, [])).toMatch(/must start at a manifest's root/);
    expect(excerptProblem({ kind: 'MPIJob', metadata: { name: 'x' } }, [])).toBe('no MPIJob named x is synthesized');
  });

  test('README paths under dist/examples are named after real output', () => {
    expect(referencedOutputPaths('kubectl apply -f dist/examples/a/a.k8s.yaml. Then docker build -f dist/examples/a/images/a-image/Dockerfile x'))
      .toEqual(['dist/examples/a/a.k8s.yaml', 'dist/examples/a/images/a-image/Dockerfile']);
  });
});
