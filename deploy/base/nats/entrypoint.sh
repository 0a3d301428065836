#!/bin/sh
# `nats-server -c <conf> [args]` with a copy of <conf> that nats-server 2.9 accepts: without
# `sync_interval` (2.10+; 2.9 refuses unknown keys). JetStream then fsyncs on its default
# schedule, which is fine for the tests this image is for and not for production.
# The copy is written under /tmp (a tmpfs: the root filesystem is read-only), beside a link to
# the original's auth/ folder, since `include` paths are relative to the including file.
set -eu
if [ "${1:-}" = nats-server ] && [ "${2:-}" = -c ] && [ -n "${3:-}" ]; then
  conf="$3"
  shift 3
  dir=/tmp/nats-conf
  mkdir -p "$dir"
  grep -v '^[[:space:]]*sync_interval:' "$conf" >"$dir/nats.conf"
  ln -sfn "$(dirname "$conf")/auth" "$dir/auth"
  exec nats-server -c "$dir/nats.conf" "$@"
fi
exec "$@"
