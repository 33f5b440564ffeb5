/* The DER reader and header writer (src/der.h) on their own: short and
 * long forms (X.690 8.1.3), every truncation, and what DER (X.690 10.1)
 * forbids: non-minimal lengths, the indefinite form, the reserved length
 * octet, and lengths over the 3-octet cap or past the input. */
#include "testutil.h"

#include "../../src/der.h"

#include <stdlib.h>
#include <string.h>

#define SENTINEL ((size_t)0x5a5a)

/* Reads one element at pos 0 of tag `tag`; on error checks that nothing
 * was written. */
static int rd(const uint8_t *in, size_t len, uint8_t tag, size_t *body, size_t *blen,
              size_t *pos) {
  *pos = 0;
  *body = *blen = SENTINEL;
  int rc = lp2p__der_read(in, len, pos, tag, body, blen);
  if (rc) {
    assert_int_equal(*pos, 0);
    assert_int_equal(*body, SENTINEL);
    assert_int_equal(*blen, SENTINEL);
  }
  return rc;
}

/* in is one whole element with a body of blen bytes at offset body: it
 * reads back so, and each of its proper prefixes is refused. */
static void expect_element(const uint8_t *in, size_t len, uint8_t tag, size_t body,
                           size_t blen) {
  size_t b, bl, pos;
  assert_int_equal(rd(in, len, tag, &b, &bl, &pos), 0);
  assert_int_equal(b, body);
  assert_int_equal(bl, blen);
  assert_int_equal(pos, len);
  for (size_t cut = 0; cut < len; cut++)
    assert_int_equal(rd(in, cut, tag, &b, &bl, &pos), LP2P_EPROTO);
  assert_int_equal(rd(in, len, (uint8_t)(tag ^ 0x20), &b, &bl, &pos), LP2P_EPROTO);
}

/* An element of tag 0x04 with a body of blen bytes after the given
 * header; returned buffer is header + body (caller frees). */
static uint8_t *element(const char *header_hex, size_t blen, size_t *len) {
  uint8_t h[16];
  size_t hl = tu_hex(h, sizeof h, header_hex);
  uint8_t *p = malloc(hl + blen + 1);
  assert_non_null(p);
  memcpy(p, h, hl);
  memset(p + hl, 0xab, blen);
  *len = hl + blen;
  return p;
}

static void test_short_form(void **state) {
  (void)state;
  static const uint8_t empty[] = {0x04, 0x00};
  expect_element(empty, sizeof empty, LP2P_DER_OCTET_STRING, 2, 0);
  static const uint8_t three[] = {0x04, 0x03, 0xaa, 0xbb, 0xcc};
  expect_element(three, sizeof three, LP2P_DER_OCTET_STRING, 2, 3);
  size_t len;
  uint8_t *p = element("047f", 0x7f, &len);
  expect_element(p, len, LP2P_DER_OCTET_STRING, 2, 0x7f);
  free(p);
}

static void test_long_form(void **state) {
  (void)state;
  static const struct {
    const char *hdr;
    size_t blen;
  } cases[] = {
      {"048180", 0x80},     {"0481ff", 0xff},        {"04820100", 0x100},
      {"0482ffff", 0xffff}, {"0483010000", 0x10000},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t len;
    uint8_t *p = element(cases[i].hdr, cases[i].blen, &len);
    size_t hl = len - cases[i].blen;
    if (cases[i].blen <= 0x100) {
      expect_element(p, len, LP2P_DER_OCTET_STRING, hl, cases[i].blen);
    } else {
      /* Every cut of a big body is the same case: the header and a few. */
      size_t b, bl, pos;
      assert_int_equal(rd(p, len, LP2P_DER_OCTET_STRING, &b, &bl, &pos), 0);
      assert_int_equal(b, hl);
      assert_int_equal(bl, cases[i].blen);
      for (size_t cut = 0; cut < hl + 2; cut++)
        assert_int_equal(rd(p, cut, LP2P_DER_OCTET_STRING, &b, &bl, &pos), LP2P_EPROTO);
      assert_int_equal(rd(p, len - 1, LP2P_DER_OCTET_STRING, &b, &bl, &pos), LP2P_EPROTO);
    }
    free(p);
  }
}

/* Reads in sequence, from the middle of an input, and nested. */
static void test_positions(void **state) {
  (void)state;
  /* SEQUENCE { OCTET STRING 'a', OCTET STRING 'bc' } then trailing 0x00. */
  static const uint8_t in[] = {0x30, 0x07, 0x04, 0x01, 'a', 0x04, 0x02, 'b', 'c', 0x00};
  size_t pos = 0, b, bl;
  assert_int_equal(lp2p__der_read(in, sizeof in, &pos, LP2P_DER_SEQUENCE, &b, &bl), 0);
  assert_int_equal(pos, 9);
  size_t end = b + bl;
  pos = b;
  assert_int_equal(lp2p__der_read(in, end, &pos, LP2P_DER_OCTET_STRING, &b, &bl), 0);
  assert_true(b == 4 && bl == 1 && pos == 5);
  assert_int_equal(lp2p__der_read(in, end, &pos, LP2P_DER_OCTET_STRING, &b, &bl), 0);
  assert_true(b == 7 && bl == 2 && pos == 9);
  /* At the end of the input: nothing left to read. */
  assert_int_equal(lp2p__der_read(in, end, &pos, LP2P_DER_OCTET_STRING, &b, &bl),
                   LP2P_EPROTO);
  assert_int_equal(pos, 9);
  /* The inner element may not run past the end it is given. */
  pos = 5;
  assert_int_equal(lp2p__der_read(in, 8, &pos, LP2P_DER_OCTET_STRING, &b, &bl),
                   LP2P_EPROTO);
}

static void expect_refused(const char *hex, int err) {
  uint8_t in[64];
  size_t len = tu_hex(in, sizeof in, hex), b, bl, pos;
  assert_int_equal(rd(in, len, LP2P_DER_OCTET_STRING, &b, &bl, &pos), err);
}

static void test_non_minimal(void **state) {
  (void)state;
  expect_refused("048100", LP2P_EPROTO);
  expect_refused("04817f", LP2P_EPROTO);
  expect_refused("04820000", LP2P_EPROTO);
  expect_refused("0482007f", LP2P_EPROTO);
  /* 0x80 fits one octet after 0x81: two are one too many. */
  expect_refused("04820080"
                 "ababab",
                 LP2P_EPROTO);
  expect_refused("0483000100", LP2P_EPROTO);
  expect_refused("0484000000ff", LP2P_EPROTO);
  /* A body of 2 in the long form. */
  expect_refused("048102abab", LP2P_EPROTO);
}

static void test_indefinite_and_reserved(void **state) {
  (void)state;
  /* X.690 8.1.3.6: 0x80, the body, then end-of-contents 00 00. */
  expect_refused("0480abab0000", LP2P_EPROTO);
  uint8_t seq[] = {0x30, 0x80, 0x04, 0x00, 0x00, 0x00};
  size_t b, bl, pos;
  assert_int_equal(rd(seq, sizeof seq, LP2P_DER_SEQUENCE, &b, &bl, &pos), LP2P_EPROTO);
  /* X.690 8.1.3.5 c): 0xff is reserved. */
  expect_refused("04ff"
                 "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
                 LP2P_EPROTO);
}

static void test_overflow(void **state) {
  (void)state;
  /* Past the input, in each form. */
  expect_refused("0405abab", LP2P_EPROTO);
  expect_refused("048180abab", LP2P_EPROTO);
  expect_refused("0482ffffabab", LP2P_EPROTO);
  expect_refused("0483ffffffabab", LP2P_EPROTO);
  /* Over the 3-octet cap, whatever follows. */
  expect_refused("048401000000abab", LP2P_ETOOBIG);
  expect_refused("0488ffffffffffffffffabab", LP2P_ETOOBIG);
  expect_refused("04fe"
                 "01",
                 LP2P_EPROTO); /* 126 length octets, 1 there */
  /* Length octets missing: truncated, not too big. */
  expect_refused("048401", LP2P_EPROTO);
}

static void test_wrong_tag(void **state) {
  (void)state;
  expect_refused("0300", LP2P_EPROTO);
  expect_refused("2400", LP2P_EPROTO);
  expect_refused("", LP2P_EPROTO);
  expect_refused("04", LP2P_EPROTO);
}

/* The writer: minimal headers, read back by the reader. */
static void test_header_round_trip(void **state) {
  (void)state;
  static const struct {
    size_t len;
    const char *hex;
  } cases[] = {
      {0, "3000"},
      {1, "3001"},
      {0x7f, "307f"},
      {0x80, "308180"},
      {0xff, "3081ff"},
      {0x100, "30820100"},
      {0xffff, "3082ffff"},
      {0x10000, "3083010000"},
      {LP2P_DER_LEN_MAX, "3083ffffff"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    lp2p_buf b = {0};
    uint8_t want[8];
    size_t wl = tu_hex(want, sizeof want, cases[i].hex);
    assert_int_equal(lp2p__der_header_len(cases[i].len), wl);
    assert_int_equal(lp2p__der_header(&b, LP2P_DER_SEQUENCE, cases[i].len), 0);
    assert_int_equal(b.len, wl);
    assert_memory_equal(b.data, want, wl);
    /* The reader takes it back, body and all. */
    uint8_t *el = calloc(1, wl + cases[i].len);
    assert_non_null(el);
    memcpy(el, b.data, wl);
    size_t bd, bl, pos = 0;
    assert_int_equal(
        lp2p__der_read(el, wl + cases[i].len, &pos, LP2P_DER_SEQUENCE, &bd, &bl), 0);
    assert_true(bd == wl && bl == cases[i].len && pos == wl + cases[i].len);
    free(el);
    lp2p_buf_free(&b);
  }
  lp2p_buf b = {0};
  assert_int_equal(lp2p__der_header_len(LP2P_DER_LEN_MAX + 1), 0);
  assert_int_equal(lp2p__der_header(&b, LP2P_DER_SEQUENCE, LP2P_DER_LEN_MAX + 1),
                   LP2P_ETOOBIG);
  assert_int_equal(b.len, 0);
  lp2p_buf_free(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_short_form),
      cmocka_unit_test(test_long_form),
      cmocka_unit_test(test_positions),
      cmocka_unit_test(test_non_minimal),
      cmocka_unit_test(test_indefinite_and_reserved),
      cmocka_unit_test(test_overflow),
      cmocka_unit_test(test_wrong_tag),
      cmocka_unit_test(test_header_round_trip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
