/* Fuzz target: the codec primitives of codec.h below multiaddr: unsigned
 * varint, base58btc, base32 and the multihash check.
 *
 * Input: [mode][cap hi][cap lo] data...
 *   mode % 4: 0 varint, 1 base58, 2 base32, 3 multihash
 *   cap: size of the (exactly sized, heap) output buffer, so ASan sees any
 *   write past it.
 * Round trips are checked: whatever decodes re-encodes to the same bytes
 * (both codecs accept canonical forms only). */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "lp2p/codec.h"

static void fuzz_varint(const uint8_t *p, size_t len) {
  /* Walk successive varints, as a frame parser would. */
  size_t off = 0;
  while (off < len) {
    uint64_t v = 0;
    int n = lp2p_varint_decode(&v, p + off, len - off);
    if (n < 0) {
      FZ_CHECK(n == LP2P_EVARINT);
      break;
    }
    if (n == 0) {
      /* Only a truncated varint needs more input. */
      FZ_CHECK(len - off < LP2P_VARINT_MAX);
      for (size_t i = off; i < len; i++)
        FZ_CHECK(p[i] & 0x80);
      break;
    }
    FZ_CHECK(n <= LP2P_VARINT_MAX);
    FZ_CHECK((size_t)n == lp2p_varint_size(v));
    uint8_t enc[LP2P_VARINT_MAX + 1];
    size_t m = lp2p_varint_encode(enc, v);
    FZ_CHECK(m == (size_t)n && memcmp(enc, p + off, m) == 0);
    off += (size_t)n;
  }
  /* And the other way, for values the input spells out. */
  if (len >= 8) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
      v = v << 8 | p[i];
    v >>= p[0] & 63; /* every magnitude */
    uint8_t enc[16];
    size_t m = lp2p_varint_encode(enc, v);
    FZ_CHECK(m == lp2p_varint_size(v));
    uint64_t back = 0;
    int n = lp2p_varint_decode(&back, enc, m);
    if (v < (1ull << 63)) {
      FZ_CHECK(n == (int)m && back == v);
    } else {
      /* 2^63 and up need 10 bytes: over the 9-byte practical maximum. */
      FZ_CHECK(n == LP2P_EVARINT);
    }
  }
}

typedef int (*enc_fn)(char *, size_t, const uint8_t *, size_t);
typedef int (*dec_fn)(uint8_t *, size_t, const char *, size_t);

static void fuzz_base(enc_fn enc, dec_fn dec, const uint8_t *p, size_t len, size_t cap) {
  /* Text -> bytes -> text. */
  uint8_t *out = malloc(cap ? cap : 1);
  FZ_CHECK(out);
  int n = dec(out, cap, (const char *)p, len);
  if (n >= 0) {
    FZ_CHECK((size_t)n <= cap);
    if ((size_t)n <= LP2P_BASE58_MAX_BYTES) {
      size_t tcap = len + 1;
      char *text = malloc(tcap);
      FZ_CHECK(text);
      int t = enc(text, tcap, out, (size_t)n);
      FZ_CHECK(t == (int)len);
      FZ_CHECK(memcmp(text, p, len) == 0 && text[len] == 0);
      free(text);
    }
  }
  free(out);

  /* Bytes -> text -> bytes, with a text buffer of the given size. */
  char *text = malloc(cap ? cap : 1);
  FZ_CHECK(text);
  int t = enc(text, cap, p, len);
  if (t >= 0) {
    FZ_CHECK((size_t)t < cap && text[t] == 0);
    uint8_t *back = malloc(len ? len : 1);
    FZ_CHECK(back);
    int b = dec(back, len, text, (size_t)t);
    FZ_CHECK(b == (int)len && memcmp(back, p, len) == 0);
    free(back);
  } else {
    FZ_CHECK(t == LP2P_ETOOBIG);
  }
  free(text);
}

static void fuzz_multihash(const uint8_t *p, size_t len) {
  uint64_t code = 0;
  size_t off = 0;
  if (lp2p_multihash_check(&code, &off, p, len) != 0) return;
  uint64_t c2, dlen;
  int n1 = lp2p_varint_decode(&c2, p, len);
  FZ_CHECK(n1 > 0 && c2 == code);
  int n2 = lp2p_varint_decode(&dlen, p + n1, len - (size_t)n1);
  FZ_CHECK(n2 > 0 && (size_t)(n1 + n2) == off && dlen == len - off);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fz_in in = fz_in_make(data, size);
  uint8_t mode = fz_u8(&in);
  size_t cap = fz_u16(&in) % 1024;
  size_t len;
  const uint8_t *p = fz_rest(&in, &len);
  fz_log_begin(0);
  switch (mode % 4) {
  case 0: fuzz_varint(p, len); break;
  case 1: fuzz_base(lp2p_base58_encode, lp2p_base58_decode, p, len, cap); break;
  case 2: fuzz_base(lp2p_base32_encode, lp2p_base32_decode, p, len, cap); break;
  default: fuzz_multihash(p, len); break;
  }
  fz_log_end();
  return 0;
}
