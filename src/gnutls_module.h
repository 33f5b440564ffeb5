/* Internal: everything that needs GnuTLS (and ngtcp2) lives in one
 * loadable module, so a process that never uses TLS, QUIC or an RSA/ECDSA
 * peer key never maps GnuTLS's library chain (libgnutls, p11-kit, nettle,
 * hogweed, gmp, tasn1, unistring, idn2, ffi: 1.5 MB of a fresh tcp/noise
 * dialer's 4.1 MB peak RSS, bench/RESULTS.md "Dialer cost").
 *
 * The module (src/tls*.c, src/quic*.c, src/udp*.c, src/keys_spki.c,
 * src/gnutls_ops.c, built as lp2p-interop-gnutls.so beside the binary)
 * exports one symbol, lp2p_gnutls_module, of the type below. The core
 * reaches it only through this table: the tls security and the TLS layer
 * of wss through the forwarding ops below, quic-v1 through its driver,
 * RSA/ECDSA keys from keys.c. The module calls back into the core
 * directly, by name: the binary exports exactly the symbols the module's
 * objects import (an ld dynamic list made from them at build time,
 * cmake/gnutls_imports.cmake), so the module runs on the very code (libuv,
 * libsodium, the engines) and global state (log level, reason slot) of
 * the binary, with no second copy, and its sources stay the ones the tests
 * link, with no table of callbacks to keep in step.
 *
 * Unit tests, fuzz targets and benchmarks link the module's objects
 * directly (lp2p_core): lp2p__gnutls() then returns the linked table
 * without opening anything, so they test the same engines. */
#ifndef LP2P_GNUTLS_MODULE_INTERNAL_H
#define LP2P_GNUTLS_MODULE_INTERNAL_H

#include "lp2p/keys.h"
#include "lp2p/layer.h"
#include "lp2p/upgrade.h"

/* Bumped with any change of the table: a module from another build is
 * refused rather than called through the wrong layout. */
#define LP2P__GNUTLS_ABI 4

typedef struct lp2p__gnutls_ops {
  unsigned abi;                    /* LP2P__GNUTLS_ABI */
  size_t size;                     /* sizeof(lp2p__gnutls_ops) */
  const char *build_id;            /* LP2P__BUILD_ID (cmake/build_id.cmake) */
  const lp2p_security_ops *tls;    /* /tls/1.0.0 (tls.h) */
  const lp2p_layer_ops *tls_layer; /* TLS under wss (tls_layer.h) */
  /* The wss listener's self-signed certificate (tls_session.h
   * lp2p_tls_selfsigned_credentials) and its release. */
  int (*wss_creds)(void **out, const lp2p_env *env);
  void (*creds_free)(void *creds);
  const struct lp2p__driver *quic; /* quic-v1: the UDP driver (udp.c, transport.h) */
  /* RSA and ECDSA keys (keys.h): DER SubjectPublicKeyInfo checks, and
   * signature verification; same contracts as keys.c's callers expect. */
  int (*key_check)(const lp2p_pubkey *pk);
  int (*key_verify)(const lp2p_pubkey *pk, const uint8_t *msg, size_t len,
                    const uint8_t *sig, size_t sig_len);
  /* SHA-1 for the WebSocket accept key (sha1.h). */
  int (*sha1)(uint8_t out[20], const uint8_t *p, size_t len);
} lp2p__gnutls_ops;

/* The module's table: opened on the first call (the file beside the
 * running binary, see gnutls_load.c; env LP2P_GNUTLS_MODULE overrides),
 * the same pointer after. NULL when it cannot be loaded; then
 * lp2p__gnutls_error() says why, and later calls do not try again. Opening
 * is file I/O: the app calls this at start for a stack that needs it
 * (lp2p__transport_needs_gnutls), so engines only meet an already open module,
 * except for a peer's RSA/ECDSA key met by a noise or plaintext stack. */
const lp2p__gnutls_ops *lp2p__gnutls(void);
const char *lp2p__gnutls_error(void);

/* The tls security and the TLS layer as the core's tables hold them: each
 * call forwards to the module's (LP2P_ENOTSUP / NULL when it is not
 * loaded). */
extern const lp2p_security_ops lp2p__tls_security;
extern const lp2p_layer_ops lp2p__tls_layer;

/* Module side (keys_spki.c): RSA and ECDSA keys, a DER PKIX
 * SubjectPublicKeyInfo each (peer-ids.md "RSA", "ECDSA"). check: 0 or
 * LP2P_EKEY (LP2P_ENOMEM); verify: 0, LP2P_ESIG or LP2P_EKEY. */
int lp2p__spki_check(const lp2p_pubkey *pk);
int lp2p__spki_verify(const lp2p_pubkey *pk, const uint8_t *msg, size_t len,
                      const uint8_t *sig, size_t sig_len);

#endif
