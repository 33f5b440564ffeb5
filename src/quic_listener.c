/* The QUIC listener endpoint (see quic.h): routes datagrams to connections
 * by destination connection id (RFC 9000 section 5.2), accepts new ones
 * under a cap on concurrent handshakes, validates addresses with Retry
 * when under pressure (section 8.1), and answers what it cannot route:
 * Version Negotiation (section 6) and Stateless Reset (section 10.3). */
#include "quic_internal.h"

#include <ngtcp2/ngtcp2_crypto.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* Key material of our Retry tokens: per listener, never leaves it. */
#define RETRY_SECRET_LEN 32
/* How long a Retry token is good for: one round trip and then some; a
 * token captured and replayed later, or from elsewhere (the address is in
 * it), is refused. */
#define RETRY_TOKEN_MS 3000

typedef struct entry {
  struct entry *next;
  struct lp2p_quic_listener *l;
  lp2p_quic_conn *q;
  ngtcp2_cid cids[LP2P__QUIC_MAX_CIDS];
  size_t n_cids;
} entry;

struct lp2p_quic_listener {
  lp2p_env *env;
  lp2p_quic_listener_config cfg;
  lp2p_quic_addr local;
  lp2p_quic_listener_cbs cbs;
  entry *conns;
  unsigned n_conns;
  unsigned retries; /* Retry packets sent */
  uint8_t retry_secret[RETRY_SECRET_LEN];
  uint8_t buf[LP2P_QUIC_DGRAM_MAX];
};

/* RFC 9000 section 14.1: a client's Initial datagram is at least 1200
 * bytes; nothing shorter earns a Version Negotiation. */
#define MIN_INITIAL 1200
/* Section 10.3: a Stateless Reset is at least 21 bytes (we send 1 + 5
 * random + 16 token at the least) and smaller than what triggered it, so
 * two endpoints cannot loop; 41 bytes looks like a short packet. */
#define RESET_MIN 22
#define RESET_MAX 41

static void drop(const char *why) { LP2P_INFO("quic", "datagram dropped: %s", why); }

static entry *find(lp2p_quic_listener *l, const uint8_t *cid, size_t len) {
  for (entry *e = l->conns; e; e = e->next)
    for (size_t i = 0; i < e->n_cids; i++)
      if (e->cids[i].datalen == len && memcmp(e->cids[i].data, cid, len) == 0) return e;
  return NULL;
}

static void cid_cb(void *owner, lp2p_quic_conn *q, const ngtcp2_cid *cid, int add) {
  (void)q;
  entry *e = owner;
  if (add) {
    if (e->n_cids < LP2P__QUIC_MAX_CIDS) e->cids[e->n_cids++] = *cid;
    return;
  }
  for (size_t i = 0; i < e->n_cids; i++)
    if (ngtcp2_cid_eq(&e->cids[i], cid)) {
      e->cids[i] = e->cids[--e->n_cids];
      return;
    }
}

static int conn_write(void *ud, const uint8_t *p, size_t len) {
  entry *e = ud;
  return e->l->cbs.send(e->l->cbs.ud, lp2p_quic_conn_remote(e->q), p, len);
}

static int conn_event(void *ud, const lp2p_event *ev) {
  entry *e = ud;
  return e->l->cbs.event(e->l->cbs.ud, e->q, ev);
}

static void remove_entry(lp2p_quic_listener *l, entry *e, int err) {
  for (entry **pp = &l->conns; *pp; pp = &(*pp)->next)
    if (*pp == e) {
      *pp = e->next;
      break;
    }
  l->n_conns--;
  if (l->cbs.gone) l->cbs.gone(l->cbs.ud, e->q, err);
  lp2p_quic_conn_free(e->q);
  free(e);
}

/* After q ran: the driver's turn (ran), then free q if it is over, else
 * tell the driver its deadline. */
static void settle(lp2p_quic_listener *l, entry *e, int rc) {
  if (rc == 0 && !lp2p__quic_is_over(e->q) && l->cbs.ran &&
      (rc = l->cbs.ran(l->cbs.ud, e->q)) != 0)
    lp2p_quic_conn_close(e->q);
  if (rc || lp2p__quic_is_over(e->q)) {
    const char *why = lp2p_take_reason();
    if (rc && rc != LP2P_EEOF && rc != LP2P_ECLOSED)
      LP2P_INFO("quic", "connection closed: %s", why ? why : lp2p_strerror(rc));
    remove_entry(l, e, rc == LP2P_EEOF || rc == LP2P_ECLOSED ? 0 : rc);
    return;
  }
  if (l->cbs.timer) l->cbs.timer(l->cbs.ud, e->q, lp2p_quic_conn_deadline(e->q));
}

unsigned lp2p_quic_listener_handshakes(const lp2p_quic_listener *l) {
  unsigned n = 0;
  for (const entry *e = l->conns; e; e = e->next)
    n += !lp2p__quic_handshake_done(e->q);
  return n;
}

unsigned lp2p_quic_listener_connections(const lp2p_quic_listener *l) {
  return l->n_conns;
}

unsigned lp2p_quic_listener_retries(const lp2p_quic_listener *l) { return l->retries; }

lp2p_quic_listener *lp2p_quic_listener_new(lp2p_env *env,
                                           const lp2p_quic_listener_config *cfg,
                                           const lp2p_quic_addr *local,
                                           lp2p_quic_listener_cbs cbs) {
  lp2p_quic_listener *l = calloc(1, sizeof *l);
  if (!l) return NULL;
  l->env = env;
  l->cfg = *cfg;
  l->local = *local;
  l->cbs = cbs;
  if (env->random(env->random_ud, l->retry_secret, RETRY_SECRET_LEN)) {
    LP2P_ERROR("quic", "cannot make the listener's Retry secret");
    free(l);
    return NULL;
  }
  return l;
}

static void version_negotiation(lp2p_quic_listener *l, const lp2p_quic_addr *from,
                                const ngtcp2_version_cid *vc, size_t len) {
  if (len < MIN_INITIAL) return drop("unknown version in a short datagram");
  uint8_t r = 0;
  l->env->random(l->env->random_ud, &r, 1);
  const uint32_t sv[] = {NGTCP2_PROTO_VER_V1};
  ngtcp2_ssize n = ngtcp2_pkt_write_version_negotiation(
      l->buf, sizeof l->buf, r, vc->scid, vc->scidlen, vc->dcid, vc->dcidlen, sv, 1);
  LP2P_INFO("quic", "version 0x%08x: answered with Version Negotiation", vc->version);
  if (n > 0) l->cbs.send(l->cbs.ud, from, l->buf, (size_t)n);
}

static void stateless_reset(lp2p_quic_listener *l, const lp2p_quic_addr *from,
                            const ngtcp2_version_cid *vc, size_t len) {
  if (len < RESET_MIN + 1 || vc->dcidlen != LP2P_QUIC_CID_LEN)
    return drop("short packet for no connection");
  ngtcp2_cid cid;
  ngtcp2_cid_init(&cid, vc->dcid, vc->dcidlen);
  uint8_t token[NGTCP2_STATELESS_RESET_TOKENLEN], rnd[RESET_MAX];
  size_t size = len - 1 < RESET_MAX ? len - 1 : RESET_MAX;
  size_t rlen = size - 1 - NGTCP2_STATELESS_RESET_TOKENLEN;
  if (lp2p__quic_reset_token(l->cfg.conn.shared, token, &cid) ||
      l->env->random(l->env->random_ud, rnd, rlen))
    return;
  ngtcp2_ssize n =
      ngtcp2_pkt_write_stateless_reset(l->buf, sizeof l->buf, token, rnd, rlen);
  LP2P_INFO("quic", "packet for no connection: answered with Stateless Reset");
  if (n > 0) l->cbs.send(l->cbs.ud, from, l->buf, (size_t)n);
}

static uint64_t now_ts(const lp2p_quic_listener *l) {
  return l->env->now_ms * NGTCP2_MILLISECONDS;
}

/* quic-go's policy: a Retry costs every dialer a round trip, so only a
 * listener with many handshakes in progress asks for one. */
static int under_pressure(const lp2p_quic_listener *l) {
  unsigned from = l->cfg.retry_from ? l->cfg.retry_from : l->cfg.max_handshakes / 2;
  return lp2p_quic_listener_handshakes(l) >= (from ? from : 1);
}

/* RFC 9000 section 8.1.2: a Retry carrying a token bound to the client's
 * address, our new SCID and its original DCID; no state is kept. The
 * Retry is smaller than the Initial that asked for it (section 8.1). */
static void send_retry(lp2p_quic_listener *l, const lp2p_quic_addr *from,
                       const ngtcp2_pkt_hd *hd) {
  ngtcp2_cid scid = {.datalen = LP2P_QUIC_CID_LEN};
  uint8_t token[NGTCP2_CRYPTO_MAX_RETRY_TOKENLEN];
  if (l->env->random(l->env->random_ud, scid.data, scid.datalen))
    return drop("no randomness for a Retry");
  ngtcp2_ssize tlen = ngtcp2_crypto_generate_retry_token(
      token, l->retry_secret, RETRY_SECRET_LEN, hd->version,
      (const ngtcp2_sockaddr *)&from->sa, from->len, &scid, &hd->dcid, now_ts(l));
  if (tlen < 0) return drop("cannot make a Retry token");
  ngtcp2_ssize n =
      ngtcp2_crypto_write_retry(l->buf, sizeof l->buf, hd->version, &hd->scid, &scid,
                                &hd->dcid, token, (size_t)tlen);
  if (n <= 0) return drop("cannot write a Retry");
  l->retries++;
  LP2P_DEBUG("quic", "under pressure: answered an Initial with Retry");
  l->cbs.send(l->cbs.ud, from, l->buf, (size_t)n);
}

/* Section 8.1.2: an Initial with a Retry token we cannot verify (forged,
 * expired, from another address) gets no connection; the client would not
 * take a second Retry, so it is told at once with INVALID_TOKEN (a packet
 * no larger than what it sent) instead of timing out. */
static void refuse_token(lp2p_quic_listener *l, const lp2p_quic_addr *from,
                         const ngtcp2_pkt_hd *hd) {
  drop("Retry token invalid or expired");
  ngtcp2_ssize n =
      ngtcp2_crypto_write_connection_close(l->buf, sizeof l->buf, hd->version, &hd->scid,
                                           &hd->dcid, NGTCP2_INVALID_TOKEN, NULL, 0);
  if (n > 0) l->cbs.send(l->cbs.ud, from, l->buf, (size_t)n);
}

static void accept_new(lp2p_quic_listener *l, const lp2p_quic_addr *from,
                       const uint8_t *p, size_t len) {
  ngtcp2_pkt_hd hd;
  if (ngtcp2_accept(&hd, p, len) != 0) return drop("not an acceptable first Initial");
  /* We issue no NEW_TOKEN tokens, so the only token we know is a Retry
   * token; any other is ignored (section 8.1.3: as if there were none). */
  ngtcp2_cid odcid;
  int retried = hd.token.len > 0 && hd.token.base[0] == NGTCP2_CRYPTO_TOKEN_MAGIC_RETRY;
  if (retried &&
      ngtcp2_crypto_verify_retry_token(
          &odcid, hd.token.base, hd.token.len, l->retry_secret, RETRY_SECRET_LEN,
          hd.version, (const ngtcp2_sockaddr *)&from->sa, from->len, &hd.dcid,
          RETRY_TOKEN_MS * NGTCP2_MILLISECONDS, now_ts(l)) != 0)
    return refuse_token(l, from, &hd);
  if (!retried && under_pressure(l)) return send_retry(l, from, &hd);
  if (lp2p_quic_listener_handshakes(l) >= l->cfg.max_handshakes)
    return drop("too many handshakes in progress");
  if (l->n_conns >= l->cfg.max_connections) return drop("too many connections");
  entry *e = calloc(1, sizeof *e);
  if (!e) return drop("out of memory");
  e->l = l;
  lp2p_io io = {.write = conn_write, .event = conn_event, .ud = e};
  e->q = lp2p__quic_accept(l->env, &l->cfg.conn, &l->local, from, &hd,
                           retried ? &odcid : NULL, io, cid_cb, e);
  if (!e->q) {
    free(e);
    return drop("cannot accept");
  }
  e->next = l->conns;
  l->conns = e;
  l->n_conns++;
  LP2P_DEBUG("quic", "accepted a connection (%u handshakes)",
             lp2p_quic_listener_handshakes(l));
  settle(l, e, lp2p_quic_conn_recv(e->q, from, p, len));
}

int lp2p_quic_listener_recv(lp2p_quic_listener *l, const lp2p_quic_addr *from,
                            const uint8_t *p, size_t len) {
  lp2p_clear_reason();
  /* ngtcp2 asserts on an empty datagram. */
  if (len == 0) {
    drop("empty datagram");
    return 0;
  }
  ngtcp2_version_cid vc;
  int rv = ngtcp2_pkt_decode_version_cid(&vc, p, len, LP2P_QUIC_CID_LEN);
  if (rv == NGTCP2_ERR_VERSION_NEGOTIATION) {
    version_negotiation(l, from, &vc, len);
    return 0;
  }
  if (rv) {
    drop("no QUIC header");
    return 0;
  }
  entry *e = find(l, vc.dcid, vc.dcidlen);
  if (e)
    settle(l, e, lp2p_quic_conn_recv(e->q, from, p, len));
  else if (p[0] & 0x80)
    accept_new(l, from, p, len);
  else
    stateless_reset(l, from, &vc, len);
  return 0;
}

void lp2p_quic_listener_expire(lp2p_quic_listener *l, lp2p_quic_conn *q) {
  lp2p_clear_reason();
  for (entry *e = l->conns; e; e = e->next)
    if (e->q == q) {
      settle(l, e, lp2p_quic_conn_expire(q));
      return;
    }
}

void lp2p_quic_listener_close_conn(lp2p_quic_listener *l, lp2p_quic_conn *q) {
  for (entry *e = l->conns; e; e = e->next)
    if (e->q == q) {
      lp2p_quic_conn_close(q);
      remove_entry(l, e, 0);
      return;
    }
}

void lp2p_quic_listener_free(lp2p_quic_listener *l) {
  if (!l) return;
  while (l->conns) {
    lp2p_quic_conn_close(l->conns->q);
    remove_entry(l, l->conns, 0);
  }
  sodium_memzero(l->retry_secret, sizeof l->retry_secret);
  free(l);
}
