/* Hostile peers against a real listener: multistream-select abuse before
 * the security handshake. Every case must end with the listener closing the
 * connection with a logged reason, holding no connection, and still
 * serving an honest dialer (see hostile.h). */
#include "hostile.h"

typedef struct mss_case {
  const char *name;
  const uint8_t *bytes;
  size_t len;
  int err;
  const char *logged;
} mss_case;

#define B(s) (const uint8_t *)(s), sizeof(s) - 1

static void run_bytes(hl *h, const mss_case *k) {
  hc c;
  hl_case(h, &c, k->name);
  assert_int_equal(hc_send(&c, k->bytes, k->len), 0);
  hl_expect_closed(h, &c, k->err, k->logged, HU_WAIT_MS);
}

static void test_malformed_messages(void **state) {
  (void)state;
  static const mss_case cases[] = {
      {"wrong header", B("\x13/multistream/2.0.0\n"), LP2P_EPROTO,
       "wrong multistream header"},
      /* 'G' reads as a 71-byte message that never completes: the step
       * deadline ends it. */
      {"http instead of multistream", B("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
       LP2P_ETIMEDOUT, "failed in security negotiation: timed out"},
      {"10-byte varint", B("\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01"), 0,
       "bad length varint"},
      {"non-minimal varint", B("\x93\x00/multistream/1.0.0\n"), LP2P_EVARINT,
       "bad length varint"},
      {"length over the cap", B("\x81\x08/multistream/1.0.0\n"), LP2P_ETOOBIG,
       "bad message length"},
      {"zero length", B("\x00"), LP2P_EPROTO, "bad message length"},
      {"missing newline", B("\x13/multistream/1.0.0X"), LP2P_EPROTO, "missing newline"},
      {"missing newline in a proposal", B("\x13/multistream/1.0.0\n\x07/noise!"),
       LP2P_EPROTO, "missing newline"},
  };
  hl h;
  hl_init(&h, "yamux");
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
    run_bytes(&h, &cases[i]);
  hl_free(&h);
}

/* Proposals the listener does not know, without end: it answers "na" up to
 * LP2P_MSS_MAX_NA times, then gives up. */
static void test_endless_unknown_proposals(void **state) {
  (void)state;
  hl h;
  hl_init(&h, "yamux");
  hc c;
  hl_case(&h, &c, "endless unknown proposals");
  lp2p_buf b = {0};
  hu_mss_msg(&b, LP2P_MSS_PROTOCOL);
  assert_int_equal(hc_send(&c, b.data, b.len), 0);
  int sent = 0;
  for (; sent < 10 * LP2P_MSS_MAX_NA; sent++) {
    char p[64];
    snprintf(p, sizeof p, "/unknown/%d", sent);
    b.len = 0;
    hu_mss_msg(&b, p);
    if (hc_send(&c, b.data, b.len) != 0) break;
    hc_read_some(&c);
    if (c.eof) break;
  }
  lp2p_buf_free(&b);
  assert_true(sent < 10 * LP2P_MSS_MAX_NA);
  hl_expect_closed(&h, &c, LP2P_ELIMIT, "too many unknown proposals", HU_WAIT_MS);
  hl_free(&h);
}

/* Slowloris: a valid header, one byte at a time, slower than the step
 * allows. The step deadline must close it, not the byte rate. */
static void test_slowloris(void **state) {
  (void)state;
  hl h;
  hl_init(&h, "yamux");
  hc c;
  hl_case(&h, &c, "one byte at a time (slowloris)");
  static const char hdr[] = "\x13/multistream/1.0.0\n\x07/noise\n";
  uint64_t t0 = hu_now_ms();
  for (size_t i = 0; i < sizeof hdr - 1; i++) {
    if (hc_send(&c, hdr + i, 1) != 0) break;
    hl_pump_ms(&h, HU_STEP_MS / 10);
    hc_read_some(&c);
    if (c.eof) break;
  }
  hl_expect_closed(&h, &c, LP2P_ETIMEDOUT, "failed in security negotiation", HU_WAIT_MS);
  /* Closed by the step deadline: well before the bytes ran out. */
  assert_true(hu_now_ms() - t0 <
              (uint64_t)(sizeof hdr - 1) * HU_STEP_MS / 10 + 4 * HU_STEP_MS);
  hl_free(&h);
}

/* Multistream done, then silence: the security step has its own deadline. */
static void test_silent_after_negotiation(void **state) {
  (void)state;
  hl h;
  hl_init(&h, "yamux");
  hc c;
  hl_case(&h, &c, "silent after /noise");
  hc_mss_noise(&c);
  hl_expect_closed(&h, &c, LP2P_ETIMEDOUT, "failed in security handshake", HU_WAIT_MS);
  hl_free(&h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_malformed_messages),
      cmocka_unit_test(test_endless_unknown_proposals),
      cmocka_unit_test(test_slowloris),
      cmocka_unit_test(test_silent_after_negotiation),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
