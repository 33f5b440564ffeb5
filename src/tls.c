/* /tls/1.0.0: the libp2p rules (tls.md) on top of the generic session. */
#include "lp2p/tls.h"

#include "lp2p/tls_cert.h"

#include <stdlib.h>
#include <string.h>

struct lp2p_tls {
  lp2p_env *env;
  lp2p_io io;
  lp2p_tls_session *s;
  lp2p_tls_creds *own_creds; /* made here when none was shared */
  int has_expected;
  lp2p_peerid expected;
  lp2p_pubkey remote;
  int has_remote;
};

/* ---- certificates, once per process ------------------------------------
 *
 * tls.md lets an endpoint reuse one certificate for many connections. We
 * do, per identity: measured on this machine (Debug build, GnuTLS 3.7.9),
 * making the certificate and credentials costs 0.4-0.9 ms with an ed25519
 * host key and 0.9-1.4 ms with secp256k1, against 1.8-3.0 ms for a whole
 * mutual handshake with verification, both sides together. Per connection
 * that would add a third or more to the handshake CPU, and to the dialer's
 * measured latency; the security ops make it once per process instead
 * (upgrade.c tls_shared_new, passed in as cfg->creds). The certificate key
 * never signs anything but handshakes, so sharing it across connections
 * exposes nothing new. */

/* ---- verification ------------------------------------------------------ */

/* tls.md "Peer Authentication": exactly one certificate, the libp2p one;
 * a dialer also checks the peer id it dialed. */
static int verify(void *ctx, const lp2p_tls_der *certs, size_t n) {
  lp2p_tls *t = ctx;
  if (n != 1) {
    LP2P_REASON("tls", "peer sent %zu certificates, not exactly one", n);
    return LP2P_EPROTO;
  }
  int rc = lp2p_tls_cert_verify(&t->remote, certs[0].p, certs[0].len, t->env->unix_s);
  if (rc) return rc;
  lp2p_peerid got;
  if ((rc = lp2p_peerid_from_pubkey(&got, &t->remote))) return rc;
  if (t->has_expected && !lp2p_peerid_equal(&got, &t->expected)) {
    char want[128] = "?", was[128] = "?";
    lp2p_peerid_to_text(want, sizeof want, &t->expected);
    lp2p_peerid_to_text(was, sizeof was, &got);
    LP2P_REASON("tls", "dialed %s but the peer is %s", want, was);
    return LP2P_EPEERID;
  }
  t->has_remote = 1;
  return 0;
}

/* READY of the session: the host key goes up, and the ALPN result becomes
 * the muxer ("libp2p" means none was agreed). */
static int on_event(void *ud, const lp2p_event *ev) {
  lp2p_tls *t = ud;
  if (ev->type != LP2P_EV_READY) return lp2p_io_event(&t->io, ev);
  if (!t->has_remote) return LP2P_EINVAL; /* verify always runs first */
  lp2p_event up = *ev;
  up.peer = &t->remote;
  if (up.protocol && strcmp(up.protocol, LP2P_TLS_ALPN) == 0) up.protocol = NULL;
  LP2P_DEBUG("tls", "secured, muxer %s", up.protocol ? up.protocol : "(via multistream)");
  return lp2p_io_event(&t->io, &up);
}

static int on_write(void *ud, const uint8_t *p, size_t len) {
  lp2p_tls *t = ud;
  return t->io.write(t->io.ud, p, len);
}

/* ---- engine ------------------------------------------------------------ */

lp2p_tls *lp2p_tls_new(lp2p_env *env, const lp2p_tls_sec_config *cfg, lp2p_io io) {
  if (!env || !cfg || !cfg->identity) return NULL;
  /* Our muxers, then "libp2p" (tls.md "ALPN"). */
  const char *alpn[LP2P_TLS_ALPN_MAX];
  size_t n = 0;
  for (size_t i = 0; i < cfg->n_muxers && n < LP2P_TLS_ALPN_MAX - 1; i++)
    alpn[n++] = cfg->muxers[i];
  alpn[n++] = LP2P_TLS_ALPN;

  lp2p_tls *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  t->env = env;
  t->io = io;
  if (cfg->expected_peer) {
    t->has_expected = 1;
    t->expected = *cfg->expected_peer;
  }
  const lp2p_tls_creds *creds = cfg->creds;
  if (!creds && lp2p_tls_cert_credentials(&t->own_creds, cfg->identity, env) == 0)
    creds = t->own_creds;
  if (!creds) goto fail;
  lp2p_tls_config sc = {.client = cfg->initiator,
                        .creds = creds,
                        .alpn = alpn,
                        .n_alpn = n,
                        /* tls.md: servers MUST require client authentication. */
                        .require_peer_cert = 1,
                        .verify = verify,
                        .verify_ctx = t};
  t->s = lp2p_tls_session_new(env, &sc,
                              (lp2p_io){.write = on_write, .event = on_event, .ud = t});
  if (!t->s) goto fail;
  return t;
fail:
  lp2p_tls_free(t);
  return NULL;
}

int lp2p_tls_start(lp2p_tls *t) { return lp2p_tls_session_start(t->s); }

int lp2p_tls_recv(lp2p_tls *t, const uint8_t *in, size_t len) {
  return lp2p_tls_session_recv(t->s, in, len);
}

int lp2p_tls_send(lp2p_tls *t, const uint8_t *p, size_t len) {
  return lp2p_tls_session_send(t->s, p, len);
}

int lp2p_tls_sendv(lp2p_tls *t, const lp2p_iovec *v, size_t n) {
  return lp2p_tls_session_sendv(t->s, v, n);
}

int lp2p_tls_close(lp2p_tls *t) { return lp2p_tls_session_close(t->s); }

const lp2p_pubkey *lp2p_tls_remote_key(const lp2p_tls *t) {
  return t->has_remote && lp2p_tls_session_handshake_done(t->s) ? &t->remote : NULL;
}

void lp2p_tls_free(lp2p_tls *t) {
  if (!t) return;
  lp2p_tls_session_free(t->s);
  lp2p_tls_creds_free(t->own_creds);
  free(t);
}
