/* Sans-I/O TLS 1.3 over GnuTLS: the transport is memory. Pull hands GnuTLS
 * whole records, straight from recv's input, or from an input buffer that
 * holds a record split across reads; push appends to an output buffer
 * flushed through io.write after every GnuTLS call (during send, straight
 * to io.write).
 * GnuTLS itself never blocks (GNUTLS_NONBLOCK) and never sees a socket. */
#include "lp2p/tls_session.h"

#include "lp2p/keys.h"

#include <errno.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "der.h"

/* RFC 8446 only; GnuTLS's NORMAL set otherwise, but X25519 first for the
 * key exchange (NORMAL puts SECP256R1 first): the listener's profile under
 * load (bench/RESULTS.md) is P-256 arithmetic, and go, rust and js offer
 * X25519 first too (RFC 8446 section 4.2.7: the client's preference order). */
#define PRIORITY                                                                         \
  "NORMAL:-VERS-ALL:+VERS-TLS1.3:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:"             \
  "+GROUP-SECP384R1:+GROUP-SECP521R1"

struct lp2p_tls_creds {
  gnutls_certificate_credentials_t gc;
};

typedef enum {
  ST_NEW,       /* client before start */
  ST_HANDSHAKE, /* handshake running */
  ST_OPEN,      /* READY sent: records flow */
  ST_PEER_DONE  /* the peer's close_notify arrived */
} tls_state;

struct lp2p_tls_session {
  lp2p_env *env;
  lp2p_io io;
  lp2p_tls_config cfg;
  gnutls_session_t g;
  gnutls_certificate_credentials_t own_gc; /* client without creds */
  gnutls_datum_t ticket_key;               /* send_tickets only */
  tls_state state;
  int err; /* sticky */
  int in_recv;
  int closed; /* we sent close_notify */
  int verify_err;
  /* Received bytes. GnuTLS pulls from src[in_off..whole): only whole
   * records, see scan_records(). src is the caller's input while whole
   * records arrive in it (no copy), else in.data, which then holds the
   * start of one record until the rest of it arrives. */
  lp2p_buf in;
  const uint8_t *src;
  size_t src_len;
  size_t in_off, whole;
  int starved;  /* pull found nothing since the last GnuTLS call began */
  lp2p_buf out; /* pushed by GnuTLS, not yet written */
  /* Inside lp2p_tls_session_send: records go straight to io.write, whose
   * copy is then the only one (push_err keeps its code for send). */
  int direct;
  int push_err;
  char *alpn[LP2P_TLS_ALPN_MAX];
  const char *agreed;
  uint8_t stage[LP2P_TLS_RECORD_MAX]; /* sendv: pieces of one record */
};

/* ---- credentials ------------------------------------------------------- */

#define CHAIN_MAX 4

/* Imports the certificates of cert into crts; returns how many (0: bad). */
static unsigned import_chain(gnutls_x509_crt_t *crts, const uint8_t *cert, size_t len) {
  unsigned n = 0;
  while (len > 0) {
    /* Each certificate is one DER SEQUENCE (RFC 5280 4.1). */
    size_t l = 0, body, body_len;
    if (lp2p__der_read(cert, len, &l, LP2P_DER_SEQUENCE, &body, &body_len)) break;
    gnutls_datum_t d = {(unsigned char *)cert, (unsigned)l};
    if (n == CHAIN_MAX || gnutls_x509_crt_init(&crts[n]) < 0) break;
    if (gnutls_x509_crt_import(crts[n++], &d, GNUTLS_X509_FMT_DER) < 0) break;
    cert += l;
    len -= l;
  }
  if (len == 0) return n;
  for (unsigned i = 0; i < n; i++)
    gnutls_x509_crt_deinit(crts[i]);
  return 0;
}

int lp2p_tls_creds_new(lp2p_tls_creds **out, const uint8_t *cert, size_t cert_len,
                       const uint8_t *key, size_t key_len) {
  *out = NULL;
  if (cert_len > UINT32_MAX || key_len > UINT32_MAX) return LP2P_EINVAL;
  if (lp2p_gnutls_init()) return LP2P_ENOMEM;
  gnutls_x509_crt_t crts[CHAIN_MAX];
  gnutls_x509_privkey_t k;
  unsigned n = import_chain(crts, cert, cert_len);
  if (!n) {
    LP2P_ERROR("tls", "credentials refused: not DER certificates");
    return LP2P_EKEY;
  }
  lp2p_tls_creds *c = calloc(1, sizeof *c);
  int rc = c ? 0 : LP2P_ENOMEM;
  if (!rc && gnutls_certificate_allocate_credentials(&c->gc) < 0) rc = LP2P_ENOMEM;
  if (!rc && gnutls_x509_privkey_init(&k) < 0) rc = LP2P_ENOMEM;
  if (!rc) {
    gnutls_datum_t kd = {(unsigned char *)key, (unsigned)key_len};
    int g = gnutls_x509_privkey_import2(k, &kd, GNUTLS_X509_FMT_DER, NULL, 0);
    if (g >= 0) g = gnutls_certificate_set_x509_key(c->gc, crts, n, k);
    gnutls_x509_privkey_deinit(k);
    if (g < 0) {
      LP2P_ERROR("tls", "credentials refused: %s", gnutls_strerror(g));
      rc = LP2P_EKEY;
    }
  }
  for (unsigned i = 0; i < n; i++)
    gnutls_x509_crt_deinit(crts[i]);
  if (rc) {
    lp2p_tls_creds_free(c);
    return rc;
  }
  *out = c;
  return 0;
}

void lp2p_tls_creds_free(lp2p_tls_creds *c) {
  if (!c) return;
  if (c->gc) gnutls_certificate_free_credentials(c->gc);
  free(c);
}

/* ---- self-signed certificates ----------------------------------------- */

/* 100 years, as go-libp2p and js-libp2p do (the validity is not what
 * authenticates a libp2p peer). */
#define CERT_LIFETIME_S ((time_t)100 * 365 * 24 * 3600)
#define CERT_BACKDATE_S 3600 /* tolerate peers whose clock is a bit behind */

static int gt(int rc) { return rc < 0 ? LP2P_EKEY : 0; }

/* Serial: 8 random bytes, positive and minimal in DER (RFC 5280 4.1.2.2). */
static int set_serial(gnutls_x509_crt_t crt, const lp2p_env *env) {
  uint8_t serial[8];
  int rc = env->random(env->random_ud, serial, sizeof serial);
  if (rc) return rc;
  serial[0] &= 0x7f;
  if (serial[0] == 0) serial[0] = 1;
  return gt(gnutls_x509_crt_set_serial(crt, serial, sizeof serial));
}

static int add_ext(gnutls_x509_crt_t crt, const lp2p_tls_ext *ext) {
  gnutls_pubkey_t pub = NULL;
  gnutls_datum_t spki = {0};
  lp2p_buf val = {0};
  int rc = gt(gnutls_pubkey_init(&pub));
  if (!rc) rc = gt(gnutls_pubkey_import_x509(pub, crt, 0));
  if (!rc) rc = gt(gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &spki));
  if (!rc) rc = ext->make(ext->ctx, &val, spki.data, spki.size);
  if (!rc && !val.len) rc = LP2P_EINVAL;
  if (!rc)
    rc = gt(gnutls_x509_crt_set_extension_by_oid(crt, ext->oid, val.data, val.len,
                                                 ext->critical ? 1 : 0));
  gnutls_free(spki.data);
  gnutls_pubkey_deinit(pub);
  lp2p_buf_free(&val);
  return rc;
}

static int export_der(lp2p_buf *out, gnutls_datum_t *d) {
  int rc = lp2p_buf_append(out, d->data, d->size);
  gnutls_memset(d->data, 0, d->size);
  gnutls_free(d->data);
  d->data = NULL;
  return rc;
}

int lp2p_tls_selfsigned(lp2p_buf *cert, lp2p_buf *key, const lp2p_env *env,
                        const lp2p_tls_ext *ext) {
  if (!env || !env->random || env->unix_s <= 0) return LP2P_EINVAL;
  if (lp2p_gnutls_init()) return LP2P_ENOMEM;
  gnutls_x509_privkey_t k = NULL;
  gnutls_x509_crt_t crt = NULL;
  gnutls_datum_t d = {0};
  time_t now = (time_t)env->unix_s;
  int rc = gt(gnutls_x509_privkey_init(&k));
  if (!rc) rc = gt(gnutls_x509_crt_init(&crt));
  /* ECDSA P-256 with SHA-256: what go, js and rust libp2p use. */
  if (!rc)
    rc = gt(gnutls_x509_privkey_generate(
        k, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0));
  if (!rc) rc = gt(gnutls_x509_crt_set_version(crt, 3));
  if (!rc) rc = set_serial(crt, env);
  if (!rc) rc = gt(gnutls_x509_crt_set_activation_time(crt, now - CERT_BACKDATE_S));
  if (!rc) rc = gt(gnutls_x509_crt_set_expiration_time(crt, now + CERT_LIFETIME_S));
  if (!rc) rc = gt(gnutls_x509_crt_set_key(crt, k));
  /* In the order given: the first comes first (tls.md requires that of
   * the libp2p Public Key Extension for some verifiers); further ones are
   * for tests of the verifier. */
  for (; !rc && ext; ext = ext->next)
    rc = add_ext(crt, ext);
  if (!rc) rc = gt(gnutls_x509_crt_sign2(crt, crt, k, GNUTLS_DIG_SHA256, 0));
  if (!rc) rc = gt(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &d));
  if (!rc) rc = export_der(cert, &d);
  if (!rc)
    rc = gt(gnutls_x509_privkey_export2_pkcs8(k, GNUTLS_X509_FMT_DER, NULL,
                                              GNUTLS_PKCS_PLAIN, &d));
  if (!rc) rc = export_der(key, &d);
  gnutls_x509_crt_deinit(crt);
  gnutls_x509_privkey_deinit(k);
  return rc;
}

int lp2p_tls_selfsigned_credentials(lp2p_tls_creds **out, const lp2p_env *env) {
  lp2p_buf cert = {0}, key = {0};
  *out = NULL;
  int rc = lp2p_tls_selfsigned(&cert, &key, env, NULL);
  if (!rc) rc = lp2p_tls_creds_new(out, cert.data, cert.len, key.data, key.len);
  lp2p_buf_free(&cert);
  lp2p_buf_free_secret(&key);
  return rc;
}

/* ---- memory transport -------------------------------------------------- */

static ssize_t push_cb(gnutls_transport_ptr_t ud, const void *p, size_t len) {
  lp2p_tls_session *s = ud;
  if (s->direct && s->out.len == 0) {
    int rc = s->io.write(s->io.ud, p, len);
    if (rc == 0) return (ssize_t)len;
    s->push_err = rc;
    gnutls_transport_set_errno(s->g, EIO);
    return -1;
  }
  if (lp2p_buf_append(&s->out, p, len)) {
    gnutls_transport_set_errno(s->g, ENOMEM);
    return -1;
  }
  return (ssize_t)len;
}

static ssize_t pull_cb(gnutls_transport_ptr_t ud, void *p, size_t len) {
  lp2p_tls_session *s = ud;
  size_t avail = s->whole - s->in_off;
  if (avail == 0) {
    /* Not EOF: the bytes just have not arrived yet. */
    s->starved = 1;
    gnutls_transport_set_errno(s->g, EAGAIN);
    return -1;
  }
  size_t n = len < avail ? len : avail;
  memcpy(p, s->src + s->in_off, n);
  s->in_off += n;
  return (ssize_t)n;
}

static int pull_timeout_cb(gnutls_transport_ptr_t ud, unsigned ms) {
  (void)ms;
  lp2p_tls_session *s = ud;
  return s->whole > s->in_off;
}

static int flush(lp2p_tls_session *s) {
  if (!s->out.len) return 0;
  size_t n = s->out.len;
  s->out.len = 0;
  return s->io.write(s->io.ud, s->out.data, n);
}

/* ---- helpers ----------------------------------------------------------- */

static int fail(lp2p_tls_session *s, int err) {
  if (!s->err) {
    s->err = err;
    LP2P_DEBUG("tls", "failed: %s", lp2p_strerror(err));
  }
  return err;
}

/* Maps a fatal GnuTLS error to ours and says why, once. GnuTLS sends no
 * alert of its own when it fails; we send the one RFC 8446 section 6.2
 * asks for (bad_certificate for a refused certificate), so the peer learns
 * why instead of waiting for a timeout. */
static int tls_error(lp2p_tls_session *s, int grc, const char *during) {
  if (grc != GNUTLS_E_FATAL_ALERT_RECEIVED) {
    (void)gnutls_alert_send_appropriate(s->g, grc);
    (void)flush(s);
  }
  if (grc == GNUTLS_E_CERTIFICATE_ERROR && s->verify_err) return s->verify_err;
  if (grc == GNUTLS_E_FATAL_ALERT_RECEIVED) {
    LP2P_REASON("tls", "%s: the peer sent alert '%s'", during,
                gnutls_alert_get_name(gnutls_alert_get(s->g)));
    return LP2P_EEOF;
  }
  LP2P_REASON("tls", "%s: %s", during, gnutls_strerror(grc));
  if (grc == GNUTLS_E_DECRYPTION_FAILED) return LP2P_EDECRYPT;
  if (grc == GNUTLS_E_RECORD_OVERFLOW) return LP2P_ETOOBIG;
  if (grc == GNUTLS_E_MEMORY_ERROR) return LP2P_ENOMEM;
  return LP2P_EPROTO;
}

static int verify_cb(gnutls_session_t g) {
  lp2p_tls_session *s = gnutls_session_get_ptr(g);
  unsigned n = 0;
  const gnutls_datum_t *list = gnutls_certificate_get_peers(g, &n);
  lp2p_tls_der certs[LP2P_TLS_CHAIN_MAX];
  if (!list) n = 0;
  if (n > LP2P_TLS_CHAIN_MAX) n = LP2P_TLS_CHAIN_MAX;
  for (unsigned i = 0; i < n; i++)
    certs[i] = (lp2p_tls_der){list[i].data, list[i].size};
  int rc = s->cfg.verify(s->cfg.verify_ctx, certs, n);
  if (rc) {
    s->verify_err = rc < 0 ? rc : LP2P_EPROTO;
    return -1;
  }
  return 0;
}

/* ---- record framing ---------------------------------------------------- */

/* RFC 8446 5.1/5.2: a record is type, legacy version, 2-byte length, then
 * at most 2^14 + 256 bytes. */
#define REC_HEADER 5
#define REC_BODY_MAX (LP2P_TLS_RECORD_MAX + 256)

/* Moves `whole` past every complete record of src, so GnuTLS only ever
 * pulls whole records. Checking each header here refuses a peer that does
 * not speak TLS at its first five bytes, with a reason that says so, and
 * an oversized record before it is buffered. */
static int scan_records(lp2p_tls_session *s) {
  while (s->src_len - s->whole >= REC_HEADER) {
    const uint8_t *h = s->src + s->whole;
    size_t body = (size_t)h[3] << 8 | h[4];
    /* Content types 20..23 (RFC 8446 5.1), legacy version 3.x. */
    if (h[0] < 20 || h[0] > 23 || h[1] != 3) {
      LP2P_REASON("tls", "not a TLS record (type %u, version %u.%u)", h[0], h[1], h[2]);
      return LP2P_EPROTO;
    }
    if (body > REC_BODY_MAX) {
      LP2P_REASON("tls", "record of %zu bytes: over the limit", body);
      return LP2P_ETOOBIG;
    }
    if (s->src_len - s->whole < REC_HEADER + body) break;
    s->whole += REC_HEADER + body;
  }
  return 0;
}

/* Bytes that complete the record begun in s->in (its header first), so a
 * record split across reads is the only input ever copied. */
static size_t to_complete(const lp2p_tls_session *s) {
  if (s->in.len < REC_HEADER) return REC_HEADER - s->in.len;
  size_t rec = REC_HEADER + ((size_t)s->in.data[3] << 8 | s->in.data[4]);
  /* Over its cap: one byte more lets scan_records say so. */
  if (rec > REC_HEADER + REC_BODY_MAX) return 1;
  return rec > s->in.len ? rec - s->in.len : 1;
}

/* ---- session ----------------------------------------------------------- */

static int setup(lp2p_tls_session *s) {
  const lp2p_tls_config *cfg = &s->cfg;
  /* A server sends no session tickets (we never resume) unless a test asks
   * for them. A client takes the ones a Node server sends and never uses
   * them. */
  unsigned flags =
      (cfg->client ? GNUTLS_CLIENT
                   : GNUTLS_SERVER | (cfg->send_tickets ? 0 : GNUTLS_NO_TICKETS)) |
      GNUTLS_NONBLOCK;
  if (gnutls_init(&s->g, flags) < 0) return LP2P_ENOMEM;
  gnutls_session_set_ptr(s->g, s);
  if (!cfg->client && cfg->send_tickets) {
    if (gnutls_session_ticket_key_generate(&s->ticket_key) < 0 ||
        gnutls_session_ticket_enable_server(s->g, &s->ticket_key) < 0)
      return LP2P_ENOMEM;
  }
  if (gnutls_priority_set_direct(s->g, PRIORITY, NULL) < 0) return LP2P_EINVAL;
  if (!cfg->creds && !cfg->client) return LP2P_EINVAL;
  /* A client without a certificate still needs (empty) certificate
   * credentials to take the server's. */
  if (!cfg->creds && gnutls_certificate_allocate_credentials(&s->own_gc) < 0)
    return LP2P_ENOMEM;
  gnutls_certificate_credentials_t gc = cfg->creds ? cfg->creds->gc : s->own_gc;
  if (gnutls_credentials_set(s->g, GNUTLS_CRD_CERTIFICATE, gc) < 0) return LP2P_EINVAL;
  if (!cfg->client && cfg->require_peer_cert)
    gnutls_certificate_server_set_request(s->g, GNUTLS_CERT_REQUIRE);
  if (cfg->verify) gnutls_session_set_verify_function(s->g, verify_cb);
  if (cfg->n_alpn) {
    gnutls_datum_t protos[LP2P_TLS_ALPN_MAX];
    for (size_t i = 0; i < cfg->n_alpn; i++)
      protos[i] =
          (gnutls_datum_t){(unsigned char *)s->alpn[i], (unsigned)strlen(s->alpn[i])};
    /* RFC 7301 3.2 (and tls.md "ALPN"): a server that shares no protocol
     * with a client offering some aborts with no_application_protocol. */
    unsigned aflags = cfg->client ? 0 : GNUTLS_ALPN_MANDATORY;
    if (gnutls_alpn_set_protocols(s->g, protos, (unsigned)cfg->n_alpn, aflags) < 0)
      return LP2P_EINVAL;
  }
  gnutls_transport_set_ptr(s->g, s);
  gnutls_transport_set_push_function(s->g, push_cb);
  gnutls_transport_set_pull_function(s->g, pull_cb);
  gnutls_transport_set_pull_timeout_function(s->g, pull_timeout_cb);
  return 0;
}

lp2p_tls_session *lp2p_tls_session_new(lp2p_env *env, const lp2p_tls_config *cfg,
                                       lp2p_io io) {
  if (!cfg || cfg->n_alpn > LP2P_TLS_ALPN_MAX || (cfg->n_alpn && !cfg->alpn)) return NULL;
  if (lp2p_gnutls_init()) return NULL;
  lp2p_tls_session *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->env = env;
  s->io = io;
  s->cfg = *cfg;
  s->cfg.alpn = NULL;
  for (size_t i = 0; i < cfg->n_alpn; i++) {
    size_t l = cfg->alpn[i] ? strlen(cfg->alpn[i]) : 0;
    if (l == 0 || l > 255 || !(s->alpn[i] = malloc(l + 1))) goto fail;
    memcpy(s->alpn[i], cfg->alpn[i], l + 1);
  }
  s->state = cfg->client ? ST_NEW : ST_HANDSHAKE;
  if (setup(s)) goto fail;
  return s;
fail:
  lp2p_tls_session_free(s);
  return NULL;
}

static int handshake_done(lp2p_tls_session *s) {
  gnutls_datum_t sel = {0};
  s->state = ST_OPEN;
  s->agreed = NULL;
  if (gnutls_alpn_get_selected_protocol(s->g, &sel) == 0)
    for (size_t i = 0; i < s->cfg.n_alpn; i++)
      if (strlen(s->alpn[i]) == sel.size && memcmp(s->alpn[i], sel.data, sel.size) == 0)
        s->agreed = s->alpn[i];
  LP2P_DEBUG("tls", "handshake complete (%s), ALPN %s",
             s->cfg.client ? "client" : "server", s->agreed ? s->agreed : "(none)");
  lp2p_event ev = {.type = LP2P_EV_READY, .protocol = s->agreed};
  return lp2p_io_event(&s->io, &ev);
}

/* GNUTLS_E_AGAIN means "call again", not always "no input left": after a
 * post-handshake message (a NewSessionTicket, which js-libp2p's Node server
 * sends two of) GnuTLS returns it with records still buffered. Only an
 * AGAIN after pull ran dry (starved) waits for the next recv. */
static int again(ssize_t g) { return g == GNUTLS_E_AGAIN || g == GNUTLS_E_INTERRUPTED; }

static int step_handshake(lp2p_tls_session *s) {
  int g;
  do {
    s->starved = 0;
    g = gnutls_handshake(s->g);
  } while (again(g) && !s->starved && s->whole > s->in_off);
  int rc = flush(s); /* our alert, if any, goes out before we stop */
  if (again(g)) return rc ? rc : 1;
  if (g < 0) return tls_error(s, g, "handshake");
  if (rc) return rc;
  return handshake_done(s);
}

/* Reads every complete record of the input; 0 once it is used up. */
static int read_records(lp2p_tls_session *s) {
  /* Each turn consumes input, so the loop ends with it. */
  while (s->state == ST_OPEN) {
    s->starved = 0;
    /* The record's plaintext where GnuTLS decrypted it: no copy out. */
    gnutls_packet_t pkt = NULL;
    ssize_t n = gnutls_record_recv_packet(s->g, &pkt);
    int rc = flush(s); /* e.g. a KeyUpdate answer */
    if (n > 0 && !rc) {
      gnutls_datum_t d = {0};
      gnutls_packet_get(pkt, &d, NULL);
      rc = lp2p_io_emit(&s->io, LP2P_EV_DATA, 0, d.data, d.size);
    }
    if (pkt) gnutls_packet_deinit(pkt);
    if (n > 0) {
      if (rc) return rc;
      if (s->err) return s->err;
      continue;
    }
    if (again(n) && !s->starved && !rc) continue;
    if (again(n)) return rc;
    if (rc) return rc;
    if (n == 0) {
      LP2P_DEBUG("tls", "peer sent close_notify");
      s->state = ST_PEER_DONE;
      return lp2p_io_emit(&s->io, LP2P_EV_EOF, 0, NULL, 0);
    }
    if (n < 0) {
      /* Warnings other than close_notify are ignored, as RFC 8446 6.1
       * allows; anything fatal ends the session. */
      if (!gnutls_error_is_fatal((int)n)) continue;
      return tls_error(s, (int)n, "record");
    }
  }
  return 0;
}

int lp2p_tls_session_start(lp2p_tls_session *s) {
  if (s->err) return s->err;
  if (!s->cfg.client) return 0;
  if (s->state != ST_NEW) return LP2P_EINVAL;
  s->state = ST_HANDSHAKE;
  int rc = step_handshake(s);
  return rc < 0 ? fail(s, rc) : 0;
}

/* One slice of input: the whole records at its start straight from the
 * caller's memory when nothing is buffered (direct), else appended to the
 * record begun in s->in. What GnuTLS did not take (the start of the next
 * record) is kept in s->in, so it never holds more than one record,
 * whatever one read brings. */
static int recv_slice(lp2p_tls_session *s, const uint8_t *in, size_t len, int direct) {
  int rc = 0;
  if (direct) {
    s->src = in;
    s->src_len = len;
  } else {
    rc = lp2p_buf_append(&s->in, in, len);
    s->src = s->in.data;
    s->src_len = s->in.len;
  }
  if (rc == 0) rc = scan_records(s);
  if (rc == 0 && s->state == ST_HANDSHAKE) {
    rc = step_handshake(s);
    if (rc == 1)
      rc = 0;
    else if (rc == 0 && s->err)
      rc = s->err;
  }
  if (rc == 0) rc = read_records(s);
  if (direct && rc == 0 && s->in_off < len)
    rc = lp2p_buf_append(&s->in, in + s->in_off, len - s->in_off);
  else if (!direct)
    lp2p_buf_consume(&s->in, s->in_off);
  s->whole -= s->in_off;
  s->in_off = 0;
  /* Only s->in outlives the call. */
  s->src = s->in.data;
  s->src_len = s->in.len;
  return rc;
}

int lp2p_tls_session_recv(lp2p_tls_session *s, const uint8_t *in, size_t len) {
  if (s->err) return s->err;
  if (s->in_recv || s->state == ST_NEW) return fail(s, LP2P_EINVAL);
  s->in_recv = 1;
  int rc = 0;
  while (rc == 0 && len > 0 && s->state != ST_PEER_DONE) {
    int direct = s->in.len == 0;
    size_t n = direct ? len : to_complete(s);
    if (n > len) n = len;
    rc = recv_slice(s, in, n, direct);
    in += n;
    len -= n;
  }
  s->in_recv = 0;
  return rc ? fail(s, rc) : 0;
}

/* Sends p as records (GnuTLS takes at most one record per call; push never
 * blocks, so it always takes one). */
static int send_records(lp2p_tls_session *s, const uint8_t *p, size_t len) {
  while (len > 0) {
    s->direct = 1;
    ssize_t n = gnutls_record_send(s->g, p, len);
    s->direct = 0;
    if (n <= 0 && s->push_err) return s->push_err;
    if (n <= 0) return tls_error(s, n ? (int)n : GNUTLS_E_INTERNAL_ERROR, "send");
    int rc = flush(s);
    if (rc) return rc;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

static int can_send(lp2p_tls_session *s) {
  if (s->err) return s->err;
  if (s->closed) return LP2P_ECLOSED;
  if (s->state != ST_OPEN && s->state != ST_PEER_DONE) return fail(s, LP2P_EINVAL);
  return 0;
}

int lp2p_tls_session_send(lp2p_tls_session *s, const uint8_t *p, size_t len) {
  int rc = can_send(s);
  if (rc) return rc;
  rc = send_records(s, p, len);
  return rc ? fail(s, rc) : 0;
}

/* A record is at most LP2P_TLS_RECORD_MAX bytes (RFC 8446 5.1), so a frame
 * header (12 bytes of yamux) sent on its own would be a record of its own,
 * with its own tag and AEAD call. Pieces are staged only until one record
 * is full; whole records of a large piece, and all of the last piece, go
 * to GnuTLS where they lie. A yamux frame of 64 KiB so costs one 16 KiB
 * copy (the record with the header), where joining header and payload
 * first cost 64 KiB. */
int lp2p_tls_session_sendv(lp2p_tls_session *s, const lp2p_iovec *v, size_t n) {
  int rc = can_send(s);
  if (rc) return rc;
  size_t staged = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    const uint8_t *p = v[i].p;
    size_t len = v[i].len;
    while (len > 0 && rc == 0) {
      size_t take;
      if (staged == 0 && (i + 1 == n || len >= LP2P_TLS_RECORD_MAX)) {
        take = i + 1 == n ? len : len - len % LP2P_TLS_RECORD_MAX;
        rc = send_records(s, p, take);
      } else {
        take = LP2P_TLS_RECORD_MAX - staged;
        if (take > len) take = len;
        memcpy(s->stage + staged, p, take);
        staged += take;
        if (staged == LP2P_TLS_RECORD_MAX) {
          rc = send_records(s, s->stage, staged);
          staged = 0;
        }
      }
      p += take;
      len -= take;
    }
  }
  if (rc == 0 && staged) rc = send_records(s, s->stage, staged);
  return rc ? fail(s, rc) : 0;
}

int lp2p_tls_session_close(lp2p_tls_session *s) {
  if (s->err) return s->err;
  if (s->closed || s->state == ST_NEW) return 0;
  s->closed = 1;
  int g = gnutls_bye(s->g, GNUTLS_SHUT_WR);
  int rc = flush(s);
  if (rc) return fail(s, rc);
  return g < 0 && g != GNUTLS_E_AGAIN ? fail(s, tls_error(s, g, "close")) : 0;
}

void lp2p_tls_session_set_io(lp2p_tls_session *s, lp2p_io io) { s->io = io; }

int lp2p_tls_session_handshake_done(const lp2p_tls_session *s) {
  return s->state == ST_OPEN || s->state == ST_PEER_DONE;
}

const char *lp2p_tls_session_alpn(const lp2p_tls_session *s) {
  return lp2p_tls_session_handshake_done(s) ? s->agreed : NULL;
}

void lp2p_tls_session_free(lp2p_tls_session *s) {
  if (!s) return;
  if (s->g) gnutls_deinit(s->g);
  if (s->own_gc) gnutls_certificate_free_credentials(s->own_gc);
  if (s->ticket_key.data) {
    gnutls_memset(s->ticket_key.data, 0, s->ticket_key.size);
    gnutls_free(s->ticket_key.data);
  }
  for (size_t i = 0; i < LP2P_TLS_ALPN_MAX; i++)
    free(s->alpn[i]);
  lp2p_buf_free_secret(&s->out);
  lp2p_buf_free(&s->in);
  sodium_memzero(s->stage, sizeof s->stage);
  free(s);
}
