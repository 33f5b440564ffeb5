#!/usr/bin/env bash
# All packaging tests, in order (image.sh first: the others then use the
# binary it built in the clean Debian 12 chroot). Exit 77 from a test means
# "cannot run here" and is only allowed outside CI (lib.sh fails instead
# when CI=true). Ends with a "packaging: N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$0")"
pass=0 fail=0 skip=0 failed=()
for t in static image netns unified; do
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
echo "packaging: $pass passed, $fail failed, $skip skipped"
if [[ ${CI:-} == true && $skip != 0 ]]; then echo "packaging: skips are failures under CI=true"; exit 1; fi
[[ $fail == 0 ]] || { echo "packaging: failed: ${failed[*]}"; exit 1; }
