/* One QUIC connection over ngtcp2 0.12 and GnuTLS (see quic.h). The
 * certificate and its check are tls_cert.c's; multistream-select and the
 * protocols on the streams are lp2p_conn's, through lp2p_quic_muxer. */
#include "quic_internal.h"

#include "lp2p/tls_cert.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* TLS-QUIC-FACTS.md: TLS 1.3 only, the groups and ciphers quinn and go
 * offer; QUIC forbids a legacy_session_id (RFC 9001 section 8.4), hence
 * %DISABLE_TLS13_COMPAT_MODE. */
static const char PRIORITY[] =
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:"
    "+CHACHA20-POLY1305:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:"
    "%DISABLE_TLS13_COMPAT_MODE";

#define RESET_SECRET_LEN 32
/* Stream flow-control windows we grant (per stream, per connection). */
#define STREAM_WINDOW (256 * 1024)
#define CONN_WINDOW (1024 * 1024)
/* ... and how far ngtcp2 may grow them for a fast sender (base_settings). */
#define STREAM_WINDOW_MAX (8 * 1024 * 1024)
#define CONN_WINDOW_MAX (12 * 1024 * 1024)
/* Unacknowledged bytes we hold per stream before send() says ELIMIT ... */
#define STREAM_SENDBUF_MAX (1024 * 1024)
/* ... and per connection, over all its streams: a peer opening many
 * streams and acknowledging nothing would otherwise have us hold
 * STREAM_SENDBUF_MAX for each of them (up to LP2P_QUIC_MAX_STREAMS). */
#define CONN_SENDBUF_MAX (4 * STREAM_SENDBUF_MAX)
/* A bulk sender (perf) is offered room in the send buffer only in pieces
 * of at least this: acknowledgements free a few KB at a time, and refilling
 * each of them would make many small chunks, each a malloc, a free once
 * acknowledged, and a vector of its own in every STREAM frame that carries
 * it. */
#define REFILL_MIN (STREAM_SENDBUF_MAX / 4)

/* Datagrams to a loopback address: loopback's MTU is 64 KiB and nothing
 * but this host sees them, so there is no path MTU to discover and larger
 * datagrams are safe from the first; each carries over twenty times the
 * payload of a 1452-byte one for about the same system-call, packet and
 * acknowledgement cost, which is what bulk transfers (perf) on one host
 * pay for (bench/PERF-RESULTS.md). Never over the peer's
 * max_udp_payload_size: ngtcp2 takes the smaller. Two of them exceed one
 * GSO send (udp_tx.h), so they leave one per sendmsg: 16 bytes less, to
 * batch two, measured 13.5-14 Gbps against 17-18 (ours x ours, 512 MiB,
 * interleaved), the kernel splitting the pair again on loopback. */
#define LOOPBACK_DGRAM_MAX 32768

struct lp2p_quic_shared {
  gnutls_certificate_credentials_t gc;
  uint8_t reset_secret[RESET_SECRET_LEN];
};

/* A piece of stream data handed to send(): ngtcp2 keeps pointers into it
 * until it is acknowledged, so chunks never move and are freed only once
 * acked_stream_data_offset covers them. */
typedef struct chunk {
  struct chunk *next;
  uint64_t off; /* stream offset of data[0] */
  size_t len;
  size_t sent; /* bytes handed to ngtcp2 */
  uint8_t data[];
} chunk;

typedef struct qstream {
  struct qstream *next;
  int64_t id;
  chunk *head, *tail; /* unacknowledged, in offset order */
  /* The first chunk not wholly handed to ngtcp2 (NULL: all sent): writing
   * starts here, so it never walks the sent-but-unacknowledged chunks
   * before it (that walk, once per packet, was quadratic in the chunks
   * held). */
  chunk *unsent;
  uint64_t end;   /* offset after the last byte queued */
  uint64_t acked; /* everything below is acknowledged */
  int fin_due, fin_sent, reset_due, blocked, ended;
} qstream;

/* The header of every block ngtcp2 allocates for one connection (mem_*
 * below): the blocks form a ring, so whatever ngtcp2 leaves behind is
 * freed with the connection. */
typedef union mblock {
  struct {
    union mblock *prev, *next;
  } l;
  max_align_t align;
} mblock;

struct lp2p_quic_conn {
  lp2p_env *env;
  ngtcp2_mem mem; /* ngtcp2's allocator for this connection */
  mblock blocks;  /* the ring's head */
  lp2p_quic_config cfg;
  lp2p_io io;  /* datagrams; READY and EOF */
  lp2p_io sio; /* STREAM_* events: the session bound by lp2p_quic_muxer */
  int client;
  ngtcp2_conn *conn;
  ngtcp2_crypto_conn_ref ref;
  gnutls_session_t tls;
  lp2p_quic_addr local, remote;
  qstream *streams;
  uint64_t held; /* unacknowledged bytes over all streams (CONN_SENDBUF_MAX) */
  int depth;
  int up, handshake_done, over, err;
  uint64_t up_by; /* ms: READY by then, or the connection ends (0: none) */
  int verify_err;
  lp2p_pubkey peer;
  int has_peer;
  void *user;
  lp2p__quic_cid_cb cid_cb;
  void *owner;
  size_t dgram_max; /* LP2P_QUIC_DGRAM_MAX, more on loopback */
  uint8_t buf[LOOPBACK_DGRAM_MAX];
};

static uint64_t ts(const lp2p_quic_conn *q) {
  return q->env->now_ms * NGTCP2_MILLISECONDS;
}

/* ---- ngtcp2's memory ----
 * ngtcp2 0.12.1 loses STREAM frame chains on a connection that retransmits
 * many small pieces: a chain with more data vectors than fit in its object
 * pool's slot is malloc'd, strm_streamfrq_unacked_pop then trims its
 * vector count in place, and ngtcp2_frame_chain_objalloc_del, deciding by
 * that count, hands it to the pool's free list, which ngtcp2_conn_del does
 * not free (lib/ngtcp2_rtb.c, lib/ngtcp2_strm.c at v0.12.1). So every block
 * ngtcp2 allocates for a connection is kept on the connection's ring and
 * whatever is left there after ngtcp2_conn_del is freed in
 * lp2p_quic_conn_free: a long-lived listener does not leak per
 * connection. */

static void *ring_add(lp2p_quic_conn *q, mblock *b) {
  if (!b) return NULL;
  b->l.prev = &q->blocks;
  b->l.next = q->blocks.l.next;
  q->blocks.l.next->l.prev = b;
  q->blocks.l.next = b;
  return b + 1;
}

static void ring_unlink(mblock *b) {
  b->l.prev->l.next = b->l.next;
  b->l.next->l.prev = b->l.prev;
}

static void *mem_malloc(size_t size, void *ud) {
  if (size > SIZE_MAX - sizeof(mblock)) return NULL;
  return ring_add(ud, malloc(sizeof(mblock) + size));
}

static void *mem_calloc(size_t n, size_t size, void *ud) {
  if (size && n > (SIZE_MAX - sizeof(mblock)) / size) return NULL;
  return ring_add(ud, calloc(1, sizeof(mblock) + n * size));
}

static void mem_free(void *p, void *ud) {
  (void)ud;
  if (!p) return;
  mblock *b = (mblock *)p - 1;
  ring_unlink(b);
  free(b);
}

static void *mem_realloc(void *p, size_t size, void *ud) {
  if (!p) return mem_malloc(size, ud);
  if (size > SIZE_MAX - sizeof(mblock)) return NULL;
  mblock *b = (mblock *)p - 1;
  ring_unlink(b);
  mblock *nb = realloc(b, sizeof(mblock) + size);
  if (!nb) {
    ring_add(ud, b); /* still the caller's, unchanged */
    return NULL;
  }
  return ring_add(ud, nb);
}

static void mem_init(lp2p_quic_conn *q) {
  q->blocks.l.prev = q->blocks.l.next = &q->blocks;
  q->mem = (ngtcp2_mem){.user_data = q,
                        .malloc = mem_malloc,
                        .free = mem_free,
                        .calloc = mem_calloc,
                        .realloc = mem_realloc};
}

/* After ngtcp2_conn_del: what it did not free. */
static void mem_release(lp2p_quic_conn *q) {
  size_t n = 0;
  while (q->blocks.l.next != &q->blocks) {
    mblock *b = q->blocks.l.next;
    ring_unlink(b);
    free(b);
    n++;
  }
  if (n) LP2P_DEBUG("quic", "freed %zu blocks ngtcp2 left behind", n);
}

/* ---- shared ---- */

lp2p_quic_shared *lp2p_quic_shared_new(lp2p_env *env, const lp2p_identity *id) {
  if (lp2p_gnutls_init()) return NULL;
  lp2p_quic_shared *sh = calloc(1, sizeof *sh);
  lp2p_buf cert = {0}, key = {0};
  int rc = sh ? lp2p_tls_cert_make(&cert, &key, id, env) : LP2P_ENOMEM;
  if (rc == 0) rc = env->random(env->random_ud, sh->reset_secret, RESET_SECRET_LEN);
  if (rc == 0 && gnutls_certificate_allocate_credentials(&sh->gc) < 0) rc = LP2P_ENOMEM;
  if (rc == 0) {
    gnutls_datum_t c = {cert.data, (unsigned)cert.len}, k = {key.data, (unsigned)key.len};
    if (gnutls_certificate_set_x509_key_mem2(sh->gc, &c, &k, GNUTLS_X509_FMT_DER, NULL,
                                             GNUTLS_PKCS_PLAIN) < 0)
      rc = LP2P_EKEY;
  }
  lp2p_buf_free(&cert);
  lp2p_buf_free_secret(&key);
  if (rc) {
    LP2P_ERROR("quic", "cannot make our certificate: %s", lp2p_strerror(rc));
    lp2p_quic_shared_free(sh);
    return NULL;
  }
  return sh;
}

void lp2p_quic_shared_free(lp2p_quic_shared *sh) {
  if (!sh) return;
  if (sh->gc) gnutls_certificate_free_credentials(sh->gc);
  sodium_memzero(sh->reset_secret, sizeof sh->reset_secret);
  free(sh);
}

int lp2p__quic_reset_token(const lp2p_quic_shared *sh, uint8_t *token,
                           const ngtcp2_cid *cid) {
  return ngtcp2_crypto_generate_stateless_reset_token(token, sh->reset_secret,
                                                      RESET_SECRET_LEN, cid)
             ? LP2P_EINVAL
             : 0;
}

/* ---- streams ---- */

static qstream *stream_find(lp2p_quic_conn *q, int64_t id) {
  for (qstream *s = q->streams; s; s = s->next)
    if (s->id == id) return s;
  return NULL;
}

/* ngtcp2 hands the qstream back to its stream callbacks (stream user
 * data), so an acknowledgement finds its stream without a search. */
static qstream *stream_add(lp2p_quic_conn *q, int64_t id) {
  qstream *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  if (ngtcp2_conn_set_stream_user_data(q->conn, id, s) != 0) {
    free(s);
    return NULL;
  }
  s->id = id;
  s->next = q->streams;
  q->streams = s;
  return s;
}

static void stream_free(lp2p_quic_conn *q, qstream *s) {
  q->held -= s->end - s->acked;
  for (chunk *c = s->head, *n; c; c = n) {
    n = c->next;
    free(c);
  }
  free(s);
}

static void stream_remove(lp2p_quic_conn *q, int64_t id) {
  for (qstream **pp = &q->streams; *pp; pp = &(*pp)->next)
    if ((*pp)->id == id) {
      qstream *s = *pp;
      *pp = s->next;
      stream_free(q, s);
      return;
    }
}

static int emit(lp2p_quic_conn *q, lp2p_event_type t, int64_t id, const uint8_t *p,
                size_t len) {
  return lp2p_io_emit(&q->sio, t, (uint32_t)id, p, len);
}

/* ---- callbacks ---- */

static int cb_fail(lp2p_quic_conn *q, int rc) {
  if (!q->err) q->err = rc;
  return NGTCP2_ERR_CALLBACK_FAILURE;
}

static void rand_cb(uint8_t *dest, size_t len, const ngtcp2_rand_ctx *ctx) {
  lp2p_quic_conn *q = ctx->native_handle;
  if (q->env->random(q->env->random_ud, dest, len)) memset(dest, 0, len);
}

/* PATH_CHALLENGE data from the env's randomness, like every other random
 * byte of ours (ngtcp2_crypto's callback would draw GnuTLS's). */
static int path_challenge_cb(ngtcp2_conn *conn, uint8_t *data, void *ud) {
  (void)conn;
  lp2p_quic_conn *q = ud;
  return q->env->random(q->env->random_ud, data, NGTCP2_PATH_CHALLENGE_DATALEN)
             ? NGTCP2_ERR_CALLBACK_FAILURE
             : 0;
}

static int new_cid_cb(ngtcp2_conn *conn, ngtcp2_cid *cid, uint8_t *token, size_t cidlen,
                      void *ud) {
  (void)conn;
  lp2p_quic_conn *q = ud;
  if (q->env->random(q->env->random_ud, cid->data, cidlen))
    return NGTCP2_ERR_CALLBACK_FAILURE;
  cid->datalen = cidlen;
  if (lp2p__quic_reset_token(q->cfg.shared, token, cid))
    return NGTCP2_ERR_CALLBACK_FAILURE;
  if (q->cid_cb) q->cid_cb(q->owner, q, cid, 1);
  return 0;
}

static int remove_cid_cb(ngtcp2_conn *conn, const ngtcp2_cid *cid, void *ud) {
  (void)conn;
  lp2p_quic_conn *q = ud;
  if (q->cid_cb) q->cid_cb(q->owner, q, cid, 0);
  return 0;
}

static int go_up(lp2p_quic_conn *q) {
  if (q->up) return 0;
  if (!q->has_peer) return cb_fail(q, LP2P_EPROTO);
  q->up = 1;
  lp2p_event ev = {.type = LP2P_EV_READY, .protocol = LP2P_QUIC_ALPN, .peer = &q->peer};
  int rc = lp2p_io_event(&q->io, &ev);
  return rc ? cb_fail(q, rc) : 0;
}

static int hs_completed_cb(ngtcp2_conn *conn, void *ud) {
  (void)conn;
  lp2p_quic_conn *q = ud;
  q->handshake_done = 1;
  /* A server's handshake is confirmed when it completes (RFC 9001 section
   * 4.1.2); a client waits for HANDSHAKE_DONE. */
  return q->client ? 0 : go_up(q);
}

static int hs_confirmed_cb(ngtcp2_conn *conn, void *ud) {
  (void)conn;
  lp2p_quic_conn *q = ud;
  return q->client ? go_up(q) : 0;
}

static int stream_open_cb(ngtcp2_conn *conn, int64_t id, void *ud) {
  (void)conn;
  lp2p_quic_conn *q = ud;
  /* Our transport parameters allow no unidirectional streams, and libp2p
   * uses bidirectional ones only (quic/README.md). */
  if (!ngtcp2_is_bidi_stream(id)) return 0;
  /* The session's stream ids are 32 bits (muxer contract), as mux_open
   * keeps ours: a peer that used up 2^30 streams ends the connection
   * rather than alias a live one. */
  if (id > UINT32_MAX) return cb_fail(q, LP2P_ELIMIT);
  /* A listener sends on streams only once its handshake is complete, so
   * after it accepted our certificate: a stream of its reaching us before
   * HANDSHAKE_DONE (reordering, frame order) confirms as much. */
  if (!q->up && q->client && q->handshake_done && go_up(q))
    return NGTCP2_ERR_CALLBACK_FAILURE;
  if (!stream_add(q, id)) return cb_fail(q, LP2P_ENOMEM);
  int rc = q->up ? emit(q, LP2P_EV_STREAM_OPEN, id, NULL, 0) : LP2P_EPROTO;
  return rc ? cb_fail(q, rc) : 0;
}

static int recv_data_cb(ngtcp2_conn *conn, uint32_t flags, int64_t id, uint64_t off,
                        const uint8_t *p, size_t len, void *ud, void *sud) {
  (void)off;
  (void)sud;
  lp2p_quic_conn *q = ud;
  qstream *s = stream_find(q, id);
  int rc = 0;
  if (s && !s->ended && len) rc = emit(q, LP2P_EV_STREAM_DATA, id, p, len);
  if (rc == 0 && s && !s->ended && (flags & NGTCP2_STREAM_DATA_FLAG_FIN))
    rc = emit(q, LP2P_EV_STREAM_FIN, id, NULL, 0);
  if (rc) return cb_fail(q, rc);
  /* The data is consumed at once: give the credit back. */
  ngtcp2_conn_extend_max_stream_offset(conn, id, len);
  ngtcp2_conn_extend_max_offset(conn, len);
  return 0;
}

/* ngtcp2 reports acknowledged stream data in offset order without overlap
 * (ngtcp2.h, acked_stream_data_offset), however the ACK frames arrived: so
 * the acknowledged chunks are always at the head, and each is freed once,
 * in constant time. */
static int acked_cb(ngtcp2_conn *conn, int64_t id, uint64_t off, uint64_t len, void *ud,
                    void *sud) {
  (void)conn, (void)id;
  lp2p_quic_conn *q = ud;
  qstream *s = sud;
  if (!s || off + len <= s->acked) return 0;
  q->held -= off + len - s->acked;
  s->acked = off + len;
  while (s->head && s->head->off + s->head->len <= s->acked) {
    chunk *c = s->head;
    s->head = c->next;
    if (!s->head) s->tail = NULL;
    if (s->unsent == c) s->unsent = c->next;
    free(c);
  }
  return 0;
}

/* The peer reset the stream or asked us to stop: for libp2p either ends
 * the stream both ways (a reset, in muxer terms). */
static int peer_reset(lp2p_quic_conn *q, int64_t id) {
  qstream *s = stream_find(q, id);
  if (!s || s->ended) return 0;
  s->ended = 1;
  s->reset_due = 1;
  int rc = emit(q, LP2P_EV_STREAM_RESET, id, NULL, 0);
  return rc ? cb_fail(q, rc) : 0;
}

static int stream_reset_cb(ngtcp2_conn *conn, int64_t id, uint64_t final, uint64_t code,
                           void *ud, void *sud) {
  (void)conn, (void) final, (void)code, (void)sud;
  return peer_reset(ud, id);
}

static int stop_sending_cb(ngtcp2_conn *conn, int64_t id, uint64_t code, void *ud,
                           void *sud) {
  (void)conn, (void)code, (void)sud;
  return peer_reset(ud, id);
}

static int stream_close_cb(ngtcp2_conn *conn, uint32_t flags, int64_t id, uint64_t code,
                           void *ud, void *sud) {
  (void)sud;
  lp2p_quic_conn *q = ud;
  qstream *s = stream_find(q, id);
  int rc = 0;
  if (s && !s->ended && (flags & NGTCP2_STREAM_CLOSE_FLAG_APP_ERROR_CODE_SET) && code)
    rc = emit(q, LP2P_EV_STREAM_RESET, id, NULL, 0);
  /* ngtcp2 holds no pointer into a closed stream's data. */
  stream_remove(q, id);
  /* A peer's stream is done: it may open another (ngtcp2 does not extend
   * MAX_STREAMS itself, RFC 9000 section 4.6). */
  if (ngtcp2_is_bidi_stream(id) && (id & 1) == (q->client ? 1 : 0))
    ngtcp2_conn_extend_max_streams_bidi(conn, 1);
  return rc ? cb_fail(q, rc) : 0;
}

/* ---- TLS ---- */

/* tls.md "Peer Authentication": exactly one certificate, the libp2p one;
 * GnuTLS has already checked CertificateVerify when this runs. */
static int verify_cb(gnutls_session_t g) {
  ngtcp2_crypto_conn_ref *ref = gnutls_session_get_ptr(g);
  lp2p_quic_conn *q = ref->user_data;
  unsigned n = 0;
  const gnutls_datum_t *certs = gnutls_certificate_get_peers(g, &n);
  int rc;
  if (!certs || n != 1) {
    LP2P_REASON("quic", "peer sent %u certificates, want exactly one", n);
    rc = LP2P_EPROTO;
  } else {
    rc = lp2p_tls_cert_verify(&q->peer, certs[0].data, certs[0].size, q->env->unix_s);
  }
  if (rc == 0 && q->cfg.expected_peer) {
    lp2p_peerid got;
    rc = lp2p_peerid_from_pubkey(&got, &q->peer);
    if (rc == 0 && !lp2p_peerid_equal(&got, q->cfg.expected_peer)) {
      char want[128] = "?", have[128] = "?";
      lp2p_peerid_to_text(want, sizeof want, q->cfg.expected_peer);
      lp2p_peerid_to_text(have, sizeof have, &got);
      LP2P_REASON("quic", "dialed %s but the peer is %s", want, have);
      rc = LP2P_EPEERID;
    }
  }
  if (rc) {
    q->verify_err = rc;
    return -1;
  }
  q->has_peer = 1;
  return 0;
}

static ngtcp2_conn *get_conn(ngtcp2_crypto_conn_ref *ref) {
  return ((lp2p_quic_conn *)ref->user_data)->conn;
}

static int tls_setup(lp2p_quic_conn *q) {
  if (lp2p_gnutls_init()) return LP2P_EINVAL;
  if (gnutls_init(&q->tls, q->client ? GNUTLS_CLIENT : GNUTLS_SERVER) < 0) {
    q->tls = NULL;
    return LP2P_ENOMEM;
  }
  int ok = (q->client ? ngtcp2_crypto_gnutls_configure_client_session(q->tls)
                      : ngtcp2_crypto_gnutls_configure_server_session(q->tls)) == 0;
  ok = ok && gnutls_priority_set_direct(q->tls, PRIORITY, NULL) >= 0;
  ok = ok &&
       gnutls_credentials_set(q->tls, GNUTLS_CRD_CERTIFICATE, q->cfg.shared->gc) >= 0;
  gnutls_datum_t alpn = {(unsigned char *)LP2P_QUIC_ALPN, sizeof LP2P_QUIC_ALPN - 1};
  ok = ok && gnutls_alpn_set_protocols(q->tls, &alpn, 1, GNUTLS_ALPN_MANDATORY) >= 0;
  if (!ok) return LP2P_EINVAL;
  /* tls.md: the server MUST require a client certificate; no SNI. */
  if (!q->client) gnutls_certificate_server_set_request(q->tls, GNUTLS_CERT_REQUIRE);
  gnutls_session_set_verify_function(q->tls, verify_cb);
  q->ref.get_conn = get_conn;
  q->ref.user_data = q;
  /* The session pointer belongs to ngtcp2_crypto (TLS-QUIC-FACTS.md). */
  gnutls_session_set_ptr(q->tls, &q->ref);
  ngtcp2_conn_set_tls_native_handle(q->conn, q->tls);
  return 0;
}

/* ---- setup ---- */

static void base_callbacks(ngtcp2_callbacks *cb) {
  memset(cb, 0, sizeof *cb);
  cb->recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb;
  cb->encrypt = ngtcp2_crypto_encrypt_cb;
  cb->decrypt = ngtcp2_crypto_decrypt_cb;
  cb->hp_mask = ngtcp2_crypto_hp_mask_cb;
  cb->update_key = ngtcp2_crypto_update_key_cb;
  cb->delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb;
  cb->delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb;
  cb->get_path_challenge_data = path_challenge_cb;
  cb->version_negotiation = ngtcp2_crypto_version_negotiation_cb;
  cb->rand = rand_cb;
  cb->get_new_connection_id = new_cid_cb;
  cb->remove_connection_id = remove_cid_cb;
  cb->handshake_completed = hs_completed_cb;
  cb->handshake_confirmed = hs_confirmed_cb;
  cb->stream_open = stream_open_cb;
  cb->recv_stream_data = recv_data_cb;
  cb->acked_stream_data_offset = acked_cb;
  cb->stream_reset = stream_reset_cb;
  cb->stream_stop_sending = stop_sending_cb;
  cb->stream_close = stream_close_cb;
}

static int is_loopback(const lp2p_quic_addr *a) {
  const struct sockaddr *sa = (const struct sockaddr *)&a->sa;
  if (sa->sa_family == AF_INET)
    return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
  return sa->sa_family == AF_INET6 &&
         IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr);
}

static void base_settings(lp2p_quic_conn *q, ngtcp2_settings *st,
                          ngtcp2_transport_params *tp) {
  ngtcp2_settings_default(st);
  st->initial_ts = ts(q);
  /* ngtcp2's handshake timeout ends at completion; a dialer goes up only at
   * confirmation (HANDSHAKE_DONE), which keep-alives acked by the peer
   * would otherwise wait for without end. */
  q->up_by = q->env->now_ms + q->cfg.handshake_timeout_ms;
  st->rand_ctx.native_handle = q;
  st->handshake_timeout = (uint64_t)q->cfg.handshake_timeout_ms * NGTCP2_MILLISECONDS;
  ngtcp2_transport_params_default(tp);
  /* js opens identify as soon as it is up: streams must be allowed from
   * the start (TLS-QUIC-FACTS.md). */
  tp->initial_max_streams_bidi = LP2P_QUIC_MAX_STREAMS;
  tp->initial_max_streams_uni = 0;
  tp->initial_max_stream_data_bidi_local = STREAM_WINDOW;
  tp->initial_max_stream_data_bidi_remote = STREAM_WINDOW;
  tp->initial_max_data = CONN_WINDOW;
  /* ngtcp2 grows the windows we grant up to these where the peer sends
   * faster than a window per round trip (its auto-tuning). */
  st->max_stream_window = STREAM_WINDOW_MAX;
  st->max_window = CONN_WINDOW_MAX;
  q->dgram_max = LP2P_QUIC_DGRAM_MAX;
  if (is_loopback(&q->remote)) {
    q->dgram_max = LOOPBACK_DGRAM_MAX;
    st->max_tx_udp_payload_size = LOOPBACK_DGRAM_MAX;
    st->no_tx_udp_payload_size_shaping = 1;
  }
  uint32_t idle = q->cfg.idle_timeout_ms ? q->cfg.idle_timeout_ms : LP2P_QUIC_IDLE_MS;
  tp->max_idle_timeout = (uint64_t)idle * NGTCP2_MILLISECONDS;
  tp->active_connection_id_limit = 4;
}

/* Where the datagram just written goes: ngtcp2 chooses the path (and
 * moves to a new one only after validating it, RFC 9000 section 9), so a
 * datagram from a forged address never redirects the connection. */
static void take_path(lp2p_quic_conn *q, const ngtcp2_path *p) {
  if (p->remote.addrlen == 0 || p->remote.addrlen > sizeof q->remote.sa) return;
  memcpy(&q->remote.sa, p->remote.addr, p->remote.addrlen);
  q->remote.len = p->remote.addrlen;
}

static ngtcp2_path path_of(lp2p_quic_conn *q) {
  ngtcp2_path p = {
      .local = {.addr = (ngtcp2_sockaddr *)&q->local.sa, .addrlen = q->local.len},
      .remote = {.addr = (ngtcp2_sockaddr *)&q->remote.sa, .addrlen = q->remote.len}};
  return p;
}

static lp2p_quic_conn *conn_alloc(lp2p_env *env, const lp2p_quic_config *cfg, int client,
                                  const lp2p_quic_addr *local,
                                  const lp2p_quic_addr *remote, lp2p_io io) {
  lp2p_quic_conn *q = calloc(1, sizeof *q);
  if (!q) return NULL;
  q->env = env;
  q->cfg = *cfg;
  /* 0: the default step, as every other layer takes it (not an instant
   * timeout). */
  if (!q->cfg.handshake_timeout_ms) q->cfg.handshake_timeout_ms = 10000;
  q->client = client;
  q->local = *local;
  q->remote = *remote;
  q->io = io;
  q->sio = io;
  mem_init(q);
  return q;
}

static int random_cid(lp2p_quic_conn *q, ngtcp2_cid *cid, size_t len) {
  cid->datalen = len;
  return q->env->random(q->env->random_ud, cid->data, len);
}

lp2p_quic_conn *lp2p_quic_dial(lp2p_env *env, const lp2p_quic_config *cfg,
                               const lp2p_quic_addr *local, const lp2p_quic_addr *remote,
                               lp2p_io io) {
  lp2p_quic_conn *q = conn_alloc(env, cfg, 1, local, remote, io);
  if (!q) return NULL;
  ngtcp2_callbacks cb;
  base_callbacks(&cb);
  cb.client_initial = ngtcp2_crypto_client_initial_cb;
  cb.recv_retry = ngtcp2_crypto_recv_retry_cb;
  ngtcp2_settings st;
  ngtcp2_transport_params tp;
  base_settings(q, &st, &tp);
  ngtcp2_cid dcid, scid;
  ngtcp2_path path = path_of(q);
  /* RFC 9000 section 7.2: an unpredictable DCID of at least 8 bytes. */
  int rc = random_cid(q, &dcid, 18) || random_cid(q, &scid, LP2P_QUIC_CID_LEN)
               ? LP2P_EINVAL
               : 0;
  if (rc == 0 &&
      ngtcp2_conn_client_new(&q->conn, &dcid, &scid, &path, NGTCP2_PROTO_VER_V1, &cb, &st,
                             &tp, &q->mem, q) != 0)
    rc = LP2P_ENOMEM;
  if (rc == 0) rc = tls_setup(q);
  if (rc) {
    LP2P_ERROR("quic", "cannot set up a connection: %s", lp2p_strerror(rc));
    lp2p_quic_conn_free(q);
    return NULL;
  }
  ngtcp2_conn_set_keep_alive_timeout(q->conn,
                                     LP2P_QUIC_KEEPALIVE_MS * NGTCP2_MILLISECONDS);
  return q;
}

lp2p_quic_conn *lp2p__quic_accept(lp2p_env *env, const lp2p_quic_config *cfg,
                                  const lp2p_quic_addr *local,
                                  const lp2p_quic_addr *remote, const ngtcp2_pkt_hd *hd,
                                  const ngtcp2_cid *retry_odcid, lp2p_io io,
                                  lp2p__quic_cid_cb cid_cb, void *owner) {
  lp2p_quic_conn *q = conn_alloc(env, cfg, 0, local, remote, io);
  if (!q) return NULL;
  q->cid_cb = cid_cb;
  q->owner = owner;
  ngtcp2_callbacks cb;
  base_callbacks(&cb);
  cb.recv_client_initial = ngtcp2_crypto_recv_client_initial_cb;
  ngtcp2_settings st;
  ngtcp2_transport_params tp;
  base_settings(q, &st, &tp);
  tp.original_dcid = hd->dcid;
  if (retry_odcid) {
    /* RFC 9000 section 7.3: after a Retry, original_destination_connection_id
     * is the DCID of the client's first Initial (from the token) and
     * retry_source_connection_id the SCID of our Retry, which the client
     * now sends to. The validated token tells ngtcp2 the address is
     * validated (no anti-amplification limit, section 8.1). */
    tp.original_dcid = *retry_odcid;
    tp.retry_scid = hd->dcid;
    tp.retry_scid_present = 1;
    st.token = hd->token;
  }
  ngtcp2_cid scid;
  ngtcp2_path path = path_of(q);
  int rc = random_cid(q, &scid, LP2P_QUIC_CID_LEN) ? LP2P_EINVAL : 0;
  if (rc == 0) rc = lp2p__quic_reset_token(cfg->shared, tp.stateless_reset_token, &scid);
  tp.stateless_reset_token_present = 1;
  if (rc == 0 && ngtcp2_conn_server_new(&q->conn, &hd->scid, &scid, &path, hd->version,
                                        &cb, &st, &tp, &q->mem, q) != 0)
    rc = LP2P_ENOMEM;
  if (rc == 0) rc = tls_setup(q);
  if (rc) {
    LP2P_ERROR("quic", "cannot accept a connection: %s", lp2p_strerror(rc));
    lp2p_quic_conn_free(q);
    return NULL;
  }
  ngtcp2_conn_set_keep_alive_timeout(q->conn,
                                     LP2P_QUIC_KEEPALIVE_MS * NGTCP2_MILLISECONDS);
  /* The client sends to its original DCID until it learns ours. */
  if (cid_cb) {
    cid_cb(owner, q, &hd->dcid, 1);
    cid_cb(owner, q, &scid, 1);
  }
  return q;
}

/* ---- writing ---- */

/* The largest datagram to write now. ngtcp2 pads a datagram that carries
 * an Initial packet to the whole buffer, before it has the peer's
 * max_udp_payload_size to cap it with, and a peer reading into 1452 bytes
 * (quic-go) would drop a larger one: so the peer's transport parameter
 * bounds it here, and LP2P_QUIC_DGRAM_MAX until we have it. */
static size_t dgram_cap(lp2p_quic_conn *q) {
  const ngtcp2_transport_params *rp = ngtcp2_conn_get_remote_transport_params(q->conn);
  if (!rp) return LP2P_QUIC_DGRAM_MAX;
  return rp->max_udp_payload_size < q->dgram_max ? (size_t)rp->max_udp_payload_size
                                                 : q->dgram_max;
}

/* Ends the connection: one CONNECTION_CLOSE where the state allows one,
 * then nothing more is written. */
static int conn_over(lp2p_quic_conn *q, int err,
                     const ngtcp2_connection_close_error *ce) {
  if (q->over) return q->err;
  q->over = 1;
  if (!q->err) q->err = err;
  if (ce && !ngtcp2_conn_is_in_closing_period(q->conn) &&
      !ngtcp2_conn_is_in_draining_period(q->conn)) {
    ngtcp2_path_storage ps;
    ngtcp2_path_storage_zero(&ps);
    ngtcp2_pkt_info pi;
    ngtcp2_ssize n = ngtcp2_conn_write_connection_close(q->conn, &ps.path, &pi, q->buf,
                                                        dgram_cap(q), ce, ts(q));
    if (n > 0) {
      take_path(q, &ps.path);
      q->io.write(q->io.ud, q->buf, (size_t)n);
    }
  }
  return q->err;
}

static int fail_liberr(lp2p_quic_conn *q, int liberr, int err) {
  ngtcp2_connection_close_error ce;
  ngtcp2_connection_close_error_default(&ce);
  ngtcp2_connection_close_error_set_transport_error_liberr(&ce, liberr, NULL, 0);
  return conn_over(q, err, &ce);
}

static void apply_resets(lp2p_quic_conn *q) {
  for (qstream *s = q->streams; s; s = s->next)
    if (s->reset_due) {
      s->reset_due = 0;
      s->fin_due = 0;
      ngtcp2_conn_shutdown_stream(q->conn, s->id, 0);
    }
}

static int has_pending(const qstream *s) {
  if (s->reset_due || s->blocked || s->ended) return 0;
  return s->unsent || (s->fin_due && !s->fin_sent);
}

/* Gathers the stream's unsent bytes, without copying. */
static size_t gather(qstream *s, ngtcp2_vec *v, size_t max) {
  size_t n = 0;
  for (chunk *c = s->unsent; c && n < max; c = c->next) {
    v[n].base = c->data + c->sent;
    v[n].len = c->len - c->sent;
    n++;
  }
  return n;
}

/* ngtcp2 took len bytes from the front of what gather offered. */
static void account(qstream *s, size_t len) {
  while (s->unsent && len) {
    chunk *c = s->unsent;
    size_t k = c->len - c->sent;
    if (k > len) k = len;
    c->sent += k;
    len -= k;
    if (c->sent == c->len) s->unsent = c->next;
  }
}

static int all_sent(const qstream *s) { return !s->unsent; }

#define MAX_VECS 16

static int flush(lp2p_quic_conn *q) {
  if (q->over || q->depth) return q->err;
  apply_resets(q);
  for (qstream *s = q->streams; s; s = s->next)
    s->blocked = 0;
  for (;;) {
    qstream *s = q->streams;
    while (s && !has_pending(s))
      s = s->next;
    ngtcp2_vec v[MAX_VECS];
    size_t nv = s ? gather(s, v, MAX_VECS) : 0;
    uint32_t flags = NGTCP2_WRITE_STREAM_FLAG_MORE;
    if (s && s->fin_due && nv < MAX_VECS) flags |= NGTCP2_WRITE_STREAM_FLAG_FIN;
    ngtcp2_ssize used = -1;
    ngtcp2_path_storage ps;
    ngtcp2_path_storage_zero(&ps);
    ngtcp2_pkt_info pi;
    ngtcp2_ssize n =
        ngtcp2_conn_writev_stream(q->conn, &ps.path, &pi, q->buf, dgram_cap(q), &used,
                                  flags, s ? s->id : -1, v, nv, ts(q));
    if (s && used >= 0) {
      account(s, (size_t)used);
      if ((flags & NGTCP2_WRITE_STREAM_FLAG_FIN) && all_sent(s)) s->fin_sent = 1;
    }
    if (n == NGTCP2_ERR_WRITE_MORE) continue;
    if (n == NGTCP2_ERR_STREAM_DATA_BLOCKED || n == NGTCP2_ERR_STREAM_SHUT_WR ||
        n == NGTCP2_ERR_STREAM_NOT_FOUND) {
      if (s) s->blocked = 1;
      continue;
    }
    if (n < 0) {
      LP2P_REASON("quic", "cannot write: %s", ngtcp2_strerror((int)n));
      return fail_liberr(q, (int)n, LP2P_EPROTO);
    }
    if (n == 0) {
      /* Nothing more fits (congestion, flow control) or is due: a stream
       * that could not go now waits for the next flush; the last round
       * (no stream) ends it. */
      if (!s) return 0;
      s->blocked = 1;
      continue;
    }
    take_path(q, &ps.path);
    int rc = q->io.write(q->io.ud, q->buf, (size_t)n);
    if (rc) return conn_over(q, rc, NULL);
  }
}

/* ---- public ---- */

int lp2p_quic_conn_start(lp2p_quic_conn *q) { return flush(q); }

static int read_error(lp2p_quic_conn *q, int rv) {
  if (rv == NGTCP2_ERR_DRAINING) {
    ngtcp2_connection_close_error ce;
    ngtcp2_conn_get_connection_close_error(q->conn, &ce);
    if (ce.error_code == 0) {
      LP2P_DEBUG("quic", "the peer closed the connection");
      lp2p_io_emit(&q->io, LP2P_EV_EOF, 0, NULL, 0);
      return conn_over(q, LP2P_EEOF, NULL);
    }
    LP2P_REASON("quic", "the peer closed the connection: %s error 0x%llx%s%.*s",
                ce.type == NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_APPLICATION
                    ? "application"
                    : "transport",
                (unsigned long long)ce.error_code, ce.reasonlen ? ", " : "",
                (int)ce.reasonlen, ce.reason ? (const char *)ce.reason : "");
    return conn_over(q, LP2P_EEOF, NULL);
  }
  if (q->verify_err) {
    /* Our verify callback refused the peer; GnuTLS sends alert 42 and
     * ngtcp2 closes with CRYPTO_ERROR (RFC 9001 section 4.8). */
    ngtcp2_connection_close_error ce;
    ngtcp2_connection_close_error_default(&ce);
    ngtcp2_connection_close_error_set_transport_error_tls_alert(
        &ce, ngtcp2_conn_get_tls_alert(q->conn), NULL, 0);
    return conn_over(q, q->verify_err, &ce);
  }
  if (q->err) return fail_liberr(q, NGTCP2_ERR_CALLBACK_FAILURE, q->err);
  if (rv == NGTCP2_ERR_CRYPTO)
    LP2P_REASON("quic", "TLS handshake failed: alert %u",
                ngtcp2_conn_get_tls_alert(q->conn));
  else
    LP2P_REASON("quic", "bad packet: %s", ngtcp2_strerror(rv));
  if (rv == NGTCP2_ERR_DROP_CONN) return conn_over(q, LP2P_EPROTO, NULL);
  if (rv == NGTCP2_ERR_CRYPTO) {
    ngtcp2_connection_close_error ce;
    ngtcp2_connection_close_error_default(&ce);
    ngtcp2_connection_close_error_set_transport_error_tls_alert(
        &ce, ngtcp2_conn_get_tls_alert(q->conn), NULL, 0);
    return conn_over(q, LP2P_EPROTO, &ce);
  }
  return fail_liberr(q, rv, LP2P_EPROTO);
}

int lp2p_quic_conn_recv(lp2p_quic_conn *q, const lp2p_quic_addr *from, const uint8_t *p,
                        size_t len) {
  if (q->over) return q->err ? q->err : LP2P_ECLOSED;
  /* ngtcp2 sees the datagram's real path; where we send is what it says
   * per datagram (take_path), never this source address itself. */
  ngtcp2_path path = path_of(q);
  if (from) {
    path.remote.addr = (ngtcp2_sockaddr *)&from->sa;
    path.remote.addrlen = from->len;
  }
  ngtcp2_pkt_info pi = {0};
  q->depth++;
  int rv = ngtcp2_conn_read_pkt(q->conn, &path, &pi, p, len, ts(q));
  q->depth--;
  if (rv) return read_error(q, rv);
  return flush(q);
}

uint64_t lp2p_quic_conn_deadline(const lp2p_quic_conn *q) {
  if (q->over) return LP2P_NO_DEADLINE;
  ngtcp2_tstamp t = ngtcp2_conn_get_expiry(q->conn);
  uint64_t d = t == UINT64_MAX ? LP2P_NO_DEADLINE
                               : (t + NGTCP2_MILLISECONDS - 1) / NGTCP2_MILLISECONDS;
  return !q->up && q->up_by && q->up_by < d ? q->up_by : d;
}

int lp2p_quic_conn_expire(lp2p_quic_conn *q) {
  if (q->over) return q->err ? q->err : LP2P_ECLOSED;
  if (!q->up && q->up_by && q->env->now_ms >= q->up_by) {
    LP2P_REASON("quic", "handshake not confirmed in %u ms", q->cfg.handshake_timeout_ms);
    return conn_over(q, LP2P_ETIMEDOUT, NULL);
  }
  q->depth++;
  int rv = ngtcp2_conn_handle_expiry(q->conn, ts(q));
  q->depth--;
  if (rv == NGTCP2_ERR_IDLE_CLOSE) {
    LP2P_REASON("quic", "idle timeout: nothing heard from the peer");
    return conn_over(q, LP2P_ETIMEDOUT, NULL);
  }
  if (rv == NGTCP2_ERR_HANDSHAKE_TIMEOUT) {
    LP2P_REASON("quic", "handshake timeout");
    return conn_over(q, LP2P_ETIMEDOUT, NULL);
  }
  if (rv) {
    LP2P_REASON("quic", "timer: %s", ngtcp2_strerror(rv));
    return fail_liberr(q, rv, LP2P_EPROTO);
  }
  return flush(q);
}

int lp2p_quic_conn_close(lp2p_quic_conn *q) {
  if (q->over) return 0;
  flush(q);
  /* NO_ERROR: an application close once the handshake is done, a
   * transport one before (RFC 9000 section 10.2.3). */
  ngtcp2_connection_close_error ce;
  ngtcp2_connection_close_error_default(&ce);
  if (q->handshake_done)
    ngtcp2_connection_close_error_set_application_error(&ce, 0, NULL, 0);
  conn_over(q, LP2P_ECLOSED, &ce);
  return 0;
}

int lp2p__quic_handshake_done(const lp2p_quic_conn *q) { return q->handshake_done; }
int lp2p__quic_is_over(const lp2p_quic_conn *q) { return q->over; }
const lp2p_quic_addr *lp2p_quic_conn_remote(const lp2p_quic_conn *q) {
  return &q->remote;
}
void lp2p_quic_conn_set_user(lp2p_quic_conn *q, void *user) { q->user = user; }
void *lp2p_quic_conn_user(const lp2p_quic_conn *q) { return q->user; }

void lp2p_quic_conn_free(lp2p_quic_conn *q) {
  if (!q) return;
  while (q->streams) {
    qstream *s = q->streams;
    q->streams = s->next;
    stream_free(q, s);
  }
  if (q->conn) ngtcp2_conn_del(q->conn);
  mem_release(q);
  if (q->tls) gnutls_deinit(q->tls);
  free(q);
}

/* ---- the muxer contract over QUIC streams ---- */

static int mux_open(void *m, uint32_t *id) {
  lp2p_quic_conn *q = m;
  if (q->over) return LP2P_ECLOSED;
  int64_t sid;
  int rv = ngtcp2_conn_open_bidi_stream(q->conn, &sid, NULL);
  if (rv == NGTCP2_ERR_STREAM_ID_BLOCKED) return LP2P_ELIMIT;
  if (rv) return LP2P_EPROTO;
  if (sid > UINT32_MAX || !stream_add(q, sid)) {
    ngtcp2_conn_shutdown_stream(q->conn, sid, 0);
    return sid > UINT32_MAX ? LP2P_ELIMIT : LP2P_ENOMEM;
  }
  *id = (uint32_t)sid;
  return 0;
}

static int mux_send(void *m, uint32_t id, const uint8_t *p, size_t len) {
  lp2p_quic_conn *q = m;
  qstream *s = stream_find(q, id);
  if (q->over) return LP2P_ECLOSED;
  if (!s || s->ended || s->fin_due) return LP2P_ECLOSED;
  if (len == 0) return 0;
  if (s->end - s->acked + len > STREAM_SENDBUF_MAX || q->held + len > CONN_SENDBUF_MAX)
    return LP2P_ELIMIT;
  chunk *c = malloc(sizeof *c + len);
  if (!c) return LP2P_ENOMEM;
  c->next = NULL;
  c->off = s->end;
  c->len = len;
  c->sent = 0;
  memcpy(c->data, p, len);
  if (s->tail)
    s->tail->next = c;
  else
    s->head = c;
  s->tail = c;
  if (!s->unsent) s->unsent = c;
  s->end += len;
  q->held += len;
  return flush(q);
}

/* The muxer's writable (upgrade.h): the room left under the stream's and
 * the connection's send buffer caps, in pieces of REFILL_MIN or more.
 * ngtcp2's flow control and congestion window decide when those bytes
 * reach the wire; the caps bound what waits for them. */
static size_t mux_writable(const void *m, uint32_t id) {
  lp2p_quic_conn *q = (lp2p_quic_conn *)m;
  const qstream *s = stream_find(q, id);
  if (q->over || !s || s->ended || s->fin_due) return 0;
  uint64_t held = s->end - s->acked;
  size_t room = held < STREAM_SENDBUF_MAX ? (size_t)(STREAM_SENDBUF_MAX - held) : 0;
  size_t conn_room =
      q->held < CONN_SENDBUF_MAX ? (size_t)(CONN_SENDBUF_MAX - q->held) : 0;
  if (conn_room < room) room = conn_room;
  return room >= REFILL_MIN ? room : 0;
}

static int mux_close(void *m, uint32_t id) {
  lp2p_quic_conn *q = m;
  qstream *s = stream_find(q, id);
  if (!s || s->ended || s->fin_due) return 0;
  s->fin_due = 1;
  return flush(q);
}

static int mux_reset(void *m, uint32_t id) {
  lp2p_quic_conn *q = m;
  qstream *s = stream_find(q, id);
  if (!s) return 0;
  s->ended = 1;
  s->reset_due = 1;
  return flush(q);
}

static int mux_goaway(void *m, uint32_t code) {
  (void)code;
  return lp2p_quic_conn_close(m);
}

static uint64_t mux_deadline(const void *m) {
  (void)m;
  return LP2P_NO_DEADLINE; /* QUIC's timers are the driver's */
}

static int mux_expire(void *m) {
  (void)m;
  return 0;
}

static void mux_destroy(void *m) { (void)m; }

static void mux_bind(void *m, lp2p_io io) { ((lp2p_quic_conn *)m)->sio = io; }

const lp2p_muxer_ops lp2p_quic_muxer = {.name = "quic",
                                        .protocol = LP2P_QUIC_ALPN,
                                        .open = mux_open,
                                        .send = mux_send,
                                        .close = mux_close,
                                        .reset = mux_reset,
                                        .goaway = mux_goaway,
                                        .writable = mux_writable,
                                        .deadline = mux_deadline,
                                        .expire = mux_expire,
                                        .destroy = mux_destroy,
                                        .bind = mux_bind};
