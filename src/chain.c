#include "lp2p/chain.h"

#include <stdlib.h>

typedef struct slot {
  struct lp2p_chain *chain;
  size_t i;
} slot;

struct lp2p_chain {
  lp2p_io io;
  lp2p_conn *conn;
  int conn_started;
  int eof; /* EOF went up: once, whichever layer saw the end first */
  int err;
  size_t n;
  const lp2p_layer_ops *ops[LP2P_CHAIN_MAX_LAYERS];
  void *l[LP2P_CHAIN_MAX_LAYERS];
  slot slots[LP2P_CHAIN_MAX_LAYERS];
};

/* The first failure of a byte layer is said once, in one line, with the
 * reason the layer gave; a failure of the connection above was already
 * said by conn.c. */
static int layer_rc(lp2p_chain *c, size_t i, int rc) {
  if (!rc || c->err) return c->err ? c->err : rc;
  c->err = rc;
  const char *why = lp2p_take_reason();
  LP2P_ERROR("conn", "%s failed: %s", c->ops[i]->name, why ? why : lp2p_strerror(rc));
  return rc;
}

static int conn_rc(lp2p_chain *c, int rc) {
  if (rc && !c->err) c->err = rc;
  return rc;
}

/* ---- bytes down ---- */

static int layer_write(void *ud, const uint8_t *p, size_t len) {
  slot *s = ud;
  lp2p_chain *c = s->chain;
  if (s->i == 0) return c->io.write(c->io.ud, p, len);
  return c->ops[s->i - 1]->send(c->l[s->i - 1], p, len);
}

static int conn_write(void *ud, const uint8_t *p, size_t len) {
  lp2p_chain *c = ud;
  if (c->n == 0) return c->io.write(c->io.ud, p, len);
  return c->ops[c->n - 1]->send(c->l[c->n - 1], p, len);
}

/* Room at the tail of the driver's output, lent only when the connection
 * writes straight to it (no byte layer between). */
static uint8_t *conn_reserve(void *ud, size_t len) {
  lp2p_chain *c = ud;
  return c->n == 0 ? lp2p_io_reserve(&c->io, len) : NULL;
}

/* ---- events up ---- */

static int conn_event(void *ud, const lp2p_event *ev) {
  lp2p_chain *c = ud;
  return lp2p_io_event(&c->io, ev);
}

static int start_above(lp2p_chain *c, size_t i) {
  if (i < c->n) return layer_rc(c, i, c->ops[i]->start(c->l[i]));
  c->conn_started = 1;
  return conn_rc(c, lp2p_conn_start(c->conn));
}

static int data_above(lp2p_chain *c, size_t i, const uint8_t *p, size_t len) {
  if (i < c->n) return layer_rc(c, i, c->ops[i]->recv(c->l[i], p, len));
  if (!c->conn_started) return LP2P_EPROTO;
  return conn_rc(c, lp2p_conn_recv(c->conn, p, len));
}

static int layer_event(void *ud, const lp2p_event *ev) {
  slot *s = ud;
  lp2p_chain *c = s->chain;
  switch (ev->type) {
  case LP2P_EV_READY:
    LP2P_DEBUG("conn", "%s is up", c->ops[s->i]->name);
    return start_above(c, s->i + 1);
  case LP2P_EV_DATA: return data_above(c, s->i + 1, ev->data, ev->len);
  case LP2P_EV_EOF:
    if (c->eof) return 0;
    c->eof = 1;
    return lp2p_io_event(&c->io, ev);
  default: return 0;
  }
}

/* ---- public ---- */

lp2p_chain *lp2p_chain_new(lp2p_env *env, const lp2p_chain_config *cfg, lp2p_io io) {
  if (cfg->n_layers > LP2P_CHAIN_MAX_LAYERS) return NULL;
  lp2p_chain *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->io = io;
  c->conn = lp2p_conn_new(
      env, cfg->conn,
      (lp2p_io){
          .write = conn_write, .event = conn_event, .ud = c, .reserve = conn_reserve});
  if (!c->conn) goto fail;
  for (size_t i = 0; i < cfg->n_layers; i++) {
    c->slots[i] = (slot){c, i};
    c->ops[i] = cfg->layers[i];
    c->l[i] = c->ops[i]->create(
        env, cfg->conn->initiator, &cfg->params,
        (lp2p_io){.write = layer_write, .event = layer_event, .ud = &c->slots[i]});
    if (!c->l[i]) goto fail;
    c->n = i + 1;
  }
  return c;
fail:
  lp2p_chain_free(c);
  return NULL;
}

int lp2p_chain_start(lp2p_chain *c) { return start_above(c, 0); }

int lp2p_chain_recv(lp2p_chain *c, const uint8_t *in, size_t len) {
  if (c->err) return c->err;
  return data_above(c, 0, in, len);
}

int lp2p_chain_ping(lp2p_chain *c) {
  if (c->err) return c->err;
  if (!c->conn_started) return LP2P_EINVAL;
  return conn_rc(c, lp2p_conn_ping(c->conn));
}

int lp2p_chain_perf(lp2p_chain *c, uint64_t upload, uint64_t download) {
  if (c->err) return c->err;
  if (!c->conn_started) return LP2P_EINVAL;
  return conn_rc(c, lp2p_conn_perf(c->conn, upload, download));
}

int lp2p_chain_wants_output(const lp2p_chain *c) {
  return !c->err && c->conn_started && lp2p_conn_wants_output(c->conn);
}

/* lp2p_conn_pump's count of bytes is not an error. */
int lp2p_chain_pump(lp2p_chain *c, size_t budget) {
  if (c->err) return c->err;
  int rc = lp2p_conn_pump(c->conn, budget);
  return rc < 0 ? conn_rc(c, rc) : rc;
}

uint64_t lp2p_chain_deadline(const lp2p_chain *c) {
  uint64_t d = c->conn_started ? lp2p_conn_deadline(c->conn) : LP2P_NO_DEADLINE;
  for (size_t i = 0; i < c->n; i++) {
    uint64_t t = c->ops[i]->deadline(c->l[i]);
    if (t < d) d = t;
  }
  return d;
}

int lp2p_chain_expire(lp2p_chain *c) {
  if (c->err) return c->err;
  for (size_t i = 0; i < c->n; i++) {
    int rc = layer_rc(c, i, c->ops[i]->expire(c->l[i]));
    if (rc) return rc;
  }
  return c->conn_started ? conn_rc(c, lp2p_conn_expire(c->conn)) : 0;
}

int lp2p_chain_close(lp2p_chain *c) {
  if (c->err) return c->err;
  int rc = c->conn_started ? lp2p_conn_close(c->conn) : 0;
  for (size_t i = c->n; i-- > 0 && rc == 0;)
    rc = c->ops[i]->close(c->l[i]);
  return rc;
}

int lp2p_chain_is_ready(const lp2p_chain *c) {
  return !c->err && c->conn_started && lp2p_conn_is_ready(c->conn);
}

lp2p_conn *lp2p_chain_conn(const lp2p_chain *c) { return c->conn; }

void lp2p_chain_free(lp2p_chain *c) {
  if (!c) return;
  lp2p_conn_free(c->conn);
  for (size_t i = 0; i < c->n; i++)
    c->ops[i]->destroy(c->l[i]);
  free(c);
}
