#!/bin/sh
# Starts Prometheus with the job's token where prometheus.yml expects it. Its configuration cannot
# read the environment, so the token that compose passes in DPTRAIN_TOKEN (from the env file every
# dptrain service reads) is written to a file only the prometheus user can read, then dropped from
# the environment. Arguments go to prometheus.
set -eu
if [ -z "${DPTRAIN_TOKEN:-}" ]; then
  echo 'dptrain-prometheus: DPTRAIN_TOKEN is not set; it is the job token the dptrain services present: put DPTRAIN_TOKEN=<secret> in docker/token.env (or in the file DPTRAIN_TOKEN_FILE names)' >&2
  exit 1
fi
umask 077
printf '%s' "$DPTRAIN_TOKEN" >/run/dptrain/token
unset DPTRAIN_TOKEN
exec /usr/bin/prometheus "$@"
