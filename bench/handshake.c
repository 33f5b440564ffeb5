/* CPU cost of one whole connection (multistream, Noise XX, inlined muxer,
 * one ping), both sides in one process with the bytes handed over in
 * memory, against the floor of the public-key operations any Noise XX
 * handshake with libp2p identities must do, measured in the same run:
 * 4 X25519 key generations, 6 X25519 DH, 2 signatures, 2 verifications.
 *
 *   lp2p-bench-handshake [connections]      (default 2000)
 *
 * Prints microseconds per connection and the ratio to the floor for each
 * identity key type. A benchmark: no thresholds. */
#include "lp2p/conn.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int rnd(void *ud, uint8_t *out, size_t len) {
  (void)ud;
  randombytes_buf(out, len);
  return 0;
}

typedef struct end {
  lp2p_conn *conn;
  lp2p_buf out;
  int pongs;
} end;

static int on_write(void *ud, const uint8_t *p, size_t len) {
  return lp2p_buf_append(&((end *)ud)->out, p, len);
}

static int on_event(void *ud, const lp2p_event *ev) {
  ((end *)ud)->pongs += ev->type == LP2P_EV_PONG;
  return 0;
}

/* Hands each side's output to the other until both are quiet. */
static int exchange(end *a, end *b) {
  while (a->out.len || b->out.len) {
    end *from = a->out.len ? a : b, *to = from == a ? b : a;
    lp2p_buf msg = from->out;
    from->out = (lp2p_buf){0};
    int rc = lp2p_conn_recv(to->conn, msg.data, msg.len);
    lp2p_buf_free(&msg);
    if (rc) return rc;
  }
  return 0;
}

static int one_connection(lp2p_env *env, const lp2p_identity *di,
                          const lp2p_identity *li) {
  lp2p_conn_config cfg = {.initiator = 1,
                          .identity = di,
                          .security = lp2p_security_find("noise"),
                          .muxer = lp2p_muxer_find("yamux"),
                          .step_timeout_ms = 10000};
  end d = {0}, l = {0};
  d.conn =
      lp2p_conn_new(env, &cfg, (lp2p_io){.write = on_write, .event = on_event, .ud = &d});
  cfg.initiator = 0;
  cfg.identity = li;
  l.conn =
      lp2p_conn_new(env, &cfg, (lp2p_io){.write = on_write, .event = on_event, .ud = &l});
  int rc = lp2p_conn_start(d.conn);
  if (!rc) rc = lp2p_conn_start(l.conn);
  if (!rc) rc = exchange(&d, &l);
  if (!rc) rc = lp2p_conn_ping(d.conn);
  if (!rc) rc = exchange(&d, &l);
  if (!rc && d.pongs != 1) rc = LP2P_EPROTO;
  lp2p_conn_free(d.conn);
  lp2p_conn_free(l.conn);
  lp2p_buf_free(&d.out);
  lp2p_buf_free(&l.out);
  return rc;
}

/* Returns non-zero if any operation failed (it should not). */
static int crypto_floor(const lp2p_identity *id) {
  uint8_t sk[32], pk[32], shared[32], sig[LP2P_SIG_MAX], msg[56] = {0};
  size_t siglen;
  int bad = 0;
  for (int i = 0; i < 4; i++) {
    randombytes_buf(sk, sizeof sk);
    bad |= crypto_scalarmult_base(pk, sk);
  }
  for (int i = 0; i < 6; i++)
    bad |= crypto_scalarmult(shared, sk, pk);
  for (int i = 0; i < 2; i++) {
    bad |= lp2p_identity_sign(sig, &siglen, id, msg, sizeof msg);
    bad |= lp2p_pubkey_verify(&id->pub, msg, sizeof msg, sig, siglen);
  }
  return bad;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 2000;
  if (n <= 0 || sodium_init() < 0) return 2;
  lp2p_env env = {.random = rnd};
  const struct {
    const char *name;
    lp2p_key_type type;
  } kinds[] = {{"secp256k1", LP2P_KEY_SECP256K1}, {"ed25519", LP2P_KEY_ED25519}};
  for (size_t k = 0; k < 2; k++) {
    lp2p_identity di, li;
    lp2p_identity_generate(&di, kinds[k].type, &env);
    lp2p_identity_generate(&li, kinds[k].type, &env);
    double t0 = now_us();
    for (int i = 0; i < n; i++)
      if (crypto_floor(&di)) return 1;
    double floor_us = (now_us() - t0) / n;
    t0 = now_us();
    for (int i = 0; i < n; i++) {
      int rc = one_connection(&env, &di, &li);
      if (rc) {
        fprintf(stderr, "connection %d failed: %s\n", i, lp2p_strerror(rc));
        return 1;
      }
    }
    double conn_us = (now_us() - t0) / n;
    printf("%-9s connection %.1f us (both sides), crypto floor %.1f us, ratio %.2f\n",
           kinds[k].name, conn_us, floor_us, conn_us / floor_us);
    lp2p_identity_clear(&di);
    lp2p_identity_clear(&li);
  }
  return 0;
}
