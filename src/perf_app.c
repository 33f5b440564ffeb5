/* The perf app: settings, the sequence of exchanges, statistics and
 * output. See perf_app.h for the two conventions. */
#include "perf_app.h"

#include "aead.h"

#include "lp2p/node.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* write-a-perf-test-app.md: 1 GiB, 10 iterations, 100 latency rounds. */
#define DEFAULT_BYTES (1024ull * 1024 * 1024)
#define DEFAULT_ITERS 10u
#define DEFAULT_LATENCY_ITERS 100u
/* Samples are kept: a bound on how many. */
#define MAX_ITERS 100000u
/* Sizes fit a signed 64-bit integer, as the other apps parse them. */
#define MAX_BYTES_ARG ((uint64_t)INT64_MAX)
/* The unified listener serves up to this per exchange unless
 * PERF_MAX_BYTES says otherwise; the test-plans server serves any size,
 * since that harness asks for 2^53-1 bytes and stops the client by time. */
#define DEFAULT_MAX_SEND (64ull << 30)
/* The whole unified perf run, unless TEST_TIMEOUT_SECS says otherwise:
 * 20 GiB of default transfers at a slow peer's pace need minutes. */
#define DEFAULT_PERF_TIMEOUT_S 600

enum { PH_UPLOAD, PH_DOWNLOAD, PH_LATENCY, PH_END };

struct lp2p__perf_app {
  int cli;                   /* test-plans CLI convention */
  uint64_t bytes[PH_END][2]; /* per phase: upload, download */
  uint32_t iters[PH_END];
  uint64_t max_send;
  double *samples[PH_END];
  uint32_t count[PH_END];
  int phase;
  uint64_t t_iter; /* start of the running exchange, 0 if none */
  /* test-plans: the clock from before the connection, a report a second. */
  uint64_t t_start;
  uv_timer_t tick;
  int tick_init;
  uint64_t t_last, last_up, last_down;
  const lp2p__transport *t; /* the running exchange's connection */
  lp2p__link *c;
};

/* ---- settings ---- */

static int parse_u64(const char *v, uint64_t max, uint64_t *out) {
  if (!v || !*v) return -1;
  uint64_t x = 0;
  for (const char *p = v; *p; p++) {
    if (*p < '0' || *p > '9') return -1;
    unsigned d = (unsigned)(*p - '0');
    if (x > (max - d) / 10) return -1;
    x = x * 10 + d;
  }
  *out = x;
  return 0;
}

/* An env number: unset, empty or "null" (the harness writes
 * UPLOAD_ITERATIONS=null) takes the default. */
static int env_u64(const char *name, uint64_t def, uint64_t max, uint64_t *out, char *err,
                   size_t n) {
  const char *v = getenv(name);
  if (!v || !*v || !strcmp(v, "null")) {
    *out = def;
    return 0;
  }
  if (parse_u64(v, max, out) == 0) return 0;
  snprintf(err, n, "%s must be a whole number from 0 to %" PRIu64 ", not '%s'", name, max,
           v);
  return LP2P_EINVAL;
}

static int load_env(lp2p__perf_app *a, char *err, size_t n) {
  uint64_t up, down, it[PH_END];
  int rc = env_u64("UPLOAD_BYTES", DEFAULT_BYTES, MAX_BYTES_ARG, &up, err, n);
  if (!rc) rc = env_u64("DOWNLOAD_BYTES", DEFAULT_BYTES, MAX_BYTES_ARG, &down, err, n);
  if (!rc) rc = env_u64("UPLOAD_ITERATIONS", DEFAULT_ITERS, MAX_ITERS, &it[0], err, n);
  if (!rc) rc = env_u64("DOWNLOAD_ITERATIONS", DEFAULT_ITERS, MAX_ITERS, &it[1], err, n);
  if (!rc)
    rc = env_u64("LATENCY_ITERATIONS", DEFAULT_LATENCY_ITERS, MAX_ITERS, &it[2], err, n);
  if (!rc)
    rc = env_u64("PERF_MAX_BYTES", DEFAULT_MAX_SEND, UINT64_MAX, &a->max_send, err, n);
  if (rc) return rc;
  /* DURATION is accepted and ignored: iterations are counted, not timed. */
  a->bytes[PH_UPLOAD][0] = up;
  a->bytes[PH_DOWNLOAD][1] = down;
  a->bytes[PH_LATENCY][0] = a->bytes[PH_LATENCY][1] = 1;
  for (int i = 0; i < PH_END; i++)
    a->iters[i] = (uint32_t)it[i];
  return 0;
}

static int split_hostport(const char *v, char *host, size_t cap, uint16_t *port) {
  const char *colon = v ? strrchr(v, ':') : NULL;
  uint64_t p;
  if (!colon || colon == v || parse_u64(colon + 1, 65535, &p) || p == 0) return -1;
  const char *h = v;
  size_t hl = (size_t)(colon - v);
  if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') h++, hl -= 2;
  if (hl == 0 || hl >= cap) return -1;
  memcpy(host, h, hl);
  host[hl] = 0;
  *port = (uint16_t)p;
  return 0;
}

/* --name value or --name=value; returns the value or NULL. */
static const char *arg_value(int argc, char **argv, int *i, const char *name) {
  size_t l = strlen(name);
  if (strncmp(argv[*i], name, l) != 0) return NULL;
  if (argv[*i][l] == '=') return argv[*i] + l + 1;
  if (argv[*i][l] != 0) return NULL;
  if (*i + 1 >= argc) return "";
  return argv[++*i];
}

static int bad_arg(char *err, size_t n, const char *what, const char *v) {
  snprintf(err, n, "%s: bad value '%s'", what, v ? v : "");
  return LP2P_EINVAL;
}

/* The test-plans perf CLI. --muxer (yamux | mplex) and --security (noise |
 * tls) are ours: the harness runs each implementation against itself, and
 * rust-libp2p's perf binary speaks only TLS on tcp, so talking to it (and
 * benchmarking either channel) needs a choice. Default noise. */
static int load_cli(lp2p__perf_app *a, lp2p_config *cfg, int argc, char **argv, char *err,
                    size_t n) {
  const char *addr = NULL, *transport = NULL, *muxer = "yamux", *security = "noise", *v;
  int server = 0;
  uint64_t up = 0, down = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--run-server") || !strcmp(argv[i], "--run-server=true"))
      server = 1;
    else if (!strcmp(argv[i], "--run-server=false"))
      server = 0;
    else if ((v = arg_value(argc, argv, &i, "--server-address")))
      addr = v;
    else if ((v = arg_value(argc, argv, &i, "--transport")))
      transport = v;
    else if ((v = arg_value(argc, argv, &i, "--muxer")))
      muxer = v;
    else if ((v = arg_value(argc, argv, &i, "--security")))
      security = v;
    else if ((v = arg_value(argc, argv, &i, "--upload-bytes"))) {
      if (parse_u64(v, MAX_BYTES_ARG, &up)) return bad_arg(err, n, "--upload-bytes", v);
    } else if ((v = arg_value(argc, argv, &i, "--download-bytes"))) {
      if (parse_u64(v, MAX_BYTES_ARG, &down))
        return bad_arg(err, n, "--download-bytes", v);
    } else
      return bad_arg(err, n, "unknown argument", argv[i]);
  }
  char host[256];
  if (split_hostport(addr, host, sizeof host, &cfg->listen_port))
    return bad_arg(err, n, "--server-address (host:port)", addr);
  /* tcp, or quic-v1 (TLS and streams its own: --security and --muxer
   * then do not apply). */
  int any = !transport;
  if (any) transport = "tcp";
  int quic = !strcmp(transport, "quic-v1");
  if (!quic && strcmp(transport, "tcp") != 0)
    return bad_arg(err, n, "--transport (supported: tcp, quic-v1)", transport);
  if (!(cfg->muxer = lp2p_muxer_find(muxer)))
    return bad_arg(err, n, "--muxer (supported: yamux, mplex)", muxer);
  /* plaintext stays out: the perf CLI measures real channels. */
  if (strcmp(security, "noise") && strcmp(security, "tls"))
    return bad_arg(err, n, "--security (supported: noise, tls)", security);
  cfg->security = lp2p_security_find(security);
  cfg->transport = lp2p__transport_find(transport);
  /* The test-plans perf runner tells its server no transport, and rust's
   * and go's serve both at the one port: so do we. */
  if (server && any) cfg->also_transport = lp2p__transport_find("quic-v1");
  cfg->is_dialer = !server;
  cfg->no_redis = 1;
  cfg->key_type = LP2P_KEY_ED25519;
  cfg->fixed_identity = server;
  cfg->timeout_s = 0; /* the harness bounds the client with timeout(1) */
  const char *dbg = getenv("DEBUG");
  cfg->debug = dbg && !strcmp(dbg, "true");
  if (server) {
    if (strlen(host) >= sizeof cfg->ip) return bad_arg(err, n, "--server-address", addr);
    strcpy(cfg->ip, host);
  } else {
    /* No peer id: like the js and rust clients, take whoever answers. */
    snprintf(cfg->dial_addr, sizeof cfg->dial_addr, "/%s/%s/%s/%u%s",
             strchr(host, ':') ? "ip6" : "ip4", host, quic ? "udp" : "tcp",
             cfg->listen_port, quic ? "/quic-v1" : "");
    cfg->listen_port = 0;
  }
  a->cli = 1;
  a->bytes[0][0] = up;
  a->bytes[0][1] = down;
  a->iters[0] = 1;
  a->max_send = UINT64_MAX;
  return 0;
}

/* ---- statistics and output ---- */

static int cmp_double(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return a < b ? -1 : a > b;
}

/* Linear interpolation between closest ranks, as the harness's apps do. */
static double percentile(const double *v, uint32_t n, double p) {
  double idx = p / 100.0 * (n - 1);
  uint32_t lo = (uint32_t)idx, hi = lo + (idx > lo);
  return v[lo] + (v[hi] - v[lo]) * (idx - lo);
}

static void print_list(const char *name, const double *v, uint32_t n, int dec, double lo,
                       double hi, int only_out) {
  printf("  %s: [", name);
  int first = 1;
  for (uint32_t i = 0; i < n; i++) {
    if (only_out && v[i] >= lo && v[i] <= hi) continue;
    printf("%s%.*f", first ? "" : ", ", dec, v[i]);
    first = 0;
  }
  printf("]\n");
}

/* write-a-perf-test-app.md "Results Schema": min and max are those of the
 * samples inside the fences Q1 - 1.5 IQR .. Q3 + 1.5 IQR (as its example
 * shows); the outliers are the rest; samples are all of them, sorted. */
static void print_block(const char *name, const char *unit, int dec, double *v,
                        uint32_t n) {
  printf("%s:\n  iterations: %u\n", name, n);
  if (n == 0) {
    printf("  min: 0\n  q1: 0\n  median: 0\n  q3: 0\n  max: 0\n  outliers: []\n"
           "  samples: []\n  unit: %s\n",
           unit);
    return;
  }
  qsort(v, n, sizeof *v, cmp_double);
  double q1 = percentile(v, n, 25), med = percentile(v, n, 50), q3 = percentile(v, n, 75);
  double lo = q1 - 1.5 * (q3 - q1), hi = q3 + 1.5 * (q3 - q1);
  double mn = v[0], mx = v[n - 1];
  uint32_t i = 0, j = n;
  while (i < n && v[i] < lo)
    i++;
  while (j > i && v[j - 1] > hi)
    j--;
  if (i < j) mn = v[i], mx = v[j - 1];
  printf("  min: %.*f\n  q1: %.*f\n  median: %.*f\n  q3: %.*f\n  max: %.*f\n", dec, mn,
         dec, q1, dec, med, dec, q3, dec, mx);
  print_list("outliers", v, n, dec, lo, hi, 1);
  print_list("samples", v, n, dec, lo, hi, 0);
  printf("  unit: %s\n", unit);
}

static void print_yaml(lp2p__perf_app *a) {
  print_block("upload", "Gbps", 2, a->samples[PH_UPLOAD], a->count[PH_UPLOAD]);
  print_block("download", "Gbps", 2, a->samples[PH_DOWNLOAD], a->count[PH_DOWNLOAD]);
  print_block("latency", "ms", 3, a->samples[PH_LATENCY], a->count[PH_LATENCY]);
  fflush(stdout);
}

static void print_json(const char *type, double secs, uint64_t up, uint64_t down) {
  printf("{\"type\":\"%s\",\"timeSeconds\":%.9f,\"uploadBytes\":%" PRIu64
         ",\"downloadBytes\":%" PRIu64 "}\n",
         type, secs, up, down);
  fflush(stdout);
}

/* ---- the run ---- */

/* test-plans: once a second, the bytes moved since the last report and
 * the time that took (perf/README.md, "intermediary"). */
static void tick_cb(uv_timer_t *t) {
  lp2p__perf_app *a = t->data;
  uint64_t now = uv_hrtime(), up = 0, down = 0;
  if (a->c) lp2p__transport_perf_progress(a->t, a->c, &up, &down);
  if (up < a->last_up || down < a->last_down) up = a->last_up, down = a->last_down;
  print_json("intermediary", (double)(now - a->t_last) / 1e9, up - a->last_up,
             down - a->last_down);
  a->t_last = now;
  a->last_up = up;
  a->last_down = down;
}

void lp2p__perf_app_dialing(lp2p__perf_app *a, uv_loop_t *loop) {
  a->t_start = a->t_last = uv_hrtime();
  if (!a->cli || a->tick_init) return;
  uv_timer_init(loop, &a->tick);
  a->tick.data = a;
  a->tick_init = 1;
  uv_timer_start(&a->tick, tick_cb, 1000, 1000);
}

void lp2p__perf_app_stop(lp2p__perf_app *a) {
  a->c = NULL;
  if (a->tick_init && !uv_is_closing((uv_handle_t *)&a->tick))
    uv_close((uv_handle_t *)&a->tick, NULL);
}

uint64_t lp2p__perf_app_max_bytes(const lp2p__perf_app *a) { return a->max_send; }

static void record(lp2p__perf_app *a) {
  double secs = (double)(uv_hrtime() - a->t_iter) / 1e9;
  if (secs <= 0) secs = 1e-9;
  const uint64_t *b = a->bytes[a->phase];
  double v = a->phase == PH_LATENCY
                 ? secs * 1e3
                 : (double)(b[0] > b[1] ? b[0] : b[1]) * 8 / secs / 1e9;
  a->samples[a->phase][a->count[a->phase]++] = v;
  LP2P_INFO("perf", "phase %d exchange %u: %.3f", a->phase, a->count[a->phase], v);
}

int lp2p__perf_app_next(lp2p__perf_app *a, const lp2p__transport *t, lp2p__link *c) {
  a->t = t;
  a->c = c;
  if (a->t_iter) {
    if (a->cli) {
      print_json("final", (double)(uv_hrtime() - a->t_start) / 1e9, a->bytes[0][0],
                 a->bytes[0][1]);
      return 1;
    }
    record(a);
    a->t_iter = 0;
  }
  while (a->phase < PH_END && a->count[a->phase] >= a->iters[a->phase])
    a->phase++;
  if (a->phase == PH_END) return 1;
  a->t_iter = uv_hrtime();
  return lp2p__transport_perf(t, c, a->bytes[a->phase][0], a->bytes[a->phase][1]);
}

static int run(lp2p__perf_app *a, lp2p_config *cfg) {
  for (int i = 0; i < PH_END; i++)
    if (a->iters[i] && !(a->samples[i] = calloc(a->iters[i], sizeof(double)))) return 1;
  cfg->perf = a;
  lp2p_log_level = cfg->debug ? LP2P_LOG_DEBUG : LP2P_LOG_ERROR;
  /* Bulk data ahead: OpenSSL's ChaCha20-Poly1305 for the large messages. */
  lp2p__aead_enable_bulk();
  lp2p_result res = {0};
  if (lp2p_node_run(cfg, &res) != 0) return 1;
  if (cfg->is_dialer && !a->cli) print_yaml(a);
  return 0;
}

static const char *env_lookup(const char *name) { return getenv(name); }

int lp2p_perf_app_main(int argc, char **argv) {
  lp2p__perf_app a;
  lp2p_config cfg;
  char err[256] = "";
  int rc;
  memset(&a, 0, sizeof a);
  if (argc > 1) {
    memset(&cfg, 0, sizeof cfg);
    rc = load_cli(&a, &cfg, argc, argv, err, sizeof err);
  } else {
    rc = lp2p_config_load(&cfg, env_lookup, err, sizeof err);
    if (!rc) rc = load_env(&a, err, sizeof err);
    if (!rc && !lp2p__transport_has_perf(cfg.transport)) {
      snprintf(err, sizeof err,
               "perf over %s is not implemented (tcp, ws, wss, quic-v1 are)",
               lp2p__transport_name(cfg.transport));
      rc = LP2P_ENOTSUP;
    }
    if (!rc && !getenv("TEST_TIMEOUT_SECS") && !getenv("test_timeout_seconds"))
      cfg.timeout_s = DEFAULT_PERF_TIMEOUT_S;
  }
  if (rc) {
    fprintf(stderr, "lp2p-interop perf: %s\n", err);
    return 1;
  }
  rc = run(&a, &cfg);
  for (int i = 0; i < PH_END; i++)
    free(a.samples[i]);
  return rc;
}
