# Sourced: building and caching a pinned Rust peer (tests/interop/rust and
# tests/interop/rust-perf). A peer lives in
#   ${LP2P_INTEROP_CACHE:-/var/cache/lp2p-interop}/<key>-<first 16 hex of
#   sha256 over Cargo.lock, Cargo.toml and src/*.rs>/<bin>
# (the sources are hashed too, so a change to src/ gets its own build, not a
# stale cached binary). Every peer builds into one target dir,
# <cache>/rust-target, so a changed lock rebuilds incrementally and crates two
# locks pin at the same version compile once.

CARGO_PEER_CACHE=${LP2P_INTEROP_CACHE:-/var/cache/lp2p-interop}

# cargo_peer_bin DIR KEY BIN: prints where the peer in DIR is cached.
cargo_peer_bin() {
  local hash
  hash=$( (cd "$1" && cat Cargo.lock Cargo.toml $(LC_ALL=C ls src/*.rs)) |
    sha256sum | cut -c1-16)
  echo "$CARGO_PEER_CACHE/$2-$hash/$3"
}

# cargo_peer_install DIR KEY BIN: builds the peer in DIR with its lock
# (--locked) into its cache dir, unless it is there already. Needs
# cargo/rustc >= 1.88 (libp2p 0.57's MSRV) on PATH, in $CARGO_HOME/bin or in
# ~/.cargo/bin (rustup's place); Debian 12's own rustc (1.63) is too old.
# Env: CARGO_JOBS (default 2).
cargo_peer_install() {
  local dir=$1 key=$2 bin=$3 dest ver maj min start tmp d
  dest=$(cargo_peer_bin "$dir" "$key" "$bin")
  if [[ -x $dest ]]; then
    echo "$key peer already built: $dest" >&2
    return 0
  fi
  for d in "${CARGO_HOME:-$HOME/.cargo}/bin" /root/.cargo/bin; do
    [[ -d $d ]] && PATH=$PATH:$d
  done
  command -v cargo >/dev/null || { echo "$key/install.sh: cargo not found (install Rust >= 1.88 with rustup)" >&2; return 1; }
  ver=$(rustc --version | awk '{print $2}')
  IFS=. read -r maj min _ <<<"$ver"
  if ((maj < 1 || (maj == 1 && min < 88))); then
    echo "$key/install.sh: rustc $ver is too old: libp2p 0.57 needs >= 1.88" >&2
    return 1
  fi
  export CARGO_TARGET_DIR=$CARGO_PEER_CACHE/rust-target
  mkdir -p "$CARGO_TARGET_DIR"
  echo "building $key peer with rustc $ver into $CARGO_TARGET_DIR (slow when cold)" >&2
  start=$(date +%s)
  (cd "$dir" && cargo build --release --locked -j "${CARGO_JOBS:-2}") ||
    { echo "$key/install.sh: cargo build failed" >&2; return 1; }
  echo "built in $(($(date +%s) - start)) s" >&2
  tmp=$(mktemp -d "$CARGO_PEER_CACHE/.$key-install.XXXXXX")
  cp "$CARGO_TARGET_DIR/release/$bin" "$tmp/$bin"
  cp "$dir/Cargo.lock" "$dir/Cargo.toml" "$tmp/"
  rm -rf "$(dirname "$dest")"
  mv "$tmp" "$(dirname "$dest")"
  echo "installed $dest" >&2
}
