#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

size_t tu_hex(uint8_t *out, size_t cap, const char *hex) {
  size_t n = strlen(hex);
  if (n % 2 || n / 2 > cap) {
    fprintf(stderr, "tu_hex: bad length %zu\n", n);
    abort();
  }
  for (size_t i = 0; i < n / 2; i++) {
    int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      fprintf(stderr, "tu_hex: bad digit\n");
      abort();
    }
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return n / 2;
}

int tu_random(void *ud, uint8_t *out, size_t len) {
  uint64_t *s = ud;
  for (size_t i = 0; i < len; i++) {
    uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ull;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    out[i] = (uint8_t)(x >> 24);
  }
  return 0;
}

char *tu_read_vector(const char *name, size_t *len) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", LP2P_VECTORS_DIR, name);
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "cannot open %s\n", path);
    abort();
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) abort();
  buf[n] = 0;
  fclose(f);
  if (len) *len = (size_t)n;
  return buf;
}

static int cap_write(void *ud, const uint8_t *p, size_t len) {
  tu_capture *c = ud;
  return lp2p_buf_append(&c->wire, p, len);
}

static int cap_event(void *ud, const lp2p_event *ev) {
  tu_capture *c = ud;
  switch (ev->type) {
  case LP2P_EV_READY:
    c->ready++;
    snprintf(c->protocol, sizeof c->protocol, "%s", ev->protocol ? ev->protocol : "");
    return 0;
  case LP2P_EV_DATA:
  case LP2P_EV_STREAM_DATA: return lp2p_buf_append(&c->data, ev->data, ev->len);
  case LP2P_EV_PONG: c->pongs++; return 0;
  default: c->other++; return 0;
  }
}

lp2p_io tu_capture_io(tu_capture *c) {
  return (lp2p_io){.write = cap_write, .event = cap_event, .ud = c};
}

static int gather_write(void *ud, const uint8_t *p, size_t len) {
  (void)ud, (void)p, (void)len;
  fail_msg("write() used where writev() is offered");
  return LP2P_EINVAL;
}

static int gather_event(void *ud, const lp2p_event *ev) {
  (void)ud, (void)ev;
  return 0;
}

lp2p_io tu_gather_io(int (*writev)(void *ud, const lp2p_iovec *v, size_t n), void *ud) {
  return (lp2p_io){
      .write = gather_write, .event = gather_event, .ud = ud, .writev = writev};
}

uint8_t *tu_lent_reserve(void *lent, size_t len) {
  return lp2p_buf_lend(&((tu_lent *)lent)->out, len);
}

int tu_lent_write(void *lent, const uint8_t *p, size_t len) {
  tu_lent *l = lent;
  int in_place = 0;
  int rc = lp2p_buf_take(&l->out, p, len, &in_place);
  l->in_place += in_place;
  return rc;
}

void tu_capture_free(tu_capture *c) {
  lp2p_buf_free(&c->wire);
  lp2p_buf_free(&c->data);
  memset(c, 0, sizeof *c);
}

size_t tu_split_passes(size_t len) { return len > 1 ? len + 1 : 2; }

int tu_feed(int pass, const uint8_t *in, size_t len,
            int (*feed)(void *ud, const uint8_t *p, size_t n), void *ud) {
  int rc = 0;
  if (pass == 0) return feed(ud, in, len);
  if (pass == 1) {
    for (size_t i = 0; i < len && rc == 0; i++)
      rc = feed(ud, in + i, 1);
    return rc;
  }
  size_t k = (size_t)pass - 1;
  if (k >= len) return feed(ud, in, len);
  rc = feed(ud, in, k);
  return rc ? rc : feed(ud, in + k, len - k);
}

void tu_yamux_header(lp2p_buf *b, uint8_t ver, uint8_t type, uint16_t flags, uint32_t id,
                     uint32_t len) {
  uint8_t h[12] = {ver, type, (uint8_t)(flags >> 8), (uint8_t)flags};
  for (int i = 0; i < 4; i++) {
    h[4 + i] = (uint8_t)(id >> (24 - 8 * i));
    h[8 + i] = (uint8_t)(len >> (24 - 8 * i));
  }
  if (lp2p_buf_append(b, h, sizeof h)) abort();
}
