/* Fuzz target: the /perf/1.0.0 engine (perf.h), either role, driven by a
 * script of peer bytes, half-closes and output pulls.
 *
 * Input: [role][cap: u32] then ops until the input ends:
 *   op % 4 == 0: [n: u16] n bytes from the peer (lp2p_perf_recv)
 *   op % 4 == 1: the peer half-closes (lp2p_perf_fin)
 *   op % 4 == 2: [max: u16] pull output, at most max + 1 bytes
 *   op % 4 == 3: pull whole blocks while output is owed (64 at most)
 * role & 1: server (cap is its listener cap) or client (the cap's two
 * halves are its upload and download sizes, small so a run ends).
 *
 * Checked: the engine never hands out more than asked per pull, nor more
 * payload in all than the request (client: its upload; server: what the
 * peer asked for, never above the cap); a server whose request is over the
 * cap fails with LP2P_ETOOBIG before any output; a client never accepts
 * more download than it asked for; errors are sticky; nothing allocates. */
#include "fuzz.h"

#include "lp2p/perf.h"

typedef struct run {
  lp2p_perf p;
  uint64_t out_payload; /* bytes handed out past the client's header */
  uint64_t out_total;
  int fin_out;
} run;

static void pull(run *r, size_t max) {
  const uint8_t *out = NULL;
  int fin = 0;
  size_t n = lp2p_perf_output(&r->p, max, &out, &fin);
  FZ_CHECK(n <= max);
  FZ_CHECK(!r->fin_out || (n == 0 && !fin)); /* nothing after our FIN */
  if (n) {
    FZ_CHECK(out != NULL);
    /* Both ends readable (ASan): the payload is one static block. */
    volatile uint8_t edge = out[0] ^ out[n - 1];
    (void)edge;
  }
  r->out_total += n;
  if (fin) r->fin_out = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fz_in in = fz_in_make(data, size);
  int server = fz_u8(&in) & 1;
  uint32_t cap = fz_u32(&in);
  run r = {0};
  uint64_t upload = cap >> 16, download = cap & 0xffff;
  if (server)
    lp2p_perf_server_init(&r.p, cap);
  else
    lp2p_perf_client_init(&r.p, upload, download);
  fz_log_begin(0);
  int err = 0;
  for (int steps = 0; fz_left(&in) && steps < 4096; steps++) {
    uint8_t op = fz_u8(&in);
    int rc = 0;
    switch (op % 4) {
    case 0: {
      size_t n;
      const uint8_t *p = fz_take(&in, fz_u16(&in), &n);
      rc = lp2p_perf_recv(&r.p, p, n);
      break;
    }
    case 1: rc = lp2p_perf_fin(&r.p); break;
    case 2: pull(&r, (size_t)fz_u16(&in) + 1); break;
    default:
      for (int i = 0; i < 64 && lp2p_perf_wants_output(&r.p); i++)
        pull(&r, LP2P_PERF_BLOCK);
      break;
    }
    if (err) FZ_CHECK(rc == 0 || rc == err); /* sticky: the same error */
    if (rc && !err) err = rc;
  }
  fz_log_end();

  if (server) {
    /* Output starts only once the request is known and within the cap. */
    FZ_CHECK(r.out_total <= r.p.max_send);
    if (err == LP2P_ETOOBIG) FZ_CHECK(r.out_total == 0);
  } else {
    /* The client's header (8 bytes) plus its upload, never more. */
    FZ_CHECK(r.out_total <= 8 + upload);
    FZ_CHECK(r.p.received <= download);
  }
  if (lp2p_perf_done(&r.p)) FZ_CHECK(!err && r.fin_out);
  return 0;
}
