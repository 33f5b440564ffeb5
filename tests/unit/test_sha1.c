/* SHA-1 as the ws handshake gets it (src/sha1.h: GnuTLS's, through the
 * GnuTLS module's table, linked in here) on the FIPS 180 examples (NIST "Cryptographic
 * Standards and Guidelines: Examples with Intermediate Values", SHA1.pdf
 * and SHA1_2.pdf: "abc", the 448-bit and 896-bit messages) plus the empty
 * message and a million 'a' (both from RFC 3174 section 7.3's test
 * driver / FIPS 180-1 appendix C). The 448-bit message is 56 bytes, so its
 * padding takes a second block; the 896-bit one is two blocks before the
 * padding. RFC 6455's accept example runs through it in test_ws. */
#include "testutil.h"

#include "../../src/sha1.h"

#include <stdlib.h>
#include <string.h>

static void expect(const char *msg, size_t len, const char *hex) {
  uint8_t want[LP2P__SHA1_LEN], got[LP2P__SHA1_LEN];
  assert_int_equal(tu_hex(want, sizeof want, hex), sizeof want);
  assert_int_equal(lp2p__sha1(got, (const uint8_t *)msg, len), 0);
  assert_memory_equal(got, want, sizeof want);
}

static void test_fips_examples(void **state) {
  (void)state;
  expect("abc", 3, "a9993e364706816aba3e25717850c26c9cd0d89d");
  expect("", 0, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  expect(m448, strlen(m448), "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  const char *m896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
                     "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
  expect(m896, strlen(m896), "a49b2446a02c645bf419f995b67091253a04a259");
}

static void test_million_a(void **state) {
  (void)state;
  size_t n = 1000000;
  char *m = malloc(n);
  assert_non_null(m);
  memset(m, 'a', n);
  expect(m, n, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
  free(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fips_examples),
      cmocka_unit_test(test_million_a),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
