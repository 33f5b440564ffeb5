/* Hostile WebSocket clients against a real ws listener (lp2p__tcp_listen_chain
 * with the ws layer, 127.0.0.1): bad, oversized, endless and trickling
 * HTTP upgrade requests, then hostile frames after a good handshake. Each
 * case: the listener answers as RFC 6455 asks (an HTTP error status, or a
 * close frame with its code), closes that connection with one reason in
 * the log, and an honest ws dialer still gets its pong (hostile.h). Then a
 * wss listener (TLS under ws) against plain bytes, a bad record and
 * silence, with an honest wss dialer after each. */
#include "hostile.h"

#include "lp2p/tls_layer.h"
#include "lp2p/tls_session.h"
#include "lp2p/ws.h"

static const lp2p_layer_ops *const ws_layers[] = {&lp2p_ws_layer};

#define GOOD_REQUEST                                                                     \
  "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"   \
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

static hl H;

static int setup(void **state) {
  (void)state;
  hl_init_layers(&H, "yamux", ws_layers, 1);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  hl_free(&H);
  return 0;
}

/* Waits for the whole HTTP answer head; checks its status line. */
static void expect_status(hc *c, const char *status) {
  uint64_t end = hu_now_ms() + HU_WAIT_MS;
  while (lp2p_ws_http_head_len(c->in.data, c->in.len) <= 0 && hu_now_ms() < end) {
    if (hc_need(c, c->in.len + 1)) break;
  }
  int n = lp2p_ws_http_head_len(c->in.data, c->in.len);
  assert_true(n > 0);
  assert_memory_equal(c->in.data, status, strlen(status));
  lp2p_buf_consume(&c->in, (size_t)n);
}

typedef struct http_case {
  const char *name;
  const char *status;
  const char *logged;
} http_case;

static void send_str(hc *c, const char *s) {
  assert_int_equal(hc_send(c, s, strlen(s)), 0);
}

static void test_bad_requests(void **state) {
  (void)state;
  static const http_case cases[] = {
      {"no upgrade", "HTTP/1.1 400", "no Upgrade"},
      {"wrong method", "HTTP/1.1 405", "not GET"},
      {"bad key", "HTTP/1.1 400", "Sec-WebSocket-Key"},
      {"oversized head", "HTTP/1.1 431", "HTTP head is over"},
      {"endless headers", "HTTP/1.1 431", "HTTP head is over"},
      {"TLS to a ws listener", "HTTP/1.1 400", "bad HTTP upgrade"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    hc c;
    hl_case(&H, &c, cases[i].name);
    const char *n = cases[i].name;
    if (!strcmp(n, "no upgrade"))
      send_str(&c, "GET / HTTP/1.1\r\nHost: a\r\nSec-WebSocket-Version: 13\r\n\r\n");
    else if (!strcmp(n, "wrong method"))
      send_str(&c,
               "PUT / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n");
    else if (!strcmp(n, "bad key"))
      send_str(&c, "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Key: !!!!\r\n"
                   "Sec-WebSocket-Version: 13\r\n\r\n");
    else if (!strcmp(n, "oversized head")) {
      char big[LP2P_WS_HTTP_MAX + 64];
      memset(big, 'a', sizeof big);
      memcpy(big, "GET /", 5);
      assert_int_equal(hc_send(&c, big, sizeof big), 0);
    } else if (!strcmp(n, "endless headers")) {
      send_str(&c, "GET / HTTP/1.1\r\n");
      for (int k = 0; k < 200 && !c.eof; k++) {
        if (hc_send(&c, "X-A: b\r\n", 8)) break;
        hc_read_some(&c);
      }
    } else {
      static const uint8_t hello[] = {0x16, 0x03, 0x01, 0x00, 0x05, 1,   2,
                                      3,    4,    '\r', '\n', '\r', '\n'};
      assert_int_equal(hc_send(&c, hello, sizeof hello), 0);
    }
    expect_status(&c, cases[i].status);
    hl_expect_closed(&H, &c, LP2P_EPROTO, cases[i].logged, HU_WAIT_MS);
  }
}

/* A head that trickles and never ends: the step deadline closes it. */
static void test_trickle(void **state) {
  (void)state;
  hc c;
  hl_case(&H, &c, "header trickle");
  const char *part = "GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ";
  for (const char *p = part; *p && !c.eof; p++) {
    hc_send(&c, p, 1);
    hl_pump_ms(&H, 5);
    hc_read_some(&c);
  }
  hl_expect_closed(&H, &c, LP2P_ETIMEDOUT, "did not finish", 4 * HU_STEP_MS + HU_WAIT_MS);
}

/* Drops the listener's binary frames (its multistream header, sent at
 * once: connections/README.md) up to its close frame. */
static void skip_data_frames(hc *c) {
  for (;;) {
    assert_int_equal(hc_need(c, 2), 0);
    if ((c->in.data[0] & 0x0f) == 0x8) return;
    size_t len = c->in.data[1] & 0x7f, hdr = 2;
    assert_true(len < 126);
    assert_int_equal(hc_need(c, hdr + len), 0);
    lp2p_buf_consume(&c->in, hdr + len);
  }
}

typedef struct frame_case {
  const char *name;
  const char *hex;
  uint16_t code; /* 1005: a close frame without a code */
  int err;
  const char *logged;
} frame_case;

static void test_bad_frames(void **state) {
  (void)state;
  static const frame_case cases[] = {
      {"unmasked client frame", "820548656c6c6f", 1002, LP2P_EPROTO, "protocol error"},
      {"frame over the cap", "82ff000000010000000037fa213d00", 1009, LP2P_ETOOBIG,
       "over our cap"},
      {"fragmented ping", "098537fa213d7f9f4d5158", 1005, LP2P_EPROTO, "malformed frame"},
      {"reserved opcode", "838537fa213d7f9f4d5158", 1002, LP2P_EPROTO, "protocol error"},
      {"reserved bit", "c28537fa213d7f9f4d5158", 1002, LP2P_EPROTO, "protocol error"},
      {"close code 999", "888237fa213d341d", 1002, LP2P_EPROTO, "protocol error"},
      {"text message", "818537fa213d7f9f4d5158", 1003, LP2P_EPROTO, "text message"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    hc c;
    hl_case(&H, &c, cases[i].name);
    send_str(&c, GOOD_REQUEST);
    expect_status(&c, "HTTP/1.1 101");
    uint8_t f[64];
    size_t n = tu_hex(f, sizeof f, cases[i].hex);
    assert_int_equal(hc_send(&c, f, n), 0);
    size_t want = cases[i].code == 1005 ? 2 : 4;
    skip_data_frames(&c);
    assert_int_equal(hc_need(&c, want), 0);
    assert_int_equal(c.in.data[0], 0x88);
    assert_int_equal(c.in.data[1], want - 2);
    if (want == 4) assert_int_equal(c.in.data[2] << 8 | c.in.data[3], cases[i].code);
    hl_expect_closed(&H, &c, cases[i].err, cases[i].logged, HU_WAIT_MS);
  }
}

/* ---- wss: TLS below ws ---- */

static const lp2p_layer_ops *const wss_layers[] = {&lp2p_tls_layer, &lp2p_ws_layer};

static void test_wss_listener(void **state) {
  (void)state;
  hl W;
  lp2p_env env = {.random = tu_random, .unix_s = 1767225600};
  uint64_t seed = 9;
  env.random_ud = &seed;
  lp2p_tls_creds *creds;
  assert_int_equal(lp2p_tls_selfsigned_credentials(&creds, &env), 0);
  hl_init_chain(&W, "noise", "mplex", wss_layers, 2, creds);
  /* An honest wss dialer first. */
  hl_check_serves(&W);
  static const struct {
    const char *name, *bytes;
    size_t len;
    int err;
  } cases[] = {
      {"plain HTTP to a wss listener", GOOD_REQUEST, sizeof GOOD_REQUEST - 1,
       LP2P_EPROTO},
      {"a TLS record over its limit", "\x16\x03\x01\xff\xff\x01", 6, 0},
      {"silence", "", 0, LP2P_ETIMEDOUT},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    hc c;
    hl_case(&W, &c, cases[i].name);
    if (cases[i].len) assert_int_equal(hc_send(&c, cases[i].bytes, cases[i].len), 0);
    hl_expect_closed(&W, &c, cases[i].err, "tls", 4 * HU_STEP_MS + HU_WAIT_MS);
  }
  hl_free(&W);
  lp2p_tls_creds_free(creds);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bad_requests),
      cmocka_unit_test(test_trickle),
      cmocka_unit_test(test_bad_frames),
      cmocka_unit_test(test_wss_listener),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
