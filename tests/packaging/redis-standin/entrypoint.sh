#!/bin/sh
# redis:7-alpine's calling convention: `redis-server ARGS` or `-ARGS`; the
# official build has protected mode off, Debian's does not: say so here.
set -e
if [ "${1#-}" != "$1" ]; then set -- redis-server "$@"; fi
if [ "$1" = redis-server ]; then
  shift
  exec redis-server --protected-mode no "$@"
fi
exec "$@"
