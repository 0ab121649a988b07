/** What became of one emulated worker pod. */
export interface WorkerPodReport {
  /** The pod's hostname. */
  readonly hostname: string;
  /** Its name in the hostfile. */
  readonly hostfileName: string;
  /**
   * The loopback address its sshd listened on.
   * @default - none: its sshd never listened
   */
  readonly address?: string;
  /** The port its sshd listened on (the job's ssh port). */
  readonly port: number;
  /**
   * Seconds from the launcher's start until its sshd listened and its name resolved.
   * @default - none: it never came up
   */
  readonly upAfterSeconds?: number;
  /** Whether the rehearsal kept it from starting (a worker that never starts). */
  readonly heldBack: boolean;
  /** sshd's own log (`-e`): listening, accepted keys, errors. */
  readonly sshdLog: string;
  /** The sshd argv as it ran. */
  readonly sshdCommand: string[];
}
