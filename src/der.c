/* DER type-length-value elements (der.h). */
#include "der.h"

int lp2p__der_read(const uint8_t *in, size_t len, size_t *pos, uint8_t tag, size_t *body,
                   size_t *body_len) {
  size_t p = *pos;
  if (len - p < 2 || in[p] != tag) return LP2P_EPROTO;
  size_t l = in[p + 1];
  p += 2;
  if (l & 0x80) {
    /* X.690 8.1.3.5: long form, l & 0x7f length octets. 0x80 is the
     * indefinite form, which DER forbids (10.1); 0xff is reserved. */
    size_t k = l & 0x7f;
    if (k == 0 || k == 0x7f) return LP2P_EPROTO;
    if (len - p < k) return LP2P_EPROTO;
    /* 10.1: the fewest octets, so no leading zero octet. */
    if (in[p] == 0) return LP2P_EPROTO;
    if (k > 3) return LP2P_ETOOBIG;
    l = 0;
    for (size_t i = 0; i < k; i++)
      l = l << 8 | in[p + i];
    p += k;
    /* 10.1: the short form whenever it fits. */
    if (l < 0x80) return LP2P_EPROTO;
  }
  if (l > len - p) return LP2P_EPROTO;
  *body = p;
  *body_len = l;
  *pos = p + l;
  return 0;
}

size_t lp2p__der_header_len(size_t len) {
  if (len < 0x80) return 2;
  if (len <= 0xff) return 3;
  if (len <= 0xffff) return 4;
  if (len <= LP2P_DER_LEN_MAX) return 5;
  return 0;
}

int lp2p__der_header(lp2p_buf *out, uint8_t tag, size_t len) {
  size_t n = lp2p__der_header_len(len);
  if (!n) return LP2P_ETOOBIG;
  uint8_t h[LP2P_DER_HEADER_MAX] = {tag, (uint8_t)len};
  if (n > 2) {
    /* X.690 8.1.3.5: 0x80 | count, then the length big-endian. */
    h[1] = (uint8_t)(0x80 | (n - 2));
    for (size_t i = 0; i < n - 2; i++)
      h[n - 1 - i] = (uint8_t)(len >> (8 * i));
  }
  return lp2p_buf_append(out, h, n);
}
