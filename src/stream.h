/* Internal: the generic libuv stream driver around lp2p_chain (byte layers,
 * then lp2p_conn), for any uv_stream_t. One read buffer shared by the loop
 * (reads are consumed synchronously), a pending and an in-flight transmit
 * buffer with one uv_write_t, backpressure, one timer set to the chain's
 * earliest deadline, an orderly close (last frame, FIN, bounded drain) and a
 * teardown that waits for the handle callbacks. Handlers may close the
 * stream from inside a callback; the teardown waits until the driver's call
 * has unwound.
 *
 * The owner (tcp.c; later a pipe or another stream transport) embeds both
 * the lp2p__stream and its own libuv handle, initialises the handle itself
 * and passes it as a uv_stream_t. That keeps everything type-specific
 * (bind, accept, connect and its request, socket options, peer address) in
 * the owner, so a new handle type needs no change here, where a union of
 * handle types in this file would. */
#ifndef LP2P_STREAM_INTERNAL_H
#define LP2P_STREAM_INTERNAL_H

#include "lp2p/chain.h"

#include <uv.h>

typedef struct lp2p__stream lp2p__stream;

/* What the stream tells its owner; ud is lp2p__stream_init's. */
typedef struct lp2p__stream_ops {
  void (*ready)(void *ud, const lp2p_peerid *peer);
  void (*pong)(void *ud);
  void (*perf_done)(void *ud);
  /* Once, when the connection ends: err 0 for a clean close. */
  void (*closed)(void *ud, int err);
  /* The stream began its bounded drain after its last frame (it now only
   * discards input until it tears down). */
  void (*lingering)(void *ud);
  /* Teardown began: the engines are freed, no handler runs after. */
  void (*torn_down)(void *ud);
  /* Every handle and write callback has run: the owner frees its memory. */
  void (*freed)(void *ud);
} lp2p__stream_ops;

/* The fields are stream.c's: the owner embeds the struct (so it lives as
 * long as the owner's handle) and uses only the functions below. */
struct lp2p__stream {
  uv_stream_t *handle; /* the owner's */
  uv_timer_t timer;
  uv_write_t write_req;
  uv_shutdown_t shutdown_req;
  const char *tag; /* log subsystem, the owner's (static) */
  lp2p_env *env;
  lp2p_chain *chain;
  lp2p__stream_ops ops;
  void *ud;
  lp2p_buf pending;
  lp2p_buf inflight;
  int writing;
  int read_paused;      /* backpressure: the peer is not taking our output */
  uint64_t write_since; /* start of the write in flight (loop time) */
  uint32_t step_ms;
  int depth; /* driver calls on the stack */
  int close_after_flush;
  int flush_armed;     /* the deadline of that last flush is set */
  int linger_on_error; /* drain the peer before closing on an error */
  int linger;          /* closing on an error: drain first */
  int lingering;       /* writing shut down, discarding input until the peer ends */
  size_t linger_in;    /* bytes discarded so far */
  int peer_gone;       /* EOF or an error on read: nothing left to drain */
  int closed_reported;
  int handles_open;
  int torn_down;
};

/* Makes the chain (cfg as lp2p_chain_new); no libuv handle yet, so on
 * failure (LP2P_ENOMEM) there is nothing to undo. tag must be static. */
int lp2p__stream_init(lp2p__stream *s, lp2p_env *env, const lp2p_chain_config *cfg,
                      const char *tag, const lp2p__stream_ops *ops, void *ud);
/* Takes handle (already initialised by the owner on loop; its data becomes
 * s) and starts the stream's timer. From here the stream closes the handle
 * at teardown and calls ops->freed once both handles have closed. */
void lp2p__stream_attach(lp2p__stream *s, uv_loop_t *loop, uv_stream_t *handle);
/* Before the handle is connected: end with LP2P_ETIMEDOUT ("connect: timed
 * out") unless lp2p__stream_start runs within ms. */
void lp2p__stream_open_timeout(lp2p__stream *s, uint32_t ms);
/* The handle is connected: read and start the chain. */
void lp2p__stream_start(lp2p__stream *s);
/* Reports err once (unless already reported) and tears down now. */
void lp2p__stream_fail(lp2p__stream *s, int err);
/* Tears down now without reporting (the owner's call failed and says so
 * itself). */
void lp2p__stream_drop(lp2p__stream *s);
/* Tears down now, or, from inside a driver call, once it unwinds. No
 * handler but closed/torn_down/freed runs after. */
void lp2p__stream_abort(lp2p__stream *s);
int lp2p__stream_is_torn_down(const lp2p__stream *s);
int lp2p__stream_is_lingering(const lp2p__stream *s);
/* The chain, NULL once it has been freed (lingering, torn down). */
lp2p_chain *lp2p__stream_chain(const lp2p__stream *s);
/* Whether the stream drains the peer before closing on an error (a
 * listener's connections do; a dialer's owner expects it gone at once). */
void lp2p__stream_set_linger_on_error(lp2p__stream *s, int on);

/* The connection-level calls, each inside one driver call. */
int lp2p__stream_ping(lp2p__stream *s);
int lp2p__stream_perf(lp2p__stream *s, uint64_t upload, uint64_t download);
void lp2p__stream_perf_progress(const lp2p__stream *s, uint64_t *up, uint64_t *down);
/* Graceful: muxer goodbye, flush, then close. Nothing is reported after. */
void lp2p__stream_close(lp2p__stream *s);

#endif
