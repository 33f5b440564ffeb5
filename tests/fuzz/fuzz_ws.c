/* Fuzz target: the WebSocket byte layer (ws.h) as client or server, fed
 * arbitrary bytes as the peer's side, optionally after a good handshake so
 * the frame engine (wslay) gets the bytes.
 *
 * Input: [flags][split] peer bytes...
 *   flags bit 0: client (initiator); bit 1: begin with a good handshake
 *   (the server gets RFC 6455's sample request, the client a right 101
 *   answer to its own request); bit 2: debug logging; bit 3: after the
 *   input, send a message and close.
 *   split: the peer bytes are fed in pieces drawn from this seed.
 *
 * Checked: READY at most once, before any DATA; DATA never carries more
 * than was fed; a server's first bytes are an HTTP status line; expire at
 * the end of time fails the handshake only while it is not done. */
#include "fuzz.h"

#include <stdio.h>
#include <string.h>

#include "lp2p/ws.h"

typedef struct ctx {
  void *ws;
  int ready;
  size_t data;
  lp2p_buf out;
} ctx;

static int on_write(void *ud, const uint8_t *p, size_t len) {
  return lp2p_buf_append(&((ctx *)ud)->out, p, len);
}

static int on_event(void *ud, const lp2p_event *ev) {
  ctx *c = ud;
  if (ev->type == LP2P_EV_READY) {
    FZ_CHECK(!c->ready && c->data == 0);
    c->ready = 1;
  } else if (ev->type == LP2P_EV_DATA) {
    FZ_CHECK(c->ready && ev->len > 0);
    c->data += ev->len;
  }
  return 0;
}

static int feed(void *ud, const uint8_t *p, size_t n) {
  return lp2p_ws_layer.recv(((ctx *)ud)->ws, p, n);
}

static const char REQUEST[] =
    "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n\r\n";

/* The 101 answer to the request the client engine wrote. */
static int answer(ctx *c, char *out, size_t cap) {
  lp2p_ws_http h;
  int hl = lp2p_ws_http_head_len(c->out.data, c->out.len);
  FZ_CHECK(hl > 0 && lp2p_ws_http_parse(&h, c->out.data, (size_t)hl, 0) == 0);
  char accept[LP2P_WS_ACCEPT_LEN + 1];
  FZ_CHECK(lp2p_ws_accept(accept, h.key) == 0);
  return snprintf(out, cap,
                  "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                  "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
                  accept);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fz_in in = fz_in_make(data, size);
  uint8_t flags = fz_u8(&in), split = fz_u8(&in);
  size_t len;
  const uint8_t *p = fz_rest(&in, &len);
  int client = flags & 1;
  fz_log_begin(flags & 4);
  lp2p_env env;
  uint64_t state;
  fz_env_init(&env, &state, 1 + flags);
  ctx c = {0};
  lp2p_layer_params prm = {.host = "::1", .port = 443, .step_timeout_ms = 1000};
  c.ws = lp2p_ws_layer.create(&env, client, &prm,
                              (lp2p_io){.write = on_write, .event = on_event, .ud = &c});
  FZ_CHECK(c.ws);
  FZ_CHECK(lp2p_ws_layer.start(c.ws) == 0);
  int rc = 0;
  if (flags & 2) {
    char resp[256];
    const char *h = client ? resp : REQUEST;
    size_t hl = client ? (size_t)answer(&c, resp, sizeof resp) : strlen(REQUEST);
    rc = feed(&c, (const uint8_t *)h, hl);
    FZ_CHECK(rc == 0 && c.ready);
  }
  if (rc == 0) rc = fz_feed_split(split, p, len, feed, &c);
  FZ_CHECK(c.data <= len);
  if (!client && c.out.len)
    FZ_CHECK(c.out.len >= 9 && !memcmp(c.out.data, "HTTP/1.1 ", 9));
  if (rc == 0 && (flags & 8) && c.ready) {
    rc = lp2p_ws_layer.send(c.ws, (const uint8_t *)"ping", 4);
    FZ_CHECK(rc == 0 || rc == LP2P_ECLOSED);
    lp2p_ws_layer.close(c.ws);
  }
  env.now_ms = UINT64_MAX - 1;
  int ex = lp2p_ws_layer.expire(c.ws);
  FZ_CHECK(c.ready ? ex == 0 : (ex == 0 || ex == LP2P_ETIMEDOUT));
  lp2p_take_reason();
  lp2p_ws_layer.destroy(c.ws);
  lp2p_buf_free(&c.out);
  fz_log_end();
  return 0;
}
