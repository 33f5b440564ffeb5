#include "lp2p/tls_layer.h"

#include "lp2p/tls_session.h"

#include <stdlib.h>

typedef struct tls_layer {
  lp2p_env *env;
  lp2p_tls_session *s;
  uint64_t deadline; /* the handshake's */
  uint32_t step_ms;
} tls_layer;

/* The session's events (READY, DATA, EOF) go straight to the layer's io:
 * they are the byte layer events. */
static void *tl_create(lp2p_env *env, int initiator, const lp2p_layer_params *p,
                       lp2p_io io) {
  if (!initiator && !p->tls_creds) return NULL;
  tls_layer *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  lp2p_tls_config cfg = {.client = initiator, .creds = initiator ? NULL : p->tls_creds};
  t->env = env;
  t->step_ms = p->step_timeout_ms ? p->step_timeout_ms : 10000;
  t->deadline = LP2P_NO_DEADLINE; /* from start() */
  if (!(t->s = lp2p_tls_session_new(env, &cfg, io))) {
    free(t);
    return NULL;
  }
  return t;
}

static int tl_start(void *l) {
  tls_layer *t = l;
  t->deadline = t->env->now_ms + t->step_ms;
  return lp2p_tls_session_start(t->s);
}

static int tl_recv(void *l, const uint8_t *in, size_t len) {
  return lp2p_tls_session_recv(((tls_layer *)l)->s, in, len);
}

static int tl_send(void *l, const uint8_t *p, size_t len) {
  return lp2p_tls_session_send(((tls_layer *)l)->s, p, len);
}

/* close_notify (RFC 8446 section 6.1). */
static int tl_close(void *l) {
  tls_layer *t = l;
  return lp2p_tls_session_handshake_done(t->s) ? lp2p_tls_session_close(t->s) : 0;
}

static uint64_t tl_deadline(const void *l) {
  const tls_layer *t = l;
  return lp2p_tls_session_handshake_done(t->s) ? LP2P_NO_DEADLINE : t->deadline;
}

static int tl_expire(void *l) {
  tls_layer *t = l;
  if (lp2p_tls_session_handshake_done(t->s) || t->env->now_ms < t->deadline) return 0;
  LP2P_REASON("tls", "the TLS handshake did not finish within %u ms", t->step_ms);
  return LP2P_ETIMEDOUT;
}

static void tl_destroy(void *l) {
  tls_layer *t = l;
  if (!t) return;
  lp2p_tls_session_free(t->s);
  free(t);
}

const lp2p_layer_ops lp2p_tls_layer = {.name = "tls",
                                       .create = tl_create,
                                       .start = tl_start,
                                       .recv = tl_recv,
                                       .send = tl_send,
                                       .close = tl_close,
                                       .deadline = tl_deadline,
                                       .expire = tl_expire,
                                       .destroy = tl_destroy};
