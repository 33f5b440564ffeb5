/* Fuzz target: the DER reader and header writer (src/der.h).
 *
 * Input: [mode] data...  mode % 2:
 *   0 walk data: read each element with the tag found at its position,
 *     descending into constructed ones (tag bit 0x20), depth capped
 *   1 [tag] data: read one element of that tag, then walk its body
 * Checked: an element read lies inside the input, its body right after its
 * header, and that header is exactly the one lp2p__der_header writes (DER
 * has one encoding per length, X.690 10.1); another tag is refused at the
 * same place; a refused read moves nothing and writes nothing. */
#include "fuzz.h"

#include <string.h>

#include "../../src/der.h"

#define DEPTH_MAX 16
#define UNSET ((size_t)-1)

static void walk(const uint8_t *in, size_t end, size_t pos, int depth);

/* Reads the element of tag `tag` at *pos (< end) and checks it; returns
 * the reader's code. */
static int read_one(const uint8_t *in, size_t end, size_t *pos, uint8_t tag, int depth) {
  size_t at = *pos, body = UNSET, blen = UNSET;
  int rc = lp2p__der_read(in, end, pos, tag, &body, &blen);
  FZ_CHECK(rc == 0 || rc == LP2P_EPROTO || rc == LP2P_ETOOBIG);
  if (rc) {
    FZ_CHECK(*pos == at && body == UNSET && blen == UNSET);
    return rc;
  }
  FZ_CHECK(in[at] == tag && body >= at + 2 && body <= end);
  FZ_CHECK(blen <= LP2P_DER_LEN_MAX && blen <= end - body && *pos == body + blen);
  lp2p_buf h = {0};
  FZ_CHECK(lp2p__der_header(&h, tag, blen) == 0);
  FZ_CHECK(h.len == body - at && h.len == lp2p__der_header_len(blen));
  FZ_CHECK(memcmp(h.data, in + at, h.len) == 0);
  lp2p_buf_free(&h);
  size_t again = at, b2 = UNSET, l2 = UNSET;
  FZ_CHECK(lp2p__der_read(in, end, &again, (uint8_t)(tag ^ 0x01), &b2, &l2) ==
           LP2P_EPROTO);
  FZ_CHECK(again == at && b2 == UNSET && l2 == UNSET);
  if ((tag & 0x20) && depth < DEPTH_MAX) walk(in, body + blen, body, depth + 1);
  return 0;
}

static void walk(const uint8_t *in, size_t end, size_t pos, int depth) {
  while (pos < end)
    if (read_one(in, end, &pos, in[pos], depth)) return;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fz_in in = fz_in_make(data, size);
  unsigned mode = fz_u8(&in) % 2;
  size_t len, pos = 0;
  if (mode == 0) {
    const uint8_t *p = fz_rest(&in, &len);
    walk(p, len, 0, 0);
  } else {
    uint8_t tag = fz_u8(&in);
    const uint8_t *p = fz_rest(&in, &len);
    (void)read_one(p, len, &pos, tag, 0);
  }
  return 0;
}
