/**
 * Options of source code cloned from a git repository.
 */
export interface GitSourceOptions {
  /**
   * Absolute directory the repository is checked out to.
   * @default `/opt/<repository name>`
   */
  readonly destination?: string;
}

/**
 * Options of source code copied from the build context.
 */
export interface BuildContextSourceOptions {
  /**
   * Absolute directory the build context is copied to.
   * @default '/workspace'
   */
  readonly destination?: string;
  /**
   * More `.dockerignore` patterns, on top of version-control, cache and synth-output directories.
   * @default - none
   */
  readonly exclude?: string[];
}

/**
 * The training code baked into the image.
 */
export class SourceCode {
  /**
   * A git repository checked out at one commit when the image is built. The build context
   * stays empty, so the Dockerfile also builds in-cluster.
   *
   * @param url the repository URL, e.g. `https://github.com/deepspeedai/DeepSpeedExamples`
   * @param commit the commit id (hex, at least 7 digits); branches and tags move, so they are rejected
   */
  public static fromGitRepository(url: string, commit: string, options: GitSourceOptions = {}): SourceCode {
    const name = url.replace(/\/+$/, '').replace(/\.git$/, '').split(/[/:]/).pop() || 'source';
    return new SourceCode(options.destination ?? `/opt/${name}`, [], url, commit, undefined);
  }

  /**
   * A local directory used as the build context and copied into the image. Build with
   * `docker build -f <outdir>/images/<name>/Dockerfile <path>`; the recipe writes a
   * `Dockerfile.dockerignore` next to the Dockerfile, which BuildKit applies to this context.
   *
   * @param path the build context, as passed to `docker build` (relative to where it runs)
   */
  public static fromBuildContext(path: string, options: BuildContextSourceOptions = {}): SourceCode {
    return new SourceCode(options.destination ?? '/workspace', options.exclude ?? [], undefined, undefined, path);
  }

  private constructor(
    /** Absolute directory of the code in the image. */
    public readonly destination: string,
    /** Extra `.dockerignore` patterns of a build-context source. */
    public readonly exclude: string[],
    /** Repository URL of a git source. */
    public readonly gitRepository?: string,
    /** Commit of a git source. */
    public readonly commit?: string,
    /** Build context path of a local source. */
    public readonly buildContext?: string,
  ) {}
}

/**
 * Options of data downloaded from a URL.
 */
export interface UrlDataOptions {
  /** SHA-256 of the file (64 hex digits); the build fails if the download differs. */
  readonly sha256: string;
}

/** How a piece of baked data is produced. @internal */
export enum BakedDataKind {
  URL = 'url',
  BUILD_CONTEXT = 'build-context',
  TORCHVISION = 'torchvision',
}

/**
 * Data baked into the image at build time, so ranks do not download it concurrently at start.
 * Relative destinations resolve against the image's working directory.
 */
export class BakedData {
  /** A file downloaded with curl and checked against its SHA-256. */
  public static fromUrl(url: string, destination: string, options: UrlDataOptions): BakedData {
    return new BakedData(BakedDataKind.URL, destination, url, options.sha256);
  }

  /** A file or directory copied from the build context (needs a build-context source). */
  public static fromBuildContext(path: string, destination: string): BakedData {
    return new BakedData(BakedDataKind.BUILD_CONTEXT, destination, path);
  }

  /**
   * Both splits of a torchvision dataset whose constructor takes `train` (CIFAR10, CIFAR100,
   * MNIST, FashionMNIST, ...), downloaded into `root` as the training script would.
   *
   * @param datasetClass the class in `torchvision.datasets`, e.g. `CIFAR10`
   * @param root the `root` the script passes, e.g. `data` for `./data`
   */
  public static torchvisionDataset(datasetClass: string, root: string): BakedData {
    return new BakedData(BakedDataKind.TORCHVISION, root, datasetClass);
  }

  private constructor(
    /** @internal */
    public readonly _kind: BakedDataKind,
    /** Where the data lands in the image, absolute or relative to the working directory. */
    public readonly destination: string,
    /** The URL, build-context path or dataset class. */
    public readonly source: string,
    /** Expected SHA-256 of a downloaded file. */
    public readonly sha256?: string,
  ) {}
}
