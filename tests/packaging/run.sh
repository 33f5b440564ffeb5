#!/usr/bin/env bash
# All packaging tests, in order (podman.sh first: it builds the image from
# the Dockerfile and copies the image's binary out for the others). Exit 77
# from a test means "cannot run here" and is only allowed outside CI (lib.sh
# fails instead when CI=true). Ends with a "packaging: N passed, N failed"
# line, after checking that no container or network of these tests is left.
set -uo pipefail
cd "$(dirname "$0")"
pass=0 fail=0 skip=0 failed=()
for t in podman static unified; do
  printf -- '---- tests/packaging/%s.sh\n' "$t"
  start=$SECONDS
  bash "./$t.sh"
  rc=$?
  case $rc in
    0) pass=$((pass + 1)); echo "---- $t: ok ($((SECONDS - start)) s)" ;;
    77) skip=$((skip + 1)); echo "---- $t: skipped" ;;
    *) fail=$((fail + 1)); failed+=("$t"); echo "---- $t: FAILED (exit $rc)" ;;
  esac
done
if command -v podman >/dev/null; then
  left=$(CONTAINERS_CONF=$PWD/containers.conf podman ps -a --format '{{.Names}}' 2>/dev/null | grep '^lp2ppkg' || true)
  left+=$(CONTAINERS_CONF=$PWD/containers.conf podman network ls --format '{{.Name}}' 2>/dev/null | grep '^lp2ppkg' || true)
  if [[ -n $left ]]; then
    echo "packaging: containers or networks left behind: $(echo $left)"
    fail=$((fail + 1)); failed+=(leftovers)
  fi
fi
echo "packaging: $pass passed, $fail failed, $skip skipped"
if [[ ${CI:-} == true && $skip != 0 ]]; then echo "packaging: skips are failures under CI=true"; exit 1; fi
[[ $fail == 0 ]] || { echo "packaging: failed: ${failed[*]}"; exit 1; }
