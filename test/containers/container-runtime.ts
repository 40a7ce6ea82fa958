export type RuntimeProbe = { readonly available: true } | { readonly available: false; readonly reason: string };

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
    return { available: false, reason: error instanceof Error ? error.message : String(error) };
  }
}
