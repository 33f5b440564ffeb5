/* Unsigned varint (multiformats unsigned-varint), base58btc, base32 and
 * multihash framing. All pure; no dependency on keys (multiaddr.h builds on
 * this). */
#ifndef LP2P_CODEC_H
#define LP2P_CODEC_H

#include "lp2p/common.h"

#include <stdbool.h>

/* unsigned-varint spec: at most 9 bytes (63 bits), minimal encodings only. */
#define LP2P_VARINT_MAX 9

/* Writes v into out (>= LP2P_VARINT_MAX bytes); returns bytes written. */
size_t lp2p_varint_encode(uint8_t *out, uint64_t v);
size_t lp2p_varint_size(uint64_t v);
/* Reads one varint from in[0..len). Returns bytes consumed (> 0), 0 when
 * more input is needed, or LP2P_EVARINT (over 9 bytes, non-minimal). */
int lp2p_varint_decode(uint64_t *v, const uint8_t *in, size_t len);

/* base58btc (Bitcoin alphabet). encode: writes a NUL-terminated string into
 * out[0..cap); returns its length or LP2P_ETOOBIG. decode: returns bytes
 * written or LP2P_EBASE58 / LP2P_ETOOBIG. */
int lp2p_base58_encode(char *out, size_t cap, const uint8_t *in, size_t len);
int lp2p_base58_decode(uint8_t *out, size_t cap, const char *in, size_t len);
/* Inputs larger than this are refused with LP2P_ETOOBIG: base58 is quadratic
 * and nothing we carry (peer ids, multihashes) comes near it. */
#define LP2P_BASE58_MAX_BYTES 256

/* base32 of RFC 4648 section 6, lowercase, no padding (the multibase 'b'
 * alphabet). Same conventions and caps as base58; decode rejects padding,
 * uppercase and non-zero trailing bits. */
int lp2p_base32_encode(char *out, size_t cap, const uint8_t *in, size_t len);
int lp2p_base32_decode(uint8_t *out, size_t cap, const char *in, size_t len);

/* Multihash <varint code><varint digest length><digest>: checks that in[0..len)
 * is exactly one multihash. Sets *code and *digest_off; returns 0 or
 * LP2P_EPROTO. */
int lp2p_multihash_check(uint64_t *code, size_t *digest_off, const uint8_t *in,
                         size_t len);

#endif
