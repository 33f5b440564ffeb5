/* The libp2p TLS certificate (libp2p/specs tls/tls.md): making ours and
 * checking a peer's. X.509 parsing and the certificate's own signature are
 * GnuTLS's; the SignedKey is read by the small capped DER reader (der.h); the
 * host key signature is keys.c's. */
#include "lp2p/tls_cert.h"

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdlib.h>
#include <string.h>

#include "der.h"

#define PREFIX_LEN (sizeof LP2P_TLS_SIG_PREFIX - 1)
/* An SPKI of any key GnuTLS puts in a certificate we accept (RSA-8192 is
 * about 1.1 KiB); the signed message is the prefix plus that. */
#define SPKI_MAX 2048

int lp2p_tls_signedkey_parse(const uint8_t *in, size_t len, const uint8_t **key,
                             size_t *key_len, const uint8_t **sig, size_t *sig_len) {
  size_t pos = 0, seq, seq_len, k, kl, s, sl;
  if (len > LP2P_TLS_EXT_MAX) return LP2P_ETOOBIG;
  int rc = lp2p__der_read(in, len, &pos, LP2P_DER_SEQUENCE, &seq, &seq_len);
  if (rc) return rc;
  if (pos != len) return LP2P_EPROTO;
  size_t end = seq + seq_len;
  pos = seq;
  if ((rc = lp2p__der_read(in, end, &pos, LP2P_DER_OCTET_STRING, &k, &kl))) return rc;
  if ((rc = lp2p__der_read(in, end, &pos, LP2P_DER_OCTET_STRING, &s, &sl))) return rc;
  if (pos != end) return LP2P_EPROTO;
  if (kl > LP2P_PUBKEY_PB_MAX || sl > LP2P_TLS_SIG_MAX) return LP2P_ETOOBIG;
  *key = in + k;
  *key_len = kl;
  *sig = in + s;
  *sig_len = sl;
  return 0;
}

int lp2p_tls_signedkey_encode(lp2p_buf *out, const lp2p_identity *id, const uint8_t *spki,
                              size_t spki_len) {
  uint8_t msg[PREFIX_LEN + SPKI_MAX], key[LP2P_PUBKEY_PB_MAX], sig[LP2P_SIG_MAX];
  size_t sig_len;
  if (spki_len > SPKI_MAX) return LP2P_ETOOBIG;
  memcpy(msg, LP2P_TLS_SIG_PREFIX, PREFIX_LEN);
  memcpy(msg + PREFIX_LEN, spki, spki_len);
  int rc = lp2p_identity_sign(sig, &sig_len, id, msg, PREFIX_LEN + spki_len);
  if (rc) return rc;
  int key_len = lp2p_pubkey_marshal(key, sizeof key, &id->pub);
  if (key_len < 0) return key_len;
  size_t kh = lp2p__der_header_len((size_t)key_len), sh = lp2p__der_header_len(sig_len);
  if ((rc = lp2p__der_header(out, LP2P_DER_SEQUENCE,
                             kh + (size_t)key_len + sh + sig_len)) ||
      (rc = lp2p__der_header(out, LP2P_DER_OCTET_STRING, (size_t)key_len)) ||
      (rc = lp2p_buf_append(out, key, (size_t)key_len)) ||
      (rc = lp2p__der_header(out, LP2P_DER_OCTET_STRING, sig_len)) ||
      (rc = lp2p_buf_append(out, sig, sig_len)))
    return rc;
  return 0;
}

/* ---- making ----------------------------------------------------------- */

static int make_ext(void *ctx, lp2p_buf *out, const uint8_t *spki, size_t len) {
  return lp2p_tls_signedkey_encode(out, ctx, spki, len);
}

int lp2p_tls_cert_make(lp2p_buf *cert, lp2p_buf *key, const lp2p_identity *id,
                       const lp2p_env *env) {
  /* Critical, so that a verifier that does not know libp2p refuses the
   * certificate rather than trusting it without the host key; it is the
   * only extension, hence the first (js-libp2p looks there). */
  lp2p_tls_ext ext = {
      .oid = LP2P_TLS_EXT_OID, .critical = 1, .make = make_ext, .ctx = (void *)id};
  return lp2p_tls_selfsigned(cert, key, env, &ext);
}

int lp2p_tls_cert_credentials(lp2p_tls_creds **out, const lp2p_identity *id,
                              const lp2p_env *env) {
  lp2p_buf cert = {0}, key = {0};
  *out = NULL;
  int rc = lp2p_tls_cert_make(&cert, &key, id, env);
  if (!rc) rc = lp2p_tls_creds_new(out, cert.data, cert.len, key.data, key.len);
  lp2p_buf_free(&cert);
  lp2p_buf_free_secret(&key);
  return rc;
}

/* ---- checking --------------------------------------------------------- */

static int refuse(int err, const char *why) {
  LP2P_REASON("tls", "peer certificate: %s", why);
  return err;
}

static int check_validity(gnutls_x509_crt_t crt, int64_t now) {
  time_t nb = gnutls_x509_crt_get_activation_time(crt);
  time_t na = gnutls_x509_crt_get_expiration_time(crt);
  if (nb == (time_t)-1 || na == (time_t)-1)
    return refuse(LP2P_EPROTO, "unreadable validity period");
  if (now < (int64_t)nb) return refuse(LP2P_ETIMEDOUT, "not valid yet");
  if (now > (int64_t)na) return refuse(LP2P_ETIMEDOUT, "expired");
  return 0;
}

/* The certificate's signature with its own key (RFC 5280 4.1: over the
 * DER TBSCertificate, the first element of the Certificate SEQUENCE). Not
 * gnutls_x509_crt_verify with the certificate as its own CA: GnuTLS trusts
 * a certificate found in the CA list without checking its signature, and
 * with DO_NOT_ALLOW_SAME it refuses our empty issuer. */
static int check_self_signed(gnutls_x509_crt_t crt, const uint8_t *der, size_t len) {
  size_t pos = 0, body, blen, tbs_at;
  if (lp2p__der_read(der, len, &pos, LP2P_DER_SEQUENCE, &body, &blen) || pos != len)
    return refuse(LP2P_EPROTO, "not a DER Certificate");
  pos = tbs_at = body;
  if (lp2p__der_read(der, body + blen, &pos, LP2P_DER_SEQUENCE, &body, &blen))
    return refuse(LP2P_EPROTO, "no TBSCertificate");
  gnutls_datum_t tbs = {(unsigned char *)der + tbs_at, (unsigned)(pos - tbs_at)};
  uint8_t sig[1024];
  size_t sig_len = sizeof sig;
  int algo = gnutls_x509_crt_get_signature_algorithm(crt);
  if (algo < 0 || gnutls_x509_crt_get_signature(crt, (char *)sig, &sig_len) < 0)
    return refuse(LP2P_EPROTO, "unreadable signature");
  gnutls_datum_t sd = {sig, (unsigned)sig_len};
  gnutls_pubkey_t pub;
  if (gnutls_pubkey_init(&pub) < 0) return LP2P_ENOMEM;
  int r = gnutls_pubkey_import_x509(pub, crt, 0);
  if (r >= 0)
    r = gnutls_pubkey_verify_data2(pub, (gnutls_sign_algorithm_t)algo, 0, &tbs, &sd);
  gnutls_pubkey_deinit(pub);
  if (r < 0) {
    LP2P_REASON("tls", "peer certificate: bad self-signature (%s)", gnutls_strerror(r));
    return LP2P_ESIG;
  }
  return 0;
}

/* Extension i's criticality, and whether it is ours. GnuTLS tells the
 * criticality only along with the whole OID, so an OID too long for the
 * stack buffer (never ours, which is 25 characters) is read again into a
 * buffer of its size, which the certificate's own cap bounds. */
static int ext_info(gnutls_x509_crt_t crt, unsigned i, int *ours, unsigned *critical) {
  char buf[64];
  size_t len = sizeof buf;
  *ours = 0;
  int r = gnutls_x509_crt_get_extension_info(crt, i, buf, &len, critical);
  if (r == 0) *ours = strcmp(buf, LP2P_TLS_EXT_OID) == 0;
  if (r != GNUTLS_E_SHORT_MEMORY_BUFFER) return r;
  if (len > LP2P_TLS_CERT_MAX) return GNUTLS_E_ASN1_DER_ERROR;
  char *big = malloc(len);
  if (!big) return GNUTLS_E_MEMORY_ERROR;
  r = gnutls_x509_crt_get_extension_info(crt, i, big, &len, critical);
  free(big);
  return r;
}

/* The libp2p extension's value, copied to out (cap LP2P_TLS_EXT_MAX). */
static int find_ext(gnutls_x509_crt_t crt, uint8_t *out, size_t *out_len) {
  int found = 0;
  for (unsigned i = 0;; i++) {
    int ours;
    unsigned critical = 0;
    int r = ext_info(crt, i, &ours, &critical);
    if (r == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) break;
    if (r == GNUTLS_E_MEMORY_ERROR) return LP2P_ENOMEM;
    if (r < 0) return refuse(LP2P_EPROTO, "unreadable extensions");
    if (!ours) {
      /* tls.md "Peer Authentication": abort on a critical extension we do
       * not understand; ours is the only one a libp2p certificate needs. */
      if (critical)
        return refuse(LP2P_EPROTO, "unknown critical extension in certificate");
      continue;
    }
    /* RFC 5280 4.2: an extension appears at most once. */
    if (found) return refuse(LP2P_EPROTO, "libp2p extension twice");
    found = 1;
    size_t len = LP2P_TLS_EXT_MAX;
    r = gnutls_x509_crt_get_extension_data(crt, i, out, &len);
    if (r == GNUTLS_E_SHORT_MEMORY_BUFFER)
      return refuse(LP2P_ETOOBIG, "libp2p extension over its size cap");
    if (r < 0) return refuse(LP2P_EPROTO, "unreadable libp2p extension");
    *out_len = len;
  }
  return found ? 0 : refuse(LP2P_EPROTO, "no libp2p public key extension");
}

/* The host key and its signature over the certificate key. */
static int check_signed_key(gnutls_x509_crt_t crt, const uint8_t *ext, size_t ext_len,
                            lp2p_pubkey *pk) {
  const uint8_t *key, *sig;
  size_t key_len, sig_len;
  int rc = lp2p_tls_signedkey_parse(ext, ext_len, &key, &key_len, &sig, &sig_len);
  if (rc == LP2P_ETOOBIG) return refuse(rc, "SignedKey field over its size cap");
  if (rc) return refuse(rc, "malformed SignedKey");
  if ((rc = lp2p_pubkey_unmarshal(pk, key, key_len)))
    return refuse(rc, "host key malformed or refused");

  uint8_t msg[PREFIX_LEN + SPKI_MAX];
  size_t spki_len = SPKI_MAX;
  gnutls_pubkey_t pub;
  if (gnutls_pubkey_init(&pub) < 0) return LP2P_ENOMEM;
  int r = gnutls_pubkey_import_x509(pub, crt, 0);
  if (r >= 0)
    r = gnutls_pubkey_export(pub, GNUTLS_X509_FMT_DER, msg + PREFIX_LEN, &spki_len);
  gnutls_pubkey_deinit(pub);
  if (r < 0) return refuse(LP2P_EPROTO, "certificate key unreadable");
  memcpy(msg, LP2P_TLS_SIG_PREFIX, PREFIX_LEN);
  rc = lp2p_pubkey_verify(pk, msg, PREFIX_LEN + spki_len, sig, sig_len);
  if (rc == LP2P_ESIG) return refuse(rc, "host key signature does not verify");
  if (rc) return refuse(rc, "host key unusable");
  return 0;
}

int lp2p_tls_cert_verify(lp2p_pubkey *pk, const uint8_t *der, size_t len, int64_t now_s) {
  uint8_t ext[LP2P_TLS_EXT_MAX];
  size_t ext_len = 0;
  gnutls_x509_crt_t crt;
  if (lp2p_gnutls_init()) return LP2P_ENOMEM; /* set up on first use (keys.h) */
  if (len > LP2P_TLS_CERT_MAX) return refuse(LP2P_ETOOBIG, "over its size cap");
  if (gnutls_x509_crt_init(&crt) < 0) return LP2P_ENOMEM;
  gnutls_datum_t d = {(unsigned char *)der, (unsigned)len};
  int rc = 0;
  if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) < 0)
    rc = refuse(LP2P_EPROTO, "not an X.509 certificate");
  if (!rc) rc = check_validity(crt, now_s);
  if (!rc) rc = check_self_signed(crt, der, len);
  if (!rc) rc = find_ext(crt, ext, &ext_len);
  if (!rc) rc = check_signed_key(crt, ext, ext_len, pk);
  gnutls_x509_crt_deinit(crt);
  return rc;
}
