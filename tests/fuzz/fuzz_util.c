#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lp2p/conn.h"
#include "lp2p/noise.h"
#include "noise.pb-c.h"

void fz_fail(const char *file, int line, const char *what) {
  fprintf(stderr, "FZ_CHECK failed at %s:%d: %s\n", file, line, what);
  abort();
}

uint8_t fz_u8(fz_in *in) { return in->off < in->len ? in->p[in->off++] : 0; }

uint16_t fz_u16(fz_in *in) {
  uint16_t hi = fz_u8(in);
  return (uint16_t)(hi << 8 | fz_u8(in));
}

uint32_t fz_u32(fz_in *in) {
  uint32_t hi = fz_u16(in);
  return hi << 16 | fz_u16(in);
}

const uint8_t *fz_take(fz_in *in, size_t n, size_t *len) {
  size_t left = in->len - in->off;
  if (n > left) n = left;
  const uint8_t *p = in->p + in->off;
  in->off += n;
  *len = n;
  return p;
}

const uint8_t *fz_rest(fz_in *in, size_t *len) {
  return fz_take(in, in->len - in->off, len);
}

static uint64_t xorshift(uint64_t *s) {
  uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ull;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return *s = x;
}

int fz_random(void *ud, uint8_t *out, size_t len) {
  uint64_t *s = ud;
  for (size_t i = 0; i < len; i++)
    out[i] = (uint8_t)(xorshift(s) >> 24);
  return 0;
}

void fz_env_init(lp2p_env *env, uint64_t *state, uint64_t seed) {
  *state = seed;
  memset(env, 0, sizeof *env);
  env->random = fz_random;
  env->random_ud = state;
}

/* ---- logging ---- */

static FILE *devnull;
static FILE *saved_stderr;
static int log_env = -1;

void fz_log_begin(int verbose) {
  if (log_env < 0) log_env = getenv("LP2P_FUZZ_LOG") != NULL;
  if (log_env) {
    lp2p_log_level = LP2P_LOG_DEBUG;
    return;
  }
  if (!verbose) {
    lp2p_log_level = -1;
    return;
  }
#ifdef __GLIBC__
  /* glibc's stderr is an assignable variable; libFuzzer and the
   * sanitizers keep their own handle on fd 2 and are not affected. */
  if (!devnull) devnull = fopen("/dev/null", "w");
  if (devnull) {
    saved_stderr = stderr;
    stderr = devnull;
    lp2p_log_level = LP2P_LOG_DEBUG;
    return;
  }
#endif
  lp2p_log_level = -1;
}

void fz_log_end(void) {
#ifdef __GLIBC__
  if (saved_stderr) {
    stderr = saved_stderr;
    saved_stderr = NULL;
  }
#endif
  lp2p_log_level = LP2P_LOG_ERROR;
}

/* ---- feeding ---- */

int fz_feed_split(uint64_t seed, const uint8_t *p, size_t len,
                  int (*feed)(void *ud, const uint8_t *p, size_t n), void *ud) {
  if (seed == 0 || len == 0) return feed(ud, p, len);
  uint64_t s = seed;
  size_t off = 0;
  while (off < len) {
    uint64_t r = xorshift(&s);
    /* Mostly small pieces (byte-at-a-time and header-sized splits), now
     * and then a large one. */
    size_t n = (r & 3) == 0 ? (size_t)(r >> 8) % 4096 + 1 : (size_t)(r >> 8) % 17 + 1;
    if (n > len - off) n = len - off;
    int rc = feed(ud, p + off, n);
    if (rc) return rc;
    off += n;
  }
  return 0;
}

int fz_sink_write(void *ud, const uint8_t *p, size_t len) {
  uint64_t *sum = ud;
  uint64_t s = sum ? *sum : 0;
  for (size_t i = 0; i < len; i++)
    s = s * 31 + p[i];
  if (sum) *sum = s;
  return 0;
}

/* ---- identities and payloads ---- */

const uint8_t fz_static_sk[4][32] = {
    {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08},
    {0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18},
    {0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28},
    {0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38},
};

const lp2p_identity *fz_identity(int idx) {
  static lp2p_identity ids[4];
  static int made[4];
  idx &= 3;
  if (!made[idx]) {
    uint8_t secret[32];
    memset(secret, 0x40 + idx, sizeof secret);
    lp2p_key_type t = idx & 1 ? LP2P_KEY_SECP256K1 : LP2P_KEY_ED25519;
    if (lp2p_identity_from_secret(&ids[idx], t, secret) != 0)
      fz_fail(__FILE__, __LINE__, "fixed identity");
    made[idx] = 1;
  }
  return &ids[idx];
}

int fz_noise_payload(uint8_t *out, size_t cap, const lp2p_identity *id,
                     const uint8_t static_pk[32], const char *const *muxers,
                     size_t n_muxers) {
  return lp2p_noise_payload_encode(out, cap, id, static_pk, muxers, n_muxers);
}

size_t fz_muxers(unsigned sel, const char *const **list) {
  static const char *const yamux_mplex[] = {"/yamux/1.0.0", "/mplex/6.7.0"};
  static const char *const mplex[] = {"/mplex/6.7.0"};
  switch (sel & 3) {
  case 0: *list = NULL; return 0;
  case 1: *list = yamux_mplex; return 1;
  case 2: *list = yamux_mplex; return 2;
  default: *list = mplex; return 1;
  }
}

lp2p_noise *fz_noise_new(lp2p_env *env, uint64_t *state, int initiator, unsigned sel,
                         lp2p_io io) {
  fz_env_init(env, state, 0x5eed0000u + sel);
  lp2p_noise_config cfg = {.initiator = initiator, .identity = fz_identity((int)sel)};
  cfg.n_muxers = fz_muxers(sel >> 2, &cfg.muxers);
  return lp2p_noise_new(env, &cfg, io);
}

lp2p_conn *fz_conn_new(lp2p_env *env, uint64_t *state, int initiator, unsigned sel,
                       lp2p_io io) {
  fz_env_init(env, state, 0xc0440000u + sel);
  lp2p_conn_config cfg = {.initiator = initiator,
                          .identity = fz_identity(sel & 4 ? 1 : 0),
                          .security = lp2p_security_find("noise"),
                          .muxer = lp2p_muxer_find(sel & 1 ? "mplex" : "yamux"),
                          .step_timeout_ms = FZ_STEP_MS,
                          .no_inline_muxer = (sel & 2) != 0};
  return lp2p_conn_new(env, &cfg, io);
}
