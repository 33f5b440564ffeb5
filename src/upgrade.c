/* Ops tables binding each engine to the contracts of upgrade.h. */
#include "lp2p/upgrade.h"

#include "gnutls_module.h"
#include "lp2p/mplex.h"
#include "lp2p/noise.h"
#include "lp2p/plaintext.h"
#include "lp2p/yamux.h"

#include <stdio.h>
#include <string.h>

static void *noise_shared_new(lp2p_env *env, const lp2p_security_params *p) {
  return lp2p_noise_shared_new(env, p->identity, p->muxers, p->n_muxers);
}
static void noise_shared_free(void *shared) { lp2p_noise_shared_free(shared); }
/* The peer check against expected_peer is conn's, after READY. */
static void *noise_create(lp2p_env *env, const lp2p_security_params *p, lp2p_io io) {
  lp2p_noise_config cfg = {.initiator = p->initiator,
                           .identity = p->identity,
                           .muxers = p->muxers,
                           .n_muxers = p->n_muxers,
                           .shared = p->shared};
  return lp2p_noise_new(env, &cfg, io);
}
static int noise_start(void *s) { return lp2p_noise_start(s); }
static int noise_recv(void *s, const uint8_t *in, size_t len) {
  return lp2p_noise_recv(s, in, len);
}
static int noise_send(void *s, const uint8_t *p, size_t len) {
  return lp2p_noise_send(s, p, len);
}
static int noise_sendv(void *s, const lp2p_iovec *v, size_t n) {
  return lp2p_noise_sendv(s, v, n);
}
static void noise_destroy(void *s) { lp2p_noise_free(s); }

static const lp2p_security_ops noise_ops = {.name = "noise",
                                            .protocol = "/noise",
                                            .shared_new = noise_shared_new,
                                            .shared_free = noise_shared_free,
                                            .create = noise_create,
                                            .start = noise_start,
                                            .recv = noise_recv,
                                            .send = noise_send,
                                            .destroy = noise_destroy,
                                            .sendv = noise_sendv};

/* tls is the GnuTLS module's (gnutls_module.h): lp2p__tls_security
 * forwards to it. */

/* Plaintext has no muxer negotiation of its own: the list is unused. */
static void *plaintext_create(lp2p_env *env, const lp2p_security_params *p, lp2p_io io) {
  lp2p_plaintext_config cfg = {.initiator = p->initiator, .identity = p->identity};
  return lp2p_plaintext_new(env, &cfg, io);
}
static int plaintext_start(void *s) { return lp2p_plaintext_start(s); }
static int plaintext_recv(void *s, const uint8_t *in, size_t len) {
  return lp2p_plaintext_recv(s, in, len);
}
static int plaintext_send(void *s, const uint8_t *p, size_t len) {
  return lp2p_plaintext_send(s, p, len);
}
static void plaintext_destroy(void *s) { lp2p_plaintext_free(s); }

static const lp2p_security_ops plaintext_ops = {.name = "plaintext",
                                                .protocol = LP2P_PLAINTEXT_PROTOCOL,
                                                .create = plaintext_create,
                                                .start = plaintext_start,
                                                .recv = plaintext_recv,
                                                .send = plaintext_send,
                                                .destroy = plaintext_destroy};

static void *yamux_create(lp2p_env *env, int initiator, lp2p_io io) {
  lp2p_yamux_config cfg = {.initiator = initiator, .autotune = 1};
  return lp2p_yamux_new(env, &cfg, io);
}
static int yamux_recv(void *m, const uint8_t *in, size_t len) {
  return lp2p_yamux_recv(m, in, len);
}
static int yamux_open(void *m, uint32_t *id) { return lp2p_yamux_open(m, id); }
static int yamux_send(void *m, uint32_t id, const uint8_t *p, size_t len) {
  return lp2p_yamux_send(m, id, p, len);
}
static int yamux_close(void *m, uint32_t id) { return lp2p_yamux_close(m, id); }
static int yamux_reset(void *m, uint32_t id) { return lp2p_yamux_reset(m, id); }
static int yamux_goaway(void *m, uint32_t code) { return lp2p_yamux_goaway(m, code); }
static size_t yamux_writable(const void *m, uint32_t id) {
  return lp2p_yamux_writable(m, id);
}
static uint64_t yamux_deadline(const void *m) { return lp2p_yamux_deadline(m); }
static int yamux_expire(void *m) { return lp2p_yamux_expire(m); }
static void yamux_destroy(void *m) { lp2p_yamux_free(m); }

static const lp2p_muxer_ops yamux_ops = {.name = "yamux",
                                         .protocol = "/yamux/1.0.0",
                                         .create = yamux_create,
                                         .recv = yamux_recv,
                                         .open = yamux_open,
                                         .send = yamux_send,
                                         .close = yamux_close,
                                         .reset = yamux_reset,
                                         .goaway = yamux_goaway,
                                         .writable = yamux_writable,
                                         .deadline = yamux_deadline,
                                         .expire = yamux_expire,
                                         .destroy = yamux_destroy};

static void *mplex_create(lp2p_env *env, int initiator, lp2p_io io) {
  lp2p_mplex_config cfg = {.initiator = initiator};
  return lp2p_mplex_new(env, &cfg, io);
}
static int mplex_recv(void *m, const uint8_t *in, size_t len) {
  return lp2p_mplex_recv(m, in, len);
}
static int mplex_open(void *m, uint32_t *id) { return lp2p_mplex_open(m, id); }
static int mplex_send(void *m, uint32_t id, const uint8_t *p, size_t len) {
  return lp2p_mplex_send(m, id, p, len);
}
static int mplex_close(void *m, uint32_t id) { return lp2p_mplex_close(m, id); }
static int mplex_reset(void *m, uint32_t id) { return lp2p_mplex_reset(m, id); }
static int mplex_goaway(void *m, uint32_t code) { return lp2p_mplex_goaway(m, code); }
static uint64_t mplex_deadline(const void *m) { return lp2p_mplex_deadline(m); }
static int mplex_expire(void *m) { return lp2p_mplex_expire(m); }
static void mplex_destroy(void *m) { lp2p_mplex_free(m); }

static const lp2p_muxer_ops mplex_ops = {.name = "mplex",
                                         .protocol = "/mplex/6.7.0",
                                         .create = mplex_create,
                                         .recv = mplex_recv,
                                         .open = mplex_open,
                                         .send = mplex_send,
                                         .close = mplex_close,
                                         .reset = mplex_reset,
                                         .goaway = mplex_goaway,
                                         .deadline = mplex_deadline,
                                         .expire = mplex_expire,
                                         .destroy = mplex_destroy};

static const lp2p_security_ops *const securities[] = {&noise_ops, &lp2p__tls_security,
                                                      &plaintext_ops};
static const lp2p_muxer_ops *const muxers[] = {&yamux_ops, &mplex_ops};

const lp2p_security_ops *lp2p_security_find(const char *name) {
  for (size_t i = 0; i < sizeof securities / sizeof *securities; i++)
    if (strcmp(securities[i]->name, name) == 0) return securities[i];
  return NULL;
}

const lp2p_muxer_ops *lp2p_muxer_find(const char *name) {
  for (size_t i = 0; i < sizeof muxers / sizeof *muxers; i++)
    if (strcmp(muxers[i]->name, name) == 0) return muxers[i];
  return NULL;
}

const char *lp2p__join_names(char out[LP2P__NAMES_MAX], const char *const *names,
                             size_t n) {
  if (out[0]) return out;
  size_t len = 0;
  for (size_t i = 0; i < n; i++) {
    int w = snprintf(out + len, LP2P__NAMES_MAX - len, "%s%s", i ? ", " : "", names[i]);
    if (w < 0 || (size_t)w >= LP2P__NAMES_MAX - len) break;
    len += (size_t)w;
  }
  return out;
}

const char *lp2p_security_names(void) {
  static char buf[LP2P__NAMES_MAX];
  const char *names[sizeof securities / sizeof *securities];
  for (size_t i = 0; i < sizeof securities / sizeof *securities; i++)
    names[i] = securities[i]->name;
  return lp2p__join_names(buf, names, sizeof securities / sizeof *securities);
}

const char *lp2p_muxer_names(void) {
  static char buf[LP2P__NAMES_MAX];
  const char *names[sizeof muxers / sizeof *muxers];
  for (size_t i = 0; i < sizeof muxers / sizeof *muxers; i++)
    names[i] = muxers[i]->name;
  return lp2p__join_names(buf, names, sizeof muxers / sizeof *muxers);
}
