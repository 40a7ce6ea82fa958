#!/usr/bin/env bash
# A Docker engine, compose v2 and a Node base image on a Debian machine that has no container
# registry (CI's kind of machine): what docker/Dockerfile and docker-compose.yml need to run here.
#
#   sudo tools/container-runtime.sh          # prints NODE_IMAGE=... on its last line
#   export NODE_IMAGE=dptrain-base:local TFJS_NODE=optional
#   docker compose up --build -d
#
# Idempotent: each step is skipped when its result is already there (a second run takes seconds).
#  1. the engine: Debian's docker.io, and dockerd started in the background when none answers;
#  2. compose v2: bookworm's docker-compose is v1 (it rejects the file's top-level `name:`), so the
#     v2 CLI plugin is unpacked from Debian 13's docker-compose package, leaving the system's apt
#     sources and state alone;
#  3. the base image `dptrain-base:local`, standing in for node:20-bookworm-slim, which cannot be
#     pulled: debootstrap's bookworm, this machine's Node and npm, a `node` user (uid 1000) as in the
#     official image, and the CA certificates this machine trusts beyond Debian's (a TLS-inspecting
#     proxy's, without which npm ci in the image fails with SELF_SIGNED_CERT_IN_CHAIN). They go into
#     this local base only, never into docker/Dockerfile.
# Needs root and apt-get. Exits non-zero, naming the step, when one fails.
set -euo pipefail

BASE_IMAGE=${DPTRAIN_BASE_IMAGE:-dptrain-base:local}
STATE=${DPTRAIN_RUNTIME_STATE:-/var/cache/dptrain-container-runtime}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
LOCAL_CAS=/usr/local/share/ca-certificates

say() { printf 'container-runtime: %s\n' "$*" >&2; }
fail() { say "$*"; exit 1; }
# Network steps get three tries: a fresh machine's first downloads sometimes time out.
retry() { local n; for n in 1 2 3; do "$@" && return 0; say "attempt $n of: $* failed"; sleep $((n * 5)); done; return 1; }

[ "$(id -u)" = 0 ] || fail 'needs root (apt-get, dockerd, debootstrap); run it with sudo'
command -v apt-get >/dev/null || fail 'needs a Debian-based machine (apt-get)'
export DEBIAN_FRONTEND=noninteractive
apt_packages=()
command -v dockerd >/dev/null || apt_packages+=(docker.io)
command -v debootstrap >/dev/null || apt_packages+=(debootstrap)
if [ ${#apt_packages[@]} -gt 0 ]; then
  say "installing ${apt_packages[*]}"
  retry apt-get update -qq
  retry apt-get install -y -qq "${apt_packages[@]}" >/dev/null
fi

# ---- 1. the engine
if ! docker info >/dev/null 2>&1; then
  say 'starting dockerd (log: /var/log/dockerd.log)'
  setsid nohup dockerd >/var/log/dockerd.log 2>&1 </dev/null &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || fail "dockerd did not answer within 60 s; see /var/log/dockerd.log: $(tail -n 3 /var/log/dockerd.log)"
fi

# ---- 2. compose v2
if ! docker compose version >/dev/null 2>&1; then
  say "installing the compose v2 plugin from Debian 13's docker-compose package"
  apt_dir="$STATE/trixie-apt"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial"
  echo "deb $DEBIAN_MIRROR trixie main" >"$apt_dir/sources.list"
  apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache::Archives=$apt_dir/archives"
    -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= -o APT::Sandbox::User=root)
  retry apt-get "${apt_opts[@]}" update -qq
  (cd "$apt_dir" && rm -f docker-compose_*.deb && retry apt-get "${apt_opts[@]}" download docker-compose >/dev/null)
  rm -rf "$apt_dir/unpacked" && dpkg-deb -x "$apt_dir"/docker-compose_*.deb "$apt_dir/unpacked"
  install -D -m 0755 "$apt_dir/unpacked/usr/libexec/docker/cli-plugins/docker-compose" /usr/libexec/docker/cli-plugins/docker-compose
  docker compose version >/dev/null || fail 'docker compose does not run after unpacking the plugin'
fi

# ---- 3. the base image
node_bin=$(command -v node) || fail 'needs Node.js on this machine (its node and npm go into the base image)'
node_version=$("$node_bin" --version)
npm_dir=$(npm root -g)/npm
[ -f "$npm_dir/bin/npm-cli.js" ] || fail "npm not found at $npm_dir"
ca_sum=$(cat "$LOCAL_CAS"/*.crt 2>/dev/null | sha256sum | cut -c1-16)
recipe="bookworm node=$node_version npm=$(npm --version) ca=$ca_sum"
if [ "$(docker image inspect -f '{{index .Config.Labels "dptrain.base.recipe"}}' "$BASE_IMAGE" 2>/dev/null)" != "$recipe" ]; then
  say "building $BASE_IMAGE ($recipe)"
  mkdir -p "$STATE"
  rootfs="$STATE/rootfs"
  rm -rf "$rootfs"
  retry debootstrap --variant=minbase --include=ca-certificates bookworm "$rootfs" "$DEBIAN_MIRROR" >"$STATE/debootstrap.log" 2>&1 ||
    fail "debootstrap failed; see $STATE/debootstrap.log"
  install -D -m 0755 "$node_bin" "$rootfs/usr/local/bin/node"
  mkdir -p "$rootfs/usr/local/lib/node_modules"
  cp -a "$npm_dir" "$rootfs/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  if compgen -G "$LOCAL_CAS/*.crt" >/dev/null; then
    cp "$LOCAL_CAS"/*.crt "$rootfs$LOCAL_CAS/"
    chroot "$rootfs" update-ca-certificates >/dev/null
  fi
  chroot "$rootfs" sh -c 'groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node && apt-get clean && rm -rf /var/lib/apt/lists/*'
  tar -C "$rootfs" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
    --change "LABEL dptrain.base.recipe=\"$recipe\"" \
    --change 'CMD ["node"]' - "$BASE_IMAGE" >/dev/null
  rm -rf "$rootfs"
  docker run --rm "$BASE_IMAGE" node -e 'process.exit(0)' || fail "$BASE_IMAGE does not run node"
fi
say "ready: engine $(docker version -f '{{.Server.Version}}'), compose $(docker compose version --short), base $BASE_IMAGE"
echo "NODE_IMAGE=$BASE_IMAGE"
