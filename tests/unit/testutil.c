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
