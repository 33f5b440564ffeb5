/* Yamux engine: spec frames byte for byte, two engines wired in memory,
 * every split of a representative inbound session, re-entrant callbacks
 * and hostile input. Frame layout (spec "Framing"):
 *   ver(1) type(1) flags(2) stream(4) length(4), big-endian. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lp2p/yamux.h"

#define KIB 1024u
#define MIB (1024u * 1024u)

/* ---- a recording peer -------------------------------------------------- */

typedef struct ev_rec {
  lp2p_event_type type;
  uint32_t stream;
  lp2p_buf data; /* consecutive DATA events on one stream are merged */
} ev_rec;

#define MAX_EV 512
#define MAX_ID 64

typedef struct peer {
  lp2p_env env;
  lp2p_yamux *y;
  lp2p_buf out;
  ev_rec ev[MAX_EV];
  size_t nev;
  int write_rc;    /* returned by write when nonzero */
  int record_data; /* keep DATA bytes in ev[] */
  /* behaviours of the event callback */
  int echo;         /* send STREAM_DATA back on the same stream */
  int close_on_fin; /* close a stream the peer half-closed */
  int reset_on_open;
  int open_on_open; /* open this many streams from inside STREAM_OPEN */
  int recv_inside;  /* try lp2p_yamux_recv from inside the callback */
  int inner_rc;
  /* bulk receive check: byte i of stream s is pattern(s, i) */
  size_t rx[MAX_ID];
  int rx_bad;
  int fins, resets, eofs;
} peer;

static uint8_t pattern(uint32_t s, size_t i) {
  return (uint8_t)(i * 7 + s * 13 + (i >> 11));
}

static int w_cb(void *ud, const uint8_t *p, size_t len) {
  peer *pr = ud;
  if (pr->write_rc) return pr->write_rc;
  assert_int_equal(lp2p_buf_append(&pr->out, p, len), 0);
  return 0;
}

static void record(peer *pr, const lp2p_event *ev) {
  if (ev->type == LP2P_EV_STREAM_DATA && pr->nev &&
      pr->ev[pr->nev - 1].type == LP2P_EV_STREAM_DATA &&
      pr->ev[pr->nev - 1].stream == ev->stream) {
    assert_int_equal(lp2p_buf_append(&pr->ev[pr->nev - 1].data, ev->data, ev->len), 0);
    return;
  }
  assert_true(pr->nev < MAX_EV);
  ev_rec *r = &pr->ev[pr->nev++];
  r->type = ev->type;
  r->stream = ev->stream;
  if (ev->type == LP2P_EV_STREAM_DATA)
    assert_int_equal(lp2p_buf_append(&r->data, ev->data, ev->len), 0);
}

static int e_cb(void *ud, const lp2p_event *ev) {
  peer *pr = ud;
  if (pr->recv_inside) pr->inner_rc = lp2p_yamux_recv(pr->y, (const uint8_t *)"", 0);
  switch (ev->type) {
  case LP2P_EV_STREAM_OPEN:
    if (pr->record_data) record(pr, ev);
    for (int i = 0; i < pr->open_on_open; i++) {
      uint32_t id;
      assert_int_equal(lp2p_yamux_open(pr->y, &id), 0);
      if (i % 2) assert_int_equal(lp2p_yamux_reset(pr->y, id), 0);
    }
    if (pr->reset_on_open) return lp2p_yamux_reset(pr->y, ev->stream);
    return 0;
  case LP2P_EV_STREAM_DATA:
    if (pr->record_data) record(pr, ev);
    if (ev->stream < MAX_ID) {
      for (size_t i = 0; i < ev->len; i++)
        if (ev->data[i] != pattern(ev->stream, pr->rx[ev->stream] + i)) pr->rx_bad = 1;
      pr->rx[ev->stream] += ev->len;
    }
    if (pr->echo) return lp2p_yamux_send(pr->y, ev->stream, ev->data, ev->len);
    return 0;
  case LP2P_EV_STREAM_FIN:
    if (pr->record_data) record(pr, ev);
    pr->fins++;
    if (pr->close_on_fin) return lp2p_yamux_close(pr->y, ev->stream);
    return 0;
  case LP2P_EV_STREAM_RESET:
    if (pr->record_data) record(pr, ev);
    pr->resets++;
    return 0;
  case LP2P_EV_EOF:
    if (pr->record_data) record(pr, ev);
    pr->eofs++;
    return 0;
  default: fail_msg("unexpected event %d", ev->type); return 0;
  }
}

static void peer_init(peer *pr, int initiator, uint32_t window, uint32_t max_streams,
                      uint32_t max_pongs) {
  memset(pr, 0, sizeof *pr);
  pr->record_data = 1;
  lp2p_yamux_config cfg = {initiator, max_streams, window, max_pongs, 0};
  lp2p_io io = {.write = w_cb, .event = e_cb, .ud = pr};
  pr->y = lp2p_yamux_new(&pr->env, &cfg, io);
  assert_non_null(pr->y);
}

static void peer_clear_events(peer *pr) {
  for (size_t i = 0; i < pr->nev; i++)
    lp2p_buf_free(&pr->ev[i].data);
  pr->nev = 0;
}

static void peer_free(peer *pr) {
  lp2p_yamux_free(pr->y);
  pr->y = NULL;
  peer_clear_events(pr);
  lp2p_buf_free(&pr->out);
}

/* Checks the bytes written since the last check, then forgets them. */
static void expect_out(peer *pr, const char *hex) {
  uint8_t want[256];
  size_t n = tu_hex(want, sizeof want, hex);
  if (pr->out.len != n || (n && memcmp(pr->out.data, want, n) != 0)) {
    fprintf(stderr, "written %zu bytes:", pr->out.len);
    for (size_t i = 0; i < pr->out.len && i < 64; i++)
      fprintf(stderr, " %02x", pr->out.data[i]);
    fprintf(stderr, "\nwanted  %s\n", hex);
    fail();
  }
  pr->out.len = 0;
}

static void expect_ev(peer *pr, size_t i, lp2p_event_type type, uint32_t stream,
                      const char *data) {
  assert_true(i < pr->nev);
  assert_int_equal(pr->ev[i].type, type);
  assert_int_equal(pr->ev[i].stream, stream);
  if (data) {
    assert_int_equal(pr->ev[i].data.len, strlen(data));
    assert_memory_equal(pr->ev[i].data.data, data, strlen(data));
  }
}

static int feed_hex(peer *pr, const char *hex) {
  uint8_t b[256];
  size_t n = tu_hex(b, sizeof b, hex);
  return lp2p_yamux_recv(pr->y, b, n);
}

/* Hand-built frame, independent of the engine's encoder. */
static void frame(lp2p_buf *b, uint8_t type, uint16_t flags, uint32_t id, uint32_t len,
                  const void *payload) {
  tu_yamux_header(b, 0, type, flags, id, len);
  if (type == 0 && len) assert_int_equal(lp2p_buf_append(b, payload, len), 0);
}

/* Moves bytes between two peers until both are quiet. */
static void pump(peer *a, peer *b) {
  for (int guard = 0; guard < 1000000; guard++) {
    if (!a->out.len && !b->out.len) return;
    peer *from = a->out.len ? a : b, *to = from == a ? b : a;
    lp2p_buf t = from->out;
    memset(&from->out, 0, sizeof from->out);
    int rc = lp2p_yamux_recv(to->y, t.data, t.len);
    lp2p_buf_free(&t);
    assert_int_equal(rc, 0);
  }
  fail_msg("pump did not settle");
}

/* ---- byte-exact frames we write --------------------------------------- */

static void test_open_bytes(void **state) {
  (void)state;
  peer a, b, c;
  uint32_t id;
  peer_init(&a, 1, 0, 0, 0);
  assert_int_equal(lp2p_yamux_open(a.y, &id), 0);
  assert_int_equal(id, 1);
  expect_out(&a, "000100010000000100000000"); /* window update, SYN, delta 0 */
  assert_int_equal(lp2p_yamux_open(a.y, &id), 0);
  assert_int_equal(id, 3);
  expect_out(&a, "000100010000000300000000");
  peer_init(&b, 0, 0, 0, 0);
  assert_int_equal(lp2p_yamux_open(b.y, &id), 0);
  assert_int_equal(id, 2);
  expect_out(&b, "000100010000000200000000");
  /* A 1 MiB window is announced on the SYN as 1 MiB - 256 KiB. */
  peer_init(&c, 1, MIB, 0, 0);
  assert_int_equal(lp2p_yamux_open(c.y, &id), 0);
  expect_out(&c, "0001000100000001000c0000");
  assert_int_equal(lp2p_yamux_deadline(c.y), LP2P_NO_DEADLINE);
  assert_int_equal(lp2p_yamux_expire(c.y), 0);
  peer_free(&a);
  peer_free(&b);
  peer_free(&c);
}

static void test_config(void **state) {
  (void)state;
  lp2p_env env = {0};
  peer p;
  memset(&p, 0, sizeof p);
  lp2p_io io = {.write = w_cb, .event = e_cb, .ud = &p};
  lp2p_yamux_config small = {1, 0, 1000, 0, 0};
  assert_null(lp2p_yamux_new(&env, &small, io)); /* below the spec's 256 KiB */
  lp2p_yamux_config huge = {1, 0, UINT32_MAX, 0, 0};
  assert_null(lp2p_yamux_new(&env, &huge, io));
}

static void test_data_fin_rst_bytes(void **state) {
  (void)state;
  peer a;
  uint32_t s1, s3;
  peer_init(&a, 1, 0, 0, 0);
  assert_int_equal(lp2p_yamux_open(a.y, &s1), 0);
  assert_int_equal(lp2p_yamux_open(a.y, &s3), 0);
  a.out.len = 0;
  assert_int_equal(lp2p_yamux_send(a.y, s1, (const uint8_t *)"hi", 2), 0);
  expect_out(&a, "000000000000000100000002"
                 "6869");
  assert_int_equal(lp2p_yamux_send(a.y, s1, NULL, 0), 0);
  expect_out(&a, "");
  assert_int_equal(lp2p_yamux_close(a.y, s1), 0);
  expect_out(&a, "000100040000000100000000");     /* window update, FIN */
  assert_int_equal(lp2p_yamux_close(a.y, s1), 0); /* idempotent */
  expect_out(&a, "");
  assert_int_equal(lp2p_yamux_send(a.y, s1, (const uint8_t *)"x", 1), LP2P_ECLOSED);
  assert_int_equal(lp2p_yamux_reset(a.y, s3), 0);
  expect_out(&a, "000100080000000300000000"); /* window update, RST */
  assert_int_equal(lp2p_yamux_send(a.y, s3, (const uint8_t *)"x", 1), LP2P_ECLOSED);
  assert_int_equal(lp2p_yamux_close(a.y, s3), LP2P_ECLOSED);
  assert_int_equal(lp2p_yamux_reset(a.y, s3), 0);
  expect_out(&a, "");
  assert_int_equal(lp2p_yamux_send(a.y, 99, (const uint8_t *)"x", 1), LP2P_ECLOSED);
  /* Stream 1 lives on half-closed until the peer's FIN, then is freed. */
  assert_int_equal(lp2p_yamux_num_streams(a.y), 1);
  assert_int_equal(feed_hex(&a, "000100040000000100000000"), 0);
  expect_ev(&a, 0, LP2P_EV_STREAM_FIN, 1, NULL);
  assert_int_equal(lp2p_yamux_num_streams(a.y), 0);
  expect_out(&a, "");
  peer_free(&a);
}

static void test_ack_on_first_frame(void **state) {
  (void)state;
  peer b;
  peer_init(&b, 0, 0, 0, 0);
  /* SYN as a window update (go-yamux style): no reply until we write. */
  assert_int_equal(feed_hex(&b, "000100010000000100000000"), 0);
  expect_ev(&b, 0, LP2P_EV_STREAM_OPEN, 1, NULL);
  expect_out(&b, "");
  /* Data before our ACK is delivered. */
  assert_int_equal(feed_hex(&b, "000000000000000100000003"
                                "616263"),
                   0);
  expect_ev(&b, 1, LP2P_EV_STREAM_DATA, 1, "abc");
  expect_out(&b, "");
  assert_int_equal(lp2p_yamux_send(b.y, 1, (const uint8_t *)"ok", 2), 0);
  expect_out(&b, "000000020000000100000002"
                 "6f6b"); /* data, ACK */
  assert_int_equal(lp2p_yamux_send(b.y, 1, (const uint8_t *)"!", 1), 0);
  expect_out(&b, "000000000000000100000001"
                 "21");
  /* SYN on a data frame; our first frame is a FIN: ACK|FIN. */
  assert_int_equal(feed_hex(&b, "000000010000000300000001"
                                "7a"),
                   0);
  expect_ev(&b, 2, LP2P_EV_STREAM_OPEN, 3, NULL);
  expect_ev(&b, 3, LP2P_EV_STREAM_DATA, 3, "z");
  assert_int_equal(lp2p_yamux_close(b.y, 3), 0);
  expect_out(&b, "000100060000000300000000");
  /* Rejecting a stream: RST without ACK. */
  assert_int_equal(feed_hex(&b, "000100010000000500000000"), 0);
  assert_int_equal(lp2p_yamux_reset(b.y, 5), 0);
  expect_out(&b, "000100080000000500000000");
  peer_free(&b);

  /* With a 1 MiB window the grant beyond 256 KiB goes first, with ACK. */
  peer_init(&b, 0, MIB, 0, 0);
  assert_int_equal(feed_hex(&b, "000100010000000100000000"), 0);
  assert_int_equal(lp2p_yamux_send(b.y, 1, (const uint8_t *)"ok", 2), 0);
  expect_out(&b, "0001000200000001000c0000"
                 "000000000000000100000002"
                 "6f6b");
  peer_free(&b);
}

static void test_outbound_ack_and_peer_reset(void **state) {
  (void)state;
  peer a;
  uint32_t id;
  peer_init(&a, 1, 0, 0, 0);
  assert_int_equal(lp2p_yamux_open(a.y, &id), 0);
  a.out.len = 0;
  /* The peer answers with data carrying ACK. */
  assert_int_equal(feed_hex(&a, "000000020000000100000002"
                                "6869"),
                   0);
  expect_ev(&a, 0, LP2P_EV_STREAM_DATA, 1, "hi");
  assert_int_equal(lp2p_yamux_open(a.y, &id), 0);
  assert_int_equal(id, 3);
  a.out.len = 0;
  /* Refused by RST. */
  assert_int_equal(feed_hex(&a, "000100080000000300000000"), 0);
  expect_ev(&a, 1, LP2P_EV_STREAM_RESET, 3, NULL);
  assert_int_equal(lp2p_yamux_send(a.y, 3, (const uint8_t *)"x", 1), LP2P_ECLOSED);
  /* RST on a data frame with payload: payload skipped, stream gone. */
  assert_int_equal(feed_hex(&a, "000000080000000100000002"
                                "6869"),
                   0);
  expect_ev(&a, 2, LP2P_EV_STREAM_RESET, 1, NULL);
  assert_int_equal(a.nev, 3);
  assert_int_equal(lp2p_yamux_num_streams(a.y), 0);
  expect_out(&a, "");
  peer_free(&a);
}

static void test_ack_backlog(void **state) {
  (void)state;
  peer a;
  uint32_t id;
  peer_init(&a, 1, 0, 0, 0);
  for (unsigned i = 0; i < LP2P_YAMUX_MAX_ACK_BACKLOG; i++)
    assert_int_equal(lp2p_yamux_open(a.y, &id), 0);
  assert_int_equal(lp2p_yamux_open(a.y, &id), LP2P_ELIMIT);
  assert_int_equal(feed_hex(&a, "000100020000000100000000"), 0); /* ACK 1 */
  assert_int_equal(lp2p_yamux_open(a.y, &id), 0);
  assert_int_equal(id, 2 * LP2P_YAMUX_MAX_ACK_BACKLOG + 1);
  assert_int_equal(lp2p_yamux_open(a.y, &id), LP2P_ELIMIT);
  assert_int_equal(lp2p_yamux_reset(a.y, 3), 0); /* freed: no longer counts */
  assert_int_equal(lp2p_yamux_open(a.y, &id), 0);
  peer_free(&a);
}

static void test_ping(void **state) {
  (void)state;
  peer a;
  peer_init(&a, 1, 0, 0, 0);
  assert_int_equal(feed_hex(&a, "000200010000000012345678"), 0);
  expect_out(&a, "000200020000000012345678");                    /* ACK, same opaque */
  assert_int_equal(feed_hex(&a, "000200020000000012345678"), 0); /* a pong */
  expect_out(&a, "");
  assert_int_equal(lp2p_yamux_ping(a.y, 0xdeadbeef), 0);
  expect_out(&a, "0002000100000000deadbeef");
  assert_int_equal(a.nev, 0);
  peer_free(&a);

  /* Replies queued per recv call are capped; the excess is dropped. */
  peer_init(&a, 1, 0, 0, 2);
  assert_int_equal(feed_hex(&a, "000200010000000000000001"
                                "000200010000000000000002"
                                "000200010000000000000003"
                                "000200010000000000000004"),
                   0);
  expect_out(&a, "000200020000000000000001"
                 "000200020000000000000002");
  assert_int_equal(feed_hex(&a, "000200010000000000000005"), 0);
  expect_out(&a, "000200020000000000000005");
  peer_free(&a);
}

static void test_goaway(void **state) {
  (void)state;
  peer a;
  uint32_t id;
  peer_init(&a, 1, 0, 0, 0);
  assert_int_equal(lp2p_yamux_open(a.y, &id), 0);
  a.out.len = 0;
  assert_int_equal(lp2p_yamux_goaway(a.y, 7), LP2P_EINVAL);
  assert_int_equal(lp2p_yamux_goaway(a.y, LP2P_YAMUX_GOAWAY_NORMAL), 0);
  expect_out(&a, "000300000000000000000000");
  assert_int_equal(lp2p_yamux_goaway(a.y, 0), 0); /* once */
  expect_out(&a, "");
  assert_int_equal(lp2p_yamux_open(a.y, &id), LP2P_ECLOSED);
  /* The open stream carries on; a new SYN is refused. */
  assert_int_equal(lp2p_yamux_send(a.y, 1, (const uint8_t *)"x", 1), 0);
  expect_out(&a, "000000000000000100000001"
                 "78");
  assert_int_equal(feed_hex(&a, "000100010000000200000000"), 0);
  expect_out(&a, "000100080000000200000000");
  assert_int_equal(a.nev, 0);
  peer_free(&a);

  peer_init(&a, 1, 0, 0, 0);
  assert_int_equal(lp2p_yamux_goaway(a.y, LP2P_YAMUX_GOAWAY_INTERNAL), 0);
  expect_out(&a, "000300000000000000000002");
  peer_free(&a);

  /* GoAway received: EOF once, no new streams of ours. */
  peer_init(&a, 1, 0, 0, 0);
  assert_int_equal(feed_hex(&a, "000300000000000000000000"), 0);
  expect_ev(&a, 0, LP2P_EV_EOF, 0, NULL);
  assert_int_equal(feed_hex(&a, "000300000000000000000002"), 0);
  assert_int_equal(a.nev, 1);
  assert_int_equal(lp2p_yamux_open(a.y, &id), LP2P_ECLOSED);
  expect_out(&a, "");
  peer_free(&a);
}

/* ---- flow control ----------------------------------------------------- */

static void test_window_replenish(void **state) {
  (void)state;
  peer b;
  lp2p_buf in = {0};
  uint8_t *chunk = calloc(1, 256 * KIB);
  assert_non_null(chunk);
  peer_init(&b, 0, 0, 0, 0);
  frame(&in, 1, 1, 1, 0, NULL);
  frame(&in, 0, 0, 1, 128 * KIB - 1, chunk);
  assert_int_equal(lp2p_yamux_recv(b.y, in.data, in.len), 0);
  expect_out(&b, ""); /* under half the window consumed */
  in.len = 0;
  frame(&in, 0, 0, 1, 1, chunk);
  assert_int_equal(lp2p_yamux_recv(b.y, in.data, in.len), 0);
  expect_out(&b, "000100020000000100020000"); /* ACK + 128 KiB back */
  in.len = 0;
  frame(&in, 0, 0, 1, 128 * KIB, chunk);
  assert_int_equal(lp2p_yamux_recv(b.y, in.data, in.len), 0);
  expect_out(&b, "000100000000000100020000");
  assert_int_equal(lp2p_yamux_num_streams(b.y), 1);
  in.len = 0;
  /* A FIN'd stream sends no more updates. */
  frame(&in, 0, 4, 1, 200 * KIB, chunk);
  assert_int_equal(lp2p_yamux_recv(b.y, in.data, in.len), 0);
  expect_out(&b, "");
  assert_int_equal(b.fins, 1);
  peer_free(&b);

  /* A 1 MiB listener: the peer only knows 256 KiB until our ACK, so the
   * first delivered byte brings the ACK with the extra 768 KiB. */
  peer_init(&b, 0, MIB, 0, 0);
  in.len = 0;
  frame(&in, 0, 1, 1, 256 * KIB, chunk);
  assert_int_equal(lp2p_yamux_recv(b.y, in.data, 12 + 1), 0);
  expect_out(&b, "0001000200000001000c0001");
  assert_int_equal(lp2p_yamux_recv(b.y, in.data + 13, in.len - 13), 0);
  expect_out(&b, ""); /* under half of 1 MiB */
  /* Window left: 256 KiB + 768 KiB + 1 credited - 256 KiB received. */
  assert_int_equal(feed_hex(&b, "0000000000000001000c0002"), LP2P_EPROTO);
  peer_free(&b);
  lp2p_buf_free(&in);
  free(chunk);
}

static void test_send_queue(void **state) {
  (void)state;
  peer a;
  uint32_t id;
  size_t len = 300 * KIB;
  uint8_t *data = malloc(len);
  assert_non_null(data);
  for (size_t i = 0; i < len; i++)
    data[i] = pattern(1, i);
  peer_init(&a, 1, 0, 0, 0);
  assert_int_equal(lp2p_yamux_open(a.y, &id), 0);
  a.out.len = 0;
  assert_int_equal(lp2p_yamux_send(a.y, id, data, len), 0);
  /* 256 KiB in frames of at most LP2P_YAMUX_MAX_FRAME, each with its
   * header. */
  size_t frames = (256 * KIB + LP2P_YAMUX_MAX_FRAME - 1) / LP2P_YAMUX_MAX_FRAME;
  assert_int_equal(a.out.len, 256 * KIB + frames * 12);
  uint8_t h[12];
  lp2p_buf hb = {0};
  tu_yamux_header(&hb, 0, 0, 0, 1, LP2P_YAMUX_MAX_FRAME);
  memcpy(h, hb.data, 12);
  lp2p_buf_free(&hb);
  assert_memory_equal(a.out.data, h, 12);
  assert_int_equal(lp2p_yamux_queued(a.y, id), 44 * KIB);
  a.out.len = 0;
  assert_int_equal(lp2p_yamux_close(a.y, id), 0);
  expect_out(&a, ""); /* FIN waits behind the queue */
  assert_int_equal(lp2p_yamux_send(a.y, id, data, 1), LP2P_ECLOSED);
  /* 40 KiB of window: one frame (the frame cap is above 40 KiB). */
  assert_true(LP2P_YAMUX_MAX_FRAME >= 40 * KIB);
  assert_int_equal(feed_hex(&a, "00010002000000010000a000"), 0);
  assert_int_equal(a.out.len, 40 * KIB + 12);
  assert_memory_equal(a.out.data, "\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\xa0\x00", 12);
  assert_memory_equal(a.out.data + 12, data + 256 * KIB, 40 * KIB);
  assert_int_equal(lp2p_yamux_queued(a.y, id), 4 * KIB);
  a.out.len = 0;
  /* The last 4 KiB, then the FIN. */
  assert_int_equal(feed_hex(&a, "000100000000000100100000"), 0);
  assert_int_equal(a.out.len, 4 * KIB + 12 + 12);
  assert_memory_equal(a.out.data + 12 + 4 * KIB,
                      "\x00\x01\x00\x04\x00\x00\x00\x01\x00\x00\x00\x00", 12);
  assert_int_equal(lp2p_yamux_queued(a.y, id), 0);
  a.out.len = 0;
  peer_free(&a);

  /* The queue cap is all or nothing. */
  peer_init(&a, 1, 0, 0, 0);
  assert_int_equal(lp2p_yamux_open(a.y, &id), 0);
  a.out.len = 0;
  size_t big = LP2P_YAMUX_MAX_QUEUED + 256 * KIB + 1;
  uint8_t *bigbuf = calloc(1, big);
  assert_non_null(bigbuf);
  assert_int_equal(lp2p_yamux_send(a.y, id, bigbuf, big), LP2P_ELIMIT);
  expect_out(&a, "");
  assert_int_equal(lp2p_yamux_send(a.y, id, bigbuf, big - 1), 0);
  assert_int_equal(lp2p_yamux_queued(a.y, id), LP2P_YAMUX_MAX_QUEUED);
  assert_int_equal(lp2p_yamux_send(a.y, id, bigbuf, 1), LP2P_ELIMIT);
  free(bigbuf);
  free(data);
  peer_free(&a); /* frees the queued data */
}

/* ---- two engines in memory -------------------------------------------- */

static void bulk(uint32_t wa, uint32_t wb, size_t len) {
  peer a, b;
  uint32_t sa, sb;
  uint8_t *pa = malloc(len), *pb = malloc(len);
  assert_non_null(pa);
  assert_non_null(pb);
  peer_init(&a, 1, wa, 0, 0);
  peer_init(&b, 0, wb, 0, 0);
  a.record_data = b.record_data = 0;
  assert_int_equal(lp2p_yamux_open(a.y, &sa), 0);
  assert_int_equal(lp2p_yamux_open(b.y, &sb), 0);
  for (size_t i = 0; i < len; i++) {
    pa[i] = pattern(sa, i);
    pb[i] = pattern(sb, i);
  }
  assert_int_equal(lp2p_yamux_send(a.y, sa, pa, len), 0);
  assert_int_equal(lp2p_yamux_send(b.y, sb, pb, len), 0);
  assert_true(lp2p_yamux_queued(a.y, sa) > 0);
  assert_int_equal(lp2p_yamux_close(a.y, sa), 0);
  assert_int_equal(lp2p_yamux_close(b.y, sb), 0);
  pump(&a, &b);
  assert_int_equal(b.rx[sa], len);
  assert_int_equal(a.rx[sb], len);
  assert_false(a.rx_bad);
  assert_false(b.rx_bad);
  assert_int_equal(a.fins, 1);
  assert_int_equal(b.fins, 1);
  /* Each side still has the other's stream half-open. */
  assert_int_equal(lp2p_yamux_num_streams(a.y), 2);
  assert_int_equal(lp2p_yamux_close(a.y, sb), 0);
  assert_int_equal(lp2p_yamux_close(b.y, sa), 0);
  pump(&a, &b);
  assert_int_equal(lp2p_yamux_num_streams(a.y), 0);
  assert_int_equal(lp2p_yamux_num_streams(b.y), 0);
  free(pa);
  free(pb);
  peer_free(&a);
  peer_free(&b);
}

static void test_pair_bulk(void **state) {
  (void)state;
  bulk(0, 0, MIB);
  bulk(MIB, 0, MIB + 12345);
  bulk(512 * KIB, 4 * MIB, 3 * MIB);
}

static void test_pair_echo_reentrant(void **state) {
  (void)state;
  peer a, b;
  uint32_t id;
  size_t len = MIB + 7;
  uint8_t *p = malloc(len);
  assert_non_null(p);
  peer_init(&a, 1, 0, 0, 0);
  peer_init(&b, 0, 0, 0, 0);
  a.record_data = 0;
  b.record_data = 0;
  b.echo = 1;
  b.close_on_fin = 1;
  b.open_on_open = 40; /* grows B's stream table inside the callback */
  assert_int_equal(lp2p_yamux_open(a.y, &id), 0);
  for (size_t i = 0; i < len; i++)
    p[i] = pattern(id, i);
  /* In pieces, pumping in between, so echoes interleave with input. */
  for (size_t off = 0; off < len;) {
    size_t n = len - off < 100 * KIB ? len - off : 100 * KIB;
    assert_int_equal(lp2p_yamux_send(a.y, id, p + off, n), 0);
    off += n;
    pump(&a, &b);
  }
  assert_int_equal(lp2p_yamux_close(a.y, id), 0);
  pump(&a, &b);
  assert_int_equal(a.rx[id], len);
  assert_false(a.rx_bad);
  assert_int_equal(a.fins, 1);
  /* B opened 40 streams; the 20 it reset reached A as RSTs. */
  assert_int_equal(a.resets, 20);
  assert_int_equal(lp2p_yamux_num_streams(b.y), 20);
  assert_int_equal(lp2p_yamux_num_streams(a.y), 20);
  free(p);
  peer_free(&a);
  peer_free(&b);
}

static void test_reset_in_open_callback(void **state) {
  (void)state;
  peer a, b;
  uint32_t id;
  peer_init(&a, 1, 0, 0, 0);
  peer_init(&b, 0, 0, 0, 0);
  b.reset_on_open = 1;
  assert_int_equal(lp2p_yamux_open(a.y, &id), 0);
  assert_int_equal(lp2p_yamux_send(a.y, id, (const uint8_t *)"dropped", 7), 0);
  pump(&a, &b);
  assert_int_equal(b.nev, 1); /* OPEN only: the data went nowhere */
  assert_int_equal(a.resets, 1);
  assert_int_equal(lp2p_yamux_num_streams(a.y), 0);
  assert_int_equal(lp2p_yamux_num_streams(b.y), 0);
  peer_free(&a);
  peer_free(&b);
}

static void test_recv_not_reentrant(void **state) {
  (void)state;
  peer b;
  peer_init(&b, 0, 0, 0, 0);
  b.recv_inside = 1;
  assert_int_equal(feed_hex(&b, "000100010000000100000000"), 0);
  assert_int_equal(b.inner_rc, LP2P_EINVAL);
  assert_int_equal(feed_hex(&b, "000000000000000100000001"
                                "61"),
                   0); /* still alive */
  peer_free(&b);
}

/* ---- one representative session under every split -------------------- */

/* Inbound bytes for a listener that opened stream 2 itself. */
static void session_bytes(lp2p_buf *in) {
  frame(in, 1, 1, 1, 0, NULL); /* SYN 1 (window update) */
  frame(in, 0, 0, 1, 5, "hello");
  frame(in, 0, 1 | 4, 3, 3, "abc"); /* SYN|FIN 3 with data */
  frame(in, 2, 1, 0, 7, NULL);      /* ping 7 */
  frame(in, 0, 4, 1, 5, "world");   /* FIN 1 */
  frame(in, 1, 2, 2, 100, NULL);    /* ACK 2 +100 */
  frame(in, 0, 2, 2, 4, "back");
  frame(in, 0, 1, 5, 2, "xy");  /* SYN 5 */
  frame(in, 1, 8, 5, 0, NULL);  /* RST 5 */
  frame(in, 0, 0, 9, 3, "zzz"); /* unknown stream: dropped */
  frame(in, 1, 0, 9, 10, NULL);
  frame(in, 2, 2, 0, 1, NULL); /* pong */
  frame(in, 3, 0, 0, 0, NULL); /* GoAway normal */
}

static void session_check(peer *b) {
  size_t i = 0;
  expect_ev(b, i++, LP2P_EV_STREAM_OPEN, 1, NULL);
  expect_ev(b, i++, LP2P_EV_STREAM_DATA, 1, "hello");
  expect_ev(b, i++, LP2P_EV_STREAM_OPEN, 3, NULL);
  expect_ev(b, i++, LP2P_EV_STREAM_DATA, 3, "abc");
  expect_ev(b, i++, LP2P_EV_STREAM_FIN, 3, NULL);
  expect_ev(b, i++, LP2P_EV_STREAM_DATA, 1, "world");
  expect_ev(b, i++, LP2P_EV_STREAM_FIN, 1, NULL);
  expect_ev(b, i++, LP2P_EV_STREAM_DATA, 2, "back");
  expect_ev(b, i++, LP2P_EV_STREAM_OPEN, 5, NULL);
  expect_ev(b, i++, LP2P_EV_STREAM_DATA, 5, "xy");
  expect_ev(b, i++, LP2P_EV_STREAM_RESET, 5, NULL);
  expect_ev(b, i++, LP2P_EV_EOF, 0, NULL);
  assert_int_equal(b->nev, i);
  /* close_on_fin answered 3 and 1 with ACK|FIN, both freed; 2 lives. */
  assert_int_equal(lp2p_yamux_num_streams(b->y), 1);
}

static int cmp_frame(const void *x, const void *y) { return memcmp(x, y, 12); }

/* The frames we wrote, sorted: ping replies go out at the end of each recv
 * call, so their place in the byte stream depends on the split. */
static void sorted_out(peer *b, uint8_t *out, size_t *n) {
  assert_int_equal(b->out.len % 12, 0);
  assert_true(b->out.len <= 12 * 16);
  memcpy(out, b->out.data, b->out.len);
  *n = b->out.len;
  qsort(out, *n / 12, 12, cmp_frame);
}

static void session_peer(peer *b) {
  uint32_t id;
  peer_init(b, 0, 0, 0, 0);
  b->close_on_fin = 1;
  assert_int_equal(lp2p_yamux_open(b->y, &id), 0);
  assert_int_equal(id, 2);
  b->out.len = 0;
}

static void test_session_splits(void **state) {
  (void)state;
  lp2p_buf in = {0};
  session_bytes(&in);
  peer b;
  uint8_t want[12 * 16], got[12 * 16];
  size_t nwant, ngot;

  session_peer(&b);
  lp2p_log_level = LP2P_LOG_DEBUG; /* the frame log must not disturb */
  assert_int_equal(lp2p_yamux_recv(b.y, in.data, in.len), 0);
  lp2p_log_level = LP2P_LOG_ERROR;
  session_check(&b);
  sorted_out(&b, want, &nwant);
  /* Written, in order: ACK|FIN 3, ACK|FIN 1, pong 7. */
  expect_out(&b, "000100060000000300000000"
                 "000100060000000100000000"
                 "000200020000000000000007");
  peer_free(&b);

  session_peer(&b);
  for (size_t i = 0; i < in.len; i++)
    assert_int_equal(lp2p_yamux_recv(b.y, in.data + i, 1), 0);
  session_check(&b);
  sorted_out(&b, got, &ngot);
  assert_int_equal(ngot, nwant);
  assert_memory_equal(got, want, nwant);
  peer_free(&b);

  for (size_t cut = 0; cut <= in.len; cut++) {
    session_peer(&b);
    assert_int_equal(lp2p_yamux_recv(b.y, in.data, cut), 0);
    assert_int_equal(lp2p_yamux_recv(b.y, in.data + cut, in.len - cut), 0);
    session_check(&b);
    sorted_out(&b, got, &ngot);
    assert_int_equal(ngot, nwant);
    assert_memory_equal(got, want, nwant);
    peer_free(&b);
  }
  lp2p_buf_free(&in);
}

/* ---- limits ------------------------------------------------------------ */

static void test_max_streams(void **state) {
  (void)state;
  peer b;
  peer_init(&b, 0, 0, 2, 0);
  assert_int_equal(feed_hex(&b, "000100010000000100000000"
                                "000100010000000300000000"),
                   0);
  expect_out(&b, "");
  /* The third SYN (with data) is refused; its data is skipped. */
  assert_int_equal(feed_hex(&b, "000000010000000500000002"
                                "7879"),
                   0);
  expect_out(&b, "000100080000000500000000");
  assert_int_equal(feed_hex(&b, "000000000000000500000001"
                                "78"),
                   0); /* late data */
  expect_out(&b, "");
  assert_int_equal(feed_hex(&b, "000000000000000100000001"
                                "61"
                                "000000000000000300000001"
                                "62"),
                   0);
  assert_int_equal(b.nev, 4);
  expect_ev(&b, 2, LP2P_EV_STREAM_DATA, 1, "a");
  expect_ev(&b, 3, LP2P_EV_STREAM_DATA, 3, "b");
  assert_int_equal(lp2p_yamux_send(b.y, 3, (const uint8_t *)"c", 1), 0);
  expect_out(&b, "000000020000000300000001"
                 "63");
  /* A slot frees when a stream goes; the next SYN is taken. */
  assert_int_equal(lp2p_yamux_reset(b.y, 1), 0);
  b.out.len = 0;
  assert_int_equal(feed_hex(&b, "000100010000000700000000"), 0);
  expect_out(&b, "");
  expect_ev(&b, 4, LP2P_EV_STREAM_OPEN, 7, NULL);
  assert_int_equal(lp2p_yamux_num_streams(b.y), 2);
  peer_free(&b);
}

/* ---- hostile input ----------------------------------------------------- */

#define GOAWAY_PROTO "000300000000000000000001"

static void hostile(int initiator, const char *setup_hex, const char *bad_hex) {
  peer p;
  uint32_t id;
  peer_init(&p, initiator, 0, 0, 0);
  if (setup_hex) assert_int_equal(feed_hex(&p, setup_hex), 0);
  p.out.len = 0;
  assert_int_equal(feed_hex(&p, bad_hex), LP2P_EPROTO);
  expect_out(&p, GOAWAY_PROTO);
  /* Dead: everything returns the error again, nothing more is written. */
  assert_int_equal(feed_hex(&p, "000200010000000000000001"), LP2P_EPROTO);
  assert_int_equal(lp2p_yamux_open(p.y, &id), LP2P_EPROTO);
  assert_int_equal(lp2p_yamux_send(p.y, 1, (const uint8_t *)"x", 1), LP2P_EPROTO);
  assert_int_equal(lp2p_yamux_close(p.y, 1), LP2P_EPROTO);
  assert_int_equal(lp2p_yamux_reset(p.y, 1), LP2P_EPROTO);
  assert_int_equal(lp2p_yamux_goaway(p.y, 0), LP2P_EPROTO);
  assert_int_equal(lp2p_yamux_expire(p.y), LP2P_EPROTO);
  expect_out(&p, "");
  peer_free(&p);
}

static void test_hostile(void **state) {
  (void)state;
  /* bad version, bad type */
  hostile(1, NULL, "010000000000000100000000");
  hostile(1, NULL, "000400000000000000000000");
  /* data frame longer than the window, on a live and an unknown stream */
  hostile(0, "000100010000000100000000", "000000000000000100040001");
  hostile(0, NULL, "00000000000000097fffffff");
  hostile(0, NULL, "00000001000000010004000100");
  /* within the window per frame, past it in sum: 100 KiB consumed but not
   * yet returned (under half), then 156 KiB fits exactly, 157 KiB not */
  for (int over = 0; over < 2; over++) {
    peer p;
    lp2p_buf in = {0};
    uint8_t *z = calloc(1, 157 * KIB);
    assert_non_null(z);
    peer_init(&p, 0, 0, 0, 0);
    frame(&in, 1, 1, 1, 0, NULL);
    frame(&in, 0, 0, 1, 100 * KIB, z);
    frame(&in, 0, 0, 1, 156 * KIB + (uint32_t)over, z);
    int rc = lp2p_yamux_recv(p.y, in.data, in.len);
    if (over) {
      assert_int_equal(rc, LP2P_EPROTO);
      expect_out(&p, GOAWAY_PROTO);
    } else {
      assert_int_equal(rc, 0);
      expect_out(&p, "000100020000000100040000"); /* ACK, all 256 KiB back */
    }
    peer_free(&p);
    lp2p_buf_free(&in);
    free(z);
  }
  /* window update past 2^32-1: 256 KiB + 0xfffc0000 */
  hostile(1, NULL,
          "000100010000000200000000"
          "0001000000000002fffc0000");
  {
    peer p;
    uint32_t id;
    peer_init(&p, 1, 0, 0, 0);
    assert_int_equal(lp2p_yamux_open(p.y, &id), 0);
    assert_int_equal(feed_hex(&p, "0001000200000001fffbffff"), 0); /* exactly 2^32-1 */
    p.out.len = 0;
    assert_int_equal(feed_hex(&p, "000100000000000100000001"), LP2P_EPROTO);
    expect_out(&p, GOAWAY_PROTO);
    peer_free(&p);
  }
  /* duplicate SYN for a live stream, on either frame type */
  hostile(0, "000100010000000100000000", "000100010000000100000000");
  hostile(0, "000100010000000100000000", "000000010000000100000000");
  /* SYN with our parity, SYN on stream 0 */
  hostile(0, NULL, "000100010000000200000000");
  hostile(1, NULL, "000100010000000100000000");
  hostile(0, NULL, "000100010000000000000000");
  /* split inside the bad header still fails, once */
  {
    peer p;
    peer_init(&p, 1, 0, 0, 0);
    assert_int_equal(feed_hex(&p, "0100"), 0);
    assert_int_equal(feed_hex(&p, "00000000000100000000"), LP2P_EPROTO);
    peer_free(&p);
  }
}

static void test_io_errors(void **state) {
  (void)state;
  peer p;
  uint32_t id;
  /* A failing write kills the engine. */
  peer_init(&p, 1, 0, 0, 0);
  p.write_rc = -32; /* EPIPE */
  assert_int_equal(lp2p_yamux_open(p.y, &id), -32);
  assert_int_equal(lp2p_yamux_open(p.y, &id), -32);
  assert_int_equal(feed_hex(&p, "000200010000000000000001"), -32);
  peer_free(&p);
  /* ... also when it fails inside a callback's send. */
  peer_init(&p, 0, 0, 0, 0);
  p.echo = 1;
  assert_int_equal(feed_hex(&p, "000100010000000100000000"), 0);
  p.write_rc = -32;
  assert_int_equal(feed_hex(&p, "000000000000000100000001"
                                "61"),
                   -32);
  assert_int_equal(lp2p_yamux_send(p.y, 1, (const uint8_t *)"x", 1), -32);
  peer_free(&p);
  /* A failing ping reply write at the end of recv. */
  peer_init(&p, 0, 0, 0, 0);
  p.write_rc = -32;
  assert_int_equal(feed_hex(&p, "000200010000000000000001"), -32);
  peer_free(&p);
}

/* Data frames go down as header and payload pieces of one writev, the
 * payload read where the caller keeps it (no copy in the muxer); control
 * frames are one piece. */
typedef struct gather {
  size_t calls, pieces[8];
  const uint8_t *payload[8];
  size_t payload_len[8];
  uint8_t hdr[8][12];
} gather;

static int g_writev(void *ud, const lp2p_iovec *v, size_t n) {
  gather *g = ud;
  assert_true(g->calls < 8);
  assert_int_equal(v[0].len, 12);
  memcpy(g->hdr[g->calls], v[0].p, 12);
  g->pieces[g->calls] = n;
  if (n > 1) {
    g->payload[g->calls] = v[1].p;
    g->payload_len[g->calls] = v[1].len;
  }
  g->calls++;
  return 0;
}

static uint32_t get_be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void test_writev_pieces(void **state) {
  (void)state;
  static uint8_t data[LP2P_YAMUX_MAX_FRAME + 1000];
  gather g = {0};
  lp2p_env env = {0};
  lp2p_yamux_config cfg = {.initiator = 1};
  lp2p_yamux *y = lp2p_yamux_new(&env, &cfg, tu_gather_io(g_writev, &g));
  assert_non_null(y);
  uint32_t id;
  assert_int_equal(lp2p_yamux_open(y, &id), 0);
  assert_int_equal(g.calls, 1); /* window update with SYN: the header only */
  assert_int_equal(g.pieces[0], 1);
  assert_int_equal(lp2p_yamux_send(y, id, data, sizeof data), 0);
  assert_int_equal(g.calls, 3);
  assert_int_equal(g.pieces[1], 2);
  assert_ptr_equal(g.payload[1], data);
  assert_int_equal(g.payload_len[1], LP2P_YAMUX_MAX_FRAME);
  assert_int_equal(g.hdr[1][1], 0); /* data */
  assert_int_equal(get_be32(g.hdr[1] + 8), LP2P_YAMUX_MAX_FRAME);
  assert_ptr_equal(g.payload[2], data + LP2P_YAMUX_MAX_FRAME);
  assert_int_equal(g.payload_len[2], 1000);
  assert_int_equal(lp2p_yamux_close(y, id), 0);
  assert_int_equal(g.pieces[3], 1);
  lp2p_yamux_free(y);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_open_bytes),
      cmocka_unit_test(test_config),
      cmocka_unit_test(test_data_fin_rst_bytes),
      cmocka_unit_test(test_ack_on_first_frame),
      cmocka_unit_test(test_outbound_ack_and_peer_reset),
      cmocka_unit_test(test_ack_backlog),
      cmocka_unit_test(test_ping),
      cmocka_unit_test(test_goaway),
      cmocka_unit_test(test_window_replenish),
      cmocka_unit_test(test_send_queue),
      cmocka_unit_test(test_pair_bulk),
      cmocka_unit_test(test_pair_echo_reentrant),
      cmocka_unit_test(test_reset_in_open_callback),
      cmocka_unit_test(test_recv_not_reentrant),
      cmocka_unit_test(test_session_splits),
      cmocka_unit_test(test_max_streams),
      cmocka_unit_test(test_hostile),
      cmocka_unit_test(test_io_errors),
      cmocka_unit_test(test_writev_pieces),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
