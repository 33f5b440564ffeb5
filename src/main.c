/* lp2p-interop: the libp2p interop test app. Config from the environment,
 * the role on one loop, the result on stdout; everything else on stderr. */
#include "lp2p/node.h"
#include "perf_app.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *env_lookup(const char *name) { return getenv(name); }

static void print_result(const lp2p_config *cfg, const lp2p_result *r) {
  if (cfg->mode == LP2P_MODE_LEGACY)
    /* test-plans transport-interop: "pingRTTMilllis" has three l's. */
    printf("{\"handshakePlusOneRTTMillis\":%.3f,\"pingRTTMilllis\":%.3f}\n",
           r->handshake_plus_one_rtt_ms, r->ping_rtt_ms);
  else
    printf("latency:\n  handshake_plus_one_rtt: %.3f\n  ping_rtt: %.3f\n  unit: ms\n",
           r->handshake_plus_one_rtt_ms, r->ping_rtt_ms);
  fflush(stdout);
}

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);
  /* lp2p-interop perf [test-plans flags]: the perf app (perf_app.h). */
  if (argc > 1 && !strcmp(argv[1], "perf")) return lp2p_perf_app_main(argc - 1, argv + 1);
  if (argc > 1) {
    int help = !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h");
    fputs(lp2p_config_usage(), help ? stdout : stderr);
    return help ? 0 : 2;
  }
  lp2p_config cfg;
  char err[256];
  if (lp2p_config_load(&cfg, env_lookup, err, sizeof err)) {
    fprintf(stderr, "lp2p-interop: %s\n", err);
    return 1;
  }
  /* Quiet unless asked: a run that fails says why in one error line. */
  lp2p_log_level = cfg.debug ? LP2P_LOG_DEBUG : LP2P_LOG_ERROR;
  signal(SIGPIPE, SIG_IGN);
  lp2p_result res = {0};
  if (lp2p_node_run(&cfg, &res) != 0) return 1;
  if (cfg.is_dialer) print_result(&cfg, &res);
  return 0;
}
