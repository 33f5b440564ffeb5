/* Fuzz target: the /plaintext/2.0.0 engine (plaintext.h).
 *
 * Input: [mode][split] data...  mode & 1: initiator (the engine's role);
 * mode & 2: the input starts with an honest Exchange for fz_identity(mode
 * >> 2) before the bytes. All of it is fed in pieces (fz_feed_split).
 * Checked: READY comes at most once, with a key whose peer id the engine
 * checked; DATA only after READY and, with the honest prefix, exactly the
 * bytes that followed it. */
#include "fuzz.h"

#include <string.h>

#include "lp2p/plaintext.h"

typedef struct ctx {
  lp2p_plaintext *p;
  int ready;
  lp2p_buf data;
} ctx;

static int on_event(void *ud, const lp2p_event *ev) {
  ctx *c = ud;
  if (ev->type == LP2P_EV_READY) {
    FZ_CHECK(!c->ready && ev->peer && ev->protocol == NULL);
    FZ_CHECK(lp2p_plaintext_remote_key(c->p) == ev->peer);
    lp2p_peerid id;
    FZ_CHECK(lp2p_peerid_from_pubkey(&id, ev->peer) == 0);
    c->ready = 1;
    return 0;
  }
  FZ_CHECK(ev->type == LP2P_EV_DATA && c->ready && ev->len > 0);
  return lp2p_buf_append(&c->data, ev->data, ev->len);
}

static int on_write(void *ud, const uint8_t *p, size_t len) {
  (void)ud;
  return fz_sink_write(NULL, p, len);
}

static int feed(void *ud, const uint8_t *p, size_t len) {
  return lp2p_plaintext_recv(((ctx *)ud)->p, p, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fz_in in = fz_in_make(data, size);
  unsigned mode = fz_u8(&in);
  uint64_t split = fz_u8(&in);
  size_t len;
  const uint8_t *rest = fz_rest(&in, &len);
  lp2p_env env;
  uint64_t state;
  fz_env_init(&env, &state, 0x91a1u);
  fz_log_begin(0);
  ctx c = {0};
  lp2p_plaintext_config cfg = {.initiator = mode & 1, .identity = fz_identity(0)};
  c.p = lp2p_plaintext_new(&env, &cfg,
                           (lp2p_io){.write = on_write, .event = on_event, .ud = &c});
  FZ_CHECK(c.p && lp2p_plaintext_start(c.p) == 0);
  lp2p_buf in_bytes = {0};
  if (mode & 2)
    FZ_CHECK(lp2p_plaintext_exchange_encode(&in_bytes,
                                            &fz_identity((int)(mode >> 2))->pub) == 0);
  FZ_CHECK(lp2p_buf_append(&in_bytes, rest, len) == 0);
  int rc = in_bytes.len ? fz_feed_split(split, in_bytes.data, in_bytes.len, feed, &c) : 0;
  if (mode & 2) {
    FZ_CHECK(rc == 0 && c.ready);
    FZ_CHECK(c.data.len == len && (len == 0 || memcmp(c.data.data, rest, len) == 0));
  }
  (void)lp2p_take_reason();
  lp2p_plaintext_free(c.p);
  lp2p_buf_free(&c.data);
  lp2p_buf_free(&in_bytes);
  fz_log_end();
  return 0;
}
