# syntax=docker/dockerfile:1
# lp2p-interop test-app image for the libp2p interop harnesses
# (test-plans transport-interop and unified-testing).
#
#   docker build -t lp2p-interop .
#   docker compose up --exit-code-from dialer      # one test, see compose.yml
#
# tests/packaging/image.sh proves both stages without Docker: it runs the
# build stage's exact steps in a clean debootstrapped Debian 12 chroot
# (scripts/make-rootfs.sh included), then runs a full ping from the root that
# script made, i.e. exactly what the runtime stage holds.

# ---- build: Debian 12, the packages in scripts/build-packages.txt, the one
# release script (static deps but GnuTLS, -Werror, unit tests, strip), then
# the one root-assembly script: binary + the libraries ldd lists (glibc and
# the GnuTLS chain) + loader + /etc basics, into /rootfs.
FROM debian:12 AS build
ENV DEBIAN_FRONTEND=noninteractive
COPY scripts/build-packages.txt /tmp/build-packages.txt
RUN apt-get update \
 && apt-get install -y --no-install-recommends $(sed 's/#.*//' /tmp/build-packages.txt) \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN BUILD_DIR=/build scripts/build-release.sh \
 && scripts/make-rootfs.sh /rootfs /build/lp2p-interop

# ---- perf: the same root, the perf app as entrypoint (lp2p-interop perf:
# unified-testing perf from the environment, or the test-plans perf CLI
# flags). Build it with --target perf; the harnesses build the default
# target, which stays the last stage: the ping app.
#   docker build --target perf -t lp2p-interop-perf .
FROM scratch AS perf
COPY --from=build /rootfs /
ENTRYPOINT ["/usr/local/bin/lp2p-interop", "perf"]

# ---- runtime: nothing but that root (no shell, no package manager); its
# size is the image's size.
FROM scratch AS runtime
COPY --from=build /rootfs /
ENTRYPOINT ["/usr/local/bin/lp2p-interop"]
