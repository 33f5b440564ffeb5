/* /mplex/6.7.0 stream multiplexer engine (libp2p/specs mplex/README.md).
 *
 * Pure: wire bytes come in through lp2p_mplex_recv(), frames go out through
 * io.write, and stream events go up through io.event. No timers: mplex has
 * no keepalive or flow control, so deadline() is always LP2P_NO_DEADLINE.
 *
 * Stream handles. mplex stream ids are allocated per side: both peers count
 * from 0, and the frame flag tells whose stream a frame is about. A stream
 * is therefore named by (id, who opened it), which we fold into one uint32
 * handle:
 *
 *     handle = id * 2 + (opened_by_us ? 1 : 0)
 *
 * so our streams have odd handles and the peer's even ones. Ids above
 * LP2P_MPLEX_MAX_ID do not fit; the peer using one is LP2P_EPROTO, and
 * running out locally makes lp2p_mplex_open() return LP2P_ELIMIT.
 *
 * Events (pointers inside are valid only during the callback):
 *   LP2P_EV_STREAM_OPEN   the peer sent NewStream (the stream name is ignored)
 *   LP2P_EV_STREAM_DATA   payload of a Message frame; a frame's payload may be
 *                         delivered in several pieces as it arrives
 *   LP2P_EV_STREAM_FIN    the peer sent Close (half-close: we may still send)
 *   LP2P_EV_STREAM_RESET  the peer sent Reset, or sent data after its Close;
 *                         the handle is gone
 * Local actions (close, reset, goaway) raise no events.
 *
 * Re-entrancy: the event callback may call open/send/close/reset/goaway on
 * this engine (an echo from inside STREAM_DATA is fine), but not recv and
 * never free.
 *
 * Errors: a peer that breaks the protocol makes recv return LP2P_EPROTO,
 * LP2P_ETOOBIG or LP2P_EVARINT (logged once with the reason); an error from
 * io.write or io.event is returned as is. Either way the engine is dead from
 * then on and every call returns that error again. Misuse by the caller
 * (unknown handle, writing after close) returns LP2P_ECLOSED / LP2P_EINVAL
 * and leaves the engine alive. */
#ifndef LP2P_MPLEX_H
#define LP2P_MPLEX_H

#include "lp2p/common.h"

#define LP2P_MPLEX_PROTOCOL "/mplex/6.7.0"

/* Largest stream id we accept or allocate: handle = id * 2 + 1 must fit. */
#define LP2P_MPLEX_MAX_ID 0x7fffffffu
/* Default frame cap: the spec points at go-multiplex's 1 MiB. */
#define LP2P_MPLEX_MAX_FRAME_DEFAULT (1024u * 1024u)
#define LP2P_MPLEX_MAX_STREAMS_DEFAULT 256u

typedef struct lp2p_mplex lp2p_mplex;

typedef struct lp2p_mplex_config {
  int initiator;        /* the connection's dialer (for naming only; mplex
                           ids are per side) */
  uint32_t max_streams; /* cap on concurrently open inbound streams; excess
                           NewStream gets Reset; 0 -> 256 */
  size_t max_frame;     /* cap on a frame's length, both ways; 0 -> 1 MiB;
                           clamped to 2^62 (a 9-byte varint) */
  size_t max_buffered;  /* accepted for symmetry with yamux; unused: mplex
                           delivers data as it arrives and writes straight
                           to io.write, so nothing is queued per stream */
} lp2p_mplex_config;

/* cfg may be NULL for defaults. env is kept (not copied) and must outlive
 * the engine; mplex uses neither its clock nor its random source today.
 * Returns NULL when out of memory. */
lp2p_mplex *lp2p_mplex_new(lp2p_env *env, const lp2p_mplex_config *cfg, lp2p_io io);

/* Feeds wire bytes, split anywhere. Returns 0 or a negative code (see the
 * header comment); LP2P_EINVAL when called from inside an event callback. */
int lp2p_mplex_recv(lp2p_mplex *m, const uint8_t *in, size_t len);

/* Opens a stream: writes NewStream (named with the decimal id, as go and js
 * implementations do) and stores the handle in *id. LP2P_ECLOSED after
 * goaway, LP2P_ELIMIT when ids run out. */
int lp2p_mplex_open(lp2p_mplex *m, uint32_t *id);

/* Writes p[0..len) on a stream as Message frames of at most max_frame bytes.
 * len 0 writes nothing. LP2P_ECLOSED for an unknown handle or after our own
 * close. */
int lp2p_mplex_send(lp2p_mplex *m, uint32_t id, const uint8_t *p, size_t len);

/* Half-closes our side (Close). Closing twice is a no-op. The stream is
 * freed once both sides have closed. LP2P_ECLOSED for an unknown handle. */
int lp2p_mplex_close(lp2p_mplex *m, uint32_t id);

/* Resets a stream (Reset) and frees it at once. LP2P_ECLOSED for an unknown
 * handle. */
int lp2p_mplex_reset(lp2p_mplex *m, uint32_t id);

/* mplex has no go-away frame: resets every open stream and refuses new ones
 * (ours: open returns LP2P_ECLOSED; the peer's: answered with Reset). code
 * is ignored. */
int lp2p_mplex_goaway(lp2p_mplex *m, uint32_t code);

/* Always LP2P_NO_DEADLINE; expire() is a no-op (returns the sticky error,
 * if any). */
uint64_t lp2p_mplex_deadline(const lp2p_mplex *m);
int lp2p_mplex_expire(lp2p_mplex *m);

/* Number of live streams (both directions); for tests and stats. */
size_t lp2p_mplex_stream_count(const lp2p_mplex *m);

/* Frees the engine and every stream. Never from inside a callback. NULL ok. */
void lp2p_mplex_free(lp2p_mplex *m);

#endif
