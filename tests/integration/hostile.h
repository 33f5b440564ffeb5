/* Shared harness of the hostile-peer integration tests (test_hostile_*.c).
 *
 * A real listener (lp2p__tcp_listen on 127.0.0.1:0) runs on a uv loop in the
 * test process; scripted raw-TCP clients (plain non-blocking sockets) talk
 * to it while the loop is pumped with uv_run(UV_RUN_NOWAIT), every wait
 * bounded by the wall clock. A scripted Noise initiator built on the core
 * API of noise.h (lp2p_noise_hs_*) lets a case send any handshake payload
 * and any plaintext once secured. After each hostile case the test checks
 * that the listener closed that connection with the expected error, that
 * the reason was logged, that its connection count is back to 0, and that a
 * well-behaved dialer (lp2p__tcp_dial with a real lp2p_conn) still
 * completes a ping against it.
 *
 * Header-only: every test program is built from one .c file plus
 * tests/unit/testutil.c. */
#ifndef LP2P_TEST_HOSTILE_H
#define LP2P_TEST_HOSTILE_H

#include "testutil.h"

#include "../../src/tcp.h"
#include "lp2p/codec.h"
#include "lp2p/conn.h"
#include "lp2p/mss.h"
#include "lp2p/noise.h"
#include "noise.pb-c.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HU_FN static __attribute__((unused))

/* Short enough that every deadline case ends fast, long enough for a
 * loaded 2-core machine under ASan to finish an honest handshake. */
#define HU_STEP_MS 300
/* Bound on any single wait of a case. */
#define HU_WAIT_MS 5000

HU_FN uint64_t hu_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- the listener under test ------------------------------------------ */

typedef struct hl {
  uv_loop_t loop;
  lp2p_env env;
  uint64_t seed;
  lp2p_identity id;
  lp2p_peerid pid;
  lp2p_conn_config cfg;
  lp2p__tcp_listener *l;
  uint16_t port;
  /* Byte layers under the connection (test_hostile_ws.c); none for tcp.
   * The honest dialer of hl_check_serves uses the same. */
  const lp2p_layer_ops *const *layers;
  size_t n_layers;
  int readies;  /* connections that reached READY */
  int closes;   /* closed() calls */
  int last_err; /* err of the last closed() */
  /* log capture: stderr goes to a temp file during a case */
  int saved_stderr;
  FILE *logf;
} hl;

HU_FN void hl_on_ready(void *ud, lp2p__tcp_conn *tc, const lp2p_peerid *peer) {
  (void)tc;
  (void)peer;
  ((hl *)ud)->readies++;
}

HU_FN void hl_on_closed(void *ud, lp2p__tcp_conn *tc, int err) {
  (void)tc;
  hl *h = ud;
  h->closes++;
  h->last_err = err;
}

/* Runs the loop without blocking, then sleeps up to 1 ms on fd (or just
 * sleeps when fd < 0), so waits do not spin. */
HU_FN void hl_pump(hl *h, int fd) {
  uv_run(&h->loop, UV_RUN_NOWAIT);
  struct pollfd p = {.fd = fd, .events = POLLIN};
  poll(&p, fd >= 0 ? 1 : 0, 1);
  uv_run(&h->loop, UV_RUN_NOWAIT);
}

HU_FN void hl_pump_ms(hl *h, unsigned ms) {
  uint64_t end = hu_now_ms() + ms;
  while (hu_now_ms() < end)
    hl_pump(h, -1);
}

/* A listener securing with `security` ("noise", "tls", "plaintext") under
 * the byte layers `layers` (none for tcp); tls_creds: the certificate a
 * TLS byte layer serves (wss), else NULL. */
HU_FN void hl_init_chain(hl *h, const char *security, const char *muxer,
                         const lp2p_layer_ops *const *layers, size_t n_layers,
                         const struct lp2p_tls_creds *tls_creds) {
  memset(h, 0, sizeof *h);
  h->layers = layers;
  h->n_layers = n_layers;
  if (getenv("LP2P_DEBUG")) lp2p_log_level = LP2P_LOG_DEBUG;
  h->seed = 0x1234567 ^ (uint64_t)hu_now_ms();
  h->env.random = tu_random;
  h->env.random_ud = &h->seed;
  assert_int_equal(uv_loop_init(&h->loop), 0);
  assert_int_equal(lp2p_identity_generate(&h->id, LP2P_KEY_ED25519, &h->env), 0);
  assert_int_equal(lp2p_peerid_from_pubkey(&h->pid, &h->id.pub), 0);
  h->cfg = (lp2p_conn_config){.initiator = 0,
                              .identity = &h->id,
                              .security = lp2p_security_find(security),
                              .muxer = lp2p_muxer_find(muxer),
                              .step_timeout_ms = HU_STEP_MS};
  assert_non_null(h->cfg.security);
  assert_non_null(h->cfg.muxer);
  lp2p__tcp_handlers hd = {.ready = hl_on_ready, .closed = hl_on_closed, .ud = h};
  lp2p_chain_config cc = {.conn = &h->cfg, .layers = layers, .n_layers = n_layers};
  cc.params.step_timeout_ms = HU_STEP_MS;
  cc.params.tls_creds = tls_creds;
  assert_int_equal(
      lp2p__tcp_listen_chain(&h->loop, &h->env, "127.0.0.1", 0, &cc, &hd, &h->l), 0);
  assert_int_equal(lp2p__tcp_listener_port(h->l, &h->port), 0);
  h->saved_stderr = -1;
}

HU_FN void hl_init_sec(hl *h, const char *security, const char *muxer) {
  hl_init_chain(h, security, muxer, NULL, 0, NULL);
}

HU_FN void hl_init_layers(hl *h, const char *muxer, const lp2p_layer_ops *const *layers,
                          size_t n_layers) {
  hl_init_chain(h, "noise", muxer, layers, n_layers, NULL);
}

HU_FN void hl_init(hl *h, const char *muxer) { hl_init_sec(h, "noise", muxer); }

HU_FN void hl_walk_close(uv_handle_t *hd, void *arg) {
  (void)arg;
  if (!uv_is_closing(hd)) uv_close(hd, NULL);
}

/* Closes the listener and everything left, runs the loop dry and checks
 * that it closes: no handle was leaked. */
HU_FN void hl_free(hl *h) {
  lp2p__tcp_listener_close(h->l);
  uv_run(&h->loop, UV_RUN_NOWAIT);
  uv_walk(&h->loop, hl_walk_close, NULL);
  uv_run(&h->loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&h->loop), 0);
  lp2p_identity_clear(&h->id);
}

/* Waits until the listener has no connection open. */
HU_FN int hl_wait_idle(hl *h, unsigned ms) {
  uint64_t end = hu_now_ms() + ms;
  while (lp2p__tcp_listener_count(h->l) && hu_now_ms() < end)
    hl_pump(h, -1);
  return (int)lp2p__tcp_listener_count(h->l);
}

/* ---- log capture ----------------------------------------------------- */

HU_FN void hl_log_begin(hl *h) {
  fflush(stderr);
  h->logf = tmpfile();
  assert_non_null(h->logf);
  h->saved_stderr = dup(2);
  dup2(fileno(h->logf), 2);
}

/* Restores stderr, copies what was logged there and returns it (caller
 * frees). */
HU_FN char *hl_log_end(hl *h) {
  fflush(stderr);
  dup2(h->saved_stderr, 2);
  close(h->saved_stderr);
  h->saved_stderr = -1;
  long n = ftell(h->logf);
  if (n < 0) n = 0;
  char *s = calloc(1, (size_t)n + 1);
  rewind(h->logf);
  size_t got = fread(s, 1, (size_t)n, h->logf);
  s[got] = 0;
  fclose(h->logf);
  h->logf = NULL;
  fputs(s, stderr);
  return s;
}

/* ---- raw client sockets ---------------------------------------------- */

typedef struct hc {
  hl *h;
  int fd;
  lp2p_buf in; /* received, not yet consumed */
  int eof;     /* the listener closed (FIN or RST) */
  int err;     /* errno of a failed read/write */
} hc;

HU_FN int hu_connect_fd(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(fd >= 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  /* Loopback connects complete in the kernel backlog, before the loop
   * accepts, so a blocking connect cannot deadlock here. */
  assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

HU_FN void hc_open(hc *c, hl *h) {
  memset(c, 0, sizeof *c);
  c->h = h;
  c->fd = hu_connect_fd(h->port);
}

/* Starts a hostile case: the log is captured from here to
 * hl_expect_closed, and one raw client is connected. */
HU_FN void hl_case(hl *h, hc *c, const char *name) {
  fprintf(stderr, "---- case: %s\n", name);
  hl_log_begin(h);
  hc_open(c, h);
}

/* Abortive close: RST instead of FIN. */
HU_FN void hc_reset(hc *c) {
  struct linger lg = {.l_onoff = 1, .l_linger = 0};
  setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
}

HU_FN void hc_close(hc *c) {
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
  lp2p_buf_free(&c->in);
}

/* Reads what is available into c->in; sets eof / err. */
HU_FN void hc_read_some(hc *c) {
  uint8_t buf[16384];
  for (;;) {
    ssize_t n = recv(c->fd, buf, sizeof buf, 0);
    if (n > 0) {
      lp2p_buf_append(&c->in, buf, (size_t)n);
      continue;
    }
    if (n == 0)
      c->eof = 1;
    else if (errno != EAGAIN && errno != EWOULDBLOCK)
      c->eof = 1, c->err = errno;
    return;
  }
}

/* Sends everything, pumping the loop while the socket is full. Returns 0,
 * or -errno when the listener has gone (EPIPE, ECONNRESET) or the wait ran
 * out (-ETIMEDOUT). When `drain` is 0 nothing is read meanwhile: a peer
 * that never reads. */
HU_FN int hc_send_opt(hc *c, const void *p, size_t len, int drain) {
  const uint8_t *b = p;
  uint64_t end = hu_now_ms() + HU_WAIT_MS;
  while (len) {
    ssize_t n = send(c->fd, b, len, MSG_NOSIGNAL);
    if (n > 0) {
      b += n;
      len -= (size_t)n;
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return -errno;
    if (hu_now_ms() >= end) return -ETIMEDOUT;
    hl_pump(c->h, -1);
    if (drain) hc_read_some(c);
  }
  uv_run(&c->h->loop, UV_RUN_NOWAIT);
  return 0;
}

HU_FN int hc_send(hc *c, const void *p, size_t len) { return hc_send_opt(c, p, len, 1); }

/* Waits until c->in holds at least n bytes; 0, or -1 on EOF / timeout. */
HU_FN int hc_need(hc *c, size_t n) {
  uint64_t end = hu_now_ms() + HU_WAIT_MS;
  for (;;) {
    hc_read_some(c);
    if (c->in.len >= n) return 0;
    if (c->eof || hu_now_ms() >= end) return -1;
    hl_pump(c->h, c->fd);
  }
}

/* Waits (reading and discarding) until the listener closes the socket.
 * Returns 0 when it did within ms. */
HU_FN int hc_wait_closed(hc *c, unsigned ms) {
  uint64_t end = hu_now_ms() + ms;
  for (;;) {
    hc_read_some(c);
    c->in.len = 0;
    if (c->eof) return 0;
    if (hu_now_ms() >= end) return -1;
    hl_pump(c->h, c->fd);
  }
}

/* ---- multistream by hand ----------------------------------------------- */

/* Appends one multistream message (varint length, text, '\n'). */
HU_FN void hu_mss_msg(lp2p_buf *b, const char *text) {
  uint8_t m[LP2P_MSS_MAX_MSG + 16];
  int n = lp2p_mss_encode(m, sizeof m, text);
  assert_true(n > 0);
  lp2p_buf_append(b, m, (size_t)n);
}

/* Negotiates /noise as the initiator: header and proposal out, header and
 * echo back. */
HU_FN void hc_mss_noise(hc *c) {
  lp2p_buf b = {0};
  hu_mss_msg(&b, LP2P_MSS_PROTOCOL);
  hu_mss_msg(&b, "/noise");
  assert_int_equal(hc_send(c, b.data, b.len), 0);
  size_t want = b.len;
  assert_int_equal(hc_need(c, want), 0);
  assert_memory_equal(c->in.data, b.data, want);
  lp2p_buf_consume(&c->in, want);
  lp2p_buf_free(&b);
}

/* ---- a scripted Noise initiator on the core API ------------------------ */

typedef struct hn {
  hc *c;
  lp2p_noise_hs hs;
  lp2p_noise_cs tx, rx;
  lp2p_identity id;
  uint8_t remote_payload[LP2P_NOISE_PAYLOAD_MAX];
  int remote_payload_len;
} hn;

HU_FN void hn_init(hn *n, hc *c, const uint8_t *ephemeral) {
  memset(n, 0, sizeof *n);
  n->c = c;
  uint8_t s[32], e[32];
  tu_random(&c->h->seed, s, 32);
  tu_random(&c->h->seed, e, 32);
  assert_int_equal(lp2p_noise_hs_init(&n->hs, 1, NULL, 0, s, ephemeral ? ephemeral : e),
                   0);
  assert_int_equal(lp2p_identity_generate(&n->id, LP2P_KEY_ED25519, &c->h->env), 0);
}

HU_FN void hn_free(hn *n) {
  lp2p_noise_hs_clear(&n->hs);
  lp2p_identity_clear(&n->id);
}

/* Frames body with the 2-byte big-endian length of libp2p noise. */
HU_FN void hu_frame(lp2p_buf *b, const uint8_t *p, size_t len) {
  uint8_t hdr[2] = {(uint8_t)(len >> 8), (uint8_t)len};
  lp2p_buf_append(b, hdr, 2);
  lp2p_buf_append(b, p, len);
}

/* Message 1 (-> e), framed, appended to b. */
HU_FN void hn_msg1(hn *n, lp2p_buf *b) {
  uint8_t m[64];
  int len = lp2p_noise_hs_write(&n->hs, m, sizeof m, NULL, 0);
  assert_int_equal(len, 32);
  hu_frame(b, m, (size_t)len);
}

/* Reads one frame from the socket into out (cap bytes); returns its
 * length or -1. */
HU_FN int hc_read_frame(hc *c, uint8_t *out, size_t cap) {
  if (hc_need(c, 2)) return -1;
  size_t len = (size_t)c->in.data[0] << 8 | c->in.data[1];
  if (len > cap || hc_need(c, 2 + len)) return -1;
  memcpy(out, c->in.data + 2, len);
  lp2p_buf_consume(&c->in, 2 + len);
  return (int)len;
}

/* Reads message 2 (<- e, ee, s, es) and decrypts its payload. */
HU_FN void hn_read_msg2(hn *n) {
  static uint8_t m[LP2P_NOISE_MSG_MAX];
  int len = hc_read_frame(n->c, m, sizeof m);
  assert_true(len > 0);
  n->remote_payload_len = lp2p_noise_hs_read(&n->hs, n->remote_payload,
                                             sizeof n->remote_payload, m, (size_t)len);
  assert_true(n->remote_payload_len > 0);
}

/* What to put in our handshake payload. */
typedef enum hn_payload {
  HN_GOOD,
  HN_NO_SIG,
  HN_NO_KEY,
  HN_BAD_SIG,       /* a flipped bit in the signature */
  HN_SIG_OTHER_KEY, /* a valid signature over another static key */
  HN_GARBAGE,       /* not a protobuf */
  HN_UNKNOWN_KEY,   /* PublicKey with KeyType 7 */
  HN_RSA_KEY        /* PublicKey of a type we cannot hold */
} hn_payload;

/* Builds a NoiseHandshakePayload for our static key, listing `muxer` for
 * inlined negotiation (or none when NULL). Returns its length. */
HU_FN size_t hn_payload_build(hn *n, hn_payload kind, const char *muxer, uint8_t *out,
                              size_t cap) {
  if (kind == HN_GARBAGE) {
    static const uint8_t g[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x12, 0x01};
    memcpy(out, g, sizeof g);
    return sizeof g;
  }
  uint8_t msg[sizeof LP2P_NOISE_SIG_PREFIX - 1 + 32];
  memcpy(msg, LP2P_NOISE_SIG_PREFIX, sizeof LP2P_NOISE_SIG_PREFIX - 1);
  memcpy(msg + sizeof LP2P_NOISE_SIG_PREFIX - 1, lp2p_noise_hs_local_static(&n->hs), 32);
  if (kind == HN_SIG_OTHER_KEY)
    tu_random(&n->c->h->seed, msg + sizeof LP2P_NOISE_SIG_PREFIX - 1, 32);
  uint8_t sig[LP2P_SIG_MAX], key[LP2P_PUBKEY_PB_MAX + 64];
  size_t sig_len = 0;
  assert_int_equal(lp2p_identity_sign(sig, &sig_len, &n->id, msg, sizeof msg), 0);
  if (kind == HN_BAD_SIG) sig[5] ^= 0x10;
  int key_len = lp2p_pubkey_marshal(key, sizeof key, &n->id.pub);
  assert_true(key_len > 0);
  if (kind == HN_UNKNOWN_KEY || kind == HN_RSA_KEY) {
    /* PublicKey { Type = 7 | 0, Data = 32 bytes } */
    key[0] = 0x08;
    key[1] = kind == HN_UNKNOWN_KEY ? 7 : 0;
    key[2] = 0x12;
    key[3] = 32;
    memcpy(key + 4, n->id.pub.key, 32);
    key_len = 36;
  }
  Pb__NoiseHandshakePayload pb = PB__NOISE_HANDSHAKE_PAYLOAD__INIT;
  Pb__NoiseExtensions ext = PB__NOISE_EXTENSIONS__INIT;
  char *mux[1] = {(char *)muxer};
  if (kind != HN_NO_KEY) {
    pb.has_identity_key = 1;
    pb.identity_key.data = key;
    pb.identity_key.len = (size_t)key_len;
  }
  if (kind != HN_NO_SIG) {
    pb.has_identity_sig = 1;
    pb.identity_sig.data = sig;
    pb.identity_sig.len = sig_len;
  }
  if (muxer) {
    ext.n_stream_muxers = 1;
    ext.stream_muxers = mux;
    pb.extensions = &ext;
  }
  size_t len = pb__noise_handshake_payload__get_packed_size(&pb);
  assert_true(len <= cap);
  return pb__noise_handshake_payload__pack(&pb, out);
}

/* Message 3 (-> s, se) carrying payload, framed, appended to b; then the
 * transport keys. */
HU_FN void hn_msg3(hn *n, lp2p_buf *b, const uint8_t *payload, size_t plen) {
  static uint8_t m[LP2P_NOISE_MSG_MAX];
  int len = lp2p_noise_hs_write(&n->hs, m, sizeof m, payload, plen);
  assert_true(len > 0);
  hu_frame(b, m, (size_t)len);
  assert_int_equal(lp2p_noise_hs_split(&n->hs, &n->tx, &n->rx), 0);
}

/* Encrypts p as one transport frame appended to b. */
HU_FN void hn_seal(hn *n, lp2p_buf *b, const uint8_t *p, size_t len) {
  static uint8_t m[LP2P_NOISE_MSG_MAX];
  assert_true(len <= LP2P_NOISE_PLAINTEXT_MAX);
  int clen = lp2p_noise_cs_encrypt(&n->tx, m, NULL, 0, p, len);
  assert_true(clen > 0);
  hu_frame(b, m, (size_t)clen);
}

/* The whole upgrade of an honest initiator up to a secured session whose
 * inlined muxer is `muxer`: the listener is READY when this returns. */
HU_FN void hn_secure(hn *n, const char *muxer) {
  hc_mss_noise(n->c);
  lp2p_buf b = {0};
  hn_msg1(n, &b);
  assert_int_equal(hc_send(n->c, b.data, b.len), 0);
  b.len = 0;
  hn_read_msg2(n);
  uint8_t pl[1024];
  size_t plen = hn_payload_build(n, HN_GOOD, muxer, pl, sizeof pl);
  hn_msg3(n, &b, pl, plen);
  int readies = n->c->h->readies;
  assert_int_equal(hc_send(n->c, b.data, b.len), 0);
  lp2p_buf_free(&b);
  uint64_t end = hu_now_ms() + HU_WAIT_MS;
  while (n->c->h->readies == readies && hu_now_ms() < end)
    hl_pump(n->c->h, -1);
  assert_int_equal(n->c->h->readies, readies + 1);
}

/* Sends plaintext through the secured session, split into frames. Returns
 * what hc_send_opt returns. */
HU_FN int hn_send_opt(hn *n, const uint8_t *p, size_t len, int drain) {
  lp2p_buf b = {0};
  while (len) {
    size_t k = len < LP2P_NOISE_PLAINTEXT_MAX ? len : LP2P_NOISE_PLAINTEXT_MAX;
    hn_seal(n, &b, p, k);
    p += k;
    len -= k;
  }
  int rc = hc_send_opt(n->c, b.data, b.len, drain);
  lp2p_buf_free(&b);
  return rc;
}

HU_FN int hn_send(hn *n, const uint8_t *p, size_t len) {
  return hn_send_opt(n, p, len, 1);
}

/* Decrypts every complete transport frame received so far and appends the
 * plaintext to out. Returns 0, or -1 on a frame that does not decrypt. */
HU_FN int hn_recv(hn *n, lp2p_buf *out) {
  static uint8_t m[LP2P_NOISE_MSG_MAX];
  hc_read_some(n->c);
  while (n->c->in.len >= 2) {
    size_t len = (size_t)n->c->in.data[0] << 8 | n->c->in.data[1];
    if (n->c->in.len < 2 + len) break;
    int k = lp2p_noise_cs_decrypt(&n->rx, m, NULL, 0, n->c->in.data + 2, len);
    if (k < 0) return -1;
    lp2p_buf_append(out, m, (size_t)k);
    lp2p_buf_consume(&n->c->in, 2 + len);
  }
  return 0;
}

/* Bytes the process holds on its heap, to check that a flood does not make
 * the listener buffer without bound. */
#if defined(__SANITIZE_ADDRESS__)
/* From <sanitizer/allocator_interface.h>, which is not always installed. */
size_t __sanitizer_get_current_allocated_bytes(void);
HU_FN size_t hu_heap_bytes(void) { return __sanitizer_get_current_allocated_bytes(); }
#else
#include <malloc.h>
HU_FN size_t hu_heap_bytes(void) {
  struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd; /* large blocks are mmapped */
}
#endif

/* ---- a well-behaved dialer ------------------------------------------ */

typedef struct gd {
  int ready, pongs, closed, err;
} gd;

HU_FN void gd_ready(void *ud, lp2p__tcp_conn *tc, const lp2p_peerid *peer) {
  (void)peer;
  gd *g = ud;
  g->ready = 1;
  int rc = lp2p__tcp_ping(tc);
  if (rc) g->err = rc;
}

HU_FN void gd_pong(void *ud, lp2p__tcp_conn *tc) {
  gd *g = ud;
  g->pongs++;
  lp2p__tcp_close(tc); /* no handler runs after this */
  g->closed = 1;
}

HU_FN void gd_closed(void *ud, lp2p__tcp_conn *tc, int err) {
  (void)tc;
  gd *g = ud;
  g->closed = 1;
  g->err = err;
}

/* Dials 127.0.0.1:port with `security` and `muxer` under the byte layers
 * `layers` and the expected peer id, pings once, closes. Returns 0 on a
 * pong, else the error. */
HU_FN int hu_dial_ping_chain(uv_loop_t *loop, lp2p_env *env, uint16_t port,
                             const char *security, const char *muxer,
                             const lp2p_peerid *expect, void (*pump)(void *),
                             void *pump_ud, const lp2p_layer_ops *const *layers,
                             size_t n_layers) {
  lp2p_identity id;
  assert_int_equal(lp2p_identity_generate(&id, LP2P_KEY_SECP256K1, env), 0);
  lp2p_conn_config cfg = {.initiator = 1,
                          .identity = &id,
                          .security = lp2p_security_find(security),
                          .muxer = lp2p_muxer_find(muxer),
                          .expected_peer = expect,
                          .step_timeout_ms = 4 * HU_STEP_MS};
  gd g = {0};
  lp2p__tcp_handlers hd = {
      .ready = gd_ready, .pong = gd_pong, .closed = gd_closed, .ud = &g};
  struct sockaddr_in sa;
  uv_ip4_addr("127.0.0.1", port, &sa);
  lp2p__tcp_conn *tc;
  lp2p_chain_config cc = {.conn = &cfg, .layers = layers, .n_layers = n_layers};
  cc.params = (lp2p_layer_params){
      .host = "127.0.0.1", .port = port, .step_timeout_ms = 4 * HU_STEP_MS};
  int rc = lp2p__tcp_dial_chain(loop, env, (struct sockaddr *)&sa, &cc, &hd, &tc);
  if (rc) {
    lp2p_identity_clear(&id);
    return rc;
  }
  /* The identity must live as long as the connection (the config points
   * at it). */
  uint64_t end = hu_now_ms() + HU_WAIT_MS;
  while (!g.closed && hu_now_ms() < end)
    pump(pump_ud);
  if (!g.closed) lp2p__tcp_close(tc);
  lp2p_identity_clear(&id);
  if (!g.closed) return LP2P_ETIMEDOUT;
  if (g.pongs == 1) return 0;
  return g.err ? g.err : LP2P_EEOF;
}

HU_FN int hu_dial_ping_sec(uv_loop_t *loop, lp2p_env *env, uint16_t port,
                           const char *security, const char *muxer,
                           const lp2p_peerid *expect, void (*pump)(void *),
                           void *pump_ud) {
  return hu_dial_ping_chain(loop, env, port, security, muxer, expect, pump, pump_ud, NULL,
                            0);
}

HU_FN int hu_dial_ping(uv_loop_t *loop, lp2p_env *env, uint16_t port, const char *muxer,
                       const lp2p_peerid *expect, void (*pump)(void *), void *pump_ud) {
  return hu_dial_ping_chain(loop, env, port, "noise", muxer, expect, pump, pump_ud, NULL,
                            0);
}

HU_FN void hl_pump_cb(void *ud) { hl_pump(ud, -1); }

/* The listener still serves: an honest dialer pings it, and afterwards the
 * listener holds no connection. */
HU_FN void hl_check_serves(hl *h) {
  int closes = h->closes;
  assert_int_equal(hu_dial_ping_chain(&h->loop, &h->env, h->port, h->cfg.security->name,
                                      h->cfg.muxer->name, &h->pid, hl_pump_cb, h,
                                      h->layers, h->n_layers),
                   0);
  assert_int_equal(hl_wait_idle(h, HU_WAIT_MS), 0);
  assert_int_equal(h->closes, closes + 1);
}

/* End of a hostile case: the listener closed the connection (c sees EOF)
 * within `ms`, with error `err` reported to closed() and a log line that
 * contains `logged`; the count is back to 0; an honest dialer still gets
 * its pong. */
HU_FN void hl_expect_closed(hl *h, hc *c, int err, const char *logged, unsigned ms) {
  assert_int_equal(hc_wait_closed(c, ms), 0);
  assert_int_equal(hl_wait_idle(h, HU_WAIT_MS), 0);
  char *log = hl_log_end(h);
  if (err)
    assert_int_equal(h->last_err, err);
  else
    assert_int_not_equal(h->last_err, 0);
  if (logged && !strstr(log, logged)) {
    fprintf(stderr, "expected '%s' in the log\n", logged);
    fail();
  }
  free(log);
  hc_close(c);
  hl_check_serves(h);
}

#endif
