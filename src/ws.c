/* WebSocket byte layer (see ws.h): the opening handshake of RFC 6455
 * section 4 here, frames (section 5) in wslay's event engine. */
#include "lp2p/ws.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wslay/wslay.h>

typedef enum ws_state { WS_ST_HANDSHAKE, WS_ST_OPEN, WS_ST_ENDED } ws_state;

typedef struct lp2p_ws {
  lp2p_env *env;
  lp2p_io io;
  int initiator;
  ws_state state;
  char host[300];                      /* client: the Host header value */
  char accept[LP2P_WS_ACCEPT_LEN + 1]; /* client: the answer we expect */
  lp2p_buf head;                       /* the handshake bytes so far */
  uint64_t deadline;
  uint32_t step_ms;
  wslay_event_context_ptr ctx;
  const uint8_t *in; /* recv: bytes wslay has not read yet */
  size_t in_len;
  int err;            /* a failure inside a wslay callback */
  uint8_t msg_opcode; /* opcode of the data message being received */
  uint8_t frame_opcode;
  uint16_t refused; /* the close code we refused a frame with */
} lp2p_ws;

/* ---- wslay callbacks: our buffers in, io.write out ---- */

static ssize_t ws_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len,
                          int flags, void *ud) {
  lp2p_ws *w = ud;
  (void)flags;
  if (w->in_len == 0) {
    wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    return -1;
  }
  size_t n = len < w->in_len ? len : w->in_len;
  memcpy(buf, w->in, n);
  w->in += n;
  w->in_len -= n;
  return (ssize_t)n;
}

static ssize_t ws_send_cb(wslay_event_context_ptr ctx, const uint8_t *p, size_t len,
                          int flags, void *ud) {
  lp2p_ws *w = ud;
  (void)flags;
  int rc = w->io.write(w->io.ud, p, len);
  if (rc) {
    if (!w->err) w->err = rc;
    wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
  }
  return (ssize_t)len;
}

/* Section 5.3: a fresh unpredictable masking key per frame. */
static int ws_genmask_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len,
                         void *ud) {
  lp2p_ws *w = ud;
  (void)ctx;
  return w->env->random(w->env->random_ud, buf, len) == 0 ? 0 : -1;
}

/* Ends reading with a close frame carrying code (section 7.4.1). */
static void refuse(lp2p_ws *w, uint16_t code) {
  if (!w->refused) w->refused = code;
  wslay_event_queue_close(w->ctx, code, NULL, 0);
  wslay_event_shutdown_read(w->ctx);
}

static void ws_frame_start_cb(wslay_event_context_ptr ctx,
                              const struct wslay_event_on_frame_recv_start_arg *a,
                              void *ud) {
  lp2p_ws *w = ud;
  (void)ctx;
  w->frame_opcode = a->opcode;
  if (a->opcode == WSLAY_TEXT_FRAME || a->opcode == WSLAY_BINARY_FRAME)
    w->msg_opcode = a->opcode;
  /* The libp2p stream is binary; a text message is not ours to read. */
  if (a->opcode == WSLAY_TEXT_FRAME) refuse(w, WSLAY_CODE_UNSUPPORTED_DATA);
  /* Section 5.5.1: a close body starts with a two-byte code. */
  if (a->opcode == WSLAY_CONNECTION_CLOSE && a->payload_length == 1)
    refuse(w, WSLAY_CODE_PROTOCOL_ERROR);
}

static void ws_frame_chunk_cb(wslay_event_context_ptr ctx,
                              const struct wslay_event_on_frame_recv_chunk_arg *a,
                              void *ud) {
  lp2p_ws *w = ud;
  (void)ctx;
  int binary = w->frame_opcode == WSLAY_BINARY_FRAME ||
               (w->frame_opcode == WSLAY_CONTINUATION_FRAME &&
                w->msg_opcode == WSLAY_BINARY_FRAME);
  if (!binary || w->err || a->data_length == 0) return;
  int rc = lp2p_io_emit(&w->io, LP2P_EV_DATA, 0, a->data, a->data_length);
  if (rc) {
    w->err = rc;
    wslay_event_shutdown_read(w->ctx);
  }
}

static const struct wslay_event_callbacks callbacks = {
    .recv_callback = ws_recv_cb,
    .send_callback = ws_send_cb,
    .genmask_callback = ws_genmask_cb,
    .on_frame_recv_start_callback = ws_frame_start_cb,
    .on_frame_recv_chunk_callback = ws_frame_chunk_cb,
};

/* Hands wslay's queued frames to io.write. Also from inside
 * wslay_event_recv (a DATA upcall that answers, or closes the connection):
 * wslay keeps its output state apart from its input state, and the
 * answer must go down before the layers below may close. */
static int flush(lp2p_ws *w) {
  int rc = wslay_event_send(w->ctx);
  if (w->err) return w->err;
  if (rc) {
    LP2P_REASON("ws", "frame engine failed to send (wslay %d)", rc);
    return LP2P_EPROTO;
  }
  return 0;
}

static const char *code_text(uint16_t code) {
  switch (code) {
  case WSLAY_CODE_PROTOCOL_ERROR: return "a protocol error";
  case WSLAY_CODE_UNSUPPORTED_DATA: return "a text message";
  case WSLAY_CODE_INVALID_FRAME_PAYLOAD_DATA: return "invalid UTF-8 in a close reason";
  case WSLAY_CODE_MESSAGE_TOO_BIG: return "a frame over our cap";
  default: return "an error";
  }
}

/* After wslay read: the peer closed (EOF up), or broke the framing (we
 * answered with a close frame; the connection fails). */
static int after_read(lp2p_ws *w) {
  if (wslay_event_get_read_enabled(w->ctx) || w->state != WS_ST_OPEN) return 0;
  w->state = WS_ST_ENDED;
  if (wslay_event_get_close_received(w->ctx) && !w->refused) {
    LP2P_DEBUG("ws", "peer sent close %u", wslay_event_get_status_code_received(w->ctx));
    return lp2p_io_emit(&w->io, LP2P_EV_EOF, 0, NULL, 0);
  }
  uint16_t code = w->refused ? w->refused : wslay_event_get_status_code_sent(w->ctx);
  LP2P_REASON("ws", "closed with %u: the peer sent %s (RFC 6455 section 5)", code,
              code_text(code));
  return code == WSLAY_CODE_MESSAGE_TOO_BIG ? LP2P_ETOOBIG : LP2P_EPROTO;
}

static int frames_recv(lp2p_ws *w, const uint8_t *in, size_t len) {
  if (w->state != WS_ST_OPEN || len == 0) return 0;
  w->in = in;
  w->in_len = len;
  int rc = wslay_event_recv(w->ctx);
  w->in_len = 0;
  if (w->err) return w->err;
  if (rc == WSLAY_ERR_CALLBACK_FAILURE) {
    /* wslay's frame parser refused a header (a control frame over 125
     * bytes or fragmented, a 64-bit length with the top bit or not
     * minimal: section 5.2, 5.5) and queued a close frame without a
     * status code, which section 7.1.7 allows; it goes out first. */
    w->state = WS_ST_ENDED;
    flush(w);
    LP2P_REASON("ws", "closed: the peer sent a malformed frame header (RFC 6455 "
                      "section 5.2)");
    return LP2P_EPROTO;
  }
  if (rc) {
    LP2P_REASON("ws", "frame engine failed to read (wslay %d)", rc);
    return LP2P_EPROTO;
  }
  int frc = flush(w);
  int arc = after_read(w);
  return frc ? frc : arc;
}

/* ---- the opening handshake (section 4) ---- */

static int open_frames(lp2p_ws *w, const uint8_t *leftover, size_t n) {
  int rc = (w->initiator ? wslay_event_context_client_init
                         : wslay_event_context_server_init)(&w->ctx, &callbacks, w);
  if (rc) return LP2P_ENOMEM;
  /* Frame data goes up as it arrives: nothing is reassembled, and a
   * frame's length is checked against the cap when its header arrives. */
  wslay_event_config_set_no_buffering(w->ctx, 1);
  wslay_event_config_set_max_recv_msg_length(w->ctx, LP2P_WS_FRAME_MAX);
  w->state = WS_ST_OPEN;
  w->deadline = LP2P_NO_DEADLINE;
  lp2p_event ev = {.type = LP2P_EV_READY, .protocol = "websocket"};
  rc = lp2p_io_event(&w->io, &ev);
  /* The layer above starts inside READY; then the bytes that followed
   * the head. */
  return rc ? rc : frames_recv(w, leftover, n);
}

static int http_error(lp2p_ws *w, int status, const char *text, const char *why) {
  char resp[256];
  int n = snprintf(resp, sizeof resp,
                   "HTTP/1.1 %d %s\r\n%sConnection: close\r\nContent-Length: 0\r\n\r\n",
                   status, text, status == 426 ? "Sec-WebSocket-Version: 13\r\n" : "");
  w->io.write(w->io.ud, (const uint8_t *)resp, (size_t)n);
  w->state = WS_ST_ENDED;
  LP2P_REASON("ws", "refused the upgrade request: %s (RFC 6455 section 4.2.1)", why);
  return LP2P_EPROTO;
}

/* Section 4.2.1 and 4.2.2. */
static int server_head(lp2p_ws *w, const uint8_t *p, size_t len) {
  lp2p_ws_http h;
  if (lp2p_ws_http_parse(&h, p, len, 0)) {
    const char *why = lp2p_take_reason();
    return http_error(w, 400, "Bad Request", why ? why : "malformed");
  }
  if (!h.get) return http_error(w, 405, "Method Not Allowed", "the method is not GET");
  if (!h.http11) return http_error(w, 400, "Bad Request", "not HTTP/1.1");
  if (!h.has_host) return http_error(w, 400, "Bad Request", "no Host");
  if (!h.upgrade_websocket || !h.connection_upgrade)
    return http_error(w, 400, "Bad Request", "no Upgrade: websocket");
  if (!h.version13) return http_error(w, 426, "Upgrade Required", "not version 13");
  uint8_t nonce[20];
  size_t nlen = 0;
  if (strlen(h.key) != 24 ||
      sodium_base642bin(nonce, sizeof nonce, h.key, 24, NULL, &nlen, NULL,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      nlen != 16)
    return http_error(w, 400, "Bad Request", "Sec-WebSocket-Key is not 16 bytes base64");
  char accept[LP2P_WS_ACCEPT_LEN + 1], resp[192];
  if (lp2p_ws_accept(accept, h.key)) return LP2P_EINVAL;
  int n = snprintf(resp, sizeof resp,
                   "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
                   accept);
  return w->io.write(w->io.ud, (const uint8_t *)resp, (size_t)n);
}

static int client_fail(const char *why) {
  LP2P_REASON("ws", "the server refused or broke the upgrade: %s (RFC 6455 section 4.1)",
              why);
  return LP2P_EPROTO;
}

/* Section 4.1, the client's checks of the server's handshake. */
static int client_head(lp2p_ws *w, const uint8_t *p, size_t len) {
  lp2p_ws_http h;
  if (lp2p_ws_http_parse(&h, p, len, 1)) return LP2P_EPROTO;
  if (h.status != 101) {
    char why[48];
    snprintf(why, sizeof why, "status %d", h.status);
    return client_fail(why);
  }
  if (!h.upgrade_websocket || !h.connection_upgrade)
    return client_fail("no Upgrade: websocket");
  if (strcmp(h.key, w->accept) != 0) return client_fail("wrong Sec-WebSocket-Accept");
  if (h.extensions || h.subprotocol)
    return client_fail("an extension or subprotocol we did not ask for");
  return 0;
}

static int handshake_recv(lp2p_ws *w, const uint8_t *in, size_t len) {
  /* Never more than one byte past the cap is kept: enough to tell a head
   * that is too long, whatever one read brings. */
  size_t room = LP2P_WS_HTTP_MAX + 1 - w->head.len;
  size_t take = len < room ? len : room;
  if (lp2p_buf_append(&w->head, in, take)) return LP2P_ENOMEM;
  int hl = lp2p_ws_http_head_len(w->head.data, w->head.len);
  if (hl == 0) return 0;
  if (hl < 0) {
    LP2P_REASON("ws", "the HTTP head is over %d bytes, %d a line or %d headers",
                LP2P_WS_HTTP_MAX, LP2P_WS_HTTP_LINE_MAX, LP2P_WS_HTTP_MAX_HEADERS);
    if (!w->initiator)
      return http_error(w, 431, "Request Header Fields Too Large", lp2p_take_reason());
    return LP2P_ETOOBIG;
  }
  int rc = w->initiator ? client_head(w, w->head.data, (size_t)hl)
                        : server_head(w, w->head.data, (size_t)hl);
  if (rc) return rc;
  lp2p_buf rest = w->head;
  w->head = (lp2p_buf){0};
  rc = open_frames(w, rest.data + hl, rest.len - (size_t)hl);
  lp2p_buf_free(&rest);
  /* The bytes of this read past what the head buffer took. */
  if (rc == 0 && take < len) rc = frames_recv(w, in + take, len - take);
  return rc;
}

static int client_start(lp2p_ws *w) {
  uint8_t nonce[16];
  char key[32], req[512];
  if (w->env->random(w->env->random_ud, nonce, sizeof nonce)) return LP2P_EINVAL;
  sodium_bin2base64(key, sizeof key, nonce, sizeof nonce, sodium_base64_VARIANT_ORIGINAL);
  int rc = lp2p_ws_accept(w->accept, key);
  if (rc) return rc;
  int n = snprintf(req, sizeof req,
                   "GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                   "Sec-WebSocket-Version: 13\r\n\r\n",
                   w->host, key);
  if (n < 0 || (size_t)n >= sizeof req) return LP2P_EINVAL;
  return w->io.write(w->io.ud, (const uint8_t *)req, (size_t)n);
}

/* ---- the layer ops ---- */

static void *ws_create(lp2p_env *env, int initiator, const lp2p_layer_params *p,
                       lp2p_io io) {
  lp2p_ws *w = calloc(1, sizeof *w);
  if (!w) return NULL;
  w->env = env;
  w->io = io;
  w->initiator = initiator;
  w->step_ms = p->step_timeout_ms ? p->step_timeout_ms : 10000;
  /* The clock starts with start(), once the layers below are up. */
  w->deadline = LP2P_NO_DEADLINE;
  const char *host = p->host && *p->host ? p->host : "localhost";
  /* RFC 7230 section 5.4: an IPv6 literal goes in brackets. */
  snprintf(w->host, sizeof w->host, strchr(host, ':') ? "[%s]:%u" : "%s:%u", host,
           p->port);
  return w;
}

static int ws_start(void *l) {
  lp2p_ws *w = l;
  w->deadline = w->env->now_ms + w->step_ms;
  return w->initiator ? client_start(w) : 0;
}

static int ws_recv(void *l, const uint8_t *in, size_t len) {
  lp2p_ws *w = l;
  if (w->state == WS_ST_HANDSHAKE) return handshake_recv(w, in, len);
  return frames_recv(w, in, len);
}

/* Section 5.6: each write of the stream above is one binary message. */
static int ws_send(void *l, const uint8_t *p, size_t len) {
  lp2p_ws *w = l;
  if (w->state != WS_ST_OPEN) return LP2P_ECLOSED;
  struct wslay_event_msg m = {.opcode = WSLAY_BINARY_FRAME, .msg = p, .msg_length = len};
  if (wslay_event_queue_msg(w->ctx, &m)) return LP2P_ECLOSED;
  return flush(w);
}

/* Section 7.1.2: start the closing handshake with 1000 (normal). */
static int ws_close(void *l) {
  lp2p_ws *w = l;
  if (w->state != WS_ST_OPEN) return 0;
  wslay_event_queue_close(w->ctx, WSLAY_CODE_NORMAL_CLOSURE, NULL, 0);
  return flush(w);
}

static uint64_t ws_deadline(const void *l) {
  const lp2p_ws *w = l;
  return w->state == WS_ST_HANDSHAKE ? w->deadline : LP2P_NO_DEADLINE;
}

static int ws_expire(void *l) {
  lp2p_ws *w = l;
  if (w->state != WS_ST_HANDSHAKE || w->env->now_ms < w->deadline) return 0;
  LP2P_REASON("ws", "the HTTP upgrade did not finish within %u ms (%zu bytes of head)",
              w->step_ms, w->head.len);
  return LP2P_ETIMEDOUT;
}

static void ws_destroy(void *l) {
  lp2p_ws *w = l;
  if (!w) return;
  if (w->ctx) wslay_event_context_free(w->ctx);
  lp2p_buf_free(&w->head);
  free(w);
}

const lp2p_layer_ops lp2p_ws_layer = {.name = "ws",
                                      .create = ws_create,
                                      .start = ws_start,
                                      .recv = ws_recv,
                                      .send = ws_send,
                                      .close = ws_close,
                                      .deadline = ws_deadline,
                                      .expire = ws_expire,
                                      .destroy = ws_destroy};
