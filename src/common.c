#include "lp2p/common.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lp2p_log_level = LP2P_LOG_ERROR;

const char *lp2p_strerror(int err) {
  switch (err) {
  case LP2P_OK: return "ok";
  case LP2P_EPROTO: return "protocol violation by the peer";
  case LP2P_ETOOBIG: return "size over limit";
  case LP2P_EVARINT: return "malformed varint";
  case LP2P_ENOTSUP: return "protocol not supported by the peer";
  case LP2P_EDECRYPT: return "decryption failed";
  case LP2P_ESIG: return "bad identity signature";
  case LP2P_EPEERID: return "remote peer id differs from the expected one";
  case LP2P_ETIMEDOUT: return "timed out";
  case LP2P_ENOMEM: return "out of memory";
  case LP2P_EINVAL: return "invalid argument";
  case LP2P_EKEY: return "unsupported or malformed key";
  case LP2P_ECLOSED: return "closed";
  case LP2P_ERESET: return "stream reset by the peer";
  case LP2P_EADDR: return "malformed multiaddr";
  case LP2P_EMISMATCH: return "ping echo mismatch";
  case LP2P_EEOF: return "connection closed by the peer";
  case LP2P_ELIMIT: return "local limit reached";
  case LP2P_EBASE58: return "malformed base58 text";
  default: break;
  }
  if (err < 0 && err > -1000) return strerror(-err);
  return "unknown error";
}

int lp2p_buf_reserve(lp2p_buf *b, size_t extra) {
  if (b->cap - b->len >= extra) return 0;
  if (extra > SIZE_MAX / 2 - b->len) return LP2P_ENOMEM;
  size_t cap = b->cap ? b->cap : 256;
  while (cap - b->len < extra)
    cap *= 2;
  uint8_t *p = realloc(b->data, cap);
  if (!p) return LP2P_ENOMEM;
  b->data = p;
  b->cap = cap;
  return 0;
}

uint8_t *lp2p_buf_lend(lp2p_buf *b, size_t len) {
  return lp2p_buf_reserve(b, len) ? NULL : b->data + b->len;
}

int lp2p_buf_take(lp2p_buf *b, const uint8_t *p, size_t len, int *in_place) {
  if (len && b->data && p == b->data + b->len && len <= b->cap - b->len) {
    b->len += len;
    if (in_place) *in_place = 1;
    return 0;
  }
  return lp2p_buf_append(b, p, len);
}

int lp2p_buf_append(lp2p_buf *b, const void *p, size_t n) {
  if (n == 0) return 0;
  int rc = lp2p_buf_reserve(b, n);
  if (rc) return rc;
  memcpy(b->data + b->len, p, n);
  b->len += n;
  return 0;
}

void lp2p_buf_consume(lp2p_buf *b, size_t n) {
  if (n >= b->len) {
    b->len = 0;
    return;
  }
  memmove(b->data, b->data + n, b->len - n);
  b->len -= n;
}

void lp2p_buf_free(lp2p_buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

void lp2p_buf_free_secret(lp2p_buf *b) {
  if (b->data) sodium_memzero(b->data, b->cap);
  lp2p_buf_free(b);
}

int lp2p_io_event(const lp2p_io *io, const lp2p_event *ev) {
  return io->event ? io->event(io->ud, ev) : 0;
}

int lp2p_io_emit(const lp2p_io *io, lp2p_event_type type, uint32_t stream,
                 const uint8_t *data, size_t len) {
  lp2p_event ev = {.type = type, .stream = stream, .data = data, .len = len};
  return lp2p_io_event(io, &ev);
}

int lp2p_io_writev(const lp2p_io *io, const lp2p_iovec *v, size_t n) {
  if (io->writev) return io->writev(io->ud, v, n);
  for (size_t i = 0; i < n; i++) {
    int rc = v[i].len ? io->write(io->ud, v[i].p, v[i].len) : 0;
    if (rc) return rc;
  }
  return 0;
}

uint8_t *lp2p_io_reserve(const lp2p_io *io, size_t len) {
  return io->reserve ? io->reserve(io->ud, len) : NULL;
}

size_t lp2p_iov_len(const lp2p_iovec *v, size_t n) {
  size_t len = 0;
  for (size_t i = 0; i < n; i++)
    len += v[i].len;
  return len;
}

static char reason[256];
static char taken[256];

void lp2p_reason_(const char *layer, const char *fmt, ...) {
  char text[200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  snprintf(reason, sizeof reason, "%s: %s", layer, text);
  lp2p_log(LP2P_LOG_INFO, layer, "%s", text);
}

const char *lp2p_take_reason(void) {
  if (!reason[0]) return NULL;
  memcpy(taken, reason, sizeof taken);
  reason[0] = 0;
  return taken;
}

void lp2p_clear_reason(void) { reason[0] = 0; }

void lp2p_log_(int level, const char *layer, const char *fmt, ...) {
  static const char *names[] = {"error", "info", "debug"};
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  fprintf(stderr, "lp2p %s [%s] %s\n",
          names[level < 0   ? 0
                : level > 2 ? 2
                            : level],
          layer, line);
}
