/* The generic TLS 1.3 session (tls_session.h): two sessions wired in
 * memory, with plain self-signed certificates (the wss use) and with a
 * verify callback and ALPN (the libp2p use); every delivery whole, one byte
 * at a time and split at every offset; data right behind the handshake
 * (leftover bytes), close_notify, refusal by the verify callback. */
#include "testutil.h"

#include "lp2p/tls_session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW_S 1790000000 /* 2026-09 */

typedef struct end {
  lp2p_tls_session *s;
  lp2p_buf out;
  lp2p_buf data;
  int ready, eof;
  char alpn[32];
  const char *greet; /* sent from inside READY: lands behind Finished */
  int verify_calls;
  size_t verify_n;
  int verify_rc;
  lp2p_buf peer_cert;
} end;

static int end_write(void *ud, const uint8_t *p, size_t len) {
  return lp2p_buf_append(&((end *)ud)->out, p, len);
}

static int end_event(void *ud, const lp2p_event *ev) {
  end *e = ud;
  switch (ev->type) {
  case LP2P_EV_READY:
    e->ready++;
    assert_null(ev->peer);
    snprintf(e->alpn, sizeof e->alpn, "%s", ev->protocol ? ev->protocol : "-");
    if (e->greet)
      return lp2p_tls_session_send(e->s, (const uint8_t *)e->greet, strlen(e->greet));
    return 0;
  case LP2P_EV_DATA: return lp2p_buf_append(&e->data, ev->data, ev->len);
  case LP2P_EV_EOF: e->eof++; return 0;
  default: fail_msg("unexpected event %d", ev->type); return -1;
  }
}

static int verify(void *ctx, const lp2p_tls_der *certs, size_t n) {
  end *e = ctx;
  e->verify_calls++;
  e->verify_n = n;
  if (n) lp2p_buf_append(&e->peer_cert, certs[0].p, certs[0].len);
  if (e->verify_rc) LP2P_REASON("test", "refused by the test");
  return e->verify_rc;
}

static int feed(void *ud, const uint8_t *p, size_t n) {
  return lp2p_tls_session_recv(ud, p, n);
}

static int deliver(end *from, end *to, int pass) {
  lp2p_buf b = from->out;
  from->out = (lp2p_buf){0};
  int rc = b.len ? tu_feed(pass, b.data, b.len, feed, to->s) : 0;
  lp2p_buf_free(&b);
  return rc;
}

/* Runs until both are quiet; returns the first error of (client, server)
 * in *crc / *src. */
static void pump(end *c, end *s, int pass, int *crc, int *src) {
  *crc = *src = 0;
  for (int i = 0; i < 20 && (c->out.len || s->out.len); i++) {
    if (!*src)
      *src = deliver(c, s, pass);
    else
      c->out.len = 0;
    if (!*crc)
      *crc = deliver(s, c, pass);
    else
      s->out.len = 0;
  }
}

static lp2p_env env;
static uint64_t seed = 42;
static lp2p_tls_creds *cred_a, *cred_b;
static lp2p_buf cert_a;

static int setup_creds(void **state) {
  (void)state;
  env.random = tu_random;
  env.random_ud = &seed;
  env.unix_s = NOW_S;
  lp2p_buf key = {0};
  assert_int_equal(lp2p_tls_selfsigned(&cert_a, &key, &env, NULL), 0);
  assert_int_equal(
      lp2p_tls_creds_new(&cred_a, cert_a.data, cert_a.len, key.data, key.len), 0);
  lp2p_buf_free_secret(&key);
  assert_int_equal(lp2p_tls_selfsigned_credentials(&cred_b, &env), 0);
  return 0;
}

static int teardown_creds(void **state) {
  (void)state;
  lp2p_tls_creds_free(cred_a);
  lp2p_tls_creds_free(cred_b);
  lp2p_buf_free(&cert_a);
  return 0;
}

typedef struct opts {
  const char *const *calpn, *const *salpn;
  size_t n_calpn, n_salpn;
  int mutual;          /* server requires a client certificate; both verify */
  int client_no_creds; /* wss: the client has no certificate */
  int tickets;         /* the server sends session tickets (as Node does) */
} opts;

static void make(end *c, end *s, const opts *o) {
  lp2p_tls_config cc = {.client = 1,
                        .creds = o->client_no_creds ? NULL : cred_b,
                        .alpn = o->calpn,
                        .n_alpn = o->n_calpn};
  lp2p_tls_config sc = {.client = 0,
                        .creds = cred_a,
                        .alpn = o->salpn,
                        .n_alpn = o->n_salpn,
                        .send_tickets = o->tickets};
  if (o->mutual) {
    sc.require_peer_cert = 1;
    cc.verify = sc.verify = verify;
    cc.verify_ctx = c;
    sc.verify_ctx = s;
  }
  c->s = lp2p_tls_session_new(&env, &cc,
                              (lp2p_io){.write = end_write, .event = end_event, .ud = c});
  s->s = lp2p_tls_session_new(&env, &sc,
                              (lp2p_io){.write = end_write, .event = end_event, .ud = s});
  assert_non_null(c->s);
  assert_non_null(s->s);
}

static void end_free(end *e) {
  lp2p_tls_session_free(e->s);
  lp2p_buf_free(&e->out);
  lp2p_buf_free(&e->data);
  lp2p_buf_free(&e->peer_cert);
  memset(e, 0, sizeof *e);
}

static void data_eq(const lp2p_buf *b, const char *want) {
  assert_int_equal(b->len, strlen(want));
  assert_memory_equal(b->data, want, b->len);
}

/* One full exchange: handshake (with greetings behind it), data both ways,
 * close_notify both ways. */
static void exchange(const opts *o, int pass, const char *want_alpn) {
  end c = {.greet = "hello from the client"}, s = {.greet = "hello from the server"};
  int crc, src;
  make(&c, &s, o);
  assert_int_equal(lp2p_tls_session_start(s.s), 0);
  assert_int_equal(lp2p_tls_session_start(c.s), 0);
  assert_int_equal(lp2p_tls_session_start(c.s), LP2P_EINVAL);
  pump(&c, &s, pass, &crc, &src);
  assert_int_equal(crc, 0);
  assert_int_equal(src, 0);
  assert_int_equal(c.ready, 1);
  assert_int_equal(s.ready, 1);
  assert_string_equal(c.alpn, want_alpn);
  assert_string_equal(s.alpn, want_alpn);
  data_eq(&c.data, "hello from the server");
  data_eq(&s.data, "hello from the client");
  if (o->mutual) {
    assert_int_equal(c.verify_calls, 1);
    assert_int_equal(s.verify_calls, 1);
    assert_int_equal(c.verify_n, 1);
    assert_int_equal(s.verify_n, 1);
    assert_int_equal(c.peer_cert.len, cert_a.len);
    assert_memory_equal(c.peer_cert.data, cert_a.data, cert_a.len);
  }
  /* A message larger than one record comes out whole. */
  static uint8_t big[3 * LP2P_TLS_RECORD_MAX + 5];
  for (size_t i = 0; i < sizeof big; i++)
    big[i] = (uint8_t)(i * 7);
  c.data.len = 0;
  assert_int_equal(lp2p_tls_session_send(s.s, big, sizeof big), 0);
  pump(&c, &s, pass > 1 ? 2 + 4000 : pass, &crc, &src);
  assert_int_equal(crc, 0);
  assert_int_equal(c.data.len, sizeof big);
  assert_memory_equal(c.data.data, big, sizeof big);
  /* close_notify: EOF on the other side; sending after close is refused. */
  assert_int_equal(lp2p_tls_session_close(c.s), 0);
  assert_int_equal(lp2p_tls_session_send(c.s, big, 1), LP2P_ECLOSED);
  pump(&c, &s, pass, &crc, &src);
  assert_int_equal(src, 0);
  assert_int_equal(s.eof, 1);
  /* Half-close: the server may still send. */
  c.data.len = 0;
  assert_int_equal(lp2p_tls_session_send(s.s, (const uint8_t *)"bye", 3), 0);
  assert_int_equal(lp2p_tls_session_close(s.s), 0);
  pump(&c, &s, pass, &crc, &src);
  assert_int_equal(crc, 0);
  data_eq(&c.data, "bye");
  assert_int_equal(c.eof, 1);
  assert_int_equal(lp2p_tls_session_recv(s.s, (const uint8_t *)"x", 1), 0);
  end_free(&c);
  end_free(&s);
}

/* Size of the largest delivery of a handshake, to bound the split passes. */
static size_t largest_flight(const opts *o) {
  end c = {0}, s = {0};
  make(&c, &s, o);
  assert_int_equal(lp2p_tls_session_start(c.s), 0);
  size_t max = 0;
  for (int i = 0; i < 6; i++) {
    if (c.out.len > max) max = c.out.len;
    if (deliver(&c, &s, 0)) break;
    if (s.out.len > max) max = s.out.len;
    if (deliver(&s, &c, 0)) break;
  }
  end_free(&c);
  end_free(&s);
  return max;
}

static void every_split(const opts *o, const char *want_alpn) {
  size_t passes = tu_split_passes(largest_flight(o));
  print_message("split passes: %zu\n", passes);
  for (size_t p = 0; p < passes; p++)
    exchange(o, (int)p, want_alpn);
}

static void test_plain_selfsigned(void **state) {
  (void)state;
  opts o = {.client_no_creds = 1};
  every_split(&o, "-");
}

static void test_mutual_alpn(void **state) {
  (void)state;
  static const char *const offer[] = {"/yamux/1.0.0", "/mplex/6.7.0", "libp2p"};
  static const char *const accept[] = {"/mplex/6.7.0", "libp2p", "/yamux/1.0.0"};
  /* The server picks in the client's order. */
  opts o = {offer, accept, 3, 3, 1, 0, 0};
  every_split(&o, "/yamux/1.0.0");
}

/* GnuTLS returns AGAIN after each post-handshake message with records still
 * buffered: the tickets must not hold back the data behind them. */
static void test_server_tickets(void **state) {
  (void)state;
  static const char *const y[] = {"/yamux/1.0.0", "libp2p"};
  opts o = {y, y, 2, 2, 1, 0, 1};
  every_split(&o, "/yamux/1.0.0");
}

static void test_alpn_cases(void **state) {
  (void)state;
  static const char *const y[] = {"/yamux/1.0.0", "libp2p"};
  static const char *const m[] = {"/mplex/6.7.0", "libp2p"};
  static const char *const none[] = {"/mplex/6.7.0"};
  opts o1 = {y, m, 2, 2, 1, 0, 0};
  exchange(&o1, 0, "libp2p");
  /* No common protocol: the server aborts (RFC 7301 3.2). */
  opts o2 = {y, none, 2, 1, 1, 0, 0};
  end c = {0}, s = {0};
  int crc, src;
  make(&c, &s, &o2);
  assert_int_equal(lp2p_tls_session_start(c.s), 0);
  pump(&c, &s, 0, &crc, &src);
  assert_int_equal(src, LP2P_EPROTO);
  assert_int_equal(crc, LP2P_EEOF);
  assert_int_equal(c.ready + s.ready, 0);
  end_free(&c);
  end_free(&s);
  /* A side without a list: no ALPN, the handshake goes on. */
  opts o3 = {y, NULL, 2, 0, 1, 0, 0};
  exchange(&o3, 0, "-");
  opts o4 = {NULL, y, 0, 2, 1, 0, 0};
  exchange(&o4, 0, "-");
}

static void refused(int by_client) {
  opts o = {.mutual = 1};
  end c = {0}, s = {0};
  int crc, src;
  make(&c, &s, &o);
  (by_client ? &c : &s)->verify_rc = LP2P_EPEERID;
  assert_int_equal(lp2p_tls_session_start(c.s), 0);
  pump(&c, &s, 0, &crc, &src);
  if (by_client) {
    assert_int_equal(crc, LP2P_EPEERID);
    assert_int_equal(c.ready, 0);
    /* The server learns from the alert. */
    assert_int_equal(src, LP2P_EEOF);
  } else {
    assert_int_equal(src, LP2P_EPEERID);
    assert_int_equal(s.ready, 0);
  }
  /* Sticky. */
  assert_int_equal(lp2p_tls_session_recv(by_client ? c.s : s.s, (const uint8_t *)"x", 1),
                   LP2P_EPEERID);
  end_free(&c);
  end_free(&s);
}

static void test_verify_refuses(void **state) {
  (void)state;
  refused(1);
  refused(0);
}

static void test_client_without_cert_refused(void **state) {
  (void)state;
  opts o = {.mutual = 1, .client_no_creds = 1};
  end c = {0}, s = {0};
  int crc, src;
  make(&c, &s, &o);
  assert_int_equal(lp2p_tls_session_start(c.s), 0);
  pump(&c, &s, 0, &crc, &src);
  assert_int_equal(src, LP2P_EPROTO);
  assert_int_equal(s.ready, 0);
  assert_int_equal(s.verify_calls, 0);
  end_free(&c);
  end_free(&s);
}

static void test_garbage(void **state) {
  (void)state;
  opts o = {0};
  end c = {0}, s = {0};
  make(&c, &s, &o);
  /* An HTTP request where a ClientHello belongs. */
  const char *junk = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  assert_int_equal(lp2p_tls_session_recv(s.s, (const uint8_t *)junk, strlen(junk)),
                   LP2P_EPROTO);
  const char *why = lp2p_take_reason();
  assert_non_null(why);
  /* Before start, a client takes no input; sending before READY fails. */
  assert_int_equal(lp2p_tls_session_recv(c.s, (const uint8_t *)"x", 1), LP2P_EINVAL);
  end_free(&c);
  end_free(&s);
  make(&c, &s, &o);
  assert_int_equal(lp2p_tls_session_send(c.s, (const uint8_t *)"x", 1), LP2P_EINVAL);
  end_free(&c);
  end_free(&s);
}

static void test_tampered_record(void **state) {
  (void)state;
  opts o = {0};
  end c = {0}, s = {0};
  int crc, src;
  make(&c, &s, &o);
  assert_int_equal(lp2p_tls_session_start(c.s), 0);
  pump(&c, &s, 0, &crc, &src);
  assert_int_equal(c.ready + s.ready, 2);
  assert_int_equal(lp2p_tls_session_send(c.s, (const uint8_t *)"secret", 6), 0);
  c.out.data[c.out.len - 1] ^= 1;
  assert_int_equal(deliver(&c, &s, 0), LP2P_EDECRYPT);
  end_free(&c);
  end_free(&s);
}

static void test_bad_config(void **state) {
  (void)state;
  static const char *const bad[] = {""};
  lp2p_tls_config sc = {.client = 0, .creds = NULL};
  lp2p_io io = {.write = end_write, .event = end_event, .ud = NULL};
  assert_null(lp2p_tls_session_new(&env, &sc, io));
  lp2p_tls_config cc = {.client = 1, .alpn = bad, .n_alpn = 1};
  assert_null(lp2p_tls_session_new(&env, &cc, io));
  lp2p_tls_creds *cr;
  assert_int_equal(
      lp2p_tls_creds_new(&cr, (const uint8_t *)"x", 1, (const uint8_t *)"y", 1),
      LP2P_EKEY);
  lp2p_env noclock = env;
  noclock.unix_s = 0;
  assert_int_equal(lp2p_tls_selfsigned_credentials(&cr, &noclock), LP2P_EINVAL);
}

static int refuse_write(void *ud, const uint8_t *p, size_t len) {
  (void)ud, (void)p, (void)len;
  return LP2P_ENOMEM;
}

/* Records (RFC 8446 5.1: 5-byte header, then the body) in b. */
static size_t count_records(const lp2p_buf *b) {
  size_t n = 0;
  for (size_t off = 0; off + 5 <= b->len; n++)
    off += 5 + ((size_t)b->data[off + 3] << 8 | b->data[off + 4]);
  return n;
}

/* sendv: the pieces of one muxer frame come out as the same bytes, with a
 * small header sharing the first record instead of making its own, and
 * with a write that fails on the way failing the session. */
static void test_sendv(void **state) {
  (void)state;
  static uint8_t big[4 * LP2P_TLS_RECORD_MAX + 100];
  for (size_t i = 0; i < sizeof big; i++)
    big[i] = (uint8_t)(i * 13 + 1);
  opts o = {0};
  end c = {0}, s = {0};
  int crc, src;
  make(&c, &s, &o);
  assert_int_equal(lp2p_tls_session_start(c.s), 0);
  pump(&c, &s, 0, &crc, &src);
  assert_int_equal(crc | src, 0);
  assert_int_equal(c.ready + s.ready, 2);
  /* A yamux frame (12-byte header, 65507 bytes): four records, as one
   * piece of 65519 bytes would be; sent apart the header would add one. */
  lp2p_iovec yam[2] = {{big, 12}, {big + 12, 65507}};
  assert_int_equal(lp2p_tls_session_sendv(s.s, yam, 2), 0);
  assert_int_equal(count_records(&s.out), 4);
  /* Pieces cut anywhere, many small ones, empty ones: the bytes arrive in
   * order, whole. */
  const size_t cuts[] = {0,
                         1,
                         11,
                         12,
                         13,
                         4095,
                         LP2P_TLS_RECORD_MAX - 1,
                         LP2P_TLS_RECORD_MAX,
                         LP2P_TLS_RECORD_MAX + 1,
                         2 * LP2P_TLS_RECORD_MAX,
                         sizeof big - 1,
                         sizeof big};
  size_t want = 65519;
  for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
    size_t k = cuts[i];
    lp2p_iovec v[3] = {{big, k / 2}, {big + k / 2, k - k / 2}, {big + k, sizeof big - k}};
    assert_int_equal(lp2p_tls_session_sendv(s.s, v, 3), 0);
    want += sizeof big;
  }
  lp2p_iovec small[40];
  for (size_t i = 0; i < 40; i++)
    small[i] = (lp2p_iovec){big + i * 5, i % 3 ? 5 : 0};
  size_t before = count_records(&s.out);
  assert_int_equal(lp2p_tls_session_sendv(s.s, small, 40), 0);
  assert_int_equal(count_records(&s.out), before + 1); /* 130 bytes: one record */
  pump(&c, &s, 0, &crc, &src);
  assert_int_equal(crc | src, 0);
  assert_int_equal(c.data.len, want + 130);
  assert_memory_equal(c.data.data, big, 65519);
  size_t off = 65519;
  for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++, off += sizeof big)
    assert_memory_equal(c.data.data + off, big, sizeof big);
  for (size_t i = 0, j = 0; i < 40; i++)
    if (small[i].len) {
      assert_memory_equal(c.data.data + off + j, small[i].p, 5);
      j += 5;
    }
  /* A write refused below fails the session, sticky. */
  lp2p_tls_session_set_io(s.s,
                          (lp2p_io){.write = refuse_write, .event = end_event, .ud = &s});
  assert_int_equal(lp2p_tls_session_sendv(s.s, yam, 2), LP2P_ENOMEM);
  assert_int_equal(lp2p_tls_session_send(s.s, big, 1), LP2P_ENOMEM);
  end_free(&c);
  end_free(&s);
}

int main(void) {
  if (getenv("LP2P_DEBUG")) lp2p_log_level = LP2P_LOG_DEBUG;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_plain_selfsigned),
      cmocka_unit_test(test_mutual_alpn),
      cmocka_unit_test(test_server_tickets),
      cmocka_unit_test(test_alpn_cases),
      cmocka_unit_test(test_verify_refuses),
      cmocka_unit_test(test_client_without_cert_refused),
      cmocka_unit_test(test_garbage),
      cmocka_unit_test(test_tampered_record),
      cmocka_unit_test(test_bad_config),
      cmocka_unit_test(test_sendv),
  };
  return cmocka_run_group_tests(tests, setup_creds, teardown_creds);
}
