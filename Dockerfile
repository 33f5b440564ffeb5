# syntax=docker/dockerfile:1
# lp2p-interop test-app image for the libp2p interop harnesses
# (test-plans transport-interop and unified-testing).
#
#   docker build -t lp2p-interop .
#   docker compose up --exit-code-from dialer      # one test, see compose.yml
#
# tests/packaging/image.sh proves both stages without Docker: it runs the
# build stage's exact steps in a clean debootstrapped Debian 12 chroot, then
# runs a full ping from a root holding only what the runtime stage holds.

# ---- build: Debian 12, the packages in scripts/build-packages.txt, then the
# one release script (static deps, -Werror, unit tests, strip).
FROM debian:12 AS build
ENV DEBIAN_FRONTEND=noninteractive
COPY scripts/build-packages.txt /tmp/build-packages.txt
RUN apt-get update \
 && apt-get install -y --no-install-recommends $(sed 's/#.*//' /tmp/build-packages.txt) \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN BUILD_DIR=/build scripts/build-release.sh

# ---- runtime: distroless base-nossl = glibc + /etc basics, no shell, no
# openssl. The binary links only libc.so.6 (scripts/build-release.sh checks).
FROM gcr.io/distroless/base-nossl-debian12 AS runtime
COPY --from=build /build/lp2p-interop /usr/local/bin/lp2p-interop
ENTRYPOINT ["/usr/local/bin/lp2p-interop"]
