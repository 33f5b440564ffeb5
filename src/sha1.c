/* SHA-1, FIPS 180-4 section 6.1.2 (one-shot; see sha1.h for its one use). */
#include "sha1.h"

#include <string.h>

static uint32_t rol(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

static void block(uint32_t h[5], const uint8_t b[64]) {
  uint32_t w[80], a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4];
  for (int t = 0; t < 16; t++)
    w[t] = (uint32_t)b[4 * t] << 24 | (uint32_t)b[4 * t + 1] << 16 |
           (uint32_t)b[4 * t + 2] << 8 | b[4 * t + 3];
  for (int t = 16; t < 80; t++)
    w[t] = rol(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
  for (int t = 0; t < 80; t++) {
    /* Section 4.1.1 f_t and section 4.2.1 K_t, by round. */
    uint32_t f, k;
    if (t < 20)
      f = (bb & c) | (~bb & d), k = 0x5a827999;
    else if (t < 40)
      f = bb ^ c ^ d, k = 0x6ed9eba1;
    else if (t < 60)
      f = (bb & c) | (bb & d) | (c & d), k = 0x8f1bbcdc;
    else
      f = bb ^ c ^ d, k = 0xca62c1d6;
    uint32_t tmp = rol(a, 5) + f + e + k + w[t];
    e = d, d = c, c = rol(bb, 30), bb = a, a = tmp;
  }
  h[0] += a, h[1] += bb, h[2] += c, h[3] += d, h[4] += e;
}

void lp2p__sha1(uint8_t out[LP2P__SHA1_LEN], const uint8_t *p, size_t len) {
  /* Section 5.3.1. */
  uint32_t h[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
  uint8_t last[128] = {0};
  size_t full = len & ~(size_t)63, rest = len - full;
  for (size_t i = 0; i < full; i += 64)
    block(h, p + i);
  /* Section 5.1.1: a 1 bit, zeros, the bit length in 64 bits big-endian. */
  memcpy(last, p + full, rest);
  last[rest] = 0x80;
  size_t n = rest < 56 ? 64 : 128;
  uint64_t bits = (uint64_t)len * 8;
  for (int i = 0; i < 8; i++)
    last[n - 1 - i] = (uint8_t)(bits >> (8 * i));
  block(h, last);
  if (n == 128) block(h, last + 64);
  for (int i = 0; i < 5; i++)
    for (int j = 0; j < 4; j++)
      out[4 * i + j] = (uint8_t)(h[i] >> (24 - 8 * j));
}
