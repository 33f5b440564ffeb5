/* /perf/1.0.0 engine; the contract and the two-header rule are in
 * include/lp2p/perf.h. Step numbers below are those of libp2p/specs
 * perf/perf.md "Protocol". */
#include "lp2p/perf.h"

#include <string.h>

/* The payload: "a predetermined arbitrary set of bytes. Zero is fine". */
static const uint8_t zeros[LP2P_PERF_BLOCK];

static uint64_t get64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++)
    v = v << 8 | p[i];
  return v;
}

static int fail(lp2p_perf *p, int err) {
  if (!p->err) {
    p->err = err;
    p->state = LP2P_PERF_ST_FAILED;
  }
  return p->err;
}

void lp2p_perf_client_init(lp2p_perf *p, uint64_t upload, uint64_t download) {
  memset(p, 0, sizeof *p);
  p->client = 1;
  p->state = LP2P_PERF_ST_SEND;
  p->send_left = upload;
  p->expect = download;
  /* Client step 2: the download size as one big-endian uint64. */
  for (int i = 0; i < 8; i++)
    p->hdr[i] = (uint8_t)(download >> (56 - 8 * i));
  p->hdr_len = 8;
}

void lp2p_perf_server_init(lp2p_perf *p, uint64_t max_send) {
  memset(p, 0, sizeof *p);
  p->state = LP2P_PERF_ST_READ;
  p->max_send = max_send;
}

int lp2p_perf_recv(lp2p_perf *p, const uint8_t *in, size_t len) {
  if (p->err) return p->err;
  if (p->peer_fin) return fail(p, LP2P_EPROTO);
  if (p->client) {
    /* Client step 5: exactly the bytes asked for. */
    if (len > p->expect - p->received) {
      LP2P_REASON("perf", "server sent more than the %llu bytes asked for",
                  (unsigned long long)p->expect);
      return fail(p, LP2P_EPROTO);
    }
    p->received += len;
    return 0;
  }
  /* Server steps 1-2: keep the first 16 bytes (the u64, and the second u64
   * of a two-header peer), count and drop everything else. */
  size_t keep = sizeof p->hdr - p->hdr_len;
  if (keep > len) keep = len;
  memcpy(p->hdr + p->hdr_len, in, keep);
  size_t before = p->hdr_len;
  p->hdr_len += keep;
  /* received counts bytes past the first u64. */
  size_t past = before + len > 8 ? before + len - (before > 8 ? before : 8) : 0;
  p->received += past;
  return 0;
}

/* Server step 3 starts: the request is known once the upload has ended. */
static int server_request(lp2p_perf *p) {
  if (p->hdr_len < 8) {
    LP2P_REASON("perf", "stream closed after %zu bytes, before the 8-byte size",
                p->hdr_len);
    return fail(p, LP2P_EPROTO);
  }
  uint64_t ask = get64(p->hdr);
  if (ask <= UINT64_MAX - 8 && p->received == ask + 8) {
    p->two_headers = 1;
    ask = get64(p->hdr + 8);
    LP2P_DEBUG("perf", "two-header request: upload %llu, download %llu",
               (unsigned long long)get64(p->hdr), (unsigned long long)ask);
  }
  if (ask > p->max_send) {
    LP2P_REASON("perf", "peer asked for %llu bytes, over our cap of %llu",
                (unsigned long long)ask, (unsigned long long)p->max_send);
    return fail(p, LP2P_ETOOBIG);
  }
  /* One line a run, for tests that check what the server saw. */
  LP2P_INFO("perf", "request: upload %llu bytes, download %llu bytes",
            (unsigned long long)(p->received - (p->two_headers ? 8 : 0)),
            (unsigned long long)ask);
  p->send_left = ask;
  p->state = LP2P_PERF_ST_SEND;
  return 0;
}

int lp2p_perf_fin(lp2p_perf *p) {
  if (p->err) return p->err;
  if (p->peer_fin) return 0;
  p->peer_fin = 1;
  if (!p->client) return server_request(p);
  if (p->received != p->expect) {
    LP2P_REASON("perf", "download ended after %llu of %llu bytes",
                (unsigned long long)p->received, (unsigned long long)p->expect);
    return fail(p, LP2P_EPROTO);
  }
  /* The server answers only after our EOF (server step 3): a FIN while we
   * still upload means it stopped reading. */
  if (p->state == LP2P_PERF_ST_SEND) {
    LP2P_REASON("perf", "server closed with %llu upload bytes unsent",
                (unsigned long long)p->send_left);
    return fail(p, LP2P_EEOF);
  }
  p->state = LP2P_PERF_ST_DONE;
  return 0;
}

size_t lp2p_perf_output(lp2p_perf *p, size_t max, const uint8_t **out, int *fin) {
  *out = NULL;
  *fin = 0;
  if (p->err || p->state != LP2P_PERF_ST_SEND) return 0;
  if (p->hdr_len && p->client) {
    /* The header goes out on its own: at most 8 bytes. */
    size_t n = p->hdr_len < max ? p->hdr_len : max;
    *out = p->hdr + (8 - p->hdr_len);
    p->hdr_len -= n;
    return n;
  }
  size_t n = max < LP2P_PERF_BLOCK ? max : LP2P_PERF_BLOCK;
  if (n > p->send_left) n = (size_t)p->send_left;
  p->send_left -= n;
  p->sent += n;
  *out = zeros;
  if (p->send_left == 0) {
    /* Client step 4 / server step 4: half-close after the last byte. */
    *fin = 1;
    p->state = p->client ? LP2P_PERF_ST_READ : LP2P_PERF_ST_DONE;
  }
  return n;
}

int lp2p_perf_wants_output(const lp2p_perf *p) {
  return !p->err && p->state == LP2P_PERF_ST_SEND;
}

int lp2p_perf_done(const lp2p_perf *p) { return p->state == LP2P_PERF_ST_DONE; }
