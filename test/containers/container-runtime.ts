import { execFile } from 'node:child_process';

export type RuntimeProbe = { readonly available: true } | { readonly available: false; readonly reason: string };

// testcontainers starts its Ryuk reaper from a pulled image, and where no registry is reachable
// that fails every container test; the tests remove what they start themselves.
process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';

/** The base image tools/container-runtime.sh builds where node:20-bookworm-slim cannot be pulled. */
export const LOCAL_BASE_IMAGE = 'dptrain-base:local';

const succeeds = (file: string, args: string[]): Promise<boolean> => new Promise((resolve) => execFile(file, args, (error) => resolve(!error)));

/**
 * Whether testcontainers finds a Docker (or compatible) engine. Without one it rejects within
 * milliseconds ("Could not find a working container runtime strategy"). testcontainers is imported
 * here, on demand, so only the tests that need containers pay for loading it.
 */
export async function probeContainerRuntime(): Promise<RuntimeProbe> {
  const { getContainerRuntimeClient } = await import('testcontainers');
  try {
    await getContainerRuntimeClient();
    return { available: true };
  } catch (error) {
    return {
      available: false,
      reason: `no container engine here (${error instanceof Error ? error.message : String(error)}); tools/container-runtime.sh starts one`,
    };
  }
}

/** An engine, and the compose v2 CLI that docker-compose.yml needs. */
export async function probeCompose(): Promise<RuntimeProbe> {
  const engine = await probeContainerRuntime();
  if (!engine.available) return engine;
  if (!(await succeeds('docker', ['compose', 'version'])))
    return { available: false, reason: 'no `docker compose` (v2) here; tools/container-runtime.sh installs it' };
  return engine;
}

/**
 * The build arguments for docker/Dockerfile here: NODE_IMAGE and TFJS_NODE from the environment
 * as compose passes them, else the locally built base when there is one. TFJS_NODE defaults to
 * optional: the tests compare bits on wasm, and libtensorflow's download needs the internet.
 */
export async function buildArgs(): Promise<{ NODE_IMAGE?: string; TFJS_NODE: string }> {
  const local = process.env.NODE_IMAGE === undefined && (await succeeds('docker', ['image', 'inspect', LOCAL_BASE_IMAGE]));
  const nodeImage = process.env.NODE_IMAGE ?? (local ? LOCAL_BASE_IMAGE : undefined);
  return { ...(nodeImage ? { NODE_IMAGE: nodeImage } : {}), TFJS_NODE: process.env.TFJS_NODE ?? 'optional' };
}
