/* Fuzz target: the HTTP/1.1 head of the WebSocket upgrade (ws.h):
 * lp2p_ws_http_head_len then lp2p_ws_http_parse, as request or response.
 *
 * Input: [flags] head bytes...
 *   flags bit 0: parse as a server's response; bit 1: debug logging.
 *
 * Checked: head_len never reports more than it was given nor more than
 * the caps; a parsed key is NUL-terminated and short enough for
 * lp2p_ws_accept, whose answer is 28 base64 characters. */
#include "fuzz.h"

#include <string.h>

#include "lp2p/ws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fz_in in = fz_in_make(data, size);
  uint8_t flags = fz_u8(&in);
  size_t len;
  const uint8_t *p = fz_rest(&in, &len);
  fz_log_begin(flags & 2);
  int hl = lp2p_ws_http_head_len(p, len);
  FZ_CHECK(hl == 0 || hl == LP2P_ETOOBIG || (hl > 0 && (size_t)hl <= len));
  FZ_CHECK(hl <= LP2P_WS_HTTP_MAX);
  if (hl > 0) {
    lp2p_ws_http h;
    int rc = lp2p_ws_http_parse(&h, p, (size_t)hl, flags & 1);
    FZ_CHECK(rc == 0 || rc == LP2P_EPROTO);
    lp2p_take_reason();
    if (rc == 0 && h.key[0]) {
      FZ_CHECK(strlen(h.key) < sizeof h.key);
      char accept[LP2P_WS_ACCEPT_LEN + 1];
      FZ_CHECK(lp2p_ws_accept(accept, h.key) == 0);
      FZ_CHECK(strlen(accept) == LP2P_WS_ACCEPT_LEN);
    }
  }
  fz_log_end();
  return 0;
}
