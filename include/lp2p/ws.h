/* WebSocket (RFC 6455) as a byte layer (layer.h): the HTTP/1.1 Upgrade
 * handshake of section 4 as client (initiator) or server, then binary
 * messages carrying the libp2p byte stream (libp2p/specs has no ws spec of
 * its own; every implementation sends the stream as binary frames and
 * accepts any framing). Frames are wslay's sans-I/O event engine, fed from
 * our buffers; the client's masking keys come from env->random.
 *
 * Pure: bytes and time in, bytes and events out. Ping is answered with pong
 * and a close frame with a close frame (section 5.5.1), then EOF goes up.
 * Every failure is said once (LP2P_REASON) and answered where the RFC
 * says so: an HTTP error status during the handshake, a close frame with
 * the status code of section 7.4.1 after it. */
#ifndef LP2P_WS_H
#define LP2P_WS_H

#include "lp2p/common.h"
#include "lp2p/layer.h"

/* Caps on what the peer controls, checked before anything is kept. */
#define LP2P_WS_HTTP_MAX 8192      /* the whole request or response head */
#define LP2P_WS_HTTP_LINE_MAX 1024 /* any one line, request line included */
#define LP2P_WS_HTTP_MAX_HEADERS 32
/* One frame's payload. libp2p peers send one frame per write of the
 * stream above (noise frames are at most 65535 + 2 bytes); over this the
 * peer gets close 1009 (RFC 6455 section 7.4.1) before any allocation.
 * No message is reassembled: frame data goes up as it arrives. */
#define LP2P_WS_FRAME_MAX (1024 * 1024)

/* The layer ops: create(env, initiator, params{host, port, step_timeout_ms}). */
extern const lp2p_layer_ops lp2p_ws_layer;

/* ---- the HTTP/1.1 Upgrade head, exposed for tests and fuzzing ---- */

/* Length of the head in p[0..len) including its blank line; 0 while it is
 * incomplete; LP2P_ETOOBIG when the bytes so far already break a cap
 * (total size, line length, header count), so a trickle or an endless
 * head ends early. */
int lp2p_ws_http_head_len(const uint8_t *p, size_t len);

typedef struct lp2p_ws_http {
  int status;             /* response: the status code */
  int get;                /* request: the method is GET */
  int http11;             /* version HTTP/1.1 */
  int upgrade_websocket;  /* Upgrade: websocket (case-insensitive) */
  int connection_upgrade; /* Connection: has the token upgrade */
  int version13;          /* Sec-WebSocket-Version: 13 */
  int has_host;           /* Host: present */
  int extensions;         /* Sec-WebSocket-Extensions present */
  int subprotocol;        /* Sec-WebSocket-Protocol present */
  char key[64];           /* Sec-WebSocket-Key (request), -Accept (response) */
} lp2p_ws_http;

/* Parses one complete head (p[0..len), as measured by head_len). response:
 * 1 for a server's reply, 0 for a client's request. Returns 0 or
 * LP2P_EPROTO with a reason. Semantics (the key, the status) are checked by
 * the engine, section 4.2.1 and 4.1. */
int lp2p_ws_http_parse(lp2p_ws_http *h, const uint8_t *p, size_t len, int response);

/* Sec-WebSocket-Accept for a key (section 4.2.2 step 5.4): base64 of the
 * SHA-1 of the key and the GUID. out gets 28 characters and a NUL. The
 * SHA-1 is GnuTLS's, in the GnuTLS module: an error when it cannot load. */
#define LP2P_WS_ACCEPT_LEN 28
int lp2p_ws_accept(char out[LP2P_WS_ACCEPT_LEN + 1], const char *key);

#endif
