/* The WebSocket byte layer (ws.h) on RFC 6455 bytes: the key/accept
 * example (section 1.3), the frames of section 5.7 (tests/vectors/
 * rfc6455.txt; the text ones also with the binary opcode, since libp2p
 * carries binary), each input fed whole, one byte at a time and split at
 * every offset together with the handshake before it. Then hostile HTTP
 * and hostile frames: each fails with one reason and the answer the RFC
 * asks for (an HTTP error status, or a close frame with its code). */
#include "testutil.h"

#include "lp2p/ws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- vectors ---- */

static char *vectors;

static const char *vec(const char *name) {
  static char val[256];
  size_t nl = strlen(name);
  for (const char *l = vectors; l && *l;) {
    const char *e = strchr(l, '\n');
    size_t ll = e ? (size_t)(e - l) : strlen(l);
    if (ll > nl && l[0] != '#' && !strncmp(l, name, nl) && l[nl] == ' ') {
      assert_true(ll - nl - 1 < sizeof val);
      memcpy(val, l + nl + 1, ll - nl - 1);
      val[ll - nl - 1] = 0;
      return val;
    }
    l = e ? e + 1 : NULL;
  }
  fail_msg("no vector %s", name);
  return NULL;
}

static void add_hex(lp2p_buf *b, const char *hex) {
  uint8_t tmp[128];
  size_t n = tu_hex(tmp, sizeof tmp, hex);
  assert_int_equal(lp2p_buf_append(b, tmp, n), 0);
}

static void add_str(lp2p_buf *b, const char *s) {
  assert_int_equal(lp2p_buf_append(b, s, strlen(s)), 0);
}

/* The RFC's opcode byte with binary (0x2) in place of text (0x1). */
static void add_hex_binary(lp2p_buf *b, const char *hex) {
  size_t at = b->len;
  add_hex(b, hex);
  b->data[at] = (uint8_t)((b->data[at] & 0xf0) | 0x2);
}

static void test_accept(void **state) {
  (void)state;
  char out[LP2P_WS_ACCEPT_LEN + 1];
  assert_int_equal(lp2p_ws_accept(out, vec("accept-key")), 0);
  assert_string_equal(out, vec("accept"));
}

/* ---- an engine under test ---- */

typedef struct eng {
  lp2p_env env;
  uint64_t seed;
  void *ws;
  tu_capture cap;
} eng;

static void eng_new(eng *e, int initiator) {
  memset(e, 0, sizeof *e);
  e->seed = 5;
  e->env = (lp2p_env){.now_ms = 1000, .random = tu_random, .random_ud = &e->seed};
  lp2p_layer_params p = {.host = "127.0.0.1", .port = 4001, .step_timeout_ms = 100};
  e->ws = lp2p_ws_layer.create(&e->env, initiator, &p, tu_capture_io(&e->cap));
  assert_non_null(e->ws);
  assert_int_equal(lp2p_ws_layer.start(e->ws), 0);
  lp2p_clear_reason();
}

static void eng_free(eng *e) {
  lp2p_ws_layer.destroy(e->ws);
  tu_capture_free(&e->cap);
}

static int feed(void *ud, const uint8_t *p, size_t n) {
  return lp2p_ws_layer.recv(ud, p, n);
}

static const char SAMPLE_REQUEST[] = /* RFC 6455 section 1.2 */
    "GET /chat HTTP/1.1\r\n"
    "Host: server.example.com\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Origin: http://example.com\r\n"
    "Sec-WebSocket-Protocol: chat, superchat\r\n"
    "Sec-WebSocket-Version: 13\r\n\r\n";

static size_t response_len(const eng *e) {
  int n = lp2p_ws_http_head_len(e->cap.wire.data, e->cap.wire.len);
  assert_true(n > 0);
  return (size_t)n;
}

/* One read holding the head and more frames than the head buffer's cap:
 * the head buffer keeps at most LP2P_WS_HTTP_MAX + 1 bytes, and the rest
 * of the read still goes through as frames. */
static void test_head_then_bulk_in_one_read(void **state) {
  (void)state;
  lp2p_buf in = {0};
  add_str(&in, SAMPLE_REQUEST);
  for (int i = 0; i < 1000; i++) /* binary "Hello", masked as in 5.7 */
    add_hex(&in, "828537fa213d7f9f4d5158");
  assert_true(in.len > LP2P_WS_HTTP_MAX + 1);
  eng e;
  eng_new(&e, 0);
  assert_int_equal(feed(e.ws, in.data, in.len), 0);
  assert_int_equal(e.cap.ready, 1);
  assert_int_equal(e.cap.data.len, 5000);
  eng_free(&e);
  lp2p_buf_free(&in);
}

/* Server: the sample request, then masked frames from section 5.7. */
static void test_server_vectors(void **state) {
  (void)state;
  lp2p_buf in = {0};
  add_str(&in, SAMPLE_REQUEST);
  add_hex_binary(&in, vec("text-masked"));
  add_hex(&in, "898537fa213d7f9f4d5158"); /* a ping "Hello" with the same mask */
  add_hex(&in, vec("pong-masked"));       /* unsolicited: ignored (5.5.3) */
  for (size_t pass = 0; pass < tu_split_passes(in.len); pass++) {
    eng e;
    eng_new(&e, 0);
    assert_int_equal(tu_feed((int)pass, in.data, in.len, feed, e.ws), 0);
    assert_int_equal(e.cap.ready, 1);
    size_t rl = response_len(&e);
    char accept[64];
    snprintf(accept, sizeof accept, "Sec-WebSocket-Accept: %s\r\n", vec("accept"));
    assert_memory_equal(e.cap.wire.data, "HTTP/1.1 101 ", 13);
    assert_non_null(memmem(e.cap.wire.data, rl, accept, strlen(accept)));
    /* The pong echoes the ping, unmasked from a server (5.1). */
    uint8_t pong[] = {0x8a, 0x05, 'H', 'e', 'l', 'l', 'o'};
    assert_int_equal(e.cap.wire.len, rl + sizeof pong);
    assert_memory_equal(e.cap.wire.data + rl, pong, sizeof pong);
    assert_int_equal(e.cap.data.len, 5);
    assert_memory_equal(e.cap.data.data, "Hello", 5);
    assert_int_equal(lp2p_ws_layer.deadline(e.ws), LP2P_NO_DEADLINE);
    eng_free(&e);
  }
  lp2p_buf_free(&in);
}

/* Client: our request, the server's answer, then unmasked frames. */
static void client_open(eng *e, lp2p_buf *in) {
  eng_new(e, 1);
  const char *req = (const char *)e->cap.wire.data;
  assert_int_equal(lp2p_ws_http_head_len(e->cap.wire.data, e->cap.wire.len),
                   (int)e->cap.wire.len);
  assert_non_null(memmem(req, e->cap.wire.len, "Host: 127.0.0.1:4001\r\n", 22));
  lp2p_ws_http h;
  assert_int_equal(lp2p_ws_http_parse(&h, e->cap.wire.data, e->cap.wire.len, 0), 0);
  assert_true(h.get && h.http11 && h.upgrade_websocket && h.connection_upgrade &&
              h.version13 && h.has_host);
  char accept[LP2P_WS_ACCEPT_LEN + 1];
  assert_int_equal(lp2p_ws_accept(accept, h.key), 0);
  char resp[256];
  snprintf(resp, sizeof resp,
           "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
           "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
           accept);
  add_str(in, resp);
  e->cap.wire.len = 0;
}

static void test_client_vectors(void **state) {
  (void)state;
  lp2p_buf frames = {0};
  add_hex_binary(&frames, vec("text-unmasked"));
  add_hex_binary(&frames, vec("text-frag-1"));
  add_hex(&frames, vec("ping-unmasked")); /* a control frame between fragments */
  add_hex(&frames, vec("text-frag-2"));
  for (size_t pass = 0;; pass++) {
    eng e;
    lp2p_buf in = {0};
    client_open(&e, &in);
    assert_int_equal(lp2p_buf_append(&in, frames.data, frames.len), 0);
    if (pass >= tu_split_passes(in.len)) {
      eng_free(&e);
      lp2p_buf_free(&in);
      break;
    }
    assert_int_equal(tu_feed((int)pass, in.data, in.len, feed, e.ws), 0);
    assert_int_equal(e.cap.ready, 1);
    assert_int_equal(e.cap.data.len, 10);
    assert_memory_equal(e.cap.data.data, "HelloHello", 10);
    /* The pong: masked (5.3) with a key from env->random, echoing Hello. */
    assert_int_equal(e.cap.wire.len, 2 + 4 + 5);
    assert_int_equal(e.cap.wire.data[0], 0x8a);
    assert_int_equal(e.cap.wire.data[1], 0x85);
    for (int i = 0; i < 5; i++)
      assert_int_equal(e.cap.wire.data[6 + i] ^ e.cap.wire.data[2 + i % 4], "Hello"[i]);
    eng_free(&e);
    lp2p_buf_free(&in);
  }
  lp2p_buf_free(&frames);
}

/* The 256-byte and 64 KiB binary messages of 5.7 (16- and 64-bit
 * lengths), whole and one byte at a time. */
static void test_client_long_lengths(void **state) {
  (void)state;
  for (int pass = 0; pass < 2; pass++) {
    eng e;
    lp2p_buf in = {0};
    client_open(&e, &in);
    add_hex(&in, vec("binary-256-header"));
    for (int i = 0; i < 256; i++)
      lp2p_buf_append(&in, &(uint8_t){(uint8_t)i}, 1);
    add_hex(&in, vec("binary-64k-header"));
    for (int i = 0; i < 65536; i++)
      lp2p_buf_append(&in, &(uint8_t){(uint8_t)(i * 7)}, 1);
    assert_int_equal(tu_feed(pass, in.data, in.len, feed, e.ws), 0);
    assert_int_equal(e.cap.data.len, 256 + 65536);
    assert_int_equal(e.cap.data.data[255], 255);
    assert_int_equal(e.cap.data.data[256 + 65535], (uint8_t)(65535 * 7));
    eng_free(&e);
    lp2p_buf_free(&in);
  }
}

/* Our sends: one binary message each, masked by a client, and the
 * closing handshake. */
static void test_send_and_close(void **state) {
  (void)state;
  eng e;
  lp2p_buf in = {0};
  client_open(&e, &in);
  assert_int_equal(feed(e.ws, in.data, in.len), 0);
  assert_int_equal(lp2p_ws_layer.send(e.ws, (const uint8_t *)"abc", 3), 0);
  assert_int_equal(e.cap.wire.len, 2 + 4 + 3);
  assert_int_equal(e.cap.wire.data[0], 0x82);
  assert_int_equal(e.cap.wire.data[1], 0x83);
  e.cap.wire.len = 0;
  assert_int_equal(lp2p_ws_layer.close(e.ws), 0);
  assert_int_equal(e.cap.wire.data[0], 0x88);
  /* The server's close answer ends the stream: EOF up. */
  assert_int_equal(feed(e.ws, (const uint8_t *)"\x88\x02\x03\xe8", 4), 0);
  assert_int_equal(e.cap.other, 1);
  eng_free(&e);
  lp2p_buf_free(&in);
}

/* ---- hostile HTTP ---- */

typedef struct bad_http {
  const char *name;
  const char *head; /* NULL: built by the case */
  const char *status;
} bad_http;

static void expect_refused(eng *e, const char *status) {
  const char *why = lp2p_take_reason();
  assert_non_null(why);
  assert_true(e->cap.wire.len > 12);
  assert_memory_equal(e->cap.wire.data, status, strlen(status));
  assert_int_equal(e->cap.ready, 0);
}

static void test_hostile_requests(void **state) {
  (void)state;
  static const bad_http cases[] = {
      {"no upgrade", "GET / HTTP/1.1\r\nHost: a\r\nSec-WebSocket-Version: 13\r\n\r\n",
       "HTTP/1.1 400"},
      {"wrong method",
       "POST / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
       "HTTP/1.1 405"},
      {"bad key",
       "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
       "Sec-WebSocket-Key: c2hvcnQ=\r\nSec-WebSocket-Version: 13\r\n\r\n",
       "HTTP/1.1 400"},
      {"two keys",
       "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
       "HTTP/1.1 400"},
      {"old version",
       "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
       "HTTP/1.1 426"},
      {"no host",
       "GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
       "HTTP/1.1 400"},
      {"HTTP/1.0", "GET / HTTP/1.0\r\nHost: a\r\n\r\n", "HTTP/1.1 400"},
      {"bare LF", "GET / HTTP/1.1\nHost: a\n\r\n\r\n", "HTTP/1.1 400"},
      {"obs-fold", "GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n", "HTTP/1.1 400"},
      {"not HTTP", "\x16\x03\x01\x02\x01\x01\r\n\r\n", "HTTP/1.1 400"},
      {"long line", NULL, "HTTP/1.1 431"},
      {"endless headers", NULL, "HTTP/1.1 431"},
      {"big head", NULL, "HTTP/1.1 431"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    lp2p_buf in = {0};
    if (cases[i].head) {
      add_str(&in, cases[i].head);
    } else if (!strcmp(cases[i].name, "long line")) {
      add_str(&in, "GET /");
      for (int k = 0; k < LP2P_WS_HTTP_LINE_MAX; k++)
        add_str(&in, "a");
    } else if (!strcmp(cases[i].name, "endless headers")) {
      add_str(&in, "GET / HTTP/1.1\r\n");
      for (int k = 0; k < 1000; k++)
        add_str(&in, "X-A: b\r\n");
    } else {
      add_str(&in, "GET / HTTP/1.1\r\n");
      for (int k = 0; k < 10; k++) {
        add_str(&in, "X-Long: ");
        for (int j = 0; j < 1000; j++)
          add_str(&in, "v");
        add_str(&in, "\r\n");
      }
    }
    for (int pass = 0; pass < 2; pass++) {
      eng e;
      eng_new(&e, 0);
      int rc = tu_feed(pass, in.data, in.len, feed, e.ws);
      if (rc == 0) fail_msg("case '%s' was accepted", cases[i].name);
      assert_int_equal(rc, LP2P_EPROTO);
      expect_refused(&e, cases[i].status);
      eng_free(&e);
    }
    lp2p_buf_free(&in);
  }
}

/* A head that trickles in and never ends: the step deadline ends it. */
static void test_trickle(void **state) {
  (void)state;
  eng e;
  eng_new(&e, 0);
  assert_int_equal(lp2p_ws_layer.deadline(e.ws), 1100);
  const char *part = "GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ";
  for (const char *p = part; *p; p++) {
    assert_int_equal(feed(e.ws, (const uint8_t *)p, 1), 0);
    e.env.now_ms += 3;
    assert_int_equal(lp2p_ws_layer.expire(e.ws), 0);
  }
  e.env.now_ms = 1100;
  assert_int_equal(lp2p_ws_layer.expire(e.ws), LP2P_ETIMEDOUT);
  assert_non_null(lp2p_take_reason());
  eng_free(&e);
}

static void test_hostile_responses(void **state) {
  (void)state;
  const char *bad[] = {
      "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
      /* The accept of another key (RFC 6455's sample). */
      ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
       "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"),
      "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\r\n",
      "HTTP/1.1 101\r\n\r\n",
      "garbage\r\n\r\n",
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    eng e;
    eng_new(&e, 1);
    assert_int_equal(feed(e.ws, (const uint8_t *)bad[i], strlen(bad[i])), LP2P_EPROTO);
    assert_non_null(lp2p_take_reason());
    assert_int_equal(e.cap.ready, 0);
    eng_free(&e);
  }
  /* A right answer with an extension we never asked for (4.1). */
  eng e;
  lp2p_buf in = {0};
  client_open(&e, &in);
  in.len -= 2;
  add_str(&in, "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n");
  assert_int_equal(feed(e.ws, in.data, in.len), LP2P_EPROTO);
  eng_free(&e);
  lp2p_buf_free(&in);
  /* An endless response head. */
  eng_new(&e, 1);
  const char *h = "HTTP/1.1 101 Switching Protocols\r\n";
  assert_int_equal(feed(e.ws, (const uint8_t *)h, strlen(h)), 0);
  int rc = 0;
  for (int k = 0; k < 100 && rc == 0; k++)
    rc = feed(e.ws, (const uint8_t *)"A: b\r\n", 6);
  assert_int_equal(rc, LP2P_ETOOBIG);
  eng_free(&e);
}

/* ---- hostile frames, at a server after a good handshake ---- */

typedef struct bad_frame {
  const char *name;
  const char *hex;
  uint16_t code; /* the close code we answer with; 1005: a close frame
                    without one (wslay's answer to a malformed header) */
  int rc;
} bad_frame;

static void test_hostile_frames(void **state) {
  (void)state;
  static const bad_frame cases[] = {
      /* wslay checks the length once the first payload byte is in: still
       * before anything is allocated (frame data is never buffered). */
      {"64-bit length over the cap", "82ff000000010000000037fa213d00", 1009,
       LP2P_ETOOBIG},
      {"64-bit length with the top bit", "82ff800000000000000137fa213d00", 1005,
       LP2P_EPROTO},
      {"64-bit length not minimal", "82ff000000000000000537fa213d00", 1005, LP2P_EPROTO},
      {"16-bit length then a huge continuation", "02fe100037fa213d", 0, 0},
      {"fragmented ping", "098537fa213d7f9f4d5158", 1005, LP2P_EPROTO},
      {"ping over 125 bytes", "89fe007e37fa213d", 1005, LP2P_EPROTO},
      {"unmasked client frame", "820548656c6c6f", 1002, LP2P_EPROTO},
      {"reserved opcode 3", "838537fa213d7f9f4d5158", 1002, LP2P_EPROTO},
      {"reserved opcode 11", "8b8537fa213d7f9f4d5158", 1002, LP2P_EPROTO},
      {"RSV1 set", "c28537fa213d7f9f4d5158", 1002, LP2P_EPROTO},
      {"RSV3 set", "928537fa213d7f9f4d5158", 1002, LP2P_EPROTO},
      {"continuation first", "808537fa213d7f9f4d5158", 1002, LP2P_EPROTO},
      {"close code 999", "888237fa213d341d", 1002, LP2P_EPROTO},
      {"close code 1005", "888237fa213d3417", 1002, LP2P_EPROTO},
      {"close with 1 byte", "888137fa213d34", 1002, LP2P_EPROTO},
      {"text message", "818537fa213d7f9f4d5158", 1003, LP2P_EPROTO},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    if (!cases[i].code) continue;
    eng e;
    eng_new(&e, 0);
    assert_int_equal(feed(e.ws, (const uint8_t *)SAMPLE_REQUEST, strlen(SAMPLE_REQUEST)),
                     0);
    size_t rl = response_len(&e);
    lp2p_buf in = {0};
    add_hex(&in, cases[i].hex);
    int rc = feed(e.ws, in.data, in.len);
    if (rc != cases[i].rc) fail_msg("case '%s': rc %d", cases[i].name, rc);
    assert_non_null(lp2p_take_reason());
    assert_int_equal(e.cap.data.len, 0);
    /* Our close frame: unmasked, two bytes of code (5.5.1). */
    size_t want = cases[i].code == 1005 ? 2 : 4;
    if (e.cap.wire.len != rl + want)
      fail_msg("case '%s': %zu bytes after the response", cases[i].name,
               e.cap.wire.len - rl);
    const uint8_t *cf = e.cap.wire.data + rl;
    assert_int_equal(cf[0], 0x88);
    assert_int_equal(cf[1], want - 2);
    if (want == 4) assert_int_equal(cf[2] << 8 | cf[3], cases[i].code);
    /* Anything after is not read. */
    assert_int_equal(feed(e.ws, in.data, in.len), 0);
    assert_int_equal(e.cap.data.len, 0);
    eng_free(&e);
    lp2p_buf_free(&in);
  }
}

/* An orderly close from the client: answered with the same code, EOF up. */
static void test_peer_close(void **state) {
  (void)state;
  eng e;
  eng_new(&e, 0);
  assert_int_equal(feed(e.ws, (const uint8_t *)SAMPLE_REQUEST, strlen(SAMPLE_REQUEST)),
                   0);
  size_t rl = response_len(&e);
  lp2p_buf in = {0};
  add_hex(&in, "888237fa213d3412"); /* 1000, masked */
  assert_int_equal(feed(e.ws, in.data, in.len), 0);
  assert_int_equal(e.cap.other, 1);
  assert_int_equal(e.cap.wire.len, rl + 4);
  assert_memory_equal(e.cap.wire.data + rl, "\x88\x02\x03\xe8", 4);
  assert_int_equal(lp2p_ws_layer.send(e.ws, (const uint8_t *)"x", 1), LP2P_ECLOSED);
  eng_free(&e);
  lp2p_buf_free(&in);
}

static int setup(void **state) {
  (void)state;
  size_t len;
  vectors = tu_read_vector("rfc6455.txt", &len);
  return vectors ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  free(vectors);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_accept),
      cmocka_unit_test(test_server_vectors),
      cmocka_unit_test(test_head_then_bulk_in_one_read),
      cmocka_unit_test(test_client_vectors),
      cmocka_unit_test(test_client_long_lengths),
      cmocka_unit_test(test_send_and_close),
      cmocka_unit_test(test_hostile_requests),
      cmocka_unit_test(test_trickle),
      cmocka_unit_test(test_hostile_responses),
      cmocka_unit_test(test_hostile_frames),
      cmocka_unit_test(test_peer_close),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
