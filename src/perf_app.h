/* Internal: the perf app (lp2p-interop perf). Two conventions:
 *
 *  - unified-testing perf (docs/write-a-perf-test-app.md): the roles and
 *    Redis of the ping app; the dialer runs UPLOAD_ITERATIONS exchanges
 *    (UPLOAD_BYTES up, 0 down), DOWNLOAD_ITERATIONS (0 up, DOWNLOAD_BYTES
 *    down) and LATENCY_ITERATIONS (1 up, 1 down), one stream each on one
 *    connection, and prints the upload / download (Gbps) and latency (ms)
 *    YAML blocks.
 *  - test-plans perf (perf/README.md): --run-server --server-address H:P,
 *    or a client --server-address H:P --transport tcp --upload-bytes N
 *    --download-bytes M printing a JSON line per second and a final one.
 *
 * node.c drives the connection and calls back here. */
#ifndef LP2P_PERF_APP_H
#define LP2P_PERF_APP_H

#include "lp2p/config.h"
#include "transport.h"

#include <uv.h>

typedef struct lp2p__perf_app lp2p__perf_app;

/* lp2p-interop perf [...]: parses, runs, prints; returns the exit code. */
int lp2p_perf_app_main(int argc, char **argv);

/* The dialer is about to connect (the test-plans clock starts). */
void lp2p__perf_app_dialing(lp2p__perf_app *a, uv_loop_t *loop);
/* The connection is up, or an exchange finished: records it and starts
 * the next. 0: one is running; 1: all done; < 0: could not start one. */
int lp2p__perf_app_next(lp2p__perf_app *a, const lp2p__transport *t, lp2p__link *c);
/* The listener's cap on what a perf peer may ask for. */
uint64_t lp2p__perf_app_max_bytes(const lp2p__perf_app *a);
/* The role ends: timers stop. */
void lp2p__perf_app_stop(lp2p__perf_app *a);

#endif
