/* mplex engine: byte-exact frames per libp2p/specs mplex/README.md (built by
 * hand from the header = uvarint(id << 3 | flag), uvarint length, data
 * layout), every input split, two engines in memory, re-entrant callbacks
 * and hostile input. */
#include "testutil.h"

#include "lp2p/mplex.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXH 64

typedef struct peer {
  lp2p_mplex *m;
  lp2p_buf out; /* everything written toward the wire */
  lp2p_buf log; /* "|O0|D0:abc|F0|R3" with consecutive data merged */
  int last_type;
  uint32_t last_stream;
  lp2p_buf rx[MAXH];
  int opened[MAXH], fin[MAXH], reset[MAXH];
  size_t n_open;
  int echo;                /* echo data, close on FIN */
  int reset_on_data;       /* reset the stream on its first data */
  uint32_t goaway_on_open; /* goaway when this handle opens (+1; 0 = off) */
  int recv_in_cb;          /* result of a recv tried from the callback */
  int write_fail;          /* make write fail */
  int event_fail;          /* make the event callback fail */
} peer;

static int p_write(void *ud, const uint8_t *p, size_t len) {
  peer *pe = ud;
  if (pe->write_fail) return -5;
  return lp2p_buf_append(&pe->out, p, len);
}

static void logf_(peer *pe, const char *s) { lp2p_buf_append(&pe->log, s, strlen(s)); }

static int p_event(void *ud, const lp2p_event *ev) {
  peer *pe = ud;
  char tag[32];
  if (pe->event_fail) return -7;
  uint32_t h = ev->stream;
  switch (ev->type) {
  case LP2P_EV_STREAM_OPEN:
    snprintf(tag, sizeof tag, "|O%u", (unsigned)h);
    logf_(pe, tag);
    pe->n_open++;
    if (h < MAXH) pe->opened[h]++;
    if (pe->goaway_on_open && pe->goaway_on_open - 1 == h) {
      assert_int_equal(lp2p_mplex_goaway(pe->m, 0), 0);
    }
    break;
  case LP2P_EV_STREAM_DATA:
    assert_true(ev->len > 0);
    if (!(pe->last_type == LP2P_EV_STREAM_DATA && pe->last_stream == h)) {
      snprintf(tag, sizeof tag, "|D%u:", (unsigned)h);
      logf_(pe, tag);
    }
    lp2p_buf_append(&pe->log, ev->data, ev->len);
    if (h < MAXH) lp2p_buf_append(&pe->rx[h], ev->data, ev->len);
    pe->recv_in_cb = lp2p_mplex_recv(pe->m, ev->data, ev->len);
    if (pe->echo) {
      int rc = lp2p_mplex_send(pe->m, h, ev->data, ev->len);
      if (rc) return rc;
    }
    if (pe->reset_on_data) assert_int_equal(lp2p_mplex_reset(pe->m, h), 0);
    break;
  case LP2P_EV_STREAM_FIN:
    snprintf(tag, sizeof tag, "|F%u", (unsigned)h);
    logf_(pe, tag);
    if (h < MAXH) pe->fin[h]++;
    if (pe->echo) {
      int rc = lp2p_mplex_close(pe->m, h);
      if (rc) return rc;
    }
    break;
  case LP2P_EV_STREAM_RESET:
    snprintf(tag, sizeof tag, "|R%u", (unsigned)h);
    logf_(pe, tag);
    if (h < MAXH) pe->reset[h]++;
    break;
  default: fail_msg("unexpected event %d", ev->type);
  }
  pe->last_type = ev->type;
  pe->last_stream = h;
  return 0;
}

static lp2p_env env0;

static void peer_init(peer *pe, int initiator, uint32_t max_streams, size_t max_frame) {
  memset(pe, 0, sizeof *pe);
  lp2p_mplex_config cfg = {initiator, max_streams, max_frame, 0};
  lp2p_io io = {.write = p_write, .event = p_event, .ud = pe};
  pe->m = lp2p_mplex_new(&env0, &cfg, io);
  assert_non_null(pe->m);
}

static void peer_free(peer *pe) {
  lp2p_mplex_free(pe->m);
  lp2p_buf_free(&pe->out);
  lp2p_buf_free(&pe->log);
  for (int i = 0; i < MAXH; i++)
    lp2p_buf_free(&pe->rx[i]);
}

static void expect_out(peer *pe, const char *hex) {
  uint8_t want[512];
  size_t n = tu_hex(want, sizeof want, hex);
  assert_int_equal(pe->out.len, n);
  assert_memory_equal(pe->out.data, want, n);
  pe->out.len = 0;
}

static void expect_log(peer *pe, const char *want) {
  size_t n = strlen(want);
  if (pe->log.len != n || memcmp(pe->log.data, want, n))
    fail_msg("log: got \"%.*s\", want \"%s\"", (int)pe->log.len,
             (const char *)pe->log.data, want);
  pe->log.len = 0;
  pe->last_type = 0;
}

static int feed_hex(peer *pe, const char *hex) {
  uint8_t in[512];
  size_t n = tu_hex(in, sizeof in, hex);
  return lp2p_mplex_recv(pe->m, in, n);
}

/* ---- byte-exact frames ---- */

static void test_frames_our_streams(void **st) {
  (void)st;
  peer a;
  peer_init(&a, 1, 0, 0);
  uint32_t h1, h3;
  /* NewStream id 0, name "0": header 0x00, length 1. */
  assert_int_equal(lp2p_mplex_open(a.m, &h1), 0);
  assert_int_equal(h1, 1);
  expect_out(&a, "000130");
  /* id 1: header 1 << 3 = 0x08, name "1". */
  assert_int_equal(lp2p_mplex_open(a.m, &h3), 0);
  assert_int_equal(h3, 3);
  expect_out(&a, "080131");
  /* MessageInitiator (2) on our streams. */
  assert_int_equal(lp2p_mplex_send(a.m, h1, (const uint8_t *)"hi", 2), 0);
  expect_out(&a, "02026869");
  assert_int_equal(lp2p_mplex_send(a.m, h3, (const uint8_t *)"hi", 2), 0);
  expect_out(&a, "0a026869");
  assert_int_equal(lp2p_mplex_send(a.m, h3, NULL, 0), 0);
  expect_out(&a, "");
  /* The peer (stream receiver) writes with MessageReceiver (1). */
  assert_int_equal(feed_hex(&a, "01026f6b"), 0);
  expect_log(&a, "|D1:ok");
  /* CloseInitiator (4), then ResetInitiator (6). */
  assert_int_equal(lp2p_mplex_close(a.m, h1), 0);
  expect_out(&a, "0400");
  assert_int_equal(lp2p_mplex_close(a.m, h1), 0); /* idempotent */
  expect_out(&a, "");
  assert_int_equal(lp2p_mplex_send(a.m, h1, (const uint8_t *)"x", 1), LP2P_ECLOSED);
  assert_int_equal(lp2p_mplex_reset(a.m, h3), 0);
  expect_out(&a, "0e00");
  assert_int_equal(lp2p_mplex_send(a.m, h3, (const uint8_t *)"x", 1), LP2P_ECLOSED);
  assert_int_equal(lp2p_mplex_stream_count(a.m), 1);
  /* Still readable after our Close; the peer's CloseReceiver (3) ends it. */
  assert_int_equal(feed_hex(&a, "010178"), 0);
  assert_int_equal(feed_hex(&a, "0300"), 0);
  expect_log(&a, "|D1:x|F1");
  assert_int_equal(lp2p_mplex_stream_count(a.m), 0);
  assert_int_equal(lp2p_mplex_close(a.m, h1), LP2P_ECLOSED);
  /* Peer resets our stream: ResetReceiver (5). */
  uint32_t h5;
  assert_int_equal(lp2p_mplex_open(a.m, &h5), 0);
  assert_int_equal(h5, 5);
  expect_out(&a, "100132");
  assert_int_equal(feed_hex(&a, "1500"), 0);
  expect_log(&a, "|R5");
  assert_int_equal(lp2p_mplex_send(a.m, h5, (const uint8_t *)"x", 1), LP2P_ECLOSED);
  assert_int_equal(lp2p_mplex_stream_count(a.m), 0);
  assert_int_equal(lp2p_mplex_deadline(a.m), LP2P_NO_DEADLINE);
  assert_int_equal(lp2p_mplex_expire(a.m), 0);
  peer_free(&a);
}

/* Teardown for tests that turn debug logging on to run every log line. */
static int log_quiet(void **st) {
  (void)st;
  lp2p_log_level = LP2P_LOG_ERROR;
  return 0;
}

static void test_frames_peer_streams(void **st) {
  (void)st;
  lp2p_log_level = LP2P_LOG_DEBUG;
  peer b;
  peer_init(&b, 0, 0, 0);
  /* NewStream id 0 with an empty name, then a name that is ignored. */
  assert_int_equal(feed_hex(&b, "0000"), 0);
  assert_int_equal(feed_hex(&b, "0803666f6f"), 0);
  expect_log(&b, "|O0|O2");
  /* MessageInitiator (2) from the stream's opener. */
  assert_int_equal(feed_hex(&b, "0203616263"), 0);
  expect_log(&b, "|D0:abc");
  /* We answer with MessageReceiver (1). */
  assert_int_equal(lp2p_mplex_send(b.m, 0, (const uint8_t *)"ok", 2), 0);
  expect_out(&b, "01026f6b");
  /* CloseInitiator (4) from the peer: FIN; we may still write. */
  assert_int_equal(feed_hex(&b, "0400"), 0);
  expect_log(&b, "|F0");
  assert_int_equal(lp2p_mplex_send(b.m, 0, (const uint8_t *)"z", 1), 0);
  expect_out(&b, "01017a");
  /* CloseReceiver (3) from us frees it. */
  assert_int_equal(lp2p_mplex_close(b.m, 0), 0);
  expect_out(&b, "0300");
  assert_int_equal(lp2p_mplex_stream_count(b.m), 1);
  /* ResetReceiver (5) from us on stream id 1. */
  assert_int_equal(lp2p_mplex_reset(b.m, 2), 0);
  expect_out(&b, "0d00");
  assert_int_equal(lp2p_mplex_stream_count(b.m), 0);
  /* Peer's ResetInitiator (6) on its stream id 2. */
  assert_int_equal(feed_hex(&b, "1000"), 0);
  assert_int_equal(feed_hex(&b, "1600"), 0);
  expect_log(&b, "|O4|R4");
  /* Multi-byte header: id 300 -> 2400 -> e0 12; handle 600. */
  assert_int_equal(feed_hex(&b, "e01200"), 0);
  expect_log(&b, "|O600");
  assert_int_equal(lp2p_mplex_send(b.m, 600, (const uint8_t *)"q", 1), 0);
  expect_out(&b, "e1120171");
  /* Our stream ids count from 0 independently of the peer's. */
  uint32_t h;
  assert_int_equal(lp2p_mplex_open(b.m, &h), 0);
  assert_int_equal(h, 1);
  expect_out(&b, "000130");
  peer_free(&b);
}

static void test_send_splits_frames(void **st) {
  (void)st;
  peer a;
  peer_init(&a, 1, 0, 4);
  uint32_t h;
  assert_int_equal(lp2p_mplex_open(a.m, &h), 0);
  expect_out(&a, "000130");
  assert_int_equal(lp2p_mplex_send(a.m, h, (const uint8_t *)"0123456789", 10), 0);
  expect_out(&a, "020430313233"
                 "020434353637"
                 "02023839");
  /* Inbound frames over max_frame are refused too. */
  assert_int_equal(feed_hex(&a, "01056162636465"), LP2P_ETOOBIG);
  peer_free(&a);
}

/* ---- split inputs ---- */

/* A script of inbound frames: NewStream 5 (named), data, a 200-byte data
 * frame with a two-byte length, NewStream 300, data on both, Close on 5,
 * unknown-stream data (dropped), Reset of 300, zero-length message. */
static size_t script(uint8_t *out) {
  size_t n = 0;
  n += tu_hex(out + n, 64, "2803616263");     /* NewStream id 5 "abc" */
  n += tu_hex(out + n, 64, "2a0568656c6c6f"); /* MsgInit 5 "hello" */
  n += tu_hex(out + n, 64, "2ac801");         /* MsgInit 5, len 200 */
  for (int i = 0; i < 200; i++)
    out[n++] = (uint8_t)('a' + i % 26);
  n += tu_hex(out + n, 64, "e01200");     /* NewStream id 300 */
  n += tu_hex(out + n, 64, "e2120178");   /* MsgInit 300 "x" */
  n += tu_hex(out + n, 64, "2a0179");     /* MsgInit 5 "y" */
  n += tu_hex(out + n, 64, "2c00");       /* CloseInit 5 */
  n += tu_hex(out + n, 64, "3a03646464"); /* MsgInit 7: unknown */
  n += tu_hex(out + n, 64, "e61200");     /* ResetInit 300 */
  n += tu_hex(out + n, 64, "2a00");       /* MsgInit 5, empty, after Close */
  return n;
}

static void script_log(char *want) {
  char big[201];
  for (int i = 0; i < 200; i++)
    big[i] = (char)('a' + i % 26);
  big[200] = 0;
  /* The empty message after Close still counts as data after Close. */
  sprintf(want, "|O10|D10:hello%s|O600|D600:x|D10:y|F10|R600|R10", big);
}

static void run_split(peer *pe, const uint8_t *in, size_t len, size_t cut, int bytewise) {
  if (bytewise) {
    for (size_t i = 0; i < len; i++)
      assert_int_equal(lp2p_mplex_recv(pe->m, in + i, 1), 0);
  } else {
    assert_int_equal(lp2p_mplex_recv(pe->m, in, cut), 0);
    assert_int_equal(lp2p_mplex_recv(pe->m, in + cut, len - cut), 0);
  }
}

static void test_split_every_offset(void **st) {
  (void)st;
  uint8_t in[512];
  size_t len = script(in);
  char want[512];
  script_log(want);
  /* Our replies: the Reset for data after Close on stream 5. */
  const char *want_out = "2d00";
  for (size_t pass = 0; pass <= len + 1; pass++) {
    peer b;
    peer_init(&b, 0, 0, 0);
    if (pass == len + 1)
      run_split(&b, in, len, 0, 1);
    else
      run_split(&b, in, len, pass, 0);
    expect_log(&b, want);
    expect_out(&b, want_out);
    assert_int_equal(lp2p_mplex_stream_count(b.m), 0);
    peer_free(&b);
  }
}

/* ---- re-entrancy ---- */

static void test_reentrant_echo(void **st) {
  (void)st;
  uint8_t in[512];
  size_t len = script(in);
  for (int bytewise = 0; bytewise < 2; bytewise++) {
    peer b;
    peer_init(&b, 0, 0, 0);
    b.echo = 1;
    run_split(&b, in, len, len, bytewise);
    /* Decode what we sent back through a second engine playing the peer's
     * side: it opens 5 and 300 itself so our replies land on its streams. */
    peer a;
    peer_init(&a, 1, 0, 0);
    for (int i = 0; i <= 300; i++) {
      uint32_t h;
      assert_int_equal(lp2p_mplex_open(a.m, &h), 0);
    }
    assert_int_equal(lp2p_mplex_recv(a.m, b.out.data, b.out.len), 0);
    assert_int_equal(a.rx[11].len, 5 + 200 + 1);
    assert_memory_equal(a.rx[11].data, "hello", 5);
    assert_int_equal(a.fin[11], 1); /* our echo closed it on FIN */
    assert_int_equal(a.reset[11],
                     0); /* freed on both Closes: the empty message after is dropped */
    assert_true(b.recv_in_cb == LP2P_EINVAL);
    peer_free(&a);
    peer_free(&b);
  }
}

static void test_reset_from_callback_mid_frame(void **st) {
  (void)st;
  peer b;
  peer_init(&b, 0, 0, 0);
  b.reset_on_data = 1;
  const char *hex = "0000"
                    "020a30313233343536373839"
                    "0800"
                    "0a0161";
  uint8_t in[64];
  size_t n = tu_hex(in, sizeof in, hex);
  for (size_t i = 0; i < n; i++)
    assert_int_equal(lp2p_mplex_recv(b.m, in + i, 1), 0);
  /* One byte of stream 0 arrived, then the callback reset it: the other
   * nine are dropped and parsing goes on. */
  expect_log(&b, "|O0|D0:0|O2|D2:a");
  expect_out(&b, "0500"
                 "0d00");
  assert_int_equal(lp2p_mplex_stream_count(b.m), 0);
  peer_free(&b);
}

static void test_goaway(void **st) {
  (void)st;
  lp2p_log_level = LP2P_LOG_DEBUG;
  peer b;
  peer_init(&b, 0, 0, 0);
  uint32_t h;
  assert_int_equal(lp2p_mplex_open(b.m, &h), 0);
  expect_out(&b, "000130");
  b.goaway_on_open = 2 + 1;
  /* Peer opens 0 and 1; goaway from inside the second OPEN resets both of
   * its streams and ours; data that follows is dropped, NewStream refused. */
  assert_int_equal(feed_hex(&b, "0000"
                                "0800"
                                "0a0178"
                                "1000"),
                   0);
  expect_log(&b, "|O0|O2");
  assert_int_equal(lp2p_mplex_stream_count(b.m), 0);
  /* The order of the three resets follows the table; check as a set. */
  assert_int_equal(b.out.len, 8);
  const char *resets[] = {"0500", "0d00", "0600"};
  for (int i = 0; i < 3; i++) {
    uint8_t f[2];
    tu_hex(f, 2, resets[i]);
    int found = 0;
    for (size_t k = 0; k < 6; k += 2)
      found |= !memcmp(b.out.data + k, f, 2);
    assert_true(found);
  }
  assert_memory_equal(b.out.data + 6, "\x15\x00", 2); /* refused NewStream 2 */
  assert_int_equal(lp2p_mplex_open(b.m, &h), LP2P_ECLOSED);
  peer_free(&b);
}

/* ---- two engines in memory ---- */

static void pump(peer *a, peer *b, size_t step) {
  /* Moves bytes both ways in chunks of `step` until both sides are quiet.
   * Each side's output is taken out first: a recv may write more. */
  lp2p_buf tmp = {0};
  for (;;) {
    int moved = 0;
    peer *from[2] = {a, b}, *to[2] = {b, a};
    for (int d = 0; d < 2; d++) {
      if (!from[d]->out.len) continue;
      moved = 1;
      tmp.len = 0;
      assert_int_equal(lp2p_buf_append(&tmp, from[d]->out.data, from[d]->out.len), 0);
      from[d]->out.len = 0;
      for (size_t off = 0; off < tmp.len; off += step) {
        size_t n = tmp.len - off < step ? tmp.len - off : step;
        assert_int_equal(lp2p_mplex_recv(to[d]->m, tmp.data + off, n), 0);
      }
    }
    if (!moved) break;
  }
  lp2p_buf_free(&tmp);
}

static void test_two_engines(void **st) {
  (void)st;
  size_t steps[] = {1, 7, 1 << 20};
  for (int si = 0; si < 3; si++) {
    peer a, b;
    peer_init(&a, 1, 0, 1000);
    peer_init(&b, 0, 0, 1000);
    b.echo = 1;
    size_t big = steps[si] == 1 ? 20000 : 300000;
    uint8_t *data = malloc(big);
    assert_non_null(data);
    for (size_t i = 0; i < big; i++)
      data[i] = (uint8_t)(i * 31 + 7);
    uint32_t h[3];
    for (int i = 0; i < 3; i++) {
      assert_int_equal(lp2p_mplex_open(a.m, &h[i]), 0);
      assert_int_equal(h[i], (uint32_t)(2 * i + 1));
    }
    assert_int_equal(lp2p_mplex_send(a.m, h[0], data, big), 0);
    assert_int_equal(lp2p_mplex_send(a.m, h[1], (const uint8_t *)"ping", 4), 0);
    assert_int_equal(lp2p_mplex_close(a.m, h[0]), 0);
    assert_int_equal(lp2p_mplex_close(a.m, h[1]), 0);
    /* b opens its own stream 0 (handle 1 on b, 0 on a) toward a. */
    uint32_t hb;
    assert_int_equal(lp2p_mplex_open(b.m, &hb), 0);
    assert_int_equal(hb, 1);
    assert_int_equal(lp2p_mplex_send(b.m, hb, data, 5000), 0);
    assert_int_equal(lp2p_mplex_close(b.m, hb), 0);
    pump(&a, &b, steps[si]);
    assert_int_equal(a.rx[1].len, big);
    assert_memory_equal(a.rx[1].data, data, big);
    assert_int_equal(a.rx[3].len, 4);
    assert_memory_equal(a.rx[3].data, "ping", 4);
    assert_int_equal(a.fin[1], 1);
    assert_int_equal(a.fin[3], 1);
    assert_int_equal(a.fin[5], 0);
    assert_int_equal(a.opened[0], 1);
    assert_int_equal(a.rx[0].len, 5000);
    assert_memory_equal(a.rx[0].data, data, 5000);
    assert_int_equal(a.fin[0], 1);
    /* b's echo of a's stream 0/1 data landed on b's rx for handles 0 and 2. */
    assert_int_equal(b.rx[0].len, big);
    /* a closes its side of b's stream; h[2] is still open both ways. */
    assert_int_equal(lp2p_mplex_close(a.m, 0), 0);
    pump(&a, &b, steps[si]);
    assert_int_equal(lp2p_mplex_stream_count(a.m), 1);
    assert_int_equal(lp2p_mplex_stream_count(b.m), 1);
    assert_int_equal(lp2p_mplex_reset(a.m, h[2]), 0);
    pump(&a, &b, steps[si]);
    assert_int_equal(b.reset[4], 1);
    assert_int_equal(lp2p_mplex_stream_count(a.m), 0);
    assert_int_equal(lp2p_mplex_stream_count(b.m), 0);
    free(data);
    peer_free(&a);
    peer_free(&b);
  }
}

/* ---- hostile input ---- */

static void test_frame_too_big(void **st) {
  (void)st;
  peer b;
  peer_init(&b, 0, 0, 0);
  /* Exactly 1 MiB is allowed (body not sent yet). */
  assert_int_equal(feed_hex(&b, "0000"
                                "02808040"),
                   0);
  peer_free(&b);
  /* 1 MiB + 1 is refused as soon as the length is read: no body needed. */
  peer_init(&b, 0, 0, 0);
  assert_int_equal(feed_hex(&b, "0000"
                                "02818040"),
                   LP2P_ETOOBIG);
  assert_int_equal(feed_hex(&b, "0000"), LP2P_ETOOBIG); /* sticky */
  assert_int_equal(lp2p_mplex_send(b.m, 0, (const uint8_t *)"x", 1), LP2P_ETOOBIG);
  assert_int_equal(lp2p_mplex_expire(b.m), LP2P_ETOOBIG);
  peer_free(&b);
  /* A 9-byte length near 2^63, on a NewStream (a name we would skip). */
  peer_init(&b, 0, 0, 0);
  assert_int_equal(feed_hex(&b, "00"
                                "ffffffffffffffff7f"),
                   LP2P_ETOOBIG);
  assert_int_equal(b.log.len, 0);
  peer_free(&b);
}

static void test_bad_varints(void **st) {
  (void)st;
  static const char *cases[] = {
      "ffffffffffffffffff01", /* 10-byte header varint */
      "8000",                 /* non-minimal header (0) */
      "820000",               /* non-minimal header (2) */
      "00"
      "8000", /* non-minimal length */
      "00"
      "ffffffffffffffffff01", /* 10-byte length varint */
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    for (int bytewise = 0; bytewise < 2; bytewise++) {
      peer b;
      peer_init(&b, 0, 0, 0);
      uint8_t in[32];
      size_t n = tu_hex(in, sizeof in, cases[i]);
      int rc = 0;
      if (bytewise) {
        for (size_t k = 0; k < n && !rc; k++)
          rc = lp2p_mplex_recv(b.m, in + k, 1);
      } else {
        rc = lp2p_mplex_recv(b.m, in, n);
      }
      assert_int_equal(rc, LP2P_EVARINT);
      assert_int_equal(lp2p_mplex_recv(b.m, in, 1), LP2P_EVARINT);
      assert_int_equal(b.log.len, 0);
      peer_free(&b);
    }
  }
}

static void test_protocol_errors(void **st) {
  (void)st;
  lp2p_log_level = LP2P_LOG_DEBUG;
  peer b;
  /* Flag 7 does not exist. */
  peer_init(&b, 0, 0, 0);
  assert_int_equal(feed_hex(&b, "0700"), LP2P_EPROTO);
  uint32_t h;
  assert_int_equal(lp2p_mplex_open(b.m, &h), LP2P_EPROTO);
  peer_free(&b);
  /* Stream id 2^31 does not fit a handle: header 2^34, length 0. */
  peer_init(&b, 0, 0, 0);
  assert_int_equal(feed_hex(&b, "808080804000"), LP2P_EPROTO);
  peer_free(&b);
  /* The largest id that fits is fine: (2^31 - 1) << 3 = 0x3fffffff8. */
  peer_init(&b, 0, 0, 0);
  assert_int_equal(feed_hex(&b, "f8ffffff3f00"), 0);
  expect_log(&b, "|O4294967294");
  peer_free(&b);
  /* NewStream twice for the same id. */
  peer_init(&b, 0, 0, 0);
  assert_int_equal(feed_hex(&b, "0000"), 0);
  assert_int_equal(feed_hex(&b, "0000"), LP2P_EPROTO);
  peer_free(&b);
  /* A failing write kills the engine; so does an event callback error. */
  peer_init(&b, 0, 0, 0);
  b.write_fail = 1;
  assert_int_equal(lp2p_mplex_open(b.m, &h), -5);
  b.write_fail = 0;
  assert_int_equal(lp2p_mplex_open(b.m, &h), -5);
  assert_int_equal(feed_hex(&b, "0000"), -5);
  peer_free(&b);
  peer_init(&b, 0, 0, 0);
  b.event_fail = 1;
  assert_int_equal(feed_hex(&b, "0000"), -7);
  b.event_fail = 0;
  assert_int_equal(feed_hex(&b, "0800"), -7);
  assert_int_equal(lp2p_mplex_goaway(b.m, 0), -7);
  peer_free(&b);
}

static void test_unknown_stream(void **st) {
  (void)st;
  lp2p_log_level = LP2P_LOG_DEBUG;
  peer b;
  peer_init(&b, 0, 0, 0);
  /* Data, Close and Reset for streams nobody opened are dropped. */
  assert_int_equal(feed_hex(&b, "0a03616263"
                                "01026869"
                                "0c00"
                                "0300"
                                "0e00"
                                "0500"),
                   0);
  assert_int_equal(b.log.len, 0);
  assert_int_equal(b.out.len, 0);
  /* And the engine goes on. */
  assert_int_equal(feed_hex(&b, "0800"
                                "0a0178"),
                   0);
  expect_log(&b, "|O2|D2:x");
  /* Our handles the peer never saw are unknown locally too. */
  assert_int_equal(lp2p_mplex_send(b.m, 7, (const uint8_t *)"x", 1), LP2P_ECLOSED);
  assert_int_equal(lp2p_mplex_reset(b.m, 7), LP2P_ECLOSED);
  assert_int_equal(lp2p_mplex_close(b.m, 7), LP2P_ECLOSED);
  peer_free(&b);
}

static void test_newstream_flood(void **st) {
  (void)st;
  peer b;
  peer_init(&b, 0, 0, 0);
  const size_t total = 20000;
  lp2p_buf in = {0}, want = {0};
  for (size_t id = 0; id < total; id++) {
    uint8_t f[12];
    uint64_t hdr = (uint64_t)id << 3;
    size_t n = 0;
    while (hdr >= 0x80) {
      f[n++] = (uint8_t)(hdr | 0x80);
      hdr >>= 7;
    }
    f[n++] = (uint8_t)hdr;
    size_t hl = n;
    f[n++] = 0;
    assert_int_equal(lp2p_buf_append(&in, f, n), 0);
    if (id >= LP2P_MPLEX_MAX_STREAMS_DEFAULT) {
      f[0] |= 5; /* ResetReceiver */
      assert_int_equal(lp2p_buf_append(&want, f, hl + 1), 0);
    }
  }
  assert_int_equal(lp2p_mplex_recv(b.m, in.data, in.len), 0);
  assert_int_equal(b.n_open, LP2P_MPLEX_MAX_STREAMS_DEFAULT);
  assert_int_equal(lp2p_mplex_stream_count(b.m), LP2P_MPLEX_MAX_STREAMS_DEFAULT);
  /* Every refused NewStream got a ResetReceiver. */
  assert_int_equal(b.out.len, want.len);
  assert_memory_equal(b.out.data, want.data, want.len);
  b.out.len = 0;
  /* Freeing one inbound stream makes room for exactly one more. */
  assert_int_equal(lp2p_mplex_reset(b.m, 0), 0);
  b.out.len = 0;
  size_t before = b.n_open;
  /* ids 20000 and 20001: headers 160000 and 160008. */
  assert_int_equal(feed_hex(&b, "80e20900"
                                "88e20900"),
                   0);
  assert_int_equal(b.n_open, before + 1);
  expect_out(&b, "8de20900");
  /* Our own streams do not count against the inbound cap. */
  uint32_t h;
  assert_int_equal(lp2p_mplex_open(b.m, &h), 0);
  assert_int_equal(lp2p_mplex_stream_count(b.m), LP2P_MPLEX_MAX_STREAMS_DEFAULT + 1);
  lp2p_buf_free(&in);
  lp2p_buf_free(&want);
  peer_free(&b);
}

static void test_custom_stream_cap(void **st) {
  (void)st;
  peer b;
  peer_init(&b, 0, 2, 0);
  assert_int_equal(feed_hex(&b, "0000"
                                "0800"
                                "1000"
                                "1203616263"),
                   0);
  expect_log(&b, "|O0|O2");
  expect_out(&b, "1500"); /* id 2 refused; its data dropped */
  peer_free(&b);
}

/* A frame goes down as header and payload pieces of one writev, the
 * payload read where the caller keeps it (no copy in the muxer). */
typedef struct gather {
  size_t calls, pieces, hdr_len, payload_len;
  const uint8_t *payload;
} gather;

static int g_writev(void *ud, const lp2p_iovec *v, size_t n) {
  gather *g = ud;
  g->calls++;
  g->pieces = n;
  g->hdr_len = v[0].len;
  g->payload = n > 1 ? v[1].p : NULL;
  g->payload_len = n > 1 ? v[1].len : 0;
  return 0;
}

static void test_writev_pieces(void **state) {
  (void)state;
  static uint8_t data[300000];
  gather g = {0};
  lp2p_mplex_config cfg = {.initiator = 1};
  lp2p_mplex *m = lp2p_mplex_new(&env0, &cfg, tu_gather_io(g_writev, &g));
  assert_non_null(m);
  uint32_t id;
  assert_int_equal(lp2p_mplex_open(m, &id), 0);
  assert_int_equal(g.calls, 1);
  assert_int_equal(lp2p_mplex_send(m, id, data, sizeof data), 0);
  assert_int_equal(g.calls, 2);
  assert_int_equal(g.pieces, 2);
  assert_int_equal(g.hdr_len, 1 + 3); /* id 0 / flag, then a 3-byte varint */
  assert_ptr_equal(g.payload, data);
  assert_int_equal(g.payload_len, sizeof data);
  assert_int_equal(lp2p_mplex_close(m, id), 0);
  assert_int_equal(g.calls, 3);
  assert_int_equal(g.pieces, 1);
  lp2p_mplex_free(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_frames_our_streams),
      cmocka_unit_test_teardown(test_frames_peer_streams, log_quiet),
      cmocka_unit_test(test_send_splits_frames),
      cmocka_unit_test(test_split_every_offset),
      cmocka_unit_test(test_reentrant_echo),
      cmocka_unit_test(test_reset_from_callback_mid_frame),
      cmocka_unit_test_teardown(test_goaway, log_quiet),
      cmocka_unit_test(test_two_engines),
      cmocka_unit_test(test_frame_too_big),
      cmocka_unit_test(test_bad_varints),
      cmocka_unit_test_teardown(test_protocol_errors, log_quiet),
      cmocka_unit_test_teardown(test_unknown_stream, log_quiet),
      cmocka_unit_test(test_newstream_flood),
      cmocka_unit_test(test_custom_stream_cap),
      cmocka_unit_test(test_writev_pieces),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
