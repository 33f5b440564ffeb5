/* Unit tests of src/codec.c: varint, base58btc, base32, multiaddr. Vectors
 * come from tests/vectors/ (each file names its source). */
#include "testutil.h"

#include "lp2p/codec.h"
#include "lp2p/multiaddr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Next "<a> <b>" line of a vector file; skips blank and '#' lines. */
static int next_pair(char **cur, char **a, char **b) {
  while (**cur) {
    char *line = *cur;
    char *nl = strchr(line, '\n');
    *cur = nl ? nl + 1 : line + strlen(line);
    if (nl) *nl = 0;
    if (line[0] == '#' || line[0] == 0) continue;
    char *sp = strchr(line, ' ');
    assert_non_null(sp);
    *sp = 0;
    *a = line;
    *b = sp + 1;
    return 1;
  }
  return 0;
}

/* ---- varint ---- */

static void check_varint(uint64_t v, const uint8_t *enc, size_t n) {
  uint8_t buf[LP2P_VARINT_MAX + 1];
  uint64_t got = 0;
  assert_int_equal(lp2p_varint_size(v), n);
  assert_int_equal(lp2p_varint_encode(buf, v), n);
  assert_memory_equal(buf, enc, n);
  /* Whole, then byte by byte: every shorter prefix asks for more. */
  assert_int_equal(lp2p_varint_decode(&got, enc, n), (int)n);
  assert_true(got == v);
  for (size_t k = 0; k < n; k++)
    assert_int_equal(lp2p_varint_decode(&got, enc, k), 0);
  /* Trailing bytes are not consumed. */
  memcpy(buf, enc, n);
  buf[n] = 0x01;
  assert_int_equal(lp2p_varint_decode(&got, buf, n + 1), (int)n);
  assert_true(got == v);
}

static void test_varint_vectors(void **state) {
  (void)state;
  char *text = tu_read_vector("unsigned-varint.txt", NULL), *cur = text, *a, *b;
  int count = 0;
  while (next_pair(&cur, &a, &b)) {
    uint8_t enc[16];
    size_t n = tu_hex(enc, sizeof enc, b);
    check_varint(strtoull(a, NULL, 10), enc, n);
    count++;
  }
  assert_int_equal(count, 6);
  free(text);
}

static void test_varint_limits(void **state) {
  (void)state;
  static const uint8_t zero[] = {0x00};
  static const uint8_t max63[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
  check_varint(0, zero, 1);
  check_varint(UINT64_MAX >> 1, max63, 9);

  uint64_t v;
  static const uint8_t nonmin1[] = {0x80, 0x00};
  static const uint8_t nonmin2[] = {0x81, 0x00};
  static const uint8_t nonmin3[] = {0xff, 0x80, 0x00};
  assert_int_equal(lp2p_varint_decode(&v, nonmin1, 2), LP2P_EVARINT);
  assert_int_equal(lp2p_varint_decode(&v, nonmin2, 2), LP2P_EVARINT);
  assert_int_equal(lp2p_varint_decode(&v, nonmin3, 3), LP2P_EVARINT);

  /* 2^63 needs 10 bytes: over the 9-byte cap, rejected as soon as the
   * ninth byte still has its continuation bit. */
  uint8_t ten[10];
  memset(ten, 0x80, 9);
  ten[9] = 0x01;
  for (size_t k = 0; k < 9; k++)
    assert_int_equal(lp2p_varint_decode(&v, ten, k), 0);
  assert_int_equal(lp2p_varint_decode(&v, ten, 9), LP2P_EVARINT);
  assert_int_equal(lp2p_varint_decode(&v, ten, 10), LP2P_EVARINT);
}

static void test_varint_random(void **state) {
  (void)state;
  uint64_t seed = 7;
  for (int i = 0; i < 2000; i++) {
    uint64_t v, got;
    uint8_t shift, buf[LP2P_VARINT_MAX];
    tu_random(&seed, (uint8_t *)&v, sizeof v);
    tu_random(&seed, &shift, 1);
    v >>= 1 + shift % 63;
    size_t n = lp2p_varint_encode(buf, v);
    assert_int_equal(lp2p_varint_decode(&got, buf, n), (int)n);
    assert_true(got == v);
  }
}

/* ---- base58 ---- */

static void test_base58_vectors(void **state) {
  (void)state;
  char *text = tu_read_vector("base58.txt", NULL), *cur = text, *a, *b;
  int count = 0;
  while (next_pair(&cur, &a, &b)) {
    uint8_t raw[128], dec[128];
    char enc[256];
    size_t n = tu_hex(raw, sizeof raw, a);
    assert_int_equal(lp2p_base58_encode(enc, sizeof enc, raw, n), (int)strlen(b));
    assert_string_equal(enc, b);
    assert_int_equal(lp2p_base58_decode(dec, sizeof dec, b, strlen(b)), (int)n);
    assert_memory_equal(dec, raw, n);
    /* Exact output caps pass, one less is refused. */
    assert_int_equal(lp2p_base58_encode(enc, strlen(b) + 1, raw, n), (int)strlen(b));
    assert_int_equal(lp2p_base58_encode(enc, strlen(b), raw, n), LP2P_ETOOBIG);
    assert_int_equal(lp2p_base58_decode(dec, n, b, strlen(b)), (int)n);
    assert_int_equal(lp2p_base58_decode(dec, n - 1, b, strlen(b)), LP2P_ETOOBIG);
    count++;
  }
  assert_int_equal(count, 3);
  free(text);
}

static void test_base58_edges(void **state) {
  (void)state;
  uint8_t out[600] = {0};
  char enc[800];
  assert_int_equal(lp2p_base58_encode(enc, sizeof enc, out, 0), 0);
  assert_string_equal(enc, "");
  assert_int_equal(lp2p_base58_decode(out, sizeof out, "", 0), 0);
  static const uint8_t zeros[3] = {0};
  assert_int_equal(lp2p_base58_encode(enc, sizeof enc, zeros, 3), 3);
  assert_string_equal(enc, "111");
  assert_int_equal(lp2p_base58_decode(out, sizeof out, "111", 3), 3);
  assert_memory_equal(out, zeros, 3);
  /* Characters outside the alphabet: 0 O I l, punctuation, non-ASCII, NUL. */
  static const char *bad[] = {"0", "O", "I", "l", "2NE+", "a b", "\xc3\xa9"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal(lp2p_base58_decode(out, sizeof out, bad[i], strlen(bad[i])),
                     LP2P_EBASE58);
  assert_int_equal(lp2p_base58_decode(out, sizeof out, "2N\0E", 4), LP2P_EBASE58);
  /* Input caps, checked before any work. */
  memset(out, 0xff, sizeof out);
  assert_int_equal(lp2p_base58_encode(enc, sizeof enc, out, LP2P_BASE58_MAX_BYTES + 1),
                   LP2P_ETOOBIG);
  memset(enc, 'z', sizeof enc);
  assert_int_equal(lp2p_base58_decode(out, sizeof out, enc, sizeof enc), LP2P_ETOOBIG);
}

static void test_base58_random(void **state) {
  (void)state;
  uint64_t seed = 11;
  for (int i = 0; i < 500; i++) {
    uint8_t raw[LP2P_BASE58_MAX_BYTES], dec[LP2P_BASE58_MAX_BYTES], l;
    char enc[2 * LP2P_BASE58_MAX_BYTES];
    tu_random(&seed, &l, 1);
    size_t n = l % 80;
    tu_random(&seed, raw, n);
    if (n > 2 && (l & 1)) raw[0] = raw[1] = 0; /* leading zero bytes */
    int m = lp2p_base58_encode(enc, sizeof enc, raw, n);
    assert_true(m >= 0);
    assert_int_equal(lp2p_base58_decode(dec, sizeof dec, enc, (size_t)m), (int)n);
    assert_memory_equal(dec, raw, n);
  }
  /* The largest accepted input still round-trips. */
  uint8_t big[LP2P_BASE58_MAX_BYTES], back[LP2P_BASE58_MAX_BYTES];
  char enc[2 * LP2P_BASE58_MAX_BYTES];
  memset(big, 0xff, sizeof big);
  int m = lp2p_base58_encode(enc, sizeof enc, big, sizeof big);
  assert_true(m > 0);
  assert_int_equal(lp2p_base58_decode(back, sizeof back, enc, (size_t)m),
                   (int)sizeof big);
  assert_memory_equal(back, big, sizeof big);
}

/* ---- base32 ---- */

static void test_base32_vectors(void **state) {
  (void)state;
  char *text = tu_read_vector("base32.txt", NULL), *cur = text, *a, *b;
  int count = 0;
  while (next_pair(&cur, &a, &b)) {
    const char *raw = strcmp(a, "-") ? a : "";
    const char *want = strcmp(b, "-") ? b : "";
    char enc[64];
    uint8_t dec[64];
    assert_int_equal(
        lp2p_base32_encode(enc, sizeof enc, (const uint8_t *)raw, strlen(raw)),
        (int)strlen(want));
    assert_string_equal(enc, want);
    assert_int_equal(lp2p_base32_decode(dec, sizeof dec, want, strlen(want)),
                     (int)strlen(raw));
    assert_memory_equal(dec, raw, strlen(raw));
    count++;
  }
  assert_int_equal(count, 7);
  free(text);
  uint8_t out[16];
  static const char *bad[] = {"m", "mzx", "mzxw6y", "MY", "my=", "m1", "mz"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal(lp2p_base32_decode(out, sizeof out, bad[i], strlen(bad[i])),
                     LP2P_EBASE58);
}

/* ---- multiaddr ---- */

#define ED_ID "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq"
#define ED_MH                                                                            \
  "0024080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e"

/* Text forms with their binary encodings (codes and value layouts from
 * multiformats/multiaddr protocols.csv and multicodec table.csv). */
static const struct {
  const char *text, *hex;
} MA_VECTORS[] = {
    {"/ip4/127.0.0.1/tcp/4001", "047f000001060fa1"},
    {"/ip6/::1/tcp/1234", "2900000000000000000000000000000001"
                          "0604d2"},
    {"/dns4/example.com/tcp/80", "360b6578616d706c652e636f6d060050"},
    {"/dns6/example.com/tcp/443/wss", "370b6578616d706c652e636f6d0601bbde03"},
    {"/ip4/127.0.0.1/udp/1234", "047f000001910204d2"},
    {"/ip4/127.0.0.1/udp/1234/quic-v1", "047f000001910204d2cd03"},
    {"/ip4/1.2.3.4/tcp/1/tls/ws", "0401020304060001c003dd03"},
    {"/ip6/2001:db8::1/tcp/0", "2920010db8000000000000000000000001"
                               "060000"},
    {"/ip4/1.2.3.4/tcp/1/p2p/" ED_ID, "0401020304060001a50326" ED_MH},
    {"/p2p/" ED_ID, "a50326" ED_MH},
    {"/ws", "dd03"},
};
#define N_MA (sizeof MA_VECTORS / sizeof MA_VECTORS[0])

static void test_multiaddr_vectors(void **state) {
  (void)state;
  for (size_t i = 0; i < N_MA; i++) {
    lp2p_multiaddr ma, mb;
    uint8_t want[256];
    char text[256];
    size_t n = tu_hex(want, sizeof want, MA_VECTORS[i].hex);
    assert_int_equal(lp2p_multiaddr_parse(&ma, MA_VECTORS[i].text), 0);
    assert_int_equal(ma.len, n);
    assert_memory_equal(ma.bytes, want, n);
    assert_int_equal(lp2p_multiaddr_from_bytes(&mb, want, n), 0);
    assert_int_equal(lp2p_multiaddr_format(text, sizeof text, &mb),
                     (int)strlen(MA_VECTORS[i].text));
    assert_string_equal(text, MA_VECTORS[i].text);
    /* An output buffer one byte short is refused and left empty. */
    assert_int_equal(lp2p_multiaddr_format(text, strlen(MA_VECTORS[i].text), &mb),
                     LP2P_ETOOBIG);
    assert_string_equal(text, "");
  }
}

static void test_multiaddr_aliases(void **state) {
  (void)state;
  lp2p_multiaddr ma, mb;
  char text[256];
  /* "/ipfs/" and the CIDv1 text of the same peer read as "/p2p/<base58>". */
  assert_int_equal(lp2p_multiaddr_parse(&ma, "/ipfs/" ED_ID), 0);
  assert_int_equal(lp2p_multiaddr_format(text, sizeof text, &ma), 0 + 5 + 52);
  assert_string_equal(text, "/p2p/" ED_ID);
  assert_int_equal(lp2p_multiaddr_parse(&ma,
                                        "/p2p/bafzbeie5745rpv2m6tjyuugywy4d5ewrqgqqhf"
                                        "nf445he3omzpjbx5xqxe"),
                   0);
  assert_int_equal(
      lp2p_multiaddr_parse(&mb, "/p2p/QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N"),
      0);
  assert_int_equal(ma.len, mb.len);
  assert_memory_equal(ma.bytes, mb.bytes, ma.len);
}

static void test_multiaddr_malformed_text(void **state) {
  (void)state;
  static const char *bad[] = {
      "",
      "/",
      "//",
      "ip4/1.2.3.4",
      "/ip4",
      "/ip4/",
      "/ip4/256.0.0.1",
      "/ip4/1.2.3",
      "/ip4/1.2.3.4.5",
      "/ip4/01.2.3.4",
      "/ip4/::1",
      "/ip6/1.2.3.4",
      "/ip6/:::1",
      "/tcp/65536",
      "/tcp/-1",
      "/tcp/+1",
      "/tcp/",
      "/tcp/0080",
      "/tcp/1x",
      "/tcp",
      "/udp/99999",
      "/foo/1",
      "/ip4/1.2.3.4/",
      "/ip4/1.2.3.4//tcp/1",
      "/dns4",
      "/dns4/",
      "/dns4//tcp/1",
      "/ws/1",
      "/p2p/notbase58!",
      "/p2p/12D3KooW",
      "/p2p/",
      "/p2p/Qm",
      "/p2p/bafz",
      "/p2p/" ED_ID "x",
      "/IP4/1.2.3.4",
      "/ip4/1.2.3.4 ",
      "/dns4/a b/tcp/1",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    lp2p_multiaddr ma;
    ma.len = 7;
    assert_int_equal(lp2p_multiaddr_parse(&ma, bad[i]), LP2P_EADDR);
    assert_int_equal(ma.len, 0);
  }
  /* A dns name over 255 bytes, and a text whose binary is over the cap. */
  char big[4096] = "/dns4/";
  memset(big + 6, 'a', 256);
  big[262] = 0;
  lp2p_multiaddr ma;
  assert_int_equal(lp2p_multiaddr_parse(&ma, big), LP2P_EADDR);
  big[0] = 0;
  while (strlen(big) < sizeof big - 40)
    strcat(big, "/ip4/1.2.3.4/tcp/1");
  assert_int_equal(lp2p_multiaddr_parse(&ma, big), LP2P_EADDR);
}

/* Every prefix of a valid text either parses to itself or is refused. */
static void test_multiaddr_text_prefixes(void **state) {
  (void)state;
  for (size_t i = 0; i < N_MA; i++) {
    const char *t = MA_VECTORS[i].text;
    for (size_t k = 0; k < strlen(t); k++) {
      char pre[256], back[256];
      lp2p_multiaddr ma;
      memcpy(pre, t, k);
      pre[k] = 0;
      if (lp2p_multiaddr_parse(&ma, pre) != 0) continue;
      assert_true(lp2p_multiaddr_format(back, sizeof back, &ma) >= 0);
      assert_string_equal(back, pre);
    }
  }
}

/* Every truncation of a valid binary is refused unless it ends exactly at a
 * component boundary (and is not empty). */
static void test_multiaddr_truncated_binary(void **state) {
  (void)state;
  for (size_t i = 0; i < N_MA; i++) {
    uint8_t want[256];
    size_t n = tu_hex(want, sizeof want, MA_VECTORS[i].hex);
    lp2p_multiaddr ma;
    assert_int_equal(lp2p_multiaddr_from_bytes(&ma, want, n), 0);
    int boundary[256] = {0};
    size_t off = 0;
    lp2p_ma_part p;
    while (lp2p_multiaddr_next(&ma, &off, &p) == 1)
      boundary[off] = 1;
    assert_int_equal(off, n);
    for (size_t k = 0; k < n; k++) {
      lp2p_multiaddr mb;
      int rc = lp2p_multiaddr_from_bytes(&mb, want, k);
      assert_int_equal(rc, boundary[k] ? 0 : LP2P_EADDR);
    }
  }
}

static void test_multiaddr_malformed_binary(void **state) {
  (void)state;
  static const char *bad[] = {
      "ff",             /* truncated code varint */
      "8000",           /* non-minimal code varint */
      "07",             /* unknown code */
      "047f0000",       /* short ip4 */
      "0600",           /* short port */
      "3600",           /* empty dns name */
      "36052f2f2f2f2f", /* '/' in a dns name */
      "3603610a62",     /* control byte in a dns name */
      "3606616263",     /* dns length past the end */
      "a50300",         /* empty p2p */
      "a503021220",     /* p2p multihash shorter than its length */
      "a50303002201",   /* p2p multihash length mismatch */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    uint8_t b[64];
    size_t n = tu_hex(b, sizeof b, bad[i]);
    lp2p_multiaddr ma;
    assert_int_equal(lp2p_multiaddr_from_bytes(&ma, b, n), LP2P_EADDR);
    assert_int_equal(ma.len, 0);
  }
  uint8_t huge[LP2P_MULTIADDR_MAX + 1] = {0};
  lp2p_multiaddr ma;
  assert_int_equal(lp2p_multiaddr_from_bytes(&ma, huge, sizeof huge), LP2P_ETOOBIG);
  /* A struct whose len says more than its array holds is read safely. */
  lp2p_multiaddr odd;
  memset(&odd, 0, sizeof odd);
  odd.bytes[0] = 0xdd;
  odd.bytes[1] = 0x03;
  odd.len = SIZE_MAX;
  size_t off = 0;
  lp2p_ma_part p;
  int rc;
  while ((rc = lp2p_multiaddr_next(&odd, &off, &p)) == 1) {
  }
  assert_int_equal(rc, LP2P_EADDR);
}

/* Random and mutated binaries: never a crash; whatever is accepted formats
 * and parses back to the same bytes. */
static void check_accepted(const uint8_t *b, size_t n) {
  lp2p_multiaddr ma, mb;
  char text[4 * LP2P_MULTIADDR_MAX];
  if (lp2p_multiaddr_from_bytes(&ma, b, n) != 0) return;
  assert_true(lp2p_multiaddr_format(text, sizeof text, &ma) >= 0);
  assert_int_equal(lp2p_multiaddr_parse(&mb, text), 0);
  assert_int_equal(mb.len, n);
  assert_memory_equal(mb.bytes, b, n);
}

static void test_multiaddr_fuzz(void **state) {
  (void)state;
  uint64_t seed = 3;
  for (int i = 0; i < 3000; i++) {
    uint8_t b[96], l;
    tu_random(&seed, &l, 1);
    size_t n = l % sizeof b;
    tu_random(&seed, b, n);
    check_accepted(b, n);
  }
  for (size_t i = 0; i < N_MA; i++) {
    uint8_t b[256];
    size_t n = tu_hex(b, sizeof b, MA_VECTORS[i].hex);
    for (size_t k = 0; k < n; k++) {
      for (int bit = 0; bit < 8; bit++) {
        b[k] ^= (uint8_t)(1u << bit);
        check_accepted(b, n);
        b[k] ^= (uint8_t)(1u << bit);
      }
    }
  }
}

static void test_multiaddr_iterate(void **state) {
  (void)state;
  lp2p_multiaddr ma;
  assert_int_equal(lp2p_multiaddr_parse(&ma, "/ip4/1.2.3.4/tcp/1/p2p/" ED_ID), 0);
  size_t off = 0;
  lp2p_ma_part p;
  static const uint64_t codes[] = {LP2P_MA_IP4, LP2P_MA_TCP, LP2P_MA_P2P};
  static const size_t lens[] = {4, 2, 38};
  for (int i = 0; i < 3; i++) {
    assert_int_equal(lp2p_multiaddr_next(&ma, &off, &p), 1);
    assert_true(p.code == codes[i]);
    assert_int_equal(p.len, lens[i]);
  }
  assert_int_equal(lp2p_multiaddr_next(&ma, &off, &p), 0);
  assert_int_equal(lp2p_multiaddr_next(&ma, &off, &p), 0);
}

static void test_dial_target(void **state) {
  (void)state;
  lp2p_multiaddr ma;
  lp2p_dial_target t;
  uint8_t mh[64];
  size_t mhlen = tu_hex(mh, sizeof mh, ED_MH);

  assert_int_equal(lp2p_multiaddr_parse(&ma, "/ip4/127.0.0.1/tcp/4001"), 0);
  assert_int_equal(lp2p_multiaddr_dial_target(&t, &ma), 0);
  assert_string_equal(t.host, "127.0.0.1");
  assert_int_equal(t.family, 4);
  assert_int_equal(t.port, 4001);
  assert_int_equal(t.peer_len, 0);

  assert_int_equal(lp2p_multiaddr_parse(&ma, "/ip6/::1/tcp/65535/p2p/" ED_ID), 0);
  assert_int_equal(lp2p_multiaddr_dial_target(&t, &ma), 0);
  assert_string_equal(t.host, "::1");
  assert_int_equal(t.family, 6);
  assert_int_equal(t.port, 65535);
  assert_int_equal(t.peer_len, mhlen);
  assert_memory_equal(t.peer, mh, mhlen);

  assert_int_equal(lp2p_multiaddr_parse(&ma, "/dns4/example.com/tcp/80/ws"), 0);
  assert_int_equal(lp2p_multiaddr_dial_target(&t, &ma), 0);
  assert_string_equal(t.host, "example.com");
  assert_int_equal(t.family, 0);
  assert_int_equal(t.port, 80);

  /* A udp port too (quic-v1); what follows the port is the transport's
   * business (transport.c). */
  assert_int_equal(lp2p_multiaddr_parse(&ma, "/ip4/127.0.0.1/udp/1234/quic-v1"), 0);
  assert_int_equal(lp2p_multiaddr_dial_target(&t, &ma), 0);
  assert_int_equal(t.port, 1234);

  static const char *nodial[] = {
      "/ip4/127.0.0.1/quic-v1/udp/1234",  "/tcp/1", "/ip4/127.0.0.1", "/p2p/" ED_ID,
      "/ip4/1.2.3.4/p2p/" ED_ID "/tcp/1", "/ws",
  };
  for (size_t i = 0; i < sizeof nodial / sizeof nodial[0]; i++) {
    assert_int_equal(lp2p_multiaddr_parse(&ma, nodial[i]), 0);
    assert_int_equal(lp2p_multiaddr_dial_target(&t, &ma), LP2P_EADDR);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_varint_vectors),
      cmocka_unit_test(test_varint_limits),
      cmocka_unit_test(test_varint_random),
      cmocka_unit_test(test_base58_vectors),
      cmocka_unit_test(test_base58_edges),
      cmocka_unit_test(test_base58_random),
      cmocka_unit_test(test_base32_vectors),
      cmocka_unit_test(test_multiaddr_vectors),
      cmocka_unit_test(test_multiaddr_aliases),
      cmocka_unit_test(test_multiaddr_malformed_text),
      cmocka_unit_test(test_multiaddr_text_prefixes),
      cmocka_unit_test(test_multiaddr_truncated_binary),
      cmocka_unit_test(test_multiaddr_malformed_binary),
      cmocka_unit_test(test_multiaddr_fuzz),
      cmocka_unit_test(test_multiaddr_iterate),
      cmocka_unit_test(test_dial_target),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
