/* RSA and ECDSA identity keys over GnuTLS, in the GnuTLS module
 * (gnutls_module.h): keys.c reaches them through the module's table. */
#include "gnutls_module.h"

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <limits.h>
#include <string.h>

/* An RSA signature is as long as the modulus, a DER ECDSA one at most 139
 * bytes (P-521): neither exceeds the key cap. */
#define SPKI_SIG_MAX LP2P_PUBKEY_MAX

int lp2p_gnutls_init(void) {
  static int done;
  if (done) return 0;
  if (gnutls_global_init() < 0) return LP2P_ENOMEM;
  done = 1;
  return 0;
}

/* RSA and ECDSA: Data is a DER PKIX SubjectPublicKeyInfo (peer-ids.md
 * "RSA", "ECDSA"). Imports it into *out and checks that its algorithm is the
 * one Type names, that an RSA modulus has at least LP2P_RSA_MIN_BITS bits
 * and an EC key is on P-256, P-384 or P-521, and that the bytes are the
 * canonical DER GnuTLS writes back (so the peer id is the one others derive
 * after re-encoding the key). The caller frees *out. */
static int spki_import(gnutls_pubkey_t *out, const lp2p_pubkey *pk) {
  gnutls_pubkey_t key;
  if (lp2p_gnutls_init()) return LP2P_ENOMEM;
  gnutls_datum_t der = {(unsigned char *)pk->key, (unsigned)pk->len};
  gnutls_datum_t x = {0}, y = {0};
  gnutls_ecc_curve_t curve = GNUTLS_ECC_CURVE_INVALID;
  uint8_t again[LP2P_PUBKEY_MAX];
  size_t again_len = sizeof again;
  unsigned bits = 0;
  const char *why = NULL;
  if (pk->len == 0 || pk->len > LP2P_PUBKEY_MAX) return LP2P_EKEY;
  if (gnutls_pubkey_init(&key) < 0) return LP2P_ENOMEM;
  if (gnutls_pubkey_import(key, &der, GNUTLS_X509_FMT_DER) < 0) {
    why = "not a DER SubjectPublicKeyInfo";
    goto fail;
  }
  int algo = gnutls_pubkey_get_pk_algorithm(key, &bits);
  if (pk->type == LP2P_KEY_RSA) {
    /* rsaEncryption only: an id-RSASSA-PSS key is another key type. */
    if (algo != GNUTLS_PK_RSA) {
      why = "RSA type but not an rsaEncryption key";
      goto fail;
    }
    if (bits < LP2P_RSA_MIN_BITS) {
      why = "RSA modulus under the minimum size";
      goto fail;
    }
  } else {
    if (algo != GNUTLS_PK_ECDSA) {
      why = "ECDSA type but not an EC key";
      goto fail;
    }
    if (gnutls_pubkey_export_ecc_raw2(key, &curve, &x, &y, 0) < 0) {
      why = "EC key unreadable";
      goto fail;
    }
    gnutls_free(x.data);
    gnutls_free(y.data);
    if (curve != GNUTLS_ECC_CURVE_SECP256R1 && curve != GNUTLS_ECC_CURVE_SECP384R1 &&
        curve != GNUTLS_ECC_CURVE_SECP521R1) {
      why = "EC key not on P-256, P-384 or P-521";
      goto fail;
    }
  }
  if (gnutls_pubkey_export(key, GNUTLS_X509_FMT_DER, again, &again_len) < 0 ||
      again_len != pk->len || memcmp(again, pk->key, pk->len) != 0) {
    why = "key not in canonical DER";
    goto fail;
  }
  *out = key;
  return 0;
fail:
  LP2P_DEBUG("keys", "%s key refused: %s (%u bits)",
             pk->type == LP2P_KEY_RSA ? "RSA" : "ECDSA", why, bits);
  gnutls_pubkey_deinit(key);
  return LP2P_EKEY;
}

int lp2p__spki_verify(const lp2p_pubkey *pk, const uint8_t *msg, size_t len,
                      const uint8_t *sig, size_t sig_len) {
  gnutls_pubkey_t key;
  int rc = spki_import(&key, pk);
  if (rc) return rc;
  if (len > UINT_MAX) {
    rc = LP2P_EINVAL;
  } else if (sig_len == 0 || sig_len > SPKI_SIG_MAX) {
    rc = LP2P_ESIG;
  } else {
    /* peer-ids.md: SHA-256, then RSASSA-PKCS1-v1_5 or DER ECDSA. */
    gnutls_sign_algorithm_t algo =
        pk->type == LP2P_KEY_RSA ? GNUTLS_SIGN_RSA_SHA256 : GNUTLS_SIGN_ECDSA_SHA256;
    gnutls_datum_t d = {(unsigned char *)msg, (unsigned)len};
    gnutls_datum_t s = {(unsigned char *)sig, (unsigned)sig_len};
    int r = gnutls_pubkey_verify_data2(key, algo, 0, &d, &s);
    if (r < 0) {
      LP2P_DEBUG("keys", "signature refused: %s", gnutls_strerror(r));
      rc = LP2P_ESIG;
    }
  }
  gnutls_pubkey_deinit(key);
  return rc;
}

int lp2p__spki_check(const lp2p_pubkey *pk) {
  gnutls_pubkey_t key;
  int rc = spki_import(&key, pk);
  if (rc == 0) gnutls_pubkey_deinit(key);
  return rc;
}
