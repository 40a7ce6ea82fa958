import { join, relative } from 'node:path';
import { REPO } from './build-context.js';
import { readDockerfile } from './dockerfile-model.js';

/** Where the final stage of docker/Dockerfile puts things, as the manifests that run the image need them. */
export function imageLayout(): { readonly workdir: string; readonly ownedDirs: readonly string[]; hostPath(path: string): string } {
  const runtime = readDockerfile(join(REPO, 'docker/Dockerfile')).at(-1)!;
  const workdir = runtime.instructions.filter((i) => i.keyword === 'WORKDIR').at(-1)!.args;
  // `chown -R user:group DIR…`: the directories the image hands to its user (volumes mount there).
  const ownedDirs = runtime.instructions
    .filter((i) => i.keyword === 'RUN')
    .flatMap((i) => [...i.args.matchAll(/chown -R \S+ ((?:\/[^\s&;]+\s*)+)/g)].flatMap((m) => m[1]!.trim().split(/\s+/)));
  return {
    workdir,
    ownedDirs,
    // The image copies the repository (less .dockerignore) into its workdir.
    hostPath: (path) => join(REPO, relative(workdir, path)),
  };
}
