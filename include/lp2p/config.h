/* The interop app's settings, read from the environment the harnesses set
 * (../shared/HARNESS.md). Legacy test-plans names are lowercase; the
 * unified-testing names are UPPERCASE and are used when TEST_KEY is set.
 * Pure: the environment comes in through a lookup function. */
#ifndef LP2P_CONFIG_H
#define LP2P_CONFIG_H

#include "lp2p/keys.h"
#include "lp2p/upgrade.h"

typedef enum lp2p_mode { LP2P_MODE_LEGACY, LP2P_MODE_UNIFIED } lp2p_mode;

struct lp2p__transport; /* src/transport.h: the I/O side's table */

typedef struct lp2p_config {
  lp2p_mode mode;
  const struct lp2p__transport *transport;
  const lp2p_security_ops *security;
  const lp2p_muxer_ops *muxer;
  int is_dialer;
  char ip[64]; /* listen IP */
  char redis_host[256];
  uint16_t redis_port;
  uint32_t timeout_s; /* whole-test bound */
  lp2p_key_type key_type;
  int debug;
  int no_inline_muxer;     /* LP2P_NO_INLINE_MUXER=1: benchmark baseline */
  int optimistic_security; /* on unless LP2P_OPTIMISTIC_SECURITY=0 (conn.h) */
  char redis_key[96];      /* listenerAddr or <TEST_KEY>_listener_multiaddr */
  /* The perf app (lp2p-interop perf, src/perf_app.c); NULL: the ping app.
   * The test-plans perf CLI meets its peer without Redis: */
  struct lp2p__perf_app *perf;
  uint16_t listen_port; /* listener: this port (0: any) */
  char dial_addr[300];  /* dialer: this multiaddr instead of Redis's */
  int no_redis;         /* listener: publish nothing */
  int fixed_identity;   /* ed25519 from a zero seed (test-plans perf) */
  /* listener: a second transport served at the same port (the test-plans
   * perf server is told no transport and serves tcp and quic-v1), or NULL */
  const struct lp2p__transport *also_transport;
} lp2p_config;

typedef const char *(*lp2p_getenv_fn)(const char *name);

/* Fills cfg; on a bad or unsupported value returns LP2P_EINVAL with a
 * one-line reason in err. */
int lp2p_config_load(lp2p_config *cfg, lp2p_getenv_fn getenv_fn, char *err,
                     size_t errlen);

/* Usage text for --help. */
const char *lp2p_config_usage(void);

#endif
