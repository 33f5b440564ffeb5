/* Varint, base58btc, base32 and multiaddr codecs. Pure functions: no
 * allocation, every size from input is checked against a cap first. */
#include "lp2p/codec.h"

#include <string.h>

/* ---- unsigned varint (multiformats/unsigned-varint README) ---- */

size_t lp2p_varint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}

size_t lp2p_varint_encode(uint8_t *out, uint64_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    out[n++] = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  out[n++] = (uint8_t)v;
  return n;
}

int lp2p_varint_decode(uint64_t *v, const uint8_t *in, size_t len) {
  uint64_t acc = 0;
  for (size_t i = 0; i < len && i < LP2P_VARINT_MAX; i++) {
    acc |= (uint64_t)(in[i] & 0x7f) << (7 * i);
    if (in[i] & 0x80) continue;
    /* README "Format": only 0 itself may end in a 0x00 byte; section
     * "Practical maximum of 9 bytes" bounds the loop. */
    if (i > 0 && in[i] == 0) return LP2P_EVARINT;
    *v = acc;
    return (int)(i + 1);
  }
  return len >= LP2P_VARINT_MAX ? LP2P_EVARINT : 0;
}

/* ---- base58btc (draft-msporny-base58-03, Bitcoin alphabet) ---- */

static const char B58[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

static int b58_value(unsigned char c) {
  const char *p = c ? strchr(B58, c) : NULL;
  return p ? (int)(p - B58) : -1;
}

/* log(256)/log(58) < 1.38: digits needed per input byte (draft section 3). */
#define B58_DIGITS_MAX (LP2P_BASE58_MAX_BYTES * 138 / 100 + 1)
#define B58_TEXT_MAX (2 * LP2P_BASE58_MAX_BYTES)

int lp2p_base58_encode(char *out, size_t cap, const uint8_t *in, size_t len) {
  if (len > LP2P_BASE58_MAX_BYTES) return LP2P_ETOOBIG;
  size_t zeros = 0;
  while (zeros < len && in[zeros] == 0)
    zeros++;
  uint8_t digits[B58_DIGITS_MAX];
  size_t ndig = 0; /* digits[0..ndig) little-endian base 58 */
  for (size_t i = zeros; i < len; i++) {
    unsigned carry = in[i];
    for (size_t j = 0; j < ndig; j++) {
      carry += (unsigned)digits[j] << 8;
      digits[j] = (uint8_t)(carry % 58);
      carry /= 58;
    }
    while (carry) {
      digits[ndig++] = (uint8_t)(carry % 58);
      carry /= 58;
    }
  }
  size_t total = zeros + ndig;
  if (total + 1 > cap) return LP2P_ETOOBIG;
  memset(out, '1', zeros);
  for (size_t j = 0; j < ndig; j++)
    out[zeros + j] = B58[digits[ndig - 1 - j]];
  out[total] = 0;
  return (int)total;
}

int lp2p_base58_decode(uint8_t *out, size_t cap, const char *in, size_t len) {
  if (len > B58_TEXT_MAX) return LP2P_ETOOBIG;
  size_t zeros = 0;
  while (zeros < len && in[zeros] == '1')
    zeros++;
  uint8_t bytes[B58_TEXT_MAX]; /* little-endian base 256; never longer */
  size_t nb = 0;
  for (size_t i = zeros; i < len; i++) {
    int d = b58_value((unsigned char)in[i]);
    if (d < 0) return LP2P_EBASE58;
    unsigned carry = (unsigned)d;
    for (size_t j = 0; j < nb; j++) {
      carry += (unsigned)bytes[j] * 58;
      bytes[j] = (uint8_t)carry;
      carry >>= 8;
    }
    while (carry) {
      bytes[nb++] = (uint8_t)carry;
      carry >>= 8;
    }
  }
  if (zeros + nb > cap) return LP2P_ETOOBIG;
  memset(out, 0, zeros);
  for (size_t j = 0; j < nb; j++)
    out[zeros + j] = bytes[nb - 1 - j];
  return (int)(zeros + nb);
}

/* ---- base32 (RFC 4648 section 6, lowercase, unpadded) ---- */

static const char B32[] = "abcdefghijklmnopqrstuvwxyz234567";

int lp2p_base32_encode(char *out, size_t cap, const uint8_t *in, size_t len) {
  if (len > LP2P_BASE58_MAX_BYTES) return LP2P_ETOOBIG;
  size_t n = (len * 8 + 4) / 5;
  if (n + 1 > cap) return LP2P_ETOOBIG;
  unsigned acc = 0, bits = 0;
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    acc = (acc << 8 | in[i]) & 0xfff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out[o++] = B32[(acc >> bits) & 31];
    }
  }
  if (bits) out[o++] = B32[(acc << (5 - bits)) & 31];
  out[o] = 0;
  return (int)o;
}

int lp2p_base32_decode(uint8_t *out, size_t cap, const char *in, size_t len) {
  if (len > B58_TEXT_MAX) return LP2P_ETOOBIG;
  /* RFC 4648 section 6: a final quantum leaves 2, 4, 5 or 7 characters. */
  size_t rem = len % 8;
  if (rem == 1 || rem == 3 || rem == 6) return LP2P_EBASE58;
  if (len * 5 / 8 > cap) return LP2P_ETOOBIG;
  unsigned acc = 0, bits = 0;
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    const char *p = in[i] ? strchr(B32, in[i]) : NULL;
    if (!p) return LP2P_EBASE58;
    acc = (acc << 5 | (unsigned)(p - B32)) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (uint8_t)(acc >> bits);
    }
  }
  /* Canonical form only: the padding bits of the last character are 0. */
  if (acc & ((1u << bits) - 1)) return LP2P_EBASE58;
  return (int)o;
}

/* ---- multihash (multiformats/multihash README, "Format") ---- */

int lp2p_multihash_check(uint64_t *code, size_t *digest_off, const uint8_t *in,
                         size_t len) {
  uint64_t c, dlen;
  int n1 = lp2p_varint_decode(&c, in, len);
  if (n1 <= 0) return LP2P_EPROTO;
  int n2 = lp2p_varint_decode(&dlen, in + n1, len - (size_t)n1);
  if (n2 <= 0) return LP2P_EPROTO;
  size_t off = (size_t)n1 + (size_t)n2;
  if (dlen != len - off) return LP2P_EPROTO;
  *code = c;
  *digest_off = off;
  return 0;
}
