# Sourced by tests/interop/go/install.sh and tests/interop/go-perf/install.sh:
# both build a main package on go-libp2p v0.48.0 the same way.
#
#   go_build NAME SRC_DIR OUT
#
# Finds the Go toolchain (`go` on PATH or /usr/local/go/bin/go, at least
# go-libp2p v0.48.0's minimum, 1.25.7; GOTOOLCHAIN=local: never switched or
# downloaded), then builds SRC_DIR into OUT (atomically) with
# -mod=readonly (modules through the machine's default Go proxy settings,
# checked against go.sum; a missing hash fails the build) and the module
# and build caches under $LP2P_INTEROP_CACHE (go-modcache, go-buildcache),
# shared by both peers. Exits 1 with "NAME: ..." on failure.
GO_MIN=1.25.7

go_build() {
  local name=$1 src=$2 out=$3
  local cache=${LP2P_INTEROP_CACHE:-/var/cache/lp2p-interop}
  local go ver
  go=$(command -v go || true)
  [[ -z $go && -x /usr/local/go/bin/go ]] && go=/usr/local/go/bin/go
  [[ -n $go ]] || { echo "$name: no Go toolchain found (need go >= $GO_MIN on PATH or in /usr/local/go)" >&2; exit 1; }
  export GOTOOLCHAIN=local
  ver=$("$go" env GOVERSION 2>/dev/null || true)
  ver=${ver#go}
  [[ -n $ver ]] || { echo "$name: cannot read the version of $go" >&2; exit 1; }
  [[ $(printf '%s\n%s\n' "$GO_MIN" "$ver" | sort -V | head -n1) == "$GO_MIN" ]] ||
    { echo "$name: $go is go$ver; go-libp2p v0.48.0 needs go >= $GO_MIN" >&2; exit 1; }
  mkdir -p "$(dirname "$out")" "$cache/go-modcache" "$cache/go-buildcache" ||
    { echo "$name: cannot create $(dirname "$out")" >&2; exit 1; }
  echo "$name: building with go$ver into $(dirname "$out")" >&2
  local tmp=$out.tmp.$$
  if ! (cd "$src" && GOMODCACHE=$cache/go-modcache GOCACHE=$cache/go-buildcache \
          GOFLAGS="-mod=readonly -buildvcs=false" CGO_ENABLED=0 \
          "$go" build -trimpath -o "$tmp" .); then
    rm -f "$tmp"
    echo "$name: go build failed (see above)" >&2
    exit 1
  fi
  mv -f "$tmp" "$out"
}
