/* QUIC in memory: dialer engines and one listener endpoint joined by a
 * datagram queue that can drop, reorder and duplicate, on a simulated
 * clock; each side's lp2p_conn runs ping and identify over the QUIC
 * streams (lp2p_quic_muxer). Handshake, ping, identify, stream reset, idle
 * timeout, a wrong peer id; then hostile datagrams: garbage, truncated
 * Initials, a flood of Initials from many ports under the handshake cap,
 * and a dialer that stops mid-handshake. The listener keeps serving.
 * Address validation: Retry only under pressure, bad and expired tokens
 * refused. Send buffers: many small writes acknowledged out of order,
 * and the per-connection cap over many streams. */
#include "testutil.h"

#include "lp2p/conn.h"
#include "lp2p/quic.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW_S 1767225600 /* 2026-01-01 */
#define LISTEN_PORT 4001
#define MAX_DIALERS 64

typedef struct dgram {
  struct dgram *next;
  uint16_t to, from; /* ports */
  size_t len;
  uint8_t data[];
} dgram;

typedef struct dialer {
  lp2p_quic_conn *q;
  lp2p_conn *conn;
  uint16_t port;
  int up, pongs, err, mute; /* mute: its datagrams are lost */
} dialer;

typedef struct srv_conn {
  lp2p_quic_conn *q;
  lp2p_conn *conn;
  uint64_t deadline;
} srv_conn;

static lp2p_env env;
static uint64_t seed = 7;
static lp2p_identity id_l, id_d;
static lp2p_quic_shared *sh_l, *sh_d;
static lp2p_quic_listener *lis;
static dialer dialers[MAX_DIALERS];
static size_t n_dialers;
static srv_conn srv[MAX_DIALERS * 2];
static int srv_ready, srv_gone, srv_gone_err, srv_pongs;
static dgram *queue;
static unsigned sent_count;
static int lossy; /* drop every 5th, duplicate every 7th, reorder */
static unsigned drop_every = 5, dup_every = 7, jump_every = 3;
static int listener_mute;
static int shuffle; /* every datagram lands at a random place in the queue */
/* raw: no lp2p_conn on either side; the QUIC streams' events go to a sink
 * that checks the bytes of one stream against a counter pattern. */
static int raw;
static uint64_t sink_bytes;
static int sink_bad, sink_fin;

static lp2p_quic_addr addr_of(uint16_t port) {
  lp2p_quic_addr a = {.len = sizeof(struct sockaddr_in)};
  struct sockaddr_in *in = (struct sockaddr_in *)&a.sa;
  in->sin_family = AF_INET;
  in->sin_port = htons(port);
  in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

static uint16_t port_of(const lp2p_quic_addr *a) {
  return ntohs(((const struct sockaddr_in *)&a->sa)->sin_port);
}

static void enqueue(uint16_t from, uint16_t to, const uint8_t *p, size_t len) {
  sent_count++;
  if (lossy && sent_count % drop_every == 0) return;
  int copies = lossy && sent_count % dup_every == 0 ? 2 : 1;
  for (int i = 0; i < copies; i++) {
    dgram *d = malloc(sizeof *d + len);
    assert_non_null(d);
    d->to = to;
    d->from = from;
    d->len = len;
    memcpy(d->data, p, len);
    if (shuffle) {
      uint8_t r[2];
      tu_random(&seed, r, 2);
      size_t n = 0;
      for (dgram *x = queue; x; x = x->next)
        n++;
      size_t at = n ? ((size_t)r[0] << 8 | r[1]) % (n + 1) : 0;
      dgram **pp = &queue;
      while (at--)
        pp = &(*pp)->next;
      d->next = *pp;
      *pp = d;
      continue;
    }
    /* Reorder: every third datagram jumps the queue. */
    if (lossy && sent_count % jump_every == 0) {
      d->next = queue;
      queue = d;
    } else {
      d->next = NULL;
      dgram **pp = &queue;
      while (*pp)
        pp = &(*pp)->next;
      *pp = d;
    }
  }
}

static int no_write(void *ud, const uint8_t *p, size_t len) {
  (void)ud, (void)p, (void)len;
  return LP2P_EINVAL; /* QUIC sessions never write bytes themselves */
}

/* ---- sessions ---- */

static int dialer_session_event(void *ud, const lp2p_event *ev) {
  dialer *d = ud;
  if (ev->type == LP2P_EV_PONG) d->pongs++;
  return 0;
}

static lp2p_conn *session(int initiator, const lp2p_identity *id,
                          const lp2p_peerid *expect, lp2p_io io) {
  lp2p_conn_config cc = {.initiator = initiator,
                         .identity = id,
                         .expected_peer = expect,
                         .step_timeout_ms = 10000,
                         .identify_peer = 1};
  lp2p_conn *c = lp2p_conn_new(&env, &cc, io);
  assert_non_null(c);
  return c;
}

static int dialer_write(void *ud, const uint8_t *p, size_t len) {
  dialer *d = ud;
  if (!d->mute) enqueue(d->port, LISTEN_PORT, p, len);
  return 0;
}

/* Stream data byte i is (uint8_t)(i * 7 + i / 251): a pattern that shows
 * a lost, repeated or misplaced piece. */
static uint8_t pattern(uint64_t i) { return (uint8_t)(i * 7 + i / 251); }

static int sink_event(void *ud, const lp2p_event *ev) {
  (void)ud;
  if (ev->type == LP2P_EV_STREAM_DATA)
    for (size_t i = 0; i < ev->len; i++)
      sink_bad += ev->data[i] != pattern(sink_bytes++);
  if (ev->type == LP2P_EV_STREAM_FIN) sink_fin++;
  if (ev->type == LP2P_EV_STREAM_RESET) sink_bad++;
  return 0;
}

static int dialer_event(void *ud, const lp2p_event *ev) {
  dialer *d = ud;
  if (ev->type != LP2P_EV_READY) return 0;
  d->up = 1;
  if (raw) {
    lp2p_quic_muxer.bind(d->q, (lp2p_io){.write = no_write, .event = sink_event});
    return 0;
  }
  lp2p_io io = {.write = no_write, .event = dialer_session_event, .ud = d};
  d->conn = session(1, &id_d, NULL, io);
  return lp2p_conn_start_secured(d->conn, ev->peer, &lp2p_quic_muxer, d->q);
}

static dialer *dial(const lp2p_peerid *expect, uint32_t hs_timeout_ms) {
  dialer *d = &dialers[n_dialers++];
  memset(d, 0, sizeof *d);
  d->port = (uint16_t)(5000 + n_dialers);
  lp2p_quic_config qc = {
      .shared = sh_d, .expected_peer = expect, .handshake_timeout_ms = hs_timeout_ms};
  lp2p_quic_addr local = addr_of(d->port), remote = addr_of(LISTEN_PORT);
  lp2p_io io = {.write = dialer_write, .event = dialer_event, .ud = d};
  d->q = lp2p_quic_dial(&env, &qc, &local, &remote, io);
  assert_non_null(d->q);
  assert_int_equal(lp2p_quic_conn_start(d->q), 0);
  return d;
}

static void dialer_free(dialer *d) {
  lp2p_conn_free(d->conn);
  lp2p_quic_conn_free(d->q);
  d->conn = NULL;
  d->q = NULL;
}

static srv_conn *srv_find(lp2p_quic_conn *q) {
  for (size_t i = 0; i < sizeof srv / sizeof *srv; i++)
    if (srv[i].q == q) return &srv[i];
  return NULL;
}

static int srv_session_event(void *ud, const lp2p_event *ev) {
  (void)ud;
  if (ev->type == LP2P_EV_PONG) srv_pongs++;
  return 0;
}

static int l_send(void *ud, const lp2p_quic_addr *to, const uint8_t *p, size_t len) {
  (void)ud;
  if (!listener_mute) enqueue(LISTEN_PORT, port_of(to), p, len);
  return 0;
}

static int l_event(void *ud, lp2p_quic_conn *q, const lp2p_event *ev) {
  (void)ud;
  if (ev->type != LP2P_EV_READY) return 0;
  srv_conn *s = srv_find(q);
  if (!s) s = srv_find(NULL);
  assert_non_null(s);
  s->q = q;
  srv_ready++;
  if (raw) {
    lp2p_quic_muxer.bind(q, (lp2p_io){.write = no_write, .event = sink_event});
    return 0;
  }
  lp2p_io io = {.write = no_write, .event = srv_session_event, .ud = s};
  s->conn = session(0, &id_l, NULL, io);
  return lp2p_conn_start_secured(s->conn, ev->peer, &lp2p_quic_muxer, q);
}

static void l_timer(void *ud, lp2p_quic_conn *q, uint64_t deadline) {
  (void)ud;
  srv_conn *s = srv_find(q);
  if (!s) s = srv_find(NULL);
  assert_non_null(s);
  s->q = q;
  s->deadline = deadline;
}

static void l_gone(void *ud, lp2p_quic_conn *q, int err) {
  (void)ud;
  srv_gone++;
  if (err) srv_gone_err++;
  srv_conn *s = srv_find(q);
  if (!s) return;
  lp2p_conn_free(s->conn);
  memset(s, 0, sizeof *s);
}

/* ---- the network and the clock ---- */

static void deliver(dgram *d) {
  lp2p_quic_addr from = addr_of(d->from);
  if (d->to == LISTEN_PORT) {
    lp2p_quic_listener_recv(lis, &from, d->data, d->len);
    return;
  }
  for (size_t i = 0; i < n_dialers; i++) {
    dialer *x = &dialers[i];
    if (x->port == d->to && x->q && !x->err) {
      int rc = lp2p_quic_conn_recv(x->q, &from, d->data, d->len);
      if (rc) x->err = rc;
    }
  }
}

/* Runs the network until done() or nothing is left to do; time jumps to
 * the next deadline whenever no datagram is in flight. */
static void run(int (*done)(void), int max_steps) {
  for (int step = 0; step < max_steps && !done(); step++) {
    if (queue) {
      dgram *d = queue;
      queue = d->next;
      deliver(d);
      free(d);
      continue;
    }
    uint64_t next = LP2P_NO_DEADLINE;
    for (size_t i = 0; i < n_dialers; i++)
      if (dialers[i].q && !dialers[i].err) {
        uint64_t t = lp2p_quic_conn_deadline(dialers[i].q);
        if (t < next) next = t;
      }
    for (size_t i = 0; i < sizeof srv / sizeof *srv; i++)
      if (srv[i].q && srv[i].deadline < next) next = srv[i].deadline;
    if (next == LP2P_NO_DEADLINE) return;
    if (next > env.now_ms) env.now_ms = next;
    for (size_t i = 0; i < n_dialers; i++)
      if (dialers[i].q && !dialers[i].err &&
          lp2p_quic_conn_deadline(dialers[i].q) <= env.now_ms) {
        int rc = lp2p_quic_conn_expire(dialers[i].q);
        if (rc) dialers[i].err = rc;
      }
    for (size_t i = 0; i < sizeof srv / sizeof *srv; i++)
      if (srv[i].q && srv[i].deadline <= env.now_ms) {
        srv[i].deadline = LP2P_NO_DEADLINE;
        lp2p_quic_listener_expire(lis, srv[i].q);
      }
  }
}

static void drain(void) {
  while (queue) {
    dgram *d = queue;
    queue = d->next;
    free(d);
  }
}

static dialer *cur;
static int cur_up(void) {
  return cur->up && srv_ready > 0 && (cur->conn || raw) && !cur->err;
}
static int want_pongs;
static int cur_pong(void) { return cur->pongs >= want_pongs || cur->err; }
static int cur_identified(void) {
  return cur->err || (cur->conn && lp2p_conn_identified(cur->conn));
}
static int cur_err(void) { return cur->err != 0; }
static int never(void) { return 0; }

static int setup(void **state) {
  (void)state;
  env = (lp2p_env){
      .random = tu_random, .random_ud = &seed, .unix_s = NOW_S, .now_ms = 1000};
  assert_int_equal(lp2p_identity_generate(&id_l, LP2P_KEY_ED25519, &env), 0);
  assert_int_equal(lp2p_identity_generate(&id_d, LP2P_KEY_SECP256K1, &env), 0);
  sh_l = lp2p_quic_shared_new(&env, &id_l);
  sh_d = lp2p_quic_shared_new(&env, &id_d);
  assert_non_null(sh_l);
  assert_non_null(sh_d);
  lp2p_quic_listener_config lc = {.conn = {.shared = sh_l, .handshake_timeout_ms = 5000},
                                  .max_handshakes = 8,
                                  .max_connections = 64};
  lp2p_quic_addr local = addr_of(LISTEN_PORT);
  lp2p_quic_listener_cbs cbs = {
      .send = l_send, .event = l_event, .timer = l_timer, .gone = l_gone};
  lis = lp2p_quic_listener_new(&env, &lc, &local, cbs);
  assert_non_null(lis);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  drain();
  for (size_t i = 0; i < n_dialers; i++)
    dialer_free(&dialers[i]);
  n_dialers = 0;
  lp2p_quic_listener_free(lis);
  drain(); /* its goodbyes */
  lp2p_quic_shared_free(sh_l);
  lp2p_quic_shared_free(sh_d);
  lp2p_identity_clear(&id_l);
  lp2p_identity_clear(&id_d);
  memset(srv, 0, sizeof srv);
  srv_ready = srv_gone = srv_gone_err = srv_pongs = 0;
  lossy = listener_mute = shuffle = raw = 0;
  sink_bytes = 0;
  sink_bad = sink_fin = 0;
  drop_every = 5, dup_every = 7, jump_every = 3;
  return 0;
}

/* Up, a ping, identify both ways, a second ping on the same stream. */
static void up_and_ping(void) {
  lp2p_peerid want;
  assert_int_equal(lp2p_peerid_from_pubkey(&want, &id_l.pub), 0);
  int ready_before = srv_ready;
  cur = dial(&want, 20000);
  run(cur_up, 100000);
  assert_int_equal(cur->err, 0);
  assert_true(cur->up);
  assert_true(srv_ready > ready_before);
  assert_true(lp2p_conn_is_ready(cur->conn));
  assert_true(lp2p_peerid_equal(lp2p_conn_peer(cur->conn), &want));
  assert_int_equal(lp2p_conn_ping(cur->conn), 0);
  want_pongs = 1;
  run(cur_pong, 100000);
  assert_int_equal(cur->err, 0);
  assert_int_equal(cur->pongs, 1);
  run(cur_identified, 100000);
  assert_non_null(lp2p_conn_identified(cur->conn));
  assert_int_equal(lp2p_conn_ping(cur->conn), 0);
  want_pongs = 2;
  run(cur_pong, 100000);
  assert_int_equal(cur->err, 0);
  assert_int_equal(cur->pongs, 2);
}

static void test_handshake_ping_identify(void **state) {
  (void)state;
  up_and_ping();
  assert_int_equal(lp2p_quic_listener_retries(lis), 0);
  assert_int_equal(lp2p_quic_listener_connections(lis), 1);
  /* The listener's session read our identify too. */
  srv_conn *s = srv_find(lp2p_quic_listener_connections(lis) ? srv[0].q : NULL);
  assert_non_null(s);
  assert_non_null(lp2p_conn_identified(s->conn));
  assert_int_equal(lp2p_quic_conn_close(cur->q), 0);
  run(never, 1000);
  assert_int_equal(lp2p_quic_listener_connections(lis), 0);
}

static void test_lossy_network(void **state) {
  (void)state;
  lossy = 1;
  up_and_ping();
}

/* More loss patterns, one dialer each on the same listener: handshake
 * packets, HANDSHAKE_DONE and the listener's identify stream lost,
 * duplicated and overtaken in different places. */
static void test_lossy_variants(void **state) {
  (void)state;
  static const unsigned patterns[][3] = {{3, 11, 4}, {4, 5, 2}, {6, 4, 5},
                                         {7, 3, 2},  {9, 2, 3}, {2, 13, 5}};
  lossy = 1;
  for (size_t i = 0; i < sizeof patterns / sizeof *patterns; i++) {
    drop_every = patterns[i][0];
    dup_every = patterns[i][1];
    jump_every = patterns[i][2];
    sent_count = 0;
    up_and_ping();
  }
}

/* The connection survived what the test did: no error, and a third ping
 * is answered (up_and_ping made two). */
static void still_pings(void) {
  assert_int_equal(cur->err, 0);
  assert_int_equal(lp2p_conn_ping(cur->conn), 0);
  want_pongs = 3;
  run(cur_pong, 100000);
  assert_int_equal(cur->pongs, 3);
}

/* A stream the dialer opens and resets at once: the listener's session
 * drops it, the connection goes on. */
static void test_stream_reset(void **state) {
  (void)state;
  up_and_ping();
  uint32_t sid;
  assert_int_equal(lp2p_quic_muxer.open(cur->q, &sid), 0);
  static const uint8_t hello[] = "\x13/multistream/1.0.0\n";
  assert_int_equal(lp2p_quic_muxer.send(cur->q, sid, hello, sizeof hello - 1), 0);
  assert_int_equal(lp2p_quic_muxer.reset(cur->q, sid), 0);
  while (queue)
    run(never, 1);
  still_pings();
}

/* More streams over the connection's life than the peer allows at once
 * (LP2P_QUIC_MAX_STREAMS): closed ones give their credit back. */
static void test_many_streams(void **state) {
  (void)state;
  up_and_ping();
  for (int i = 0; i < LP2P_QUIC_MAX_STREAMS + 50; i++) {
    uint32_t sid;
    int rc = lp2p_quic_muxer.open(cur->q, &sid);
    for (int tries = 0; rc == LP2P_ELIMIT && tries < 100; tries++) {
      run(never, 1);
      rc = lp2p_quic_muxer.open(cur->q, &sid);
    }
    assert_int_equal(rc, 0);
    /* Data first, so the listener sees the stream open (a stream that
     * only ever sees a reset gives its credit back inside ngtcp2). */
    static const uint8_t hello[] = "\x13/multistream/1.0.0\n";
    assert_int_equal(lp2p_quic_muxer.send(cur->q, sid, hello, sizeof hello - 1), 0);
    while (queue)
      run(never, 1);
    assert_int_equal(lp2p_quic_muxer.reset(cur->q, sid), 0);
    while (queue)
      run(never, 1);
  }
  still_pings();
}

/* The listener goes silent: the dialer's idle timer ends the connection. */
static void test_idle_timeout(void **state) {
  (void)state;
  up_and_ping();
  listener_mute = 1;
  run(cur_err, 1000000);
  assert_int_equal(cur->err, LP2P_ETIMEDOUT);
}

/* The dialer expects another peer: its TLS verify refuses the listener's
 * certificate (alert 42), the listener closes that connection with a
 * reason, then serves an honest dialer. */
static void test_wrong_peer(void **state) {
  (void)state;
  lp2p_peerid other;
  assert_int_equal(lp2p_peerid_from_pubkey(&other, &id_d.pub), 0);
  cur = dial(&other, 20000);
  run(cur_err, 100000);
  assert_int_equal(cur->err, LP2P_EPEERID);
  assert_false(cur->up);
  run(never, 100000);
  assert_int_equal(lp2p_quic_listener_connections(lis), 0);
  up_and_ping();
}

/* ---- hostile ---- */

static void test_garbage(void **state) {
  (void)state;
  uint8_t junk[1500];
  for (size_t len = 0; len < sizeof junk; len += 37) {
    tu_random(&seed, junk, len);
    lp2p_quic_addr from = addr_of(9000);
    lp2p_quic_listener_recv(lis, &from, junk, len);
    /* A long header with a made-up version, and one with version 1. */
    if (len > 7) {
      junk[0] = 0xc0;
      lp2p_quic_listener_recv(lis, &from, junk, len);
      junk[1] = junk[2] = junk[3] = 0;
      junk[4] = 1;
      lp2p_quic_listener_recv(lis, &from, junk, len);
    }
  }
  drain();
  assert_int_equal(lp2p_quic_listener_connections(lis), 0);
  up_and_ping();
}

/* The dialer's first Initial, cut short at every length: never a
 * connection. */
static void test_truncated_initials(void **state) {
  (void)state;
  lp2p_peerid want;
  assert_int_equal(lp2p_peerid_from_pubkey(&want, &id_l.pub), 0);
  dialer *d = dial(&want, 20000);
  assert_non_null(queue);
  dgram *first = queue;
  queue = first->next;
  drain();
  lp2p_quic_addr from = addr_of(d->port);
  for (size_t len = 0; len < first->len; len++)
    lp2p_quic_listener_recv(lis, &from, first->data, len);
  drain();
  assert_int_equal(lp2p_quic_listener_connections(lis), 0);
  free(first);
  dialer_free(d);
  up_and_ping();
}

/* n dialers from as many ports send their first Initial and vanish (they
 * never answer, nor hear, anything). */
static void abandoned_initials(int n) {
  for (int i = 0; i < n; i++) {
    dialer *d = dial(NULL, 20000);
    dgram *keep = queue; /* its Initial */
    queue = keep->next;
    drain();
    d->mute = 1;
    d->err = LP2P_ECLOSED; /* its engine no longer runs */
    lp2p_quic_addr from = addr_of(d->port);
    lp2p_quic_listener_recv(lis, &from, keep->data, keep->len);
    free(keep);
    drain(); /* whatever the listener answered is lost */
    assert_true(lp2p_quic_listener_handshakes(lis) <= 8);
  }
}

/* Many dialers from many ports send their Initial and vanish: from half
 * the handshake cap on, they get a Retry and hold nothing, so an honest
 * dialer is served at once (after one Retry), while the abandoned
 * handshakes are still held. */
static void test_initial_flood(void **state) {
  (void)state;
  abandoned_initials(40);
  assert_int_equal(lp2p_quic_listener_handshakes(lis), 4);
  assert_int_equal(lp2p_quic_listener_retries(lis), 36);
  unsigned retries = lp2p_quic_listener_retries(lis);
  up_and_ping();
  assert_int_equal(srv_gone_err, 0); /* no slot had to time out */
  assert_int_equal(lp2p_quic_listener_retries(lis), retries + 1);
}

/* An unloaded listener sends no Retry: it would cost a round trip. */
static void test_no_retry_unloaded(void **state) {
  (void)state;
  abandoned_initials(3); /* under half of max_handshakes (8) */
  up_and_ping();
  assert_int_equal(lp2p_quic_listener_retries(lis), 0);
}

/* Under pressure, over a lossy network: the Retry, or the Initial after
 * it, may be lost or repeated; the dialer still gets through. */
static void test_retry_lossy(void **state) {
  (void)state;
  abandoned_initials(4);
  lossy = 1;
  up_and_ping();
  assert_true(lp2p_quic_listener_retries(lis) >= 1);
}

/* The offset in an Initial of its token (RFC 9000 section 17.2.2). */
static size_t token_at(const dgram *d) {
  size_t at = 5;
  at += 1 + d->data[at];                 /* DCID */
  at += 1 + d->data[at];                 /* SCID */
  at += (size_t)1 << (d->data[at] >> 6); /* Token Length (varint) */
  assert_true(at < d->len);
  return at;
}

/* A dialer's Initial that carries the token of our Retry: the listener is
 * put under pressure, the dialer's first Initial answered with a Retry. */
static dgram *initial_with_token(dialer **out) {
  abandoned_initials(4);
  lp2p_peerid want;
  assert_int_equal(lp2p_peerid_from_pubkey(&want, &id_l.pub), 0);
  dialer *d = dial(&want, 20000);
  run(never, 1); /* its Initial: answered with a Retry */
  assert_int_equal(lp2p_quic_listener_retries(lis), 1);
  run(never, 1); /* the Retry: the dialer sends its Initial again */
  assert_non_null(queue);
  dgram *x = queue;
  queue = x->next;
  assert_int_equal(x->from, d->port);
  assert_int_equal(x->data[token_at(x)], 0xb6); /* a Retry token */
  drain();
  *out = d;
  return x;
}

/* Tokens we cannot verify never get a connection: forged, from another
 * address, expired. The real one in time does. */
static void test_bad_tokens(void **state) {
  (void)state;
  dialer *d;
  dgram *x = initial_with_token(&d);
  unsigned conns = lp2p_quic_listener_connections(lis);
  lp2p_quic_addr from = addr_of(d->port), other = addr_of(d->port + 1000);
  size_t t = token_at(x);
  x->data[t + 20] ^= 1;
  lp2p_quic_listener_recv(lis, &from, x->data, x->len);
  x->data[t + 20] ^= 1;
  assert_int_equal(lp2p_quic_listener_connections(lis), conns);
  assert_non_null(queue); /* INVALID_TOKEN */
  drain();
  lp2p_quic_listener_recv(lis, &other, x->data, x->len);
  assert_int_equal(lp2p_quic_listener_connections(lis), conns);
  drain();
  uint64_t then = env.now_ms;
  env.now_ms += 4000;
  lp2p_quic_listener_recv(lis, &from, x->data, x->len);
  assert_int_equal(lp2p_quic_listener_connections(lis), conns);
  drain();
  env.now_ms = then + 500;
  lp2p_quic_listener_recv(lis, &from, x->data, x->len);
  assert_int_equal(lp2p_quic_listener_connections(lis), conns + 1);
  free(x);
}

/* A raw dialer (streams driven by the test, no session) to the listener,
 * up. */
static void raw_dial_up(void) {
  raw = 1;
  lp2p_peerid want;
  assert_int_equal(lp2p_peerid_from_pubkey(&want, &id_l.pub), 0);
  cur = dial(&want, 20000);
  run(cur_up, 100000);
  assert_true(cur->up);
}

/* Many small writes on one stream, every datagram delivered at a random
 * place in the queue (so ACK frames come in any order): every byte
 * arrives once, in order, and once all is acknowledged the send buffer
 * is empty again. */
static void test_small_writes_shuffled(void **state) {
  (void)state;
  raw_dial_up();
  shuffle = 1;
  uint32_t sid;
  assert_int_equal(lp2p_quic_muxer.open(cur->q, &sid), 0);
  enum { TOTAL = 600000 };
  uint8_t piece[61];
  uint64_t off = 0;
  while (off < TOTAL) {
    size_t n = 1 + (off % sizeof piece);
    if (off + n > TOTAL) n = TOTAL - off;
    for (size_t i = 0; i < n; i++)
      piece[i] = pattern(off + i);
    int rc = lp2p_quic_muxer.send(cur->q, sid, piece, n);
    if (rc == LP2P_ELIMIT) {
      run(never, 50);
      continue;
    }
    assert_int_equal(rc, 0);
    off += n;
    if (off % 97 == 0) run(never, 1);
  }
  assert_int_equal(lp2p_quic_muxer.close(cur->q, sid), 0);
  for (int i = 0; i < 100000 && (sink_bytes < TOTAL || !sink_fin); i++)
    run(never, 1);
  assert_int_equal(cur->err, 0);
  assert_int_equal(sink_bad, 0);
  assert_int_equal(sink_bytes, TOTAL);
  assert_int_equal(sink_fin, 1);
  /* Everything acknowledged: a new stream has the whole buffer. */
  run(never, 100000);
  assert_int_equal(lp2p_quic_muxer.open(cur->q, &sid), 0);
  assert_int_equal(lp2p_quic_muxer.writable(cur->q, sid), 1024 * 1024);
}

/* Many streams, nothing acknowledged yet: the connection holds at most
 * 4 MiB over all of them (writable says so before send refuses), then
 * acknowledgements give the room back. */
static void test_conn_send_cap(void **state) {
  (void)state;
  raw_dial_up();
  static uint8_t big[64 * 1024];
  uint64_t total = 0;
  uint32_t sids[8];
  for (int k = 0; k < 8; k++) {
    assert_int_equal(lp2p_quic_muxer.open(cur->q, &sids[k]), 0);
    for (;;) {
      int rc = lp2p_quic_muxer.send(cur->q, sids[k], big, sizeof big);
      if (rc == LP2P_ELIMIT) break;
      assert_int_equal(rc, 0);
      total += sizeof big;
    }
    assert_int_equal(lp2p_quic_muxer.writable(cur->q, sids[k]), 0);
  }
  assert_int_equal(total, 4 * 1024 * 1024);
  run(never, 1000000);
  assert_int_equal(cur->err, 0);
  assert_true(lp2p_quic_muxer.writable(cur->q, sids[7]) >= 256 * 1024);
}

/* A dialer that stops after its first flight: the listener's handshake
 * timeout frees the slot. */
static void test_stalled_handshake(void **state) {
  (void)state;
  dialer *d = dial(NULL, 20000);
  d->mute = 0;
  run(never, 1); /* its Initial reaches the listener */
  d->mute = 1;
  assert_int_equal(lp2p_quic_listener_handshakes(lis), 1);
  d->err = LP2P_ECLOSED; /* the stalled peer's engine no longer runs */
  run(never, 100000);
  assert_int_equal(lp2p_quic_listener_connections(lis), 0);
  assert_int_equal(srv_gone_err, 1);
  up_and_ping();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_handshake_ping_identify, setup, teardown),
      cmocka_unit_test_setup_teardown(test_lossy_network, setup, teardown),
      cmocka_unit_test_setup_teardown(test_lossy_variants, setup, teardown),
      cmocka_unit_test_setup_teardown(test_stream_reset, setup, teardown),
      cmocka_unit_test_setup_teardown(test_many_streams, setup, teardown),
      cmocka_unit_test_setup_teardown(test_idle_timeout, setup, teardown),
      cmocka_unit_test_setup_teardown(test_wrong_peer, setup, teardown),
      cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
      cmocka_unit_test_setup_teardown(test_truncated_initials, setup, teardown),
      cmocka_unit_test_setup_teardown(test_initial_flood, setup, teardown),
      cmocka_unit_test_setup_teardown(test_stalled_handshake, setup, teardown),
      cmocka_unit_test_setup_teardown(test_no_retry_unloaded, setup, teardown),
      cmocka_unit_test_setup_teardown(test_retry_lossy, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_tokens, setup, teardown),
      cmocka_unit_test_setup_teardown(test_small_writes_shuffled, setup, teardown),
      cmocka_unit_test_setup_teardown(test_conn_send_cap, setup, teardown),
  };
  /* QUIC_PAIR_ONLY=test_name (a pattern): one test, e.g. under ASan. */
  if (getenv("QUIC_PAIR_ONLY")) cmocka_set_test_filter(getenv("QUIC_PAIR_ONLY"));
  return cmocka_run_group_tests(tests, NULL, NULL);
}
