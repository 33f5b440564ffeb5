#include "lp2p/conn.h"

#include "lp2p/identify.h"
#include "lp2p/mss.h"
#include "lp2p/perf.h"
#include "lp2p/ping.h"

#include <stdlib.h>
#include <string.h>

/* Upgrade states, in the order of libp2p/specs connections/README.md
 * "Upgrading connections". */
typedef enum conn_state {
  ST_SEC_NEGOTIATE, /* multistream-select for the security protocol */
  ST_SECURING,      /* security handshake */
  ST_MUX_NEGOTIATE, /* multistream-select for the muxer, over security */
  ST_MUXED          /* streams */
} conn_state;

static const char *const state_names[] = {"security negotiation", "security handshake",
                                          "muxer negotiation", "muxed connection"};

typedef enum stream_state {
  SS_NEGOTIATING, /* multistream-select on the stream */
  SS_PING,        /* ping, either role */
  SS_ID_READ,     /* reading the peer's identify reply */
  SS_PERF,        /* perf, either role */
  SS_DONE,        /* we sent all we will; waiting for the peer's FIN */
  SS_DEAD
} stream_state;

typedef struct conn_stream {
  struct lp2p_conn *conn;
  struct conn_stream *next;
  uint32_t id;
  int outbound;
  stream_state state;
  /* Negotiation, and reading the peer's identify reply, must finish by
   * then; LP2P_NO_DEADLINE once the stream carries ping. */
  uint64_t deadline;
  lp2p_mss mss;
  lp2p_ping ping;
  lp2p_identify_reader id_reader;
  lp2p_perf perf;
  /* Our half-close, owed once the peer confirms the protocol. */
  int fin_held;
} conn_stream;

/* What inbound streams may ask for; identify lists the same. perf only
 * where the listener turned it on (perf.md "Security Considerations"). */
static const char *const inbound_protos[] = {LP2P_PING_PROTOCOL, LP2P_IDENTIFY_PROTOCOL,
                                             LP2P_PERF_PROTOCOL};
#define N_INBOUND(c) ((c)->cfg.perf_server ? 3u : 2u)
static const char *const ping_protos[] = {LP2P_PING_PROTOCOL};
static const char *const id_protos[] = {LP2P_IDENTIFY_PROTOCOL};
static const char *const perf_protos[] = {LP2P_PERF_PROTOCOL};

struct lp2p_conn {
  lp2p_env *env;
  lp2p_conn_config cfg;
  lp2p_io io;
  conn_state state;
  int err;
  lp2p_mss sec_mss;
  lp2p_mss mux_mss;
  const char *sec_proto[1];
  const char *mux_proto[1];
  void *sec;
  void *mux;
  lp2p_pubkey remote;
  lp2p_peerid remote_id;
  int secured;
  uint64_t step_deadline;
  uint64_t ping_deadline;
  conn_stream *streams;
  conn_stream *ping_stream;
  conn_stream *perf_stream;    /* our perf exchange in progress */
  uint64_t perf_up, perf_down; /* its progress, kept after it ends */
  int depth; /* entry points on the stack: sweep only at the outermost */
  lp2p_multiaddr observed;
  int has_observed;
  lp2p_identify_peer identified;
  int has_identified;
  int identify_due; /* open our identify stream once this input is handled */
  int mux_borrowed; /* the muxer instance is the transport's (QUIC) */
};

/* Records the first failure and says it in one line: the step, and the
 * reason the engine that found it gave (else the error code's text). */
static int conn_fail(lp2p_conn *c, int err, const char *what) {
  if (c->err) return c->err;
  c->err = err;
  const char *why = lp2p_take_reason();
  LP2P_ERROR("conn", "%s failed in %s: %s", what, state_names[c->state],
             why ? why : lp2p_strerror(err));
  return err;
}

static void step_to(lp2p_conn *c, conn_state st) {
  c->state = st;
  c->step_deadline =
      st == ST_MUXED ? LP2P_NO_DEADLINE : c->env->now_ms + c->cfg.step_timeout_ms;
  LP2P_DEBUG("conn", "%s: %s", c->cfg.initiator ? "dialer" : "listener", state_names[st]);
}

/* ---- bytes down ---- */

static int wire_write(void *ud, const uint8_t *p, size_t len) {
  lp2p_conn *c = ud;
  return c->io.write(c->io.ud, p, len);
}

static uint8_t *wire_reserve(void *ud, size_t len) {
  lp2p_conn *c = ud;
  return lp2p_io_reserve(&c->io, len);
}

static int secure_write(void *ud, const uint8_t *p, size_t len) {
  lp2p_conn *c = ud;
  return c->cfg.security->send(c->sec, p, len);
}

/* A muxer frame's header and payload, sealed together where the security
 * protocol can (upgrade.h sendv); else lp2p_io_writev sends them apart. */
static int secure_writev(void *ud, const lp2p_iovec *v, size_t n) {
  lp2p_conn *c = ud;
  return c->cfg.security->sendv(c->sec, v, n);
}

static int stream_write(void *ud, const uint8_t *p, size_t len) {
  conn_stream *s = ud;
  return s->conn->cfg.muxer->send(s->conn->mux, s->id, p, len);
}

/* ---- streams ---- */

static int stream_event(void *ud, const lp2p_event *ev);

/* outbound: the one protocol we open the stream for; NULL for inbound. */
static conn_stream *stream_new(lp2p_conn *c, uint32_t id, const char *const *outbound) {
  conn_stream *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->conn = c;
  s->id = id;
  s->outbound = outbound != NULL;
  s->deadline = c->env->now_ms + c->cfg.step_timeout_ms;
  lp2p_io io = {.write = stream_write, .event = stream_event, .ud = s};
  if (outbound)
    lp2p_mss_init(&s->mss, 1, outbound, 1, io);
  else
    lp2p_mss_init(&s->mss, 0, inbound_protos, N_INBOUND(c), io);
  s->next = c->streams;
  c->streams = s;
  return s;
}

static conn_stream *stream_find(lp2p_conn *c, uint32_t id) {
  for (conn_stream *s = c->streams; s; s = s->next)
    if (s->id == id && s->state != SS_DEAD) return s;
  return NULL;
}

/* Marks a stream dead; it is freed by sweep() once the stack has unwound,
 * since one of its engines may still be on the call stack. */
static void stream_kill(conn_stream *s) {
  if (s->conn->ping_stream == s) s->conn->ping_stream = NULL;
  if (s->conn->perf_stream == s) s->conn->perf_stream = NULL;
  s->state = SS_DEAD;
}

static void sweep(lp2p_conn *c) {
  conn_stream **pp = &c->streams;
  while (*pp) {
    conn_stream *s = *pp;
    if (s->state == SS_DEAD) {
      *pp = s->next;
      lp2p_identify_reader_free(&s->id_reader);
      free(s);
    } else {
      pp = &s->next;
    }
  }
}

/* A stream fails: inbound ones are reset and forgotten; a failing ping
 * stream of ours fails the connection, since the ping is the test. */
static int stream_fail(conn_stream *s, int err) {
  lp2p_conn *c = s->conn;
  int outbound_ping = s == c->ping_stream, outbound_perf = s == c->perf_stream;
  stream_kill(s);
  int rc = c->cfg.muxer->reset(c->mux, s->id);
  if (outbound_ping) return conn_fail(c, err, "ping stream");
  if (outbound_perf) return conn_fail(c, err, "perf stream");
  /* Said at info level, and taken so it cannot stand for a later failure. */
  const char *why = lp2p_take_reason();
  LP2P_INFO("conn", "stream %u reset: %s", s->id, why ? why : lp2p_strerror(err));
  return rc;
}

/* Answers an identify request: our message, then FIN (identify/README.md
 * "responds by returning an Identify message and closes the stream"). */
static int identify_reply(conn_stream *s) {
  lp2p_conn *c = s->conn;
  lp2p_identify_info info = {.pub = &c->cfg.identity->pub,
                             .listen_addrs = c->cfg.listen_addrs,
                             .n_listen_addrs = c->cfg.n_listen_addrs,
                             .observed = c->has_observed ? &c->observed : NULL,
                             .protocols = inbound_protos,
                             .n_protocols = N_INBOUND(c),
                             .agent_version = "lp2p-interop/" LP2P_VERSION};
  lp2p_buf out = {0};
  int rc = lp2p_identify_encode(&out, &info);
  if (rc == 0) rc = c->cfg.muxer->send(c->mux, s->id, out.data, out.len);
  lp2p_buf_free(&out);
  if (rc == 0) rc = c->cfg.muxer->close(c->mux, s->id);
  s->state = SS_DONE;
  s->deadline = c->env->now_ms + c->cfg.step_timeout_ms;
  return rc;
}

static int identify_data(conn_stream *s, const uint8_t *p, size_t len) {
  lp2p_conn *c = s->conn;
  lp2p_identify_peer *peer = &c->identified;
  int rc = lp2p_identify_read(&s->id_reader, peer, &c->remote_id, p, len);
  if (rc <= 0) return rc;
  c->has_identified = 1;
  LP2P_INFO("conn", "peer runs %s (%s), %zu protocols, %zu listen addresses",
            peer->agent_version, peer->protocol_version, peer->n_protocols,
            peer->n_listen_addrs);
  s->state = SS_DONE;
  s->deadline = c->env->now_ms + c->cfg.step_timeout_ms;
  return c->cfg.muxer->close(c->mux, s->id);
}

/* Our half-close. Behind a proposal not yet confirmed it waits for the
 * confirmation (stream_ready), as go-multistream's lazy client waits
 * before closing: a js-libp2p 3.3.11 listener that gets the FIN before it
 * has finished negotiating loses the bytes behind the proposal and resets
 * the stream (tests/interop/js-perf/README.md). Costs a round trip only
 * when everything we send fits in that first flight. */
static int close_write(conn_stream *s) {
  if (s->state == SS_NEGOTIATING) {
    s->fin_held = 1;
    return 0;
  }
  return s->conn->cfg.muxer->close(s->conn->mux, s->id);
}

static int stream_start(conn_stream *s, const char *protocol) {
  lp2p_conn *c = s->conn;
  lp2p_io io = {.write = stream_write, .event = stream_event, .ud = s};
  if (strcmp(protocol, LP2P_IDENTIFY_PROTOCOL) == 0) {
    if (!s->outbound) return identify_reply(s);
    s->state = SS_ID_READ;
    return 0;
  }
  if (strcmp(protocol, LP2P_PERF_PROTOCOL) == 0) {
    /* Our client engine started with the stream (see lp2p_conn_perf). */
    if (!s->outbound) lp2p_perf_server_init(&s->perf, c->cfg.perf_max_bytes);
    s->state = SS_PERF;
    return 0;
  }
  s->state = SS_PING;
  s->deadline = LP2P_NO_DEADLINE; /* the ping deadline is the connection's */
  /* Our own ping engine started with the stream (see lp2p_conn_ping). */
  if (!s->outbound) lp2p_ping_init(&s->ping, c->env, 0, io);
  return 0;
}

/* The protocol is agreed: its engine starts, then a half-close we held
 * (close_write) goes out. */
static int stream_ready(conn_stream *s, const char *protocol) {
  int rc = stream_start(s, protocol);
  if (rc || !s->fin_held || s->state == SS_DEAD) return rc;
  s->fin_held = 0;
  return s->conn->cfg.muxer->close(s->conn->mux, s->id);
}

/* A perf stream's deadline is one step without progress either way. */
static void perf_progress(conn_stream *s) {
  s->deadline = s->conn->env->now_ms + s->conn->cfg.step_timeout_ms;
  if (s == s->conn->perf_stream) {
    s->conn->perf_up = s->perf.sent;
    s->conn->perf_down = s->perf.received;
  }
}

static int perf_data(conn_stream *s, const uint8_t *p, size_t len) {
  int rc = lp2p_perf_recv(&s->perf, p, len);
  perf_progress(s);
  return rc;
}

/* Both directions of a perf stream are over: the client reports. */
static int perf_finished(conn_stream *s) {
  lp2p_conn *c = s->conn;
  int ours = s == c->perf_stream;
  perf_progress(s);
  stream_kill(s);
  if (!ours) return 0;
  return lp2p_io_emit(&c->io, LP2P_EV_PERF_DONE, s->id, NULL, 0);
}

static int stream_event(void *ud, const lp2p_event *ev) {
  conn_stream *s = ud;
  lp2p_conn *c = s->conn;
  switch (ev->type) {
  case LP2P_EV_READY: return stream_ready(s, ev->protocol);
  case LP2P_EV_DATA:
    if (s->state == SS_PING) return lp2p_ping_recv(&s->ping, ev->data, ev->len);
    if (s->state == SS_ID_READ) return identify_data(s, ev->data, ev->len);
    if (s->state == SS_PERF) return perf_data(s, ev->data, ev->len);
    return s->state == SS_DONE ? LP2P_EPROTO : 0;
  case LP2P_EV_PONG:
    c->ping_deadline = LP2P_NO_DEADLINE;
    return lp2p_io_event(&c->io, ev);
  default: return 0;
  }
}

static int stream_data(conn_stream *s, const uint8_t *p, size_t len) {
  lp2p_event ev = {.type = LP2P_EV_DATA, .data = p, .len = len};
  int rc =
      s->state == SS_NEGOTIATING ? lp2p_mss_recv(&s->mss, p, len) : stream_event(s, &ev);
  /* A connection-level failure is already recorded; pass it up. */
  if (s->conn->err) return s->conn->err;
  return rc ? stream_fail(s, rc) : 0;
}

static int on_stream_open(lp2p_conn *c, uint32_t id) {
  conn_stream *s = stream_new(c, id, NULL);
  if (!s) return c->cfg.muxer->reset(c->mux, id);
  int rc = lp2p_mss_start(&s->mss);
  return rc ? stream_fail(s, rc) : 0;
}

/* The peer half-closed: a ping responder has nothing left to echo, so it
 * closes too; our ping stream closing under an outstanding ping is a
 * failure. */
static int on_stream_fin(lp2p_conn *c, conn_stream *s) {
  if (s->state == SS_PERF) {
    int rc = lp2p_perf_fin(&s->perf);
    perf_progress(s);
    if (rc) return stream_fail(s, rc);
    return lp2p_perf_done(&s->perf) ? perf_finished(s) : 0;
  }
  if (s == c->perf_stream) return stream_fail(s, LP2P_EEOF);
  if (s == c->ping_stream && lp2p_ping_outstanding(&s->ping))
    return stream_fail(s, LP2P_EEOF);
  if (s->state == SS_ID_READ) return stream_fail(s, LP2P_EEOF);
  int we_closed = s->state == SS_DONE;
  stream_kill(s);
  return we_closed ? 0 : c->cfg.muxer->close(c->mux, s->id);
}

static int on_stream_reset(lp2p_conn *c, conn_stream *s) {
  int was_ping = s == c->ping_stream, was_perf = s == c->perf_stream;
  stream_kill(s);
  if (was_ping && c->ping_deadline != LP2P_NO_DEADLINE)
    return conn_fail(c, LP2P_ERESET, "ping stream");
  if (was_perf) return conn_fail(c, LP2P_ERESET, "perf stream");
  return 0;
}

static int mux_event(void *ud, const lp2p_event *ev) {
  lp2p_conn *c = ud;
  conn_stream *s;
  switch (ev->type) {
  case LP2P_EV_STREAM_OPEN: return on_stream_open(c, ev->stream);
  case LP2P_EV_STREAM_DATA:
    s = stream_find(c, ev->stream);
    return s ? stream_data(s, ev->data, ev->len) : 0;
  case LP2P_EV_STREAM_FIN:
    s = stream_find(c, ev->stream);
    return s ? on_stream_fin(c, s) : 0;
  case LP2P_EV_STREAM_RESET:
    s = stream_find(c, ev->stream);
    return s ? on_stream_reset(c, s) : 0;
  case LP2P_EV_EOF: LP2P_DEBUG("conn", "peer is going away"); return 0;
  default: return 0;
  }
}

/* ---- upgrade ---- */

/* Asks the peer who it is; a failure there only loses that stream. */
static int open_identify(lp2p_conn *c) {
  uint32_t id;
  int rc = c->cfg.muxer->open(c->mux, &id);
  if (rc) return rc == LP2P_ELIMIT ? 0 : rc;
  conn_stream *s = stream_new(c, id, id_protos);
  if (!s) return c->cfg.muxer->reset(c->mux, id);
  rc = lp2p_mss_start(&s->mss);
  return rc ? stream_fail(s, rc) : 0;
}

/* The muxer runs: streams may open from now on. */
static int muxed(lp2p_conn *c) {
  step_to(c, ST_MUXED);
  /* Not now: the rest of this input (the dialer's ping, sent right behind
   * Noise message 3) is answered first, so the echo leads our next write
   * and the peer's measurement never waits behind identify. */
  c->identify_due = c->cfg.identify_peer;
  lp2p_event ev = {
      .type = LP2P_EV_READY, .protocol = c->cfg.muxer->protocol, .peer = &c->remote};
  return lp2p_io_event(&c->io, &ev);
}

static int start_muxer(lp2p_conn *c) {
  lp2p_io io = {.write = secure_write,
                .event = mux_event,
                .ud = c,
                .writev = c->cfg.security->sendv ? secure_writev : NULL};
  c->mux = c->cfg.muxer->create(c->env, c->cfg.initiator, io);
  if (!c->mux) return conn_fail(c, LP2P_ENOMEM, "muxer");
  return muxed(c);
}

static int mux_mss_event(void *ud, const lp2p_event *ev) {
  lp2p_conn *c = ud;
  if (ev->type == LP2P_EV_READY) return start_muxer(c);
  if (ev->type == LP2P_EV_DATA) return c->cfg.muxer->recv(c->mux, ev->data, ev->len);
  return 0;
}

static int check_peer(lp2p_conn *c, const lp2p_pubkey *pk) {
  c->remote = *pk;
  int rc = lp2p_peerid_from_pubkey(&c->remote_id, pk);
  if (rc) return rc;
  c->secured = 1;
  if (c->cfg.expected_peer && !lp2p_peerid_equal(c->cfg.expected_peer, &c->remote_id)) {
    char want[128] = "?", got[128] = "?";
    lp2p_peerid_to_text(want, sizeof want, c->cfg.expected_peer);
    lp2p_peerid_to_text(got, sizeof got, &c->remote_id);
    LP2P_REASON("conn", "dialed %s but the peer is %s", want, got);
    return LP2P_EPEERID;
  }
  return 0;
}

static int on_secured(lp2p_conn *c, const lp2p_event *ev) {
  int rc = check_peer(c, ev->peer);
  if (rc) return conn_fail(c, rc, "peer check");
  /* connections/inlined-muxer-negotiation.md: a muxer both sides listed in
   * the handshake replaces the multistream round trip. */
  if (ev->protocol && strcmp(ev->protocol, c->cfg.muxer->protocol) == 0) {
    LP2P_DEBUG("conn", "muxer %s agreed inside the handshake", ev->protocol);
    return start_muxer(c);
  }
  step_to(c, ST_MUX_NEGOTIATE);
  lp2p_io io = {.write = secure_write, .event = mux_mss_event, .ud = c};
  lp2p_mss_init(&c->mux_mss, c->cfg.initiator, c->mux_proto, 1, io);
  return lp2p_mss_start(&c->mux_mss);
}

static int sec_event(void *ud, const lp2p_event *ev) {
  lp2p_conn *c = ud;
  if (ev->type == LP2P_EV_READY) return on_secured(c, ev);
  if (ev->type != LP2P_EV_DATA) return 0;
  if (c->state == ST_MUX_NEGOTIATE) return lp2p_mss_recv(&c->mux_mss, ev->data, ev->len);
  if (c->state == ST_MUXED) return c->cfg.muxer->recv(c->mux, ev->data, ev->len);
  return LP2P_EPROTO;
}

static int start_security(lp2p_conn *c) {
  lp2p_io io = {
      .write = wire_write, .event = sec_event, .ud = c, .reserve = wire_reserve};
  lp2p_security_params p = {.initiator = c->cfg.initiator,
                            .identity = c->cfg.identity,
                            .muxers = c->mux_proto,
                            .n_muxers = c->cfg.no_inline_muxer ? 0 : 1,
                            .expected_peer = c->cfg.expected_peer,
                            .shared = c->cfg.security_shared};
  c->sec = c->cfg.security->create(c->env, &p, io);
  if (!c->sec) return conn_fail(c, LP2P_ENOMEM, "security");
  return c->cfg.security->start(c->sec);
}

static int sec_mss_event(void *ud, const lp2p_event *ev) {
  lp2p_conn *c = ud;
  if (ev->type == LP2P_EV_DATA) return c->cfg.security->recv(c->sec, ev->data, ev->len);
  if (ev->type != LP2P_EV_READY) return 0;
  /* An optimistic dialer started the handshake already. */
  int started = c->sec != NULL;
  step_to(c, ST_SECURING);
  return started ? 0 : start_security(c);
}

/* ---- public ---- */

void *lp2p_conn_shared_new(lp2p_env *env, const lp2p_conn_config *cfg) {
  if (!cfg->security || !cfg->security->shared_new) return NULL;
  /* The muxer list every connection hands the security layer (below). */
  const char *mux[1] = {cfg->muxer->protocol};
  lp2p_security_params p = {
      .identity = cfg->identity, .muxers = mux, .n_muxers = cfg->no_inline_muxer ? 0 : 1};
  return cfg->security->shared_new(env, &p);
}

void lp2p_conn_shared_free(const lp2p_conn_config *cfg, void *shared) {
  if (shared && cfg->security && cfg->security->shared_free)
    cfg->security->shared_free(shared);
}

lp2p_conn *lp2p_conn_new(lp2p_env *env, const lp2p_conn_config *cfg, lp2p_io io) {
  lp2p_conn *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->env = env;
  c->cfg = *cfg;
  c->io = io;
  /* Both NULL for a transport that brings its own (lp2p_conn_start_secured). */
  c->sec_proto[0] = cfg->security ? cfg->security->protocol : NULL;
  c->mux_proto[0] = cfg->muxer ? cfg->muxer->protocol : NULL;
  c->ping_deadline = LP2P_NO_DEADLINE;
  lp2p_io mio = {.write = wire_write, .event = sec_mss_event, .ud = c};
  lp2p_mss_init(&c->sec_mss, cfg->initiator, c->sec_proto, 1, mio);
  return c;
}

int lp2p_conn_start(lp2p_conn *c) {
  step_to(c, ST_SEC_NEGOTIATE);
  int rc = lp2p_mss_start(&c->sec_mss);
  /* The handshake's first message rides behind the proposal; a refusal
   * ("na") still fails the connection in multistream-select. */
  if (rc == 0 && c->cfg.initiator && c->cfg.optimistic_security) rc = start_security(c);
  return rc ? conn_fail(c, rc, "start") : 0;
}

static void enter(lp2p_conn *c);
static int finish(lp2p_conn *c, int rc, const char *what);

int lp2p_conn_start_secured(lp2p_conn *c, const lp2p_pubkey *remote,
                            const lp2p_muxer_ops *muxer, void *instance) {
  if (!muxer->bind) return LP2P_EINVAL;
  enter(c);
  c->cfg.muxer = muxer;
  c->mux_proto[0] = muxer->protocol;
  c->state = ST_MUX_NEGOTIATE;
  int rc = check_peer(c, remote);
  if (rc) return finish(c, rc, "peer check");
  c->mux = instance;
  c->mux_borrowed = 1;
  lp2p_io io = {.write = NULL, .event = mux_event, .ud = c};
  muxer->bind(instance, io);
  return finish(c, muxed(c), "start");
}

/* Entry points run between enter() and finish(): finish records a failure
 * and, at the outermost level only, frees dead streams (an event callback
 * may re-enter, e.g. ping again from inside a PONG). */
static void enter(lp2p_conn *c) {
  if (c->depth++ == 0) lp2p_clear_reason();
}

static int finish(lp2p_conn *c, int rc, const char *what) {
  if (c->depth == 1 && rc == 0 && !c->err && c->identify_due) {
    c->identify_due = 0;
    rc = open_identify(c);
    what = "identify";
  }
  if (rc && !c->err) conn_fail(c, rc, what);
  if (--c->depth == 0) sweep(c);
  return c->err;
}

int lp2p_conn_recv(lp2p_conn *c, const uint8_t *in, size_t len) {
  if (c->err) return c->err;
  enter(c);
  int rc;
  switch (c->state) {
  case ST_SEC_NEGOTIATE: rc = lp2p_mss_recv(&c->sec_mss, in, len); break;
  default: rc = c->cfg.security->recv(c->sec, in, len); break;
  }
  return finish(c, rc, "receive");
}

int lp2p_conn_ping(lp2p_conn *c) {
  if (c->err) return c->err;
  if (c->state != ST_MUXED) return LP2P_EINVAL;
  enter(c);
  c->ping_deadline = c->env->now_ms + c->cfg.step_timeout_ms;
  conn_stream *s = c->ping_stream;
  int rc = 0;
  if (!s) {
    uint32_t id;
    rc = c->cfg.muxer->open(c->mux, &id);
    if (rc == 0 && !(s = c->ping_stream = stream_new(c, id, ping_protos)))
      rc = LP2P_ENOMEM;
    /* The ping goes out behind the stream's one proposal, without waiting
     * for its echo (the optimistic select js-libp2p and go-libp2p use for
     * single-protocol streams): one round trip less. A refusal fails the
     * ping either way. */
    if (rc == 0) rc = lp2p_mss_start(&s->mss);
    if (rc == 0) {
      lp2p_io io = {.write = stream_write, .event = stream_event, .ud = s};
      lp2p_ping_init(&s->ping, c->env, 1, io);
    }
  }
  if (rc == 0) rc = lp2p_ping_send(&s->ping);
  return finish(c, rc, "ping");
}

/* A perf stream with an engine running: inbound ones once negotiated, ours
 * from the start (its request follows the proposal at once). */
static int is_perf(const conn_stream *s) {
  return s->state == SS_PERF || (s == s->conn->perf_stream && s->state == SS_NEGOTIATING);
}

int lp2p_conn_perf(lp2p_conn *c, uint64_t upload, uint64_t download) {
  if (c->err) return c->err;
  if (c->state != ST_MUXED || c->perf_stream) return LP2P_EINVAL;
  enter(c);
  uint32_t id;
  conn_stream *s = NULL;
  int rc = c->cfg.muxer->open(c->mux, &id);
  if (rc == 0 && !(s = c->perf_stream = stream_new(c, id, perf_protos))) rc = LP2P_ENOMEM;
  if (rc == 0) {
    c->perf_up = c->perf_down = 0;
    /* The request goes out behind the one proposal without waiting for
     * its echo, as for ping (a refusal fails the stream either way). */
    lp2p_perf_client_init(&s->perf, upload, download);
    rc = lp2p_mss_start(&s->mss);
  }
  return finish(c, rc, "perf");
}

void lp2p_conn_perf_progress(const lp2p_conn *c, uint64_t *uploaded,
                             uint64_t *downloaded) {
  *uploaded = c->perf_up;
  *downloaded = c->perf_down;
}

int lp2p_conn_wants_output(const lp2p_conn *c) {
  if (c->err || c->state != ST_MUXED) return 0;
  for (const conn_stream *s = c->streams; s; s = s->next)
    if (is_perf(s) && lp2p_perf_wants_output(&s->perf)) return 1;
  return 0;
}

/* Moves up to *budget bytes of one perf stream into the muxer, no more
 * than its flow control lets out now. */
static int pump_stream(conn_stream *s, size_t *budget) {
  lp2p_conn *c = s->conn;
  while (lp2p_perf_wants_output(&s->perf)) {
    size_t room =
        c->cfg.muxer->writable ? c->cfg.muxer->writable(c->mux, s->id) : SIZE_MAX;
    if (room > *budget) room = *budget;
    const uint8_t *out;
    int fin;
    size_t n = lp2p_perf_output(&s->perf, room, &out, &fin);
    if (n == 0 && !fin) return 0;
    int rc = n ? c->cfg.muxer->send(c->mux, s->id, out, n) : 0;
    *budget -= n;
    perf_progress(s);
    if (rc == 0 && fin) {
      rc = close_write(s);
      if (rc == 0 && !s->fin_held && lp2p_perf_done(&s->perf)) return perf_finished(s);
    }
    if (rc) return stream_fail(s, rc);
  }
  return 0;
}

int lp2p_conn_pump(lp2p_conn *c, size_t budget) {
  if (c->err) return c->err;
  if (c->state != ST_MUXED) return 0;
  enter(c);
  size_t start = budget;
  int rc = 0;
  for (conn_stream *s = c->streams; s && rc == 0 && budget; s = s->next)
    if (is_perf(s)) rc = pump_stream(s, &budget);
  rc = finish(c, rc, "perf");
  return rc ? rc : (int)(start - budget > INT32_MAX ? INT32_MAX : start - budget);
}

uint64_t lp2p_conn_deadline(const lp2p_conn *c) {
  uint64_t d = c->step_deadline;
  if (c->ping_deadline < d) d = c->ping_deadline;
  for (const conn_stream *s = c->streams; s; s = s->next)
    if (s->state != SS_DEAD && s->deadline < d) d = s->deadline;
  if (c->mux) {
    uint64_t m = c->cfg.muxer->deadline(c->mux);
    if (m < d) d = m;
  }
  return d;
}

int lp2p_conn_expire(lp2p_conn *c) {
  if (c->err) return c->err;
  enter(c);
  uint64_t now = c->env->now_ms;
  if (now >= c->step_deadline) return finish(c, LP2P_ETIMEDOUT, "upgrade");
  if (now >= c->ping_deadline) return finish(c, LP2P_ETIMEDOUT, "ping");
  int rc = 0;
  /* A stream stuck negotiating (or our identify request unanswered) is
   * reset; the connection goes on. */
  for (conn_stream *s = c->streams; s && rc == 0; s = s->next)
    if (s->state != SS_DEAD && now >= s->deadline) rc = stream_fail(s, LP2P_ETIMEDOUT);
  if (rc == 0 && c->mux) rc = c->cfg.muxer->expire(c->mux);
  return finish(c, rc, "stream timer");
}

int lp2p_conn_close(lp2p_conn *c) {
  if (c->err || !c->mux) return c->err;
  enter(c);
  return finish(c, c->cfg.muxer->goaway(c->mux, 0), "close");
}

void lp2p_conn_set_observed(lp2p_conn *c, const lp2p_multiaddr *ma) {
  c->observed = *ma;
  c->has_observed = 1;
}

const lp2p_identify_peer *lp2p_conn_identified(const lp2p_conn *c) {
  return c->has_identified ? &c->identified : NULL;
}

int lp2p_conn_is_ready(const lp2p_conn *c) { return c->state == ST_MUXED && !c->err; }

const lp2p_peerid *lp2p_conn_peer(const lp2p_conn *c) {
  return c->secured ? &c->remote_id : NULL;
}

void lp2p_conn_free(lp2p_conn *c) {
  if (!c) return;
  for (conn_stream *s = c->streams; s; s = s->next)
    s->state = SS_DEAD;
  sweep(c);
  if (c->mux && !c->mux_borrowed) c->cfg.muxer->destroy(c->mux);
  if (c->sec) c->cfg.security->destroy(c->sec);
  free(c);
}
