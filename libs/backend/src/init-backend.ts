import * as tf from '@tensorflow/tfjs-core';
import { BackendError } from './backend-error.js';

/** The backends dptrain can run on, fastest first. */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export type BackendChoice = 'auto' | BackendName;
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'tensorflow', 'wasm', 'cpu'];

export interface BackendInfo {
  /** The backend every op now runs on. */
  readonly name: BackendName;
  /** What was asked for (`auto` tries the backends in order). */
  readonly requested: BackendChoice;
  /** Backends tried before `name`, each with the reason it could not be used. */
  readonly tried: readonly { name: BackendName; error: string }[];
  /** True when the native backend was put in its repeatable mode (see `InitBackendOptions`). */
  readonly deterministic: boolean;
}

export interface InitBackendOptions {
  /**
   * Make the native TensorFlow backend repeatable: one intra-op and one inter-op thread and
   * TensorFlow's deterministic-ops switch, set before libtensorflow loads. Multi-threaded
   * reductions split work by thread count, so without this two runs may differ in the last bits.
   * No effect on wasm (single-threaded in Node) or cpu (pure JS, single-threaded).
   * @default true
   */
  readonly deterministic?: boolean;
}

/**
 * Parses a `--backend` / `DPTRAIN_BACKEND` value.
 * @throws {BackendError} E_BACKEND_CHOICE naming the value and the accepted ones.
 */
export function parseBackendChoice(value: string): BackendChoice {
  const choice = value.trim().toLowerCase();
  if ((BACKEND_CHOICES as readonly string[]).includes(choice)) return choice as BackendChoice;
  throw new BackendError('E_BACKEND_CHOICE', `unknown backend "${value}"; use one of ${BACKEND_CHOICES.join(', ')} (flag --backend or env DPTRAIN_BACKEND)`);
}

const NATIVE_THREAD_ENV = {
  TF_NUM_INTRAOP_THREADS: '1',
  TF_NUM_INTEROP_THREADS: '1',
  TF_DETERMINISTIC_OPS: '1',
} as const;

async function loadNative(deterministic: boolean): Promise<void> {
  if (deterministic) {
    for (const [key, value] of Object.entries(NATIVE_THREAD_ENV)) process.env[key] ??= value;
  }
  // The package is an optionalDependency whose install downloads libtensorflow; where that was
  // impossible it is simply absent and this import throws MODULE_NOT_FOUND.
  const name = '@tensorflow/tfjs-node';
  await import(/* @vite-ignore */ name);
}

async function loadWasm(): Promise<void> {
  await import('@tensorflow/tfjs-backend-wasm');
}

async function loadCpu(): Promise<void> {
  await import('@tensorflow/tfjs-backend-cpu');
}

const LOADERS: Record<BackendName, (deterministic: boolean) => Promise<void>> = {
  tensorflow: loadNative,
  wasm: loadWasm,
  cpu: loadCpu,
};

const HINTS: Record<BackendName, string> = {
  tensorflow: 'install it with `npm install @tensorflow/tfjs-node` on a machine that can download libtensorflow, or use --backend wasm',
  wasm: 'reinstall dependencies with `npm ci`, or use --backend cpu',
  cpu: 'reinstall dependencies with `npm ci`',
};

async function activate(name: BackendName, deterministic: boolean): Promise<void> {
  await LOADERS[name](deterministic);
  // Importing wasm makes it the top-priority backend; set the one we chose explicitly.
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tf.setBackend('${name}') returned false`);
  await tf.ready();
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' ? 'not installed' : error.message.split('\n')[0]!;
  }
  return String(error);
}

/**
 * Chooses and initialises the TensorFlow.js backend: the native `tensorflow` backend when
 * `@tensorflow/tfjs-node` is installed, else `wasm`, else the pure-JS `cpu`. A forced choice
 * that cannot load fails instead of falling back, so a benchmark never silently runs on
 * another backend.
 *
 * @param choice `auto` or a backend name; defaults to env `DPTRAIN_BACKEND`, then `auto`.
 * @throws {BackendError} E_BACKEND_UNAVAILABLE when the forced backend (or, for `auto`, every one) fails.
 */
export async function initBackend(
  choice: BackendChoice = parseBackendChoice(process.env.DPTRAIN_BACKEND ?? 'auto'),
  options: InitBackendOptions = {},
): Promise<BackendInfo> {
  const deterministic = options.deterministic ?? true;
  const candidates: BackendName[] = choice === 'auto' ? ['tensorflow', 'wasm', 'cpu'] : [choice];
  const tried: { name: BackendName; error: string }[] = [];
  for (const name of candidates) {
    try {
      await activate(name, deterministic);
      return { name, requested: choice, tried, deterministic: name === 'tensorflow' ? deterministic : true };
    } catch (error) {
      tried.push({ name, error: describe(error) });
      if (choice !== 'auto') {
        throw new BackendError('E_BACKEND_UNAVAILABLE', `backend "${name}" cannot be used: ${describe(error)}; ${HINTS[name]}`, { cause: error });
      }
    }
  }
  throw new BackendError(
    'E_BACKEND_UNAVAILABLE',
    `no TensorFlow.js backend could be initialised (${tried.map((t) => `${t.name}: ${t.error}`).join('; ')}); reinstall dependencies with \`npm ci\``,
  );
}
