/* Hostile listeners against our dialer (lp2p__tcp_dial with a real
 * lp2p_conn): a scripted fake listener on a raw socket, built from our own
 * engines (mss, noise responder, yamux server) so that each case breaks one
 * thing: it offers only another security protocol, tampers with Noise
 * message 2, or echoes a ping with other bytes. Plus a real listener whose
 * peer id is not the one the dialer expects. The dialer must fail fast
 * (well before its step deadline) with the right error. */
#include "hostile.h"

#include "lp2p/yamux.h"

#define DIAL_STEP_MS 2000 /* the dialer's deadline: failing must not wait for it */

typedef enum fk_mode { FK_ONLY_TLS, FK_TAMPER_MSG2, FK_BAD_ECHO } fk_mode;

typedef struct fk {
  uv_loop_t loop;
  lp2p_env env;
  uint64_t seed;
  fk_mode mode;
  int lfd, fd;
  uint16_t port;
  lp2p_identity id;
  lp2p_buf out;
  int err;
  const char *sec[1];
  lp2p_mss mss;
  lp2p_noise *noise;
  int noise_writes;
  lp2p_yamux *y;
  const char *pingp[1];
  lp2p_mss smss;
  uint32_t sid;
  int stream_ready;
  int echoes;
} fk;

static int fk_out(void *ud, const uint8_t *p, size_t len) {
  return lp2p_buf_append(&((fk *)ud)->out, p, len);
}

static int fk_noise_write(void *ud, const uint8_t *p, size_t len) {
  fk *f = ud;
  size_t at = f->out.len;
  int rc = lp2p_buf_append(&f->out, p, len);
  /* The first Noise write of a responder is message 2: flip one bit of
   * its encrypted static key. */
  if (f->noise_writes++ == 0 && f->mode == FK_TAMPER_MSG2)
    f->out.data[at + 2 + 40] ^= 0x01;
  return rc;
}

static int fk_stream_write(void *ud, const uint8_t *p, size_t len) {
  fk *f = ud;
  return lp2p_yamux_send(f->y, f->sid, p, len);
}

static int fk_stream_event(void *ud, const lp2p_event *ev) {
  fk *f = ud;
  if (ev->type == LP2P_EV_READY) f->stream_ready = 1;
  if (ev->type != LP2P_EV_DATA) return 0;
  /* An echo that is not one: every byte flipped. */
  uint8_t e[256];
  size_t n = ev->len < sizeof e ? ev->len : sizeof e;
  for (size_t i = 0; i < n; i++)
    e[i] = (uint8_t)~ev->data[i];
  f->echoes++;
  return lp2p_yamux_send(f->y, f->sid, e, n);
}

static int fk_mux_write(void *ud, const uint8_t *p, size_t len) {
  return lp2p_noise_send(((fk *)ud)->noise, p, len);
}

static int fk_mux_event(void *ud, const lp2p_event *ev) {
  fk *f = ud;
  if (ev->type == LP2P_EV_STREAM_OPEN) {
    f->sid = ev->stream;
    lp2p_mss_init(&f->smss, 0, f->pingp, 1,
                  (lp2p_io){.write = fk_stream_write, .event = fk_stream_event, .ud = f});
    return lp2p_mss_start(&f->smss);
  }
  if (ev->type == LP2P_EV_STREAM_DATA && ev->stream == f->sid)
    return lp2p_mss_recv(&f->smss, ev->data, ev->len);
  return 0;
}

static int fk_noise_event(void *ud, const lp2p_event *ev) {
  fk *f = ud;
  if (ev->type == LP2P_EV_READY) {
    lp2p_yamux_config yc = {.initiator = 0};
    f->y = lp2p_yamux_new(
        &f->env, &yc, (lp2p_io){.write = fk_mux_write, .event = fk_mux_event, .ud = f});
    return f->y ? 0 : LP2P_ENOMEM;
  }
  if (ev->type == LP2P_EV_DATA && f->y) return lp2p_yamux_recv(f->y, ev->data, ev->len);
  return 0;
}

static int fk_mss_event(void *ud, const lp2p_event *ev) {
  fk *f = ud;
  if (ev->type == LP2P_EV_READY) {
    static const char *const mux[] = {LP2P_YAMUX_PROTOCOL};
    lp2p_noise_config nc = {
        .initiator = 0, .identity = &f->id, .muxers = mux, .n_muxers = 1};
    f->noise = lp2p_noise_new(
        &f->env, &nc,
        (lp2p_io){.write = fk_noise_write, .event = fk_noise_event, .ud = f});
    return f->noise ? 0 : LP2P_ENOMEM;
  }
  if (ev->type == LP2P_EV_DATA) return lp2p_noise_recv(f->noise, ev->data, ev->len);
  return 0;
}

static void fk_init(fk *f, fk_mode mode) {
  memset(f, 0, sizeof *f);
  f->mode = mode;
  f->fd = -1;
  f->seed = 99 ^ hu_now_ms();
  f->env.random = tu_random;
  f->env.random_ud = &f->seed;
  assert_int_equal(uv_loop_init(&f->loop), 0);
  assert_int_equal(lp2p_identity_generate(&f->id, LP2P_KEY_ED25519, &f->env), 0);
  f->lfd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof sa), 0);
  assert_int_equal(listen(f->lfd, 4), 0);
  socklen_t sl = sizeof sa;
  getsockname(f->lfd, (struct sockaddr *)&sa, &sl);
  f->port = ntohs(sa.sin_port);
  fcntl(f->lfd, F_SETFL, fcntl(f->lfd, F_GETFL) | O_NONBLOCK);
  f->sec[0] = mode == FK_ONLY_TLS ? "/tls/1.0.0" : "/noise";
  f->pingp[0] = "/ipfs/ping/1.0.0";
  lp2p_mss_init(&f->mss, 0, f->sec, 1,
                (lp2p_io){.write = fk_out, .event = fk_mss_event, .ud = f});
}

/* One turn of the fake: accept, read, feed the engines, write. */
static void fk_pump(void *ud) {
  fk *f = ud;
  uv_run(&f->loop, UV_RUN_NOWAIT);
  if (f->fd < 0) {
    f->fd = accept(f->lfd, NULL, NULL);
    if (f->fd >= 0) {
      fcntl(f->fd, F_SETFL, fcntl(f->fd, F_GETFL) | O_NONBLOCK);
      if (!f->err) f->err = lp2p_mss_start(&f->mss);
    }
  }
  if (f->fd >= 0) {
    uint8_t buf[65536];
    ssize_t n = recv(f->fd, buf, sizeof buf, 0);
    if (n > 0 && !f->err) f->err = lp2p_mss_recv(&f->mss, buf, (size_t)n);
    if (f->out.len) {
      ssize_t k = send(f->fd, f->out.data, f->out.len, MSG_NOSIGNAL);
      if (k > 0) lp2p_buf_consume(&f->out, (size_t)k);
    }
  }
  struct pollfd p = {.fd = f->fd >= 0 ? f->fd : f->lfd, .events = POLLIN};
  poll(&p, 1, 1);
  uv_run(&f->loop, UV_RUN_NOWAIT);
}

static void fk_free(fk *f) {
  if (f->fd >= 0) close(f->fd);
  close(f->lfd);
  uv_walk(&f->loop, hl_walk_close, NULL);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&f->loop), 0);
  lp2p_yamux_free(f->y);
  lp2p_noise_free(f->noise);
  lp2p_buf_free(&f->out);
  lp2p_identity_clear(&f->id);
}

typedef struct dial_result {
  int rc;
  uint64_t ms;
  char *log;
} dial_result;

/* Dials the fake with a real connection; the error, the time it took and
 * what was logged. */
static dial_result dial_fake(fk *f) {
  lp2p_identity id;
  assert_int_equal(lp2p_identity_generate(&id, LP2P_KEY_ED25519, &f->env), 0);
  lp2p_conn_config cfg = {.initiator = 1,
                          .identity = &id,
                          .security = lp2p_security_find("noise"),
                          .muxer = lp2p_muxer_find("yamux"),
                          .step_timeout_ms = DIAL_STEP_MS};
  gd g = {0};
  lp2p__tcp_handlers hd = {
      .ready = gd_ready, .pong = gd_pong, .closed = gd_closed, .ud = &g};
  struct sockaddr_in sa;
  uv_ip4_addr("127.0.0.1", f->port, &sa);
  lp2p__tcp_conn *tc;
  hl logcap;
  hl_log_begin(&logcap);
  uint64_t t0 = hu_now_ms();
  assert_int_equal(
      lp2p__tcp_dial(&f->loop, &f->env, (struct sockaddr *)&sa, &cfg, &hd, &tc), 0);
  uint64_t end = t0 + HU_WAIT_MS;
  while (!g.closed && hu_now_ms() < end)
    fk_pump(f);
  dial_result r = {.ms = hu_now_ms() - t0};
  if (!g.closed) lp2p__tcp_close(tc);
  for (int i = 0; i < 20; i++)
    fk_pump(f);
  r.log = hl_log_end(&logcap);
  r.rc = !g.closed ? LP2P_ETIMEDOUT : g.pongs ? 0 : g.err;
  lp2p_identity_clear(&id);
  return r;
}

/* HARNESS: a dialer whose listener does not speak /noise fails at once with
 * "peer does not support /noise", not after a timeout. */
static void test_listener_without_noise(void **state) {
  (void)state;
  fk f;
  fk_init(&f, FK_ONLY_TLS);
  dial_result r = dial_fake(&f);
  assert_int_equal(r.rc, LP2P_ENOTSUP);
  assert_non_null(strstr(r.log, "peer does not support /noise"));
  assert_true(r.ms < DIAL_STEP_MS / 2);
  free(r.log);
  fk_free(&f);
}

static void test_msg2_flipped_bit(void **state) {
  (void)state;
  fk f;
  fk_init(&f, FK_TAMPER_MSG2);
  dial_result r = dial_fake(&f);
  assert_int_equal(r.rc, LP2P_EDECRYPT);
  assert_non_null(strstr(r.log, "failed in security handshake"));
  assert_true(r.ms < DIAL_STEP_MS / 2);
  free(r.log);
  fk_free(&f);
}

static void test_echo_mismatch(void **state) {
  (void)state;
  fk f;
  fk_init(&f, FK_BAD_ECHO);
  dial_result r = dial_fake(&f);
  assert_int_equal(r.rc, LP2P_EMISMATCH);
  assert_int_equal(f.echoes, 1);
  assert_non_null(strstr(r.log, "ping"));
  assert_true(r.ms < DIAL_STEP_MS / 2);
  free(r.log);
  fk_free(&f);
}

/* A real listener, but not the peer the address names: the dialer aborts
 * after the handshake, before any stream. */
static void test_wrong_peer_id(void **state) {
  (void)state;
  hl h;
  hl_init(&h, "yamux");
  lp2p_identity other;
  lp2p_peerid other_id;
  assert_int_equal(lp2p_identity_generate(&other, LP2P_KEY_ED25519, &h.env), 0);
  lp2p_peerid_from_pubkey(&other_id, &other.pub);
  hl_log_begin(&h);
  int rc = hu_dial_ping(&h.loop, &h.env, h.port, "yamux", &other_id, hl_pump_cb, &h);
  assert_int_equal(hl_wait_idle(&h, HU_WAIT_MS), 0);
  char *log = hl_log_end(&h);
  assert_int_equal(rc, LP2P_EPEERID);
  assert_non_null(strstr(log, "but the peer is"));
  free(log);
  lp2p_identity_clear(&other);
  /* The right id still works. */
  hl_check_serves(&h);
  hl_free(&h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_listener_without_noise),
      cmocka_unit_test(test_msg2_flipped_bit),
      cmocka_unit_test(test_echo_mismatch),
      cmocka_unit_test(test_wrong_peer_id),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
