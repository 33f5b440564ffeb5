/* Noise: the published cacophony XX vector through the core and the
 * framing, then two libp2p engines wired in memory (whole, byte by byte,
 * split at every offset), inlined muxer negotiation and tampering. */
#include "testutil.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "lp2p/keys.h"
#include "lp2p/noise.h"
#include "noise.pb-c.h"

/* ---- small helpers ------------------------------------------------------ */

/* The hex string value of "key" at or after from; NULL when absent. */
static const char *json_hex(const char *from, const char *key, uint8_t *out, size_t cap,
                            size_t *len) {
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\": \"", key);
  const char *p = strstr(from, pat);
  if (!p) return NULL;
  p += strlen(pat);
  const char *e = strchr(p, '"');
  assert_non_null(e);
  char hex[1024];
  assert_true((size_t)(e - p) < sizeof hex);
  memcpy(hex, p, (size_t)(e - p));
  hex[e - p] = 0;
  *len = tu_hex(out, cap, hex);
  return e + 1;
}

typedef struct sink {
  lp2p_buf wire;
  lp2p_buf data;
  int ready;
  int data_events;
  lp2p_pubkey peer;
  char muxer[64];
  int has_muxer;
  /* When set, READY splices this sink in for the following events. */
  lp2p_noise *self;
  struct sink *next;
  /* When set, READY answers with this payload through lp2p_noise_send. */
  const uint8_t *reply;
  size_t reply_len;
} sink;

static int sink_write(void *ud, const uint8_t *p, size_t len) {
  sink *s = ud;
  return lp2p_buf_append(&s->wire, p, len);
}

static lp2p_io sink_io(sink *s);

static int sink_event(void *ud, const lp2p_event *ev) {
  sink *s = ud;
  if (ev->type == LP2P_EV_READY) {
    s->ready++;
    if (ev->peer) s->peer = *(const lp2p_pubkey *)ev->peer;
    s->has_muxer = ev->protocol != NULL;
    if (ev->protocol) snprintf(s->muxer, sizeof s->muxer, "%s", ev->protocol);
    if (s->reply) {
      int rc = lp2p_noise_send(s->self, s->reply, s->reply_len);
      if (rc) return rc;
    }
    if (s->next) {
      /* The layer above takes over: wire writes keep flowing to s->wire,
       * events go to next. */
      lp2p_io io = sink_io(s->next);
      io.write = sink_write;
      io.ud = s->next;
      lp2p_noise_set_io(s->self, io);
    }
    return 0;
  }
  if (ev->type == LP2P_EV_DATA) {
    s->data_events++;
    return lp2p_buf_append(&s->data, ev->data, ev->len);
  }
  return LP2P_EPROTO;
}

static lp2p_io sink_io(sink *s) {
  lp2p_io io = {.write = sink_write, .event = sink_event, .ud = s};
  return io;
}

static void sink_free(sink *s) {
  lp2p_buf_free(&s->wire);
  lp2p_buf_free(&s->data);
  memset(s, 0, sizeof *s);
}

/* Feeding patterns: 0 whole, 1 one byte at a time, 2 + k split at k
 * (1 <= k < len). Returns the number of patterns for len. */
static size_t n_patterns(size_t len) { return len > 1 ? 2 + (len - 1) : 2; }

static int feed(lp2p_noise *n, const uint8_t *p, size_t len, size_t pat) {
  int rc = 0;
  if (pat == 0) return lp2p_noise_recv(n, p, len);
  if (pat == 1) {
    for (size_t i = 0; i < len && rc == 0; i++)
      rc = lp2p_noise_recv(n, p + i, 1);
    return rc;
  }
  size_t k = pat - 1;
  rc = lp2p_noise_recv(n, p, k);
  if (rc == 0) rc = lp2p_noise_recv(n, p + k, len - k);
  return rc;
}

static int framer_feed(lp2p__noise_framer *f, const uint8_t *p, size_t len, size_t pat,
                       lp2p_buf *frames, int *count) {
  size_t cuts[3] = {0, len, len};
  size_t step = pat == 1 ? 1 : 0;
  if (pat >= 2) cuts[1] = pat - 1;
  size_t pos = 0, seg = 0;
  while (pos < len) {
    size_t end = step ? pos + 1 : cuts[++seg];
    if (end > len) end = len;
    const uint8_t *q = p + pos;
    size_t qlen = end - pos;
    while (qlen > 0) {
      size_t used;
      const uint8_t *fr;
      size_t flen;
      int rc = lp2p__noise_framer_next(f, LP2P_NOISE_MSG_MAX, q, qlen, &used, &fr, &flen);
      if (rc < 0) return rc;
      q += used;
      qlen -= used;
      if (rc == 1) {
        (*count)++;
        if (lp2p_buf_append(frames, fr, flen)) return LP2P_ENOMEM;
      }
    }
    pos = end;
  }
  return 0;
}

static void frame(lp2p_buf *b, const uint8_t *p, size_t len) {
  uint8_t hdr[2] = {(uint8_t)(len >> 8), (uint8_t)len};
  assert_int_equal(lp2p_buf_append(b, hdr, 2), 0);
  assert_int_equal(lp2p_buf_append(b, p, len), 0);
}

/* ---- cacophony ---------------------------------------------------------- */

typedef struct vec_msg {
  uint8_t payload[256], ct[256];
  size_t payload_len, ct_len;
} vec_msg;

static void test_cacophony_xx(void **state) {
  (void)state;
  char *json = tu_read_vector("cacophony-xx.json", NULL);
  const char *v = strstr(json, "\"Noise_XX_25519_ChaChaPoly_SHA256\"");
  assert_non_null(v);
  uint8_t ipro[64], rpro[64], is[32], ie[32], rs[32], re[32], hh[32];
  size_t ipro_len, rpro_len, l;
  assert_non_null(json_hex(v, "init_prologue", ipro, sizeof ipro, &ipro_len));
  assert_non_null(json_hex(v, "resp_prologue", rpro, sizeof rpro, &rpro_len));
  assert_non_null(json_hex(v, "init_static", is, 32, &l));
  assert_non_null(json_hex(v, "init_ephemeral", ie, 32, &l));
  assert_non_null(json_hex(v, "resp_static", rs, 32, &l));
  assert_non_null(json_hex(v, "resp_ephemeral", re, 32, &l));
  assert_non_null(json_hex(v, "handshake_hash", hh, 32, &l));
  vec_msg msgs[8];
  size_t nm = 0;
  const char *p = strstr(v, "\"messages\"");
  assert_non_null(p);
  while (nm < 8) {
    const char *q = json_hex(p, "payload", msgs[nm].payload, sizeof msgs[nm].payload,
                             &msgs[nm].payload_len);
    if (!q) break;
    p = json_hex(q, "ciphertext", msgs[nm].ct, sizeof msgs[nm].ct, &msgs[nm].ct_len);
    assert_non_null(p);
    nm++;
  }
  assert_int_equal(nm, 6);

  lp2p_noise_hs ini, res;
  assert_int_equal(lp2p_noise_hs_init(&ini, 1, ipro, ipro_len, is, ie), 0);
  assert_int_equal(lp2p_noise_hs_init(&res, 0, rpro, rpro_len, rs, re), 0);
  for (size_t i = 0; i < 3; i++) {
    lp2p_noise_hs *tx = i % 2 == 0 ? &ini : &res;
    lp2p_noise_hs *rx = i % 2 == 0 ? &res : &ini;
    uint8_t out[512], pl[512];
    int m =
        lp2p_noise_hs_write(tx, out, sizeof out, msgs[i].payload, msgs[i].payload_len);
    assert_int_equal(m, (int)msgs[i].ct_len);
    assert_memory_equal(out, msgs[i].ct, msgs[i].ct_len);

    /* The message framed as libp2p sends it, through the reassembler in
     * every split pattern, comes out whole. */
    lp2p_buf wire = {0};
    frame(&wire, msgs[i].ct, msgs[i].ct_len);
    for (size_t pat = 0; pat < n_patterns(wire.len); pat++) {
      lp2p__noise_framer f = {0};
      lp2p_buf got = {0};
      int count = 0;
      assert_int_equal(framer_feed(&f, wire.data, wire.len, pat, &got, &count), 0);
      assert_int_equal(count, 1);
      assert_int_equal(got.len, msgs[i].ct_len);
      assert_memory_equal(got.data, msgs[i].ct, got.len);
      lp2p_buf_free(&got);
      lp2p__noise_framer_free(&f);
    }
    lp2p_buf_free(&wire);

    int pn = lp2p_noise_hs_read(rx, pl, sizeof pl, msgs[i].ct, msgs[i].ct_len);
    assert_int_equal(pn, (int)msgs[i].payload_len);
    assert_memory_equal(pl, msgs[i].payload, msgs[i].payload_len);
  }
  assert_true(lp2p_noise_hs_done(&ini));
  assert_true(lp2p_noise_hs_done(&res));
  assert_memory_equal(lp2p_noise_hs_hash(&ini), hh, 32);
  assert_memory_equal(lp2p_noise_hs_hash(&res), hh, 32);
  assert_memory_equal(lp2p_noise_hs_remote_static(&ini), lp2p_noise_hs_local_static(&res),
                      32);
  assert_memory_equal(lp2p_noise_hs_remote_static(&res), lp2p_noise_hs_local_static(&ini),
                      32);

  lp2p_noise_cs itx, irx, rtx, rrx;
  assert_int_equal(lp2p_noise_hs_split(&ini, &itx, &irx), 0);
  assert_int_equal(lp2p_noise_hs_split(&res, &rtx, &rrx), 0);

  /* Transport messages through the core. */
  {
    lp2p_noise_cs a = itx, b = irx, c = rtx, d = rrx;
    for (size_t i = 3; i < nm; i++) {
      lp2p_noise_cs *tx = i % 2 == 0 ? &a : &c;
      lp2p_noise_cs *rx = i % 2 == 0 ? &d : &b;
      uint8_t out[256], pl[256];
      int m =
          lp2p_noise_cs_encrypt(tx, out, NULL, 0, msgs[i].payload, msgs[i].payload_len);
      assert_int_equal(m, (int)msgs[i].ct_len);
      assert_memory_equal(out, msgs[i].ct, msgs[i].ct_len);
      int pn = lp2p_noise_cs_decrypt(rx, pl, NULL, 0, msgs[i].ct, msgs[i].ct_len);
      assert_int_equal(pn, (int)msgs[i].payload_len);
      assert_memory_equal(pl, msgs[i].payload, msgs[i].payload_len);
    }
  }

  /* Transport messages through the libp2p engine: send produces the
   * framed ciphertext byte for byte; the framed stream of each direction,
   * fed in every split pattern, decrypts to the payloads. */
  {
    sink si = {0}, sr = {0};
    lp2p_noise *ei = lp2p__noise_new_transport(NULL, sink_io(&si), &itx, &irx);
    lp2p_noise *er = lp2p__noise_new_transport(NULL, sink_io(&sr), &rtx, &rrx);
    assert_non_null(ei);
    assert_non_null(er);
    lp2p_buf to_init = {0}, to_resp = {0}, pl_init = {0}, pl_resp = {0};
    for (size_t i = 3; i < nm; i++) {
      int from_init = i % 2 == 0;
      sink *s = from_init ? &si : &sr;
      s->wire.len = 0;
      assert_int_equal(
          lp2p_noise_send(from_init ? ei : er, msgs[i].payload, msgs[i].payload_len), 0);
      lp2p_buf want = {0};
      frame(&want, msgs[i].ct, msgs[i].ct_len);
      assert_int_equal(s->wire.len, want.len);
      assert_memory_equal(s->wire.data, want.data, want.len);
      lp2p_buf_free(&want);
      frame(from_init ? &to_resp : &to_init, msgs[i].ct, msgs[i].ct_len);
      assert_int_equal(lp2p_buf_append(from_init ? &pl_resp : &pl_init, msgs[i].payload,
                                       msgs[i].payload_len),
                       0);
    }
    lp2p_noise_free(ei);
    lp2p_noise_free(er);
    for (int dir = 0; dir < 2; dir++) {
      lp2p_buf *stream = dir ? &to_resp : &to_init;
      lp2p_buf *want = dir ? &pl_resp : &pl_init;
      for (size_t pat = 0; pat < n_patterns(stream->len); pat++) {
        sink s = {0};
        lp2p_noise *e = dir ? lp2p__noise_new_transport(NULL, sink_io(&s), &rtx, &rrx)
                            : lp2p__noise_new_transport(NULL, sink_io(&s), &itx, &irx);
        assert_int_equal(feed(e, stream->data, stream->len, pat), 0);
        assert_int_equal(s.data.len, want->len);
        assert_memory_equal(s.data.data, want->data, want->len);
        assert_int_equal(s.ready, 0);
        assert_int_equal(s.wire.len, 0);
        lp2p_noise_free(e);
        sink_free(&s);
      }
    }
    lp2p_buf_free(&to_init);
    lp2p_buf_free(&to_resp);
    lp2p_buf_free(&pl_init);
    lp2p_buf_free(&pl_resp);
    sink_free(&si);
    sink_free(&sr);
  }
  lp2p_noise_hs_clear(&ini);
  lp2p_noise_hs_clear(&res);
  free(json);
}

static void test_cipher_limits(void **state) {
  (void)state;
  uint8_t k[32] = {1}, pt[8] = {0}, ct[8 + 16], out[8];
  lp2p_noise_cs cs;
  lp2p_noise_cs_init(&cs, k);
  cs.n = UINT64_MAX;
  assert_int_equal(lp2p_noise_cs_encrypt(&cs, ct, NULL, 0, pt, 8), LP2P_ELIMIT);
  lp2p_noise_cs_init(&cs, k);
  assert_int_equal(lp2p_noise_cs_encrypt(&cs, ct, NULL, 0, pt, 8), 24);
  assert_int_equal(cs.n, 1);
  lp2p_noise_cs_init(&cs, k);
  ct[3] ^= 1;
  assert_int_equal(lp2p_noise_cs_decrypt(&cs, out, NULL, 0, ct, 24), LP2P_EDECRYPT);
  assert_int_equal(cs.n, 0); /* a failed decrypt does not advance n */
  ct[3] ^= 1;
  assert_int_equal(lp2p_noise_cs_decrypt(&cs, out, NULL, 0, ct, 15), LP2P_EPROTO);
  assert_int_equal(lp2p_noise_cs_decrypt(&cs, out, NULL, 0, ct, 24), 8);
  /* Empty key: pass-through, as section 5.1 requires. */
  lp2p_noise_cs_init(&cs, NULL);
  assert_int_equal(lp2p_noise_cs_encrypt(&cs, ct, NULL, 0, pt, 8), 8);
  lp2p_noise_cs_clear(&cs);
}

/* ---- libp2p engines ----------------------------------------------------- */

static lp2p_identity id_ed, id_secp, id_other;

static int setup_ids(void **state) {
  (void)state;
  uint64_t seed = 42;
  lp2p_env env = {.random = tu_random, .random_ud = &seed};
  if (lp2p_identity_generate(&id_ed, LP2P_KEY_ED25519, &env)) return -1;
  if (lp2p_identity_generate(&id_secp, LP2P_KEY_SECP256K1, &env)) return -1;
  if (lp2p_identity_generate(&id_other, LP2P_KEY_ED25519, &env)) return -1;
  return 0;
}

static int teardown_ids(void **state) {
  (void)state;
  lp2p_identity_clear(&id_ed);
  lp2p_identity_clear(&id_secp);
  lp2p_identity_clear(&id_other);
  return 0;
}

typedef struct peer {
  uint64_t seed;
  lp2p_env env;
  sink s;
  lp2p_noise *n;
} peer;

/* Engines draw their keys from a seeded env: the same seed replays the
 * same handshake bytes. */
static void peer_new(peer *p, int initiator, const lp2p_identity *id,
                     const char *const *muxers, size_t n_muxers, uint64_t seed) {
  memset(p, 0, sizeof *p);
  p->seed = seed;
  p->env.random = tu_random;
  p->env.random_ud = &p->seed;
  lp2p_noise_config cfg = {0};
  cfg.initiator = initiator;
  cfg.identity = id;
  cfg.muxers = muxers;
  cfg.n_muxers = n_muxers;
  p->n = lp2p_noise_new(&p->env, &cfg, sink_io(&p->s));
  assert_non_null(p->n);
  p->s.self = p->n;
}

static void peer_free(peer *p) {
  lp2p_noise_free(p->n);
  sink_free(&p->s);
}

/* Moves what a wrote to b; returns b's recv result. */
static int pass(peer *a, peer *b) {
  lp2p_buf w = a->s.wire;
  memset(&a->s.wire, 0, sizeof a->s.wire);
  int rc = w.len ? lp2p_noise_recv(b->n, w.data, w.len) : 0;
  lp2p_buf_free(&w);
  return rc;
}

static void handshake(peer *i, peer *r) {
  assert_int_equal(lp2p_noise_start(i->n), 0);
  assert_int_equal(lp2p_noise_start(r->n), 0);
  assert_int_equal(r->s.wire.len, 0);
  assert_int_equal(i->s.wire.len, 2 + 32); /* msg 1: e, empty payload */
  assert_int_equal(pass(i, r), 0);         /* msg 1 -> msg 2 */
  assert_false(lp2p_noise_handshake_done(r->n));
  assert_int_equal(pass(r, i), 0); /* msg 2 -> msg 3, READY */
  assert_true(lp2p_noise_handshake_done(i->n));
  assert_int_equal(i->s.ready, 1);
  assert_int_equal(pass(i, r), 0); /* msg 3 -> READY */
  assert_true(lp2p_noise_handshake_done(r->n));
  assert_int_equal(r->s.ready, 1);
}

static void assert_peer(const lp2p_pubkey *got, const lp2p_identity *want) {
  assert_int_equal(got->type, want->pub.type);
  assert_int_equal(got->len, want->pub.len);
  assert_memory_equal(got->key, want->pub.key, got->len);
}

static void roundtrip(const lp2p_identity *ida, const lp2p_identity *idb) {
  peer i, r;
  peer_new(&i, 1, ida, NULL, 0, 1);
  peer_new(&r, 0, idb, NULL, 0, 2);
  handshake(&i, &r);
  assert_peer(&i.s.peer, idb);
  assert_peer(&r.s.peer, ida);
  assert_peer(lp2p_noise_remote_key(i.n), idb);
  assert_peer(lp2p_noise_remote_key(r.n), ida);
  assert_null(lp2p_noise_muxer(i.n));

  /* Both ways, small and over several frames. */
  size_t big = 3 * LP2P_NOISE_PLAINTEXT_MAX + 1000;
  uint8_t *data = malloc(big);
  assert_non_null(data);
  for (size_t k = 0; k < big; k++)
    data[k] = (uint8_t)(k * 7 + 3);
  assert_int_equal(lp2p_noise_send(i.n, (const uint8_t *)"hello", 5), 0);
  assert_int_equal(pass(&i, &r), 0);
  assert_int_equal(r.s.data.len, 5);
  assert_memory_equal(r.s.data.data, "hello", 5);
  assert_int_equal(lp2p_noise_send(r.n, data, big), 0);
  assert_int_equal(r.s.wire.len, big + 4 * (2 + LP2P_NOISE_TAGLEN));
  assert_int_equal(pass(&r, &i), 0);
  assert_int_equal(i.s.data_events, 4);
  assert_int_equal(i.s.data.len, big);
  assert_memory_equal(i.s.data.data, data, big);
  assert_int_equal(lp2p_noise_send(i.n, data, 0), 0);
  assert_int_equal(i.s.wire.len, 0);
  free(data);
  peer_free(&i);
  peer_free(&r);
}

static void test_roundtrip_ed25519(void **state) {
  (void)state;
  roundtrip(&id_ed, &id_ed);
  roundtrip(&id_ed, &id_other);
}

static void test_roundtrip_secp256k1(void **state) {
  (void)state;
  roundtrip(&id_secp, &id_secp);
  roundtrip(&id_secp, &id_ed);
  roundtrip(&id_ed, &id_secp);
}

/* Records one session's wire bytes, then replays each direction's stream
 * (handshake plus transport frames behind it) into a fresh engine with the
 * same seed, in every split pattern. */
static void split_replay(const lp2p_identity *ida, const lp2p_identity *idb) {
  static const char *const mux[] = {"/yamux/1.0.0"};
  static const uint8_t to_r[] = "initiator to responder";
  static const uint8_t to_i[] = "responder to initiator, after its READY";
  peer i, r;
  peer_new(&i, 1, ida, mux, 1, 11);
  peer_new(&r, 0, idb, mux, 1, 22);
  /* The responder answers inside its READY upcall; that frame follows
   * nothing on the initiator's stream but msg 2. */
  r.s.reply = to_i;
  r.s.reply_len = sizeof to_i;
  assert_int_equal(lp2p_noise_start(i.n), 0);
  lp2p_buf msg1 = i.s.wire, msg2, msg3, data_r, data_i;
  memset(&i.s.wire, 0, sizeof i.s.wire);
  assert_int_equal(lp2p_noise_recv(r.n, msg1.data, msg1.len), 0);
  msg2 = r.s.wire;
  memset(&r.s.wire, 0, sizeof r.s.wire);
  assert_int_equal(lp2p_noise_recv(i.n, msg2.data, msg2.len), 0);
  msg3 = i.s.wire;
  memset(&i.s.wire, 0, sizeof i.s.wire);
  assert_int_equal(lp2p_noise_send(i.n, to_r, sizeof to_r), 0);
  data_i = i.s.wire;
  memset(&i.s.wire, 0, sizeof i.s.wire);
  assert_int_equal(lp2p_noise_recv(r.n, msg3.data, msg3.len), 0);
  data_r = r.s.wire; /* the reply sent during READY */
  memset(&r.s.wire, 0, sizeof r.s.wire);
  assert_int_equal(r.s.ready, 1);
  assert_true(data_r.len > 0);
  peer_free(&i);
  peer_free(&r);

  lp2p_buf stream_r = {0}, stream_i = {0};
  assert_int_equal(lp2p_buf_append(&stream_r, msg1.data, msg1.len), 0);
  assert_int_equal(lp2p_buf_append(&stream_r, msg3.data, msg3.len), 0);
  assert_int_equal(lp2p_buf_append(&stream_r, data_i.data, data_i.len), 0);
  assert_int_equal(lp2p_buf_append(&stream_i, msg2.data, msg2.len), 0);
  assert_int_equal(lp2p_buf_append(&stream_i, data_r.data, data_r.len), 0);

  for (size_t pat = 0; pat < n_patterns(stream_r.len); pat++) {
    peer p;
    sink above = {0};
    peer_new(&p, 0, idb, mux, 1, 22);
    p.s.reply = to_i;
    p.s.reply_len = sizeof to_i;
    p.s.next = &above; /* leftover must land in the spliced-in layer */
    assert_int_equal(feed(p.n, stream_r.data, stream_r.len, pat), 0);
    assert_int_equal(p.s.ready, 1);
    assert_peer(&p.s.peer, ida);
    assert_string_equal(p.s.muxer, "/yamux/1.0.0");
    assert_int_equal(p.s.data.len, 0);
    assert_int_equal(above.data.len, sizeof to_r);
    assert_memory_equal(above.data.data, to_r, sizeof to_r);
    /* Its wire output is msg 2, then the reply, byte for byte. */
    assert_int_equal(p.s.wire.len, msg2.len + data_r.len);
    assert_memory_equal(p.s.wire.data, msg2.data, msg2.len);
    assert_memory_equal(p.s.wire.data + msg2.len, data_r.data, data_r.len);
    assert_int_equal(above.wire.len, 0);
    sink_free(&above);
    peer_free(&p);
  }
  for (size_t pat = 0; pat < n_patterns(stream_i.len); pat++) {
    peer p;
    peer_new(&p, 1, ida, mux, 1, 11);
    assert_int_equal(lp2p_noise_start(p.n), 0);
    assert_int_equal(feed(p.n, stream_i.data, stream_i.len, pat), 0);
    assert_int_equal(p.s.ready, 1);
    assert_peer(&p.s.peer, idb);
    assert_string_equal(p.s.muxer, "/yamux/1.0.0");
    assert_int_equal(p.s.data.len, sizeof to_i);
    assert_memory_equal(p.s.data.data, to_i, sizeof to_i);
    assert_int_equal(p.s.wire.len, msg1.len + msg3.len);
    assert_memory_equal(p.s.wire.data, msg1.data, msg1.len);
    assert_memory_equal(p.s.wire.data + msg1.len, msg3.data, msg3.len);
    peer_free(&p);
  }
  lp2p_buf_free(&stream_r);
  lp2p_buf_free(&stream_i);
  lp2p_buf_free(&msg1);
  lp2p_buf_free(&msg2);
  lp2p_buf_free(&msg3);
  lp2p_buf_free(&data_i);
  lp2p_buf_free(&data_r);
}

static void test_split_every_offset(void **state) {
  (void)state;
  split_replay(&id_ed, &id_secp);
  split_replay(&id_secp, &id_ed);
}

/* ---- inlined muxer negotiation ----------------------------------------- */

static void negotiate(const char *const *mi, size_t ni, const char *const *mr, size_t nr,
                      const char *want) {
  peer i, r;
  peer_new(&i, 1, &id_ed, mi, ni, 5);
  peer_new(&r, 0, &id_secp, mr, nr, 6);
  handshake(&i, &r);
  if (want) {
    assert_true(i.s.has_muxer);
    assert_true(r.s.has_muxer);
    assert_string_equal(i.s.muxer, want);
    assert_string_equal(r.s.muxer, want);
    assert_string_equal(lp2p_noise_muxer(i.n), want);
    assert_string_equal(lp2p_noise_muxer(r.n), want);
  } else {
    assert_false(i.s.has_muxer);
    assert_false(r.s.has_muxer);
    assert_null(lp2p_noise_muxer(i.n));
    assert_null(lp2p_noise_muxer(r.n));
  }
  peer_free(&i);
  peer_free(&r);
}

static void test_muxer_negotiation(void **state) {
  (void)state;
  static const char *const ym[] = {"/yamux/1.0.0", "/mplex/6.7.0"};
  static const char *const my[] = {"/mplex/6.7.0", "/yamux/1.0.0"};
  static const char *const m[] = {"/mplex/6.7.0"};
  static const char *const x[] = {"/other/1.0.0"};
  /* The initiator's preference wins over the responder's. */
  negotiate(ym, 2, my, 2, "/yamux/1.0.0");
  negotiate(my, 2, ym, 2, "/mplex/6.7.0");
  negotiate(ym, 2, m, 1, "/mplex/6.7.0");
  negotiate(m, 1, ym, 2, "/mplex/6.7.0");
  negotiate(ym, 2, x, 1, NULL); /* nothing in common */
  negotiate(ym, 2, NULL, 0, NULL);
  negotiate(NULL, 0, ym, 2, NULL);
  negotiate(NULL, 0, NULL, 0, NULL);
}

/* ---- tampering ---------------------------------------------------------- */

/* Runs a handshake, flipping bit `bit` of byte `at` of message `which`
 * (1..3, counting the 2-byte prefix) on the way; returns the receiver's
 * error and checks it sticks. */
static int flip_in_msg(int which, size_t at, int bit) {
  peer i, r;
  peer_new(&i, 1, &id_ed, NULL, 0, 7);
  peer_new(&r, 0, &id_secp, NULL, 0, 8);
  assert_int_equal(lp2p_noise_start(i.n), 0);
  peer *from = &i, *to = &r;
  int rc = 0;
  for (int m = 1; m <= 3 && rc == 0; m++) {
    if (m == which) {
      assert_true(at < from->s.wire.len);
      from->s.wire.data[at] ^= (uint8_t)(1u << bit);
    }
    rc = pass(from, to);
    peer *t = from;
    from = to;
    to = t;
  }
  peer *victim = from; /* swapped after the failing pass */
  if (rc) {
    assert_int_equal(lp2p_noise_recv(victim->n, (const uint8_t *)"x", 1), rc);
    assert_int_equal(lp2p_noise_send(victim->n, (const uint8_t *)"x", 1), rc);
    assert_int_equal(victim->s.ready, 0);
  }
  peer_free(&i);
  peer_free(&r);
  return rc;
}

static void test_tamper_handshake(void **state) {
  (void)state;
  /* Message 2: e (2..33), encrypted s (34..81), payload and tag. */
  size_t pos2[] = {2, 20, 33, 34, 60, 81, 82, 100, 120};
  for (size_t k = 0; k < sizeof pos2 / sizeof *pos2; k++)
    for (int bit = 0; bit < 8; bit += 7) {
      int rc = flip_in_msg(2, pos2[k], bit);
      assert_true(rc == LP2P_EDECRYPT);
    }
  /* Message 3: encrypted s (2..49), payload and tag. */
  size_t pos3[] = {2, 30, 49, 50, 80, 100};
  for (size_t k = 0; k < sizeof pos3 / sizeof *pos3; k++) {
    int rc = flip_in_msg(3, pos3[k], 3);
    assert_int_equal(rc, LP2P_EDECRYPT);
  }
  /* Message 1's e changes the transcript: message 2 no longer decrypts at
   * the initiator. */
  assert_int_equal(flip_in_msg(1, 10, 1), LP2P_EDECRYPT);
}

/* A hand-built peer: the core plus a payload of our choosing. */
typedef struct rogue {
  lp2p_noise_hs hs;
  uint8_t out[1024];
  size_t out_len;
} rogue;

static void rogue_init(rogue *g, int initiator) {
  uint8_t s[32], e[32];
  uint64_t seed = 99;
  tu_random(&seed, s, 32);
  tu_random(&seed, e, 32);
  assert_int_equal(lp2p_noise_hs_init(&g->hs, initiator, NULL, 0, s, e), 0);
}

static void rogue_write(rogue *g, const uint8_t *payload, size_t len) {
  int m = lp2p_noise_hs_write(&g->hs, g->out + 2, sizeof g->out - 2, payload, len);
  assert_true(m > 0);
  g->out[0] = (uint8_t)(m >> 8);
  g->out[1] = (uint8_t)m;
  g->out_len = 2 + (size_t)m;
}

/* A NoiseHandshakePayload by id over static key sk_of (NULL: no sig). */
static size_t make_payload(uint8_t *out, const lp2p_identity *id,
                           const uint8_t *signed_static) {
  uint8_t key[LP2P_PUBKEY_PB_MAX], sig[LP2P_SIG_MAX];
  uint8_t msg[sizeof LP2P_NOISE_SIG_PREFIX - 1 + 32];
  size_t sig_len = 0;
  int kl = lp2p_pubkey_marshal(key, sizeof key, &id->pub);
  assert_true(kl > 0);
  Pb__NoiseHandshakePayload pb = PB__NOISE_HANDSHAKE_PAYLOAD__INIT;
  pb.has_identity_key = 1;
  pb.identity_key.data = key;
  pb.identity_key.len = (size_t)kl;
  if (signed_static) {
    memcpy(msg, LP2P_NOISE_SIG_PREFIX, sizeof LP2P_NOISE_SIG_PREFIX - 1);
    memcpy(msg + sizeof LP2P_NOISE_SIG_PREFIX - 1, signed_static, 32);
    assert_int_equal(lp2p_identity_sign(sig, &sig_len, id, msg, sizeof msg), 0);
    pb.has_identity_sig = 1;
    pb.identity_sig.data = sig;
    pb.identity_sig.len = sig_len;
  }
  return pb__noise_handshake_payload__pack(&pb, out);
}

/* Our initiator against a rogue responder sending payload as message 2. */
static int rogue_responder(const uint8_t *payload, size_t len) {
  peer i;
  rogue g;
  uint8_t pl[64];
  peer_new(&i, 1, &id_ed, NULL, 0, 3);
  rogue_init(&g, 0);
  assert_int_equal(lp2p_noise_start(i.n), 0);
  assert_int_equal(
      lp2p_noise_hs_read(&g.hs, pl, sizeof pl, i.s.wire.data + 2, i.s.wire.len - 2), 0);
  i.s.wire.len = 0;
  rogue_write(&g, payload, len);
  int rc = lp2p_noise_recv(i.n, g.out, g.out_len);
  if (rc) {
    assert_int_equal(i.s.ready, 0);
    assert_int_equal(i.s.wire.len, 0); /* no message 3 */
  } else {
    assert_int_equal(i.s.ready, 1);
    assert_peer(&i.s.peer, &id_other);
  }
  peer_free(&i);
  lp2p_noise_hs_clear(&g.hs);
  return rc;
}

/* A rogue initiator sending payload as message 3 to our responder. */
static int rogue_initiator(const uint8_t *payload, size_t len) {
  peer r;
  rogue g;
  uint8_t pl[1024];
  peer_new(&r, 0, &id_secp, NULL, 0, 4);
  rogue_init(&g, 1);
  rogue_write(&g, NULL, 0);
  assert_int_equal(lp2p_noise_recv(r.n, g.out, g.out_len), 0);
  assert_true(
      lp2p_noise_hs_read(&g.hs, pl, sizeof pl, r.s.wire.data + 2, r.s.wire.len - 2) > 0);
  rogue_write(&g, payload, len);
  int rc = lp2p_noise_recv(r.n, g.out, g.out_len);
  assert_int_equal(r.s.ready, rc ? 0 : 1);
  peer_free(&r);
  lp2p_noise_hs_clear(&g.hs);
  return rc;
}

static void test_tamper_payload(void **state) {
  (void)state;
  uint8_t pb[512], other[32];
  uint64_t seed = 1234;
  tu_random(&seed, other, 32);
  rogue g;

  /* Sanity: a correct rogue payload is accepted by both sides. */
  rogue_init(&g, 0);
  size_t n = make_payload(pb, &id_other, lp2p_noise_hs_local_static(&g.hs));
  assert_int_equal(rogue_responder(pb, n), 0);
  rogue_init(&g, 1);
  n = make_payload(pb, &id_other, lp2p_noise_hs_local_static(&g.hs));
  assert_int_equal(rogue_initiator(pb, n), 0);

  /* Signature over another static key. */
  n = make_payload(pb, &id_other, other);
  assert_int_equal(rogue_responder(pb, n), LP2P_ESIG);
  assert_int_equal(rogue_initiator(pb, n), LP2P_ESIG);
  n = make_payload(pb, &id_secp, other);
  assert_int_equal(rogue_responder(pb, n), LP2P_ESIG);

  /* No signature, no payload at all, garbage protobuf. */
  n = make_payload(pb, &id_other, NULL);
  assert_int_equal(rogue_responder(pb, n), LP2P_EPROTO);
  assert_int_equal(rogue_responder(NULL, 0), LP2P_EPROTO);
  assert_int_equal(rogue_initiator(NULL, 0), LP2P_EPROTO);
  static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x12};
  assert_int_equal(rogue_responder(junk, sizeof junk), LP2P_EPROTO);
  assert_int_equal(rogue_initiator(junk, sizeof junk), LP2P_EPROTO);
  /* A well-formed protobuf whose identity key is not a key. */
  static const uint8_t badkey[] = {0x0a, 0x04, 0x08, 0x01, 0x12, 0x00, 0x12, 0x01, 0x00};
  assert_int_equal(rogue_responder(badkey, sizeof badkey), LP2P_EKEY);
  lp2p_noise_hs_clear(&g.hs);
}

/* Feeds raw bytes to a fresh responder; returns the error. */
static int to_responder(const uint8_t *p, size_t len) {
  peer r;
  peer_new(&r, 0, &id_ed, NULL, 0, 9);
  int rc = lp2p_noise_recv(r.n, p, len);
  if (rc) assert_int_equal(lp2p_noise_recv(r.n, p, len), rc);
  assert_int_equal(r.s.ready, 0);
  peer_free(&r);
  return rc;
}

static void test_tamper_framing(void **state) {
  (void)state;
  uint8_t b[80] = {0};
  /* Message 1 shorter than e, and empty. */
  b[0] = 0, b[1] = 31;
  assert_int_equal(to_responder(b, 2 + 31), LP2P_EPROTO);
  b[1] = 0;
  assert_int_equal(to_responder(b, 2), LP2P_EPROTO);
  /* Message 1 with a low-order e: the DH result is all zero. */
  b[1] = 32;
  assert_int_equal(to_responder(b, 2 + 32), LP2P_EKEY);
  /* A handshake length over the cap fails on the prefix alone. */
  b[0] = 0xff, b[1] = 0xff;
  assert_int_equal(to_responder(b, 2), LP2P_ETOOBIG);
  /* An incomplete frame is no error yet. */
  b[0] = 0, b[1] = 32;
  assert_int_equal(to_responder(b, 10), 0);

  /* Message 2 too short to hold e, s and tags. */
  {
    peer i;
    peer_new(&i, 1, &id_ed, NULL, 0, 3);
    assert_int_equal(lp2p_noise_recv(i.n, b, 2), LP2P_EINVAL); /* no start */
    peer_free(&i);
    peer_new(&i, 1, &id_ed, NULL, 0, 3);
    assert_int_equal(lp2p_noise_start(i.n), 0);
    assert_int_equal(lp2p_noise_start(i.n), LP2P_EINVAL);
    peer_free(&i);
    peer_new(&i, 1, &id_ed, NULL, 0, 3);
    assert_int_equal(lp2p_noise_send(i.n, b, 1), LP2P_EINVAL);
    peer_free(&i);
    peer_new(&i, 1, &id_ed, NULL, 0, 3);
    assert_int_equal(lp2p_noise_start(i.n), 0);
    b[0] = 0, b[1] = 50;
    assert_int_equal(lp2p_noise_recv(i.n, b, 52), LP2P_EPROTO);
    peer_free(&i);
  }

  /* Transport: short frames, empty frames, flipped bits, replays. */
  static const uint8_t lens[][2] = {{0, 0}, {0, 1}, {0, 15}};
  for (size_t k = 0; k < 3; k++) {
    peer i, r;
    peer_new(&i, 1, &id_ed, NULL, 0, 1);
    peer_new(&r, 0, &id_secp, NULL, 0, 2);
    handshake(&i, &r);
    uint8_t f[2 + 15] = {lens[k][0], lens[k][1]};
    assert_int_equal(lp2p_noise_recv(r.n, f, 2 + lens[k][1]), LP2P_EPROTO);
    assert_int_equal(lp2p_noise_send(r.n, f, 1), LP2P_EPROTO);
    peer_free(&i);
    peer_free(&r);
  }
  {
    peer i, r;
    peer_new(&i, 1, &id_ed, NULL, 0, 1);
    peer_new(&r, 0, &id_secp, NULL, 0, 2);
    handshake(&i, &r);
    assert_int_equal(lp2p_noise_send(i.n, (const uint8_t *)"ab", 2), 0);
    lp2p_buf saved = {0};
    assert_int_equal(lp2p_buf_append(&saved, i.s.wire.data, i.s.wire.len), 0);
    assert_int_equal(pass(&i, &r), 0);
    assert_int_equal(r.s.data_events, 1);
    /* Replaying the same frame: the nonce moved on. */
    assert_int_equal(lp2p_noise_recv(r.n, saved.data, saved.len), LP2P_EDECRYPT);
    lp2p_buf_free(&saved);
    peer_free(&i);
    peer_free(&r);

    peer_new(&i, 1, &id_ed, NULL, 0, 1);
    peer_new(&r, 0, &id_secp, NULL, 0, 2);
    handshake(&i, &r);
    assert_int_equal(lp2p_noise_send(i.n, (const uint8_t *)"abc", 3), 0);
    i.s.wire.data[4] ^= 0x10;
    assert_int_equal(pass(&i, &r), LP2P_EDECRYPT);
    assert_int_equal(r.s.data.len, 0);
    peer_free(&i);
    peer_free(&r);
  }
}

/* A frame holding only the tag (empty plaintext) is valid and silent. */
static void test_empty_frame(void **state) {
  (void)state;
  uint8_t k1[32], k2[32], f[2 + 16 + 3];
  uint64_t seed = 5;
  tu_random(&seed, k1, 32);
  tu_random(&seed, k2, 32);
  lp2p_noise_cs tx, rx, enc;
  lp2p_noise_cs_init(&tx, k1);
  lp2p_noise_cs_init(&rx, k2);
  lp2p_noise_cs_init(&enc, k2);
  sink s = {0};
  lp2p_noise *e = lp2p__noise_new_transport(NULL, sink_io(&s), &tx, &rx);
  assert_non_null(e);
  f[0] = 0, f[1] = 16;
  assert_int_equal(lp2p_noise_cs_encrypt(&enc, f + 2, NULL, 0, NULL, 0), 16);
  assert_int_equal(lp2p_noise_recv(e, f, 18), 0);
  assert_int_equal(s.data_events, 0);
  f[0] = 0, f[1] = 19;
  assert_int_equal(lp2p_noise_cs_encrypt(&enc, f + 2, NULL, 0, (const uint8_t *)"xyz", 3),
                   19);
  assert_int_equal(lp2p_noise_recv(e, f, sizeof f), 0);
  assert_int_equal(s.data_events, 1);
  assert_memory_equal(s.data.data, "xyz", 3);
  lp2p_noise_free(e);
  sink_free(&s);
}

/* ---- gathered sealing: lp2p_noise_cs_encryptv, lp2p_noise_sendv ------- */

/* src/aead.h: from here on OpenSSL seals messages of 1 KiB and more. */
int lp2p__aead_enable_bulk(void);

static void fill(uint8_t *p, size_t len, unsigned mul) {
  for (size_t i = 0; i < len; i++)
    p[i] = (uint8_t)(i * mul + 3);
}

/* Every cut of a message into two pieces and into three (the first half
 * split again) seals to the bytes of the whole message (want, when given,
 * or the whole sealed now). Offsets step by `step` away from both ends. */
static void check_splits(size_t len, size_t step, const uint8_t *want_in) {
  static const uint8_t k[32] = {9, 8, 7};
  uint8_t *pt = malloc(len + 1), *want = malloc(len + 16), *got = malloc(len + 16);
  assert_non_null(pt && want && got);
  fill(pt, len, 31);
  lp2p_noise_cs cs;
  lp2p_noise_cs_init(&cs, k);
  assert_int_equal(lp2p_noise_cs_encrypt(&cs, want, NULL, 0, pt, len), (int)(len + 16));
  if (want_in) assert_memory_equal(want, want_in, len + 16);
  for (size_t cut = 0; cut <= len; cut += cut < 70 || len - cut < 70 ? 1 : step) {
    lp2p_iovec two[2] = {{pt, cut}, {pt + cut, len - cut}};
    lp2p_iovec three[3] = {{pt, cut / 2}, {pt + cut / 2, cut - cut / 2}, two[1]};
    lp2p_noise_cs_init(&cs, k);
    assert_int_equal(lp2p_noise_cs_encryptv(&cs, got, NULL, 0, two, 2), (int)(len + 16));
    assert_memory_equal(got, want, len + 16);
    lp2p_noise_cs_init(&cs, k);
    assert_int_equal(lp2p_noise_cs_encryptv(&cs, got, NULL, 0, three, 3),
                     (int)(len + 16));
    assert_memory_equal(got, want, len + 16);
  }
  free(pt);
  free(want);
  free(got);
}

/* libsodium (every size before bulk is on, short messages after) and
 * OpenSSL (1 KiB and more once on) agree, whole and gathered. */
static void test_sealv_splits(void **state) {
  (void)state;
  static uint8_t sodium_3000[3000 + 16], sodium_max[LP2P_NOISE_PLAINTEXT_MAX + 16];
  uint8_t k[32] = {9, 8, 7}, pt[LP2P_NOISE_PLAINTEXT_MAX];
  lp2p_noise_cs cs;
  fill(pt, sizeof pt, 31);
  lp2p_noise_cs_init(&cs, k);
  lp2p_noise_cs_encrypt(&cs, sodium_3000, NULL, 0, pt, 3000);
  lp2p_noise_cs_init(&cs, k);
  lp2p_noise_cs_encrypt(&cs, sodium_max, NULL, 0, pt, sizeof pt);
  check_splits(0, 1, NULL);
  check_splits(100, 1, NULL);
  check_splits(3000, 1, sodium_3000);
  if (!lp2p__aead_enable_bulk()) {
    print_message("libcrypto not available: OpenSSL path not checked\n");
    return;
  }
  check_splits(100, 1, NULL);
  check_splits(3000, 1, sodium_3000);
  check_splits(LP2P_NOISE_PLAINTEXT_MAX, 4093, sodium_max);
}

/* A sink that lends room at the tail of its wire buffer, as the stream
 * driver does, and counts the writes it took in place and those it
 * copied. fail_after: writes accepted before it refuses (0: never). */
typedef struct lend {
  lp2p_buf wire;
  size_t in_place, copied, writes, fail_after;
} lend;

static uint8_t *lend_reserve(void *ud, size_t len) {
  lend *l = ud;
  return lp2p_buf_reserve(&l->wire, len) ? NULL : l->wire.data + l->wire.len;
}

static int lend_write(void *ud, const uint8_t *p, size_t len) {
  lend *l = ud;
  if (l->fail_after && l->writes == l->fail_after) return LP2P_ENOMEM;
  l->writes++;
  if (p == l->wire.data + l->wire.len && len <= l->wire.cap - l->wire.len) {
    l->in_place++;
    l->wire.len += len;
    return 0;
  }
  l->copied++;
  return lp2p_buf_append(&l->wire, p, len);
}

static int lend_event(void *ud, const lp2p_event *ev) {
  (void)ud, (void)ev;
  return 0;
}

/* sendv over pieces (a yamux header and a payload of three messages and
 * more) writes exactly what send of the joined bytes writes, each message
 * sealed in the room the sink lent; a frame of many small pieces is cut
 * into more messages but reads back the same; a refused write fails the
 * engine. */
static void test_sendv(void **state) {
  (void)state;
  uint8_t k1[32] = {1}, k2[32] = {2};
  enum { PAY = 3 * LP2P_NOISE_PLAINTEXT_MAX + 1000 };
  static uint8_t joined[12 + PAY];
  fill(joined, sizeof joined, 7);
  lp2p_noise_cs tx, rx;
  lp2p_noise_cs_init(&tx, k1);
  lp2p_noise_cs_init(&rx, k2);
  sink plain = {0};
  lend l = {0};
  lp2p_noise *a = lp2p__noise_new_transport(NULL, sink_io(&plain), &tx, &rx);
  lp2p_noise *b = lp2p__noise_new_transport(
      NULL,
      (lp2p_io){
          .write = lend_write, .event = lend_event, .ud = &l, .reserve = lend_reserve},
      &tx, &rx);
  assert_non_null(a);
  assert_non_null(b);
  assert_int_equal(lp2p_noise_send(a, joined, sizeof joined), 0);
  lp2p_iovec v[3] = {{joined, 12}, {joined + 12, 0}, {joined + 12, PAY}};
  assert_int_equal(lp2p_noise_sendv(b, v, 3), 0);
  assert_int_equal(l.wire.len, plain.wire.len);
  assert_memory_equal(l.wire.data, plain.wire.data, plain.wire.len);
  assert_int_equal(l.in_place, 4);
  assert_int_equal(l.copied, 0);

  /* 30 pieces of 3 bytes, then a large one: more pieces than one message
   * gathers, so more messages; the receiver reads the same bytes. */
  lp2p_iovec many[31];
  for (size_t i = 0; i < 30; i++)
    many[i] = (lp2p_iovec){joined + 3 * i, 3};
  many[30] = (lp2p_iovec){joined + 90, sizeof joined - 90};
  l.wire.len = 0;
  lp2p_noise_cs rx_b = tx; /* b has sent 4 messages under tx's key since */
  rx_b.n = 4;
  assert_int_equal(lp2p_noise_sendv(b, many, 31), 0);
  sink got = {0};
  lp2p_noise *r = lp2p__noise_new_transport(NULL, sink_io(&got), &rx, &rx_b);
  assert_non_null(r);
  assert_int_equal(lp2p_noise_recv(r, l.wire.data, l.wire.len), 0);
  assert_int_equal(got.data.len, sizeof joined);
  assert_memory_equal(got.data.data, joined, sizeof joined);
  assert_true(got.data_events > 4);

  /* Refused on the second message: the error, then sticky. */
  l.fail_after = l.writes + 1;
  assert_int_equal(lp2p_noise_sendv(b, v, 3), LP2P_ENOMEM);
  assert_int_equal(lp2p_noise_send(b, joined, 1), LP2P_ENOMEM);
  lp2p_noise_free(a);
  lp2p_noise_free(b);
  lp2p_noise_free(r);
  sink_free(&plain);
  sink_free(&got);
  lp2p_buf_free(&l.wire);
}

int main(void) {
  if (getenv("LP2P_DEBUG")) lp2p_log_level = LP2P_LOG_DEBUG;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cacophony_xx),
      cmocka_unit_test(test_cipher_limits),
      cmocka_unit_test(test_empty_frame),
      cmocka_unit_test(test_sealv_splits),
      cmocka_unit_test(test_sendv),
      cmocka_unit_test(test_roundtrip_ed25519),
      cmocka_unit_test(test_roundtrip_secp256k1),
      cmocka_unit_test(test_split_every_offset),
      cmocka_unit_test(test_muxer_negotiation),
      cmocka_unit_test(test_tamper_handshake),
      cmocka_unit_test(test_tamper_payload),
      cmocka_unit_test(test_tamper_framing),
  };
  return cmocka_run_group_tests(tests, setup_ids, teardown_ids);
}
