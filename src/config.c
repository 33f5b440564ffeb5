#include "lp2p/config.h"

#include "transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Defaults of test-plans transport-interop/README.md. */
#define DEFAULT_REDIS "redis:6379"
#define DEFAULT_IP "0.0.0.0"
#define DEFAULT_TIMEOUT_S 180

typedef struct names {
  const char *transport, *security, *muxer, *is_dialer, *ip, *redis, *timeout;
} names;

static const names legacy = {"transport",           "security", "muxer",
                             "is_dialer",           "ip",       "redis_addr",
                             "test_timeout_seconds"};
static const names unified = {"TRANSPORT",        "SECURE_CHANNEL", "MUXER",
                              "IS_DIALER",        "LISTENER_IP",    "REDIS_ADDR",
                              "TEST_TIMEOUT_SECS"};

/* The mode's own name first, then the other convention's. */
static const char *get(lp2p_getenv_fn env, const char *primary, const char *secondary) {
  const char *v = env(primary);
  if (!v || !*v) v = env(secondary);
  return v && *v ? v : NULL;
}

static int bad(char *err, size_t n, const char *fmt, const char *a, const char *b) {
  snprintf(err, n, fmt, a, b);
  return LP2P_EINVAL;
}

static int parse_bool(const char *v, int *out) {
  if (!strcmp(v, "true") || !strcmp(v, "1")) return *out = 1, 0;
  if (!strcmp(v, "false") || !strcmp(v, "0")) return *out = 0, 0;
  return -1;
}

/* host:port, host may be [v6]. */
static int parse_hostport(lp2p_config *cfg, const char *v) {
  const char *colon = strrchr(v, ':');
  if (!colon || colon == v) return -1;
  char *end;
  long port = strtol(colon + 1, &end, 10);
  if (*end || port <= 0 || port > 65535) return -1;
  const char *h = v;
  size_t hl = (size_t)(colon - v);
  if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') h++, hl -= 2;
  if (hl == 0 || hl >= sizeof cfg->redis_host) return -1;
  memcpy(cfg->redis_host, h, hl);
  cfg->redis_host[hl] = 0;
  cfg->redis_port = (uint16_t)port;
  return 0;
}

static int load_stack(lp2p_config *cfg, lp2p_getenv_fn env, const names *a,
                      const names *b, char *err, size_t n) {
  const char *t = get(env, a->transport, b->transport);
  if (!t)
    return bad(err, n, "%s is required (supported: %s)", a->transport,
               lp2p__transport_names());
  if (!(cfg->transport = lp2p__transport_find(t)))
    return bad(err, n, "unsupported transport '%s' (supported: %s)", t,
               lp2p__transport_names());
  /* quic-v1 secures and multiplexes itself: any security or muxer given
   * is not read (the harnesses leave them unset). */
  if (cfg->transport->secure_muxed) {
    cfg->security = NULL;
    cfg->muxer = NULL;
    return 0;
  }
  const char *s = get(env, a->security, b->security);
  if (!s)
    return bad(err, n, "%s is required (supported: %s)", a->security,
               lp2p_security_names());
  if (!(cfg->security = lp2p_security_find(s)))
    return bad(err, n, "unsupported security '%s' (supported: %s)", s,
               lp2p_security_names());
  const char *m = get(env, a->muxer, b->muxer);
  if (!m)
    return bad(err, n, "%s is required (supported: %s)", a->muxer, lp2p_muxer_names());
  if (!(cfg->muxer = lp2p_muxer_find(m)))
    return bad(err, n, "unsupported muxer '%s' (supported: %s)", m, lp2p_muxer_names());
  return 0;
}

static int load_role(lp2p_config *cfg, lp2p_getenv_fn env, const names *a, const names *b,
                     char *err, size_t n) {
  const char *d = get(env, a->is_dialer, b->is_dialer);
  if (!d) return bad(err, n, "%s is required (%s)", a->is_dialer, "true or false");
  if (parse_bool(d, &cfg->is_dialer))
    return bad(err, n, "%s must be true or false, not '%s'", a->is_dialer, d);
  const char *ip = get(env, a->ip, b->ip);
  if (!ip) ip = DEFAULT_IP;
  if (strlen(ip) >= sizeof cfg->ip) return bad(err, n, "%s too long: %s", a->ip, ip);
  strcpy(cfg->ip, ip);
  const char *r = get(env, a->redis, b->redis);
  if (parse_hostport(cfg, r ? r : DEFAULT_REDIS))
    return bad(err, n, "%s must be host:port, not '%s'", a->redis, r);
  const char *to = get(env, a->timeout, b->timeout);
  cfg->timeout_s = DEFAULT_TIMEOUT_S;
  if (to) {
    char *end;
    long v = strtol(to, &end, 10);
    if (*end || v <= 0 || v > 86400)
      return bad(err, n, "%s must be a number of seconds, not '%s'", a->timeout, to);
    cfg->timeout_s = (uint32_t)v;
  }
  return 0;
}

static int load_extras(lp2p_config *cfg, lp2p_getenv_fn env, char *err, size_t n) {
  const char *k = env("KEY_TYPE");
  /* Ed25519 by default: every implementation in the matrix takes it, while
   * rust-libp2p's harness app is built without secp256k1 support and
   * refuses such a peer in the handshake. */
  cfg->key_type = LP2P_KEY_ED25519;
  if (k && *k) {
    if (!strcmp(k, "secp256k1"))
      cfg->key_type = LP2P_KEY_SECP256K1;
    else if (strcmp(k, "ed25519") != 0)
      return bad(err, n, "unsupported KEY_TYPE '%s' (supported: %s)", k,
                 "ed25519, secp256k1");
  }
  const char *dbg = env("DEBUG"), *ldbg = env("LIBP2P_DEBUG");
  cfg->debug = (dbg && !strcmp(dbg, "true")) || (ldbg && !strcmp(ldbg, "1"));
  const char *noinl = env("LP2P_NO_INLINE_MUXER");
  cfg->no_inline_muxer = noinl && !strcmp(noinl, "1");
  /* On unless turned off: the js, py, go and rust listeners (and ours) all
   * keep the handshake bytes that arrive behind the proposal. */
  const char *opt = env("LP2P_OPTIMISTIC_SECURITY");
  cfg->optimistic_security = !(opt && !strcmp(opt, "0"));
  return 0;
}

int lp2p_config_load(lp2p_config *cfg, lp2p_getenv_fn env, char *err, size_t errlen) {
  memset(cfg, 0, sizeof *cfg);
  const char *test_key = env("TEST_KEY");
  cfg->mode = test_key && *test_key ? LP2P_MODE_UNIFIED : LP2P_MODE_LEGACY;
  const names *a = cfg->mode == LP2P_MODE_UNIFIED ? &unified : &legacy;
  const names *b = a == &unified ? &legacy : &unified;
  int rc = load_stack(cfg, env, a, b, err, errlen);
  if (!rc) rc = load_role(cfg, env, a, b, err, errlen);
  if (!rc) rc = load_extras(cfg, env, err, errlen);
  if (rc) return rc;
  if (cfg->mode == LP2P_MODE_LEGACY) {
    strcpy(cfg->redis_key, "listenerAddr");
  } else {
    /* unified-testing: TEST_KEY is 8 hex characters namespacing the key. */
    if (strlen(test_key) > 64) return bad(err, errlen, "%s too long%s", "TEST_KEY", "");
    snprintf(cfg->redis_key, sizeof cfg->redis_key, "%s_listener_multiaddr", test_key);
  }
  return 0;
}

const char *lp2p_config_usage(void) {
  return "usage: lp2p-interop [--help]\n"
         "       lp2p-interop perf        (unified-testing perf app, env below\n"
         "                                 plus UPLOAD_BYTES, DOWNLOAD_BYTES,\n"
         "                                 *_ITERATIONS, PERF_MAX_BYTES)\n"
         "       lp2p-interop perf --run-server --server-address HOST:PORT\n"
         "       lp2p-interop perf --server-address HOST:PORT --transport tcp\n"
         "                         --upload-bytes N --download-bytes M [--muxer M]\n"
         "                                (test-plans perf)\n"
         "\n"
         "libp2p interop test app: plays listener or dialer, set up by the\n"
         "environment, meeting its peer through Redis.\n"
         "\n"
         "test-plans transport-interop (lowercase):\n"
         "  transport             tcp | ws | wss | quic-v1     (required)\n"
         "  security              noise | tls | plaintext      (required; not\n"
         "  muxer                 yamux | mplex                 read for quic-v1)\n"
         "  is_dialer             true | false                 (required)\n"
         "  ip                    listen IP                    (0.0.0.0)\n"
         "  redis_addr            host:port                    (redis:6379)\n"
         "  test_timeout_seconds  whole-test bound             (180)\n"
         "  Listener: RPUSH listenerAddr <multiaddr>; dialer: BLPOP it and print\n"
         "  {\"handshakePlusOneRTTMillis\":..,\"pingRTTMilllis\":..}\n"
         "\n"
         "unified-testing (UPPERCASE, used when TEST_KEY is set):\n"
         "  TRANSPORT, SECURE_CHANNEL, MUXER, IS_DIALER, LISTENER_IP,\n"
         "  REDIS_ADDR, TEST_TIMEOUT_SECS as above; TEST_KEY names the Redis\n"
         "  key <TEST_KEY>_listener_multiaddr; the dialer prints a YAML\n"
         "  latency: block.\n"
         "\n"
         "Both:\n"
         "  KEY_TYPE              ed25519 | secp256k1          (ed25519)\n"
         "  DEBUG=true or LIBP2P_DEBUG=1   per-layer debug lines on stderr\n"
         "  LP2P_NO_INLINE_MUXER=1        negotiate the muxer with multistream\n"
         "                                even when the peer lists it in Noise\n"
         "                                or TLS ALPN\n"
         "  LP2P_OPTIMISTIC_SECURITY=0    dialer: wait for the listener's echo\n"
         "                                of the security protocol before the\n"
         "                                handshake's first message (default:\n"
         "                                send it behind the proposal)\n";
}
