/* Fuzz target: multiaddr text and binary forms (codec.h).
 *
 * Input: [mode][cap hi][cap lo] data...
 *   mode & 1 == 0: data is text (NUL-terminated copy) for
 *                  lp2p_multiaddr_parse;
 *   mode & 1 == 1: data is the binary form for lp2p_multiaddr_from_bytes.
 *   cap: size of the heap buffer lp2p_multiaddr_format writes into.
 * Whatever is accepted must format, parse back to the same bytes, iterate
 * to its end and give a consistent dial target. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "lp2p/codec.h"
#include "lp2p/multiaddr.h"

static void check_accepted(const lp2p_multiaddr *ma, size_t cap) {
  FZ_CHECK(ma->len > 0 && ma->len <= LP2P_MULTIADDR_MAX);

  /* Iteration covers every byte. */
  size_t off = 0, parts = 0;
  lp2p_ma_part part;
  int rc;
  while ((rc = lp2p_multiaddr_next(ma, &off, &part)) == 1) {
    FZ_CHECK(part.value >= ma->bytes && part.value + part.len <= ma->bytes + ma->len);
    parts++;
  }
  FZ_CHECK(rc == 0 && off == ma->len && parts > 0);

  /* Binary -> text -> binary. A component's text is at most ~3.5x its
   * bytes, so 8 KiB always fits. */
  char text[8192];
  int n = lp2p_multiaddr_format(text, sizeof text, ma);
  FZ_CHECK(n > 0 && (size_t)n < sizeof text && text[n] == 0);
  FZ_CHECK(strlen(text) == (size_t)n);
  lp2p_multiaddr back;
  rc = lp2p_multiaddr_parse(&back, text);
  FZ_CHECK(rc == 0);
  FZ_CHECK(back.len == ma->len && memcmp(back.bytes, ma->bytes, ma->len) == 0);

  /* The same into a buffer of any size: all or nothing. */
  char *small = malloc(cap ? cap : 1);
  FZ_CHECK(small);
  int m = lp2p_multiaddr_format(small, cap, ma);
  if ((size_t)n < cap) {
    FZ_CHECK(m == n && memcmp(small, text, (size_t)n + 1) == 0);
  } else {
    FZ_CHECK(m == LP2P_ETOOBIG);
    if (cap) FZ_CHECK(small[0] == 0);
  }
  free(small);

  lp2p_dial_target t;
  if (lp2p_multiaddr_dial_target(&t, ma) == 0) {
    FZ_CHECK(memchr(t.host, 0, sizeof t.host) != NULL && t.host[0]);
    FZ_CHECK(t.family == 0 || t.family == 4 || t.family == 6);
    FZ_CHECK(t.peer_len <= sizeof t.peer);
  } else {
    FZ_CHECK(t.host[0] == 0 && t.port == 0 && t.peer_len == 0);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fz_in in = fz_in_make(data, size);
  uint8_t mode = fz_u8(&in);
  size_t cap = fz_u16(&in) % 2048;
  size_t len;
  const uint8_t *p = fz_rest(&in, &len);
  lp2p_multiaddr *ma = malloc(sizeof *ma);
  FZ_CHECK(ma);
  fz_log_begin(0);
  if (mode & 1) {
    int rc = lp2p_multiaddr_from_bytes(ma, p, len);
    if (rc == 0) {
      FZ_CHECK(ma->len == len && memcmp(ma->bytes, p, len) == 0);
      check_accepted(ma, cap);
    } else {
      FZ_CHECK(ma->len == 0);
      FZ_CHECK(rc == LP2P_EADDR || rc == LP2P_ETOOBIG);
    }
  } else {
    char *text = malloc(len + 1);
    FZ_CHECK(text);
    memcpy(text, p, len);
    text[len] = 0;
    int rc = lp2p_multiaddr_parse(ma, text);
    if (rc == 0) {
      check_accepted(ma, cap);
    } else {
      FZ_CHECK(rc == LP2P_EADDR && ma->len == 0);
    }
    free(text);
  }
  fz_log_end();
  free(ma);
  return 0;
}
