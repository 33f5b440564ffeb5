/* ChaCha20-Poly1305 over OpenSSL 3 EVP; why OpenSSL is in aead.h. */
#include "aead.h"

#include "lp2p/common.h"

#include <dlfcn.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <string.h>

#define TAGLEN 16
/* Below this many bytes libsodium is the faster of the two (measured with
 * both on one message size at a time: 64 B 356 vs 429 ns, 512 B 527 vs
 * 579 ns, 2 KiB 1444 vs 717 ns), and a process that never moves bulk data
 * (a ping test: handshake messages and pings are all under 1 KiB) never
 * sets up OpenSSL, which costs a fresh dialer about 3 MB RSS and a few
 * hundred page faults. Both compute RFC 8439 exactly. */
#define BULK_MIN 1024

/* OpenSSL's libcrypto is opened by the app that moves bulk data (the perf
 * app, lp2p__aead_enable_bulk), not linked: a process that never does (a
 * ping test) neither maps nor relocates it. Linked statically it cost a
 * fresh release dialer 1.3 MB of RSS (5.4 against 4.0 MB peak,
 * bench/dialer.sh) without being called. Opening it is file I/O, so the
 * engine never does it itself. Where it is not open, libsodium does every
 * size (slower, same bytes). */
#define LIBCRYPTO "libcrypto.so.3"

static struct {
  int state; /* 0 not tried, 1 open, -1 unavailable */
  EVP_CIPHER_CTX *(*ctx_new)(void);
  void (*ctx_free)(EVP_CIPHER_CTX *);
  const EVP_CIPHER *(*chacha20_poly1305)(void);
  int (*init)(EVP_CIPHER_CTX *, const EVP_CIPHER *, ENGINE *, const unsigned char *,
              const unsigned char *, int);
  int (*update)(EVP_CIPHER_CTX *, unsigned char *, int *, const unsigned char *, int);
  int (*final)(EVP_CIPHER_CTX *, unsigned char *, int *);
  int (*ctrl)(EVP_CIPHER_CTX *, int, int, void *);
} ossl;

int lp2p__aead_enable_bulk(void) {
  if (ossl.state) return ossl.state > 0;
  ossl.state = -1;
  void *h = dlopen(LIBCRYPTO, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    LP2P_INFO("aead", "%s not available (%s): libsodium for every message", LIBCRYPTO,
              dlerror());
    return 0;
  }
  /* POSIX dlsym: object pointers converted to function pointers. */
  *(void **)&ossl.ctx_new = dlsym(h, "EVP_CIPHER_CTX_new");
  *(void **)&ossl.ctx_free = dlsym(h, "EVP_CIPHER_CTX_free");
  *(void **)&ossl.chacha20_poly1305 = dlsym(h, "EVP_chacha20_poly1305");
  *(void **)&ossl.init = dlsym(h, "EVP_CipherInit_ex");
  *(void **)&ossl.update = dlsym(h, "EVP_CipherUpdate");
  *(void **)&ossl.final = dlsym(h, "EVP_CipherFinal_ex");
  *(void **)&ossl.ctrl = dlsym(h, "EVP_CIPHER_CTX_ctrl");
  if (!ossl.ctx_new || !ossl.ctx_free || !ossl.chacha20_poly1305 || !ossl.init ||
      !ossl.update || !ossl.final || !ossl.ctrl) {
    LP2P_INFO("aead", "%s lacks the EVP calls: libsodium for every message", LIBCRYPTO);
    return 0;
  }
  ossl.state = 1;
  return 1;
}

static EVP_CIPHER_CTX *ctx[2]; /* [0] open, [1] seal */

/* Keyed and ready for one message in direction enc. */
static EVP_CIPHER_CTX *prepare(int enc, const uint8_t key[32], const uint8_t nonce[12]) {
  if (!ctx[enc]) {
    if (!(ctx[enc] = ossl.ctx_new())) return NULL;
    if (ossl.init(ctx[enc], ossl.chacha20_poly1305(), NULL, NULL, NULL, enc) != 1) {
      ossl.ctx_free(ctx[enc]);
      ctx[enc] = NULL;
      return NULL;
    }
  }
  /* RFC 8439 section 2.8: 96-bit nonce, OpenSSL's default IV length. */
  if (ossl.init(ctx[enc], NULL, NULL, key, nonce, enc) != 1) return NULL;
  return ctx[enc];
}

static int update(EVP_CIPHER_CTX *c, uint8_t *out, const uint8_t *in, size_t len) {
  /* EVP counts in int: feed at most 1 GiB at a time (Noise messages are
   * 64 KiB, so once). */
  while (len) {
    int n = len > (1u << 30) ? 1 << 30 : (int)len, got;
    if (ossl.update(c, out, &got, in, n) != 1 || got != n) return LP2P_EINVAL;
    out += n;
    in += n;
    len -= (size_t)n;
  }
  return 0;
}

int lp2p__aead_sealv(uint8_t *out, const uint8_t key[32], const uint8_t nonce[12],
                     const uint8_t *ad, size_t adlen, const lp2p_iovec *v, size_t n) {
  size_t len = lp2p_iov_len(v, n);
  if (len < BULK_MIN || ossl.state <= 0) {
    /* libsodium seals one contiguous message: gather it in out first (a
     * copy only on this path: short messages, or no libcrypto). */
    const uint8_t *pt = n == 1 ? v[0].p : out;
    if (n != 1)
      for (size_t i = 0, off = 0; i < n; off += v[i].len, i++)
        if (v[i].len) memcpy(out + off, v[i].p, v[i].len);
    return crypto_aead_chacha20poly1305_ietf_encrypt_detached(
               out, out + len, NULL, pt, len, ad, adlen, NULL, nonce, key)
               ? LP2P_EINVAL
               : 0;
  }
  EVP_CIPHER_CTX *c = prepare(1, key, nonce);
  int got;
  if (!c) return LP2P_ENOMEM;
  if (adlen && ossl.update(c, NULL, &got, ad, (int)adlen) != 1) return LP2P_EINVAL;
  /* ChaCha20-Poly1305 is a stream cipher: pieces of any length follow one
   * another exactly as one message would (test_noise checks every split). */
  for (size_t i = 0, off = 0; i < n; off += v[i].len, i++)
    if (update(c, out + off, v[i].p, v[i].len)) return LP2P_EINVAL;
  if (ossl.final(c, out + len, &got) != 1) return LP2P_EINVAL;
  if (ossl.ctrl(c, EVP_CTRL_AEAD_GET_TAG, TAGLEN, out + len) != 1) return LP2P_EINVAL;
  return 0;
}

int lp2p__aead_seal(uint8_t *out, const uint8_t key[32], const uint8_t nonce[12],
                    const uint8_t *ad, size_t adlen, const uint8_t *pt, size_t len) {
  lp2p_iovec v = {pt, len};
  return lp2p__aead_sealv(out, key, nonce, ad, adlen, &v, 1);
}

int lp2p__aead_open(uint8_t *out, const uint8_t key[32], const uint8_t nonce[12],
                    const uint8_t *ad, size_t adlen, const uint8_t *ct, size_t len) {
  uint8_t tag[TAGLEN];
  if (len < BULK_MIN || ossl.state <= 0) {
    memcpy(tag, ct + len, TAGLEN);
    if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(out, NULL, ct, len, tag, ad,
                                                           adlen, nonce, key) == 0)
      return 0;
    memset(out, 0, len);
    return LP2P_EDECRYPT;
  }
  EVP_CIPHER_CTX *c = prepare(0, key, nonce);
  int n;
  if (!c) return LP2P_ENOMEM;
  /* Taken first: decrypting in place must not race the tag it checks. */
  memcpy(tag, ct + len, TAGLEN);
  if (ossl.ctrl(c, EVP_CTRL_AEAD_SET_TAG, TAGLEN, tag) != 1) return LP2P_EINVAL;
  if (adlen && ossl.update(c, NULL, &n, ad, (int)adlen) != 1) return LP2P_EINVAL;
  if (update(c, out, ct, len)) return LP2P_EINVAL;
  if (ossl.final(c, out + len, &n) != 1) {
    /* No unauthenticated plaintext leaves a failed open. */
    memset(out, 0, len);
    return LP2P_EDECRYPT;
  }
  return 0;
}

void lp2p__aead_wipe(void) {
  for (int i = 0; i < 2; i++) {
    if (ctx[i]) ossl.ctx_free(ctx[i]);
    ctx[i] = NULL;
  }
}
