/* The module's side of gnutls_module.h: its one exported table. */
#include "gnutls_module.h"
#include "lp2p_build_id.h"
#include "udp.h"

#include "lp2p/tls.h"
#include "lp2p/tls_cert.h"
#include "lp2p/tls_layer.h"
#include "lp2p/tls_session.h"

#include <gnutls/crypto.h>

static void *tls_shared_new(lp2p_env *env, const lp2p_security_params *p) {
  lp2p_tls_creds *creds = NULL;
  return lp2p_tls_cert_credentials(&creds, p->identity, env) == 0 ? creds : NULL;
}
static void tls_shared_free(void *shared) { lp2p_tls_creds_free(shared); }
static void *tls_create(lp2p_env *env, const lp2p_security_params *p, lp2p_io io) {
  lp2p_tls_sec_config cfg = {.initiator = p->initiator,
                             .identity = p->identity,
                             .muxers = p->muxers,
                             .n_muxers = p->n_muxers,
                             .expected_peer = p->expected_peer,
                             .creds = p->shared};
  return lp2p_tls_new(env, &cfg, io);
}
static int tls_start(void *s) { return lp2p_tls_start(s); }
static int tls_recv(void *s, const uint8_t *in, size_t len) {
  return lp2p_tls_recv(s, in, len);
}
static int tls_send(void *s, const uint8_t *p, size_t len) {
  return lp2p_tls_send(s, p, len);
}
static int tls_sendv(void *s, const lp2p_iovec *v, size_t n) {
  return lp2p_tls_sendv(s, v, n);
}
static void tls_destroy(void *s) { lp2p_tls_free(s); }

static const lp2p_security_ops tls_ops = {.name = "tls",
                                          .protocol = LP2P_TLS_PROTOCOL,
                                          .shared_new = tls_shared_new,
                                          .shared_free = tls_shared_free,
                                          .create = tls_create,
                                          .start = tls_start,
                                          .recv = tls_recv,
                                          .send = tls_send,
                                          .destroy = tls_destroy,
                                          .sendv = tls_sendv};

static int wss_creds(void **out, const lp2p_env *env) {
  lp2p_tls_creds *c = NULL;
  int rc = lp2p_tls_selfsigned_credentials(&c, env);
  *out = c;
  return rc;
}
static void creds_free(void *creds) { lp2p_tls_creds_free(creds); }

static int sha1(uint8_t out[20], const uint8_t *p, size_t len) {
  if (lp2p_gnutls_init()) return LP2P_ENOMEM;
  return gnutls_hash_fast(GNUTLS_DIG_SHA1, p, len, out) < 0 ? LP2P_EINVAL : 0;
}

/* What the module exports (its version script hides everything else). */
__attribute__((visibility("default"))) extern const lp2p__gnutls_ops lp2p_gnutls_module;
const lp2p__gnutls_ops lp2p_gnutls_module = {.abi = LP2P__GNUTLS_ABI,
                                             .size = sizeof(lp2p__gnutls_ops),
                                             .build_id = LP2P__BUILD_ID,
                                             .tls = &tls_ops,
                                             .tls_layer = &lp2p_tls_layer,
                                             .wss_creds = wss_creds,
                                             .creds_free = creds_free,
                                             .quic = &lp2p__udp_driver,
                                             .key_check = lp2p__spki_check,
                                             .key_verify = lp2p__spki_verify,
                                             .sha1 = sha1};
