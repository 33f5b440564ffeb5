/* Internal: ChaCha20-Poly1305 (RFC 8439), the AEAD of
 * Noise_XX_25519_ChaChaPoly_SHA256 (Noise spec section 12.3: 96-bit nonce
 * of 32 zero bits and the little-endian 64-bit counter).
 *
 * OpenSSL 3's libcrypto does the work: measured on the build machine
 * (AVX-512, 65519-byte messages, bench/perf.sh notes) it seals 1.3-1.6 GB/s
 * where libsodium 1.0.18 does 0.56-0.63 and GnuTLS's nettle 3.8 0.11-0.15,
 * and the transport is bound by this (perf record: 77% of both ends' CPU in
 * libsodium before the switch). Per CPU second (lp2p-bench-aead, load
 * 4-5): OpenSSL seals 3.4-3.6 GB/s, libsodium 0.71; bench/PERF-RESULTS.md
 * ("where the time goes now") turns that into the ceiling it sets. Messages under 1 KiB stay with libsodium
 * (aead.c BULK_MIN says why), and libcrypto is opened by an app that
 * moves bulk data rather than linked (aead.c says why). One OpenSSL context per
 * direction for the whole (single-threaded) process; lp2p__aead_wipe
 * clears the key they keep. */
#ifndef LP2P_AEAD_INTERNAL_H
#define LP2P_AEAD_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "lp2p/common.h"

/* out gets len bytes of ciphertext then the 16-byte tag; out may equal pt.
 * 0, or LP2P_ENOMEM / LP2P_EINVAL when the library fails. */
int lp2p__aead_seal(uint8_t *out, const uint8_t key[32], const uint8_t nonce[12],
                    const uint8_t *ad, size_t adlen, const uint8_t *pt, size_t len);
/* The same over the concatenation of n pieces (a frame header and its
 * payload), read where they lie: OpenSSL takes them one after the other,
 * so bulk data is encrypted from the caller's memory into out with no copy
 * first. Below BULK_MIN, or without libcrypto, the pieces are gathered into
 * out and sealed there. No piece may overlap out, except a single piece
 * equal to it (in place). */
int lp2p__aead_sealv(uint8_t *out, const uint8_t key[32], const uint8_t nonce[12],
                     const uint8_t *ad, size_t adlen, const lp2p_iovec *v, size_t n);
/* ct is len bytes of ciphertext followed by the tag; out (len bytes) may
 * equal ct. 0, or LP2P_EDECRYPT on a bad tag (out is then wiped). */
int lp2p__aead_open(uint8_t *out, const uint8_t key[32], const uint8_t nonce[12],
                    const uint8_t *ad, size_t adlen, const uint8_t *ct, size_t len);
void lp2p__aead_wipe(void);
/* Opens libcrypto so that messages of 1 KiB and more go through OpenSSL
 * from then on: 1 when it is open, 0 when it is not there (libsodium then
 * does every size). For the app side, once at start: it reads files. */
int lp2p__aead_enable_bulk(void);

#endif
