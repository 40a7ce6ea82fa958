import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from './build-context.js';

/** A docker command that exited non-zero, with what it printed. */
export class DockerCommandFailed extends Error {
  constructor(
    readonly args: readonly string[],
    readonly exitCode: number | string | undefined,
    readonly stderr: string,
  ) {
    super(`docker ${args.join(' ')} exited ${exitCode}: ${stderr.trim().split('\n').slice(-5).join('\n')}`);
  }
}

/** Runs the docker CLI and resolves with its stdout. @throws {DockerCommandFailed} (rejects) on a non-zero exit */
export function docker(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('docker', [...args], { env, maxBuffer: 256 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new DockerCommandFailed(args, error.code ?? error.signal ?? undefined, stderr));
      else resolve(stdout);
    });
  });
}

export interface ContainerState {
  readonly status: string;
  readonly exitCode: number;
  readonly restartCount: number;
}

/**
 * One project of the repository's docker-compose.yml, driven through `docker compose` as a user
 * would: `-p NAME` keeps it apart from the user's own `dptrain` project, and the file's own
 * variables (DPTRAIN_IMAGE, DPTRAIN_TOKEN_FILE, DPTRAIN_JOB_CONFIG, DPTRAIN_PUBLISH_PORT, …) point
 * it at the test's image, token and job.
 */
export class ComposeProject {
  readonly env: NodeJS.ProcessEnv;

  /**
   * @param profiles given to every command, `down` included: without its profile, compose 2.26's
   * `down` sometimes leaves a profile's running service, and the network with it, behind
   */
  constructor(
    readonly name: string,
    vars: Readonly<Record<string, string>>,
    readonly profiles: readonly string[] = [],
  ) {
    this.env = { ...process.env, ...vars };
  }

  /** `docker compose -p NAME -f docker-compose.yml [--profile P…] ARGS…` */
  compose(...args: string[]): Promise<string> {
    const profiles = this.profiles.flatMap((profile) => ['--profile', profile]);
    return docker(['compose', '-p', this.name, '-f', join(REPO, 'docker-compose.yml'), ...profiles, ...args], this.env);
  }

  /** The container compose names `<project>-<service>-<index>`. */
  container(service: string, index = 1): string {
    return `${this.name}-${service}-${index}`;
  }

  /** The project's default network, the one every service joins. */
  get network(): string {
    return `${this.name}_default`;
  }

  async state(container: string): Promise<ContainerState> {
    const out = await docker(['inspect', '-f', '{{json .State}} {{.RestartCount}}', container]);
    const [json, restarts] = [out.slice(0, out.lastIndexOf(' ')), out.slice(out.lastIndexOf(' ') + 1)];
    const state = JSON.parse(json) as { Status: string; ExitCode: number };
    return { status: state.Status, exitCode: state.ExitCode, restartCount: Number(restarts) };
  }

  /** Kills the container's dptrain from inside, as a crash would: tini (PID 1) then exits 137. */
  async crash(service: string, index = 1): Promise<void> {
    // The exec'd shell may be torn down with the container before it reports back.
    await this.compose('exec', '-T', '--index', String(index), service, 'sh', '-c', 'kill -9 -1').catch(() => undefined);
  }

  /** The last lines each service logged, for a failure's report. */
  logs(lines = 40): Promise<string> {
    return this.compose('logs', '--no-color', '--tail', String(lines)).catch((error: Error) => error.message);
  }

  async down(): Promise<void> {
    await this.compose('down', '--volumes', '--remove-orphans', '--timeout', '1').catch(() => undefined);
  }
}
