/* Yamux stream multiplexer (/yamux/1.0.0) as a pure engine.
 *
 * Spec: libp2p/specs yamux/README.md, which copies hashicorp/yamux spec.md.
 * Bytes from the secure channel go in through lp2p_yamux_recv(); frames go
 * out through io.write; stream events go up through io.event:
 *
 *   LP2P_EV_STREAM_OPEN   the peer opened `stream` (SYN)
 *   LP2P_EV_STREAM_DATA   bytes on `stream` (data/len); a data frame may be
 *                         split over several events
 *   LP2P_EV_STREAM_FIN    the peer half-closed `stream`
 *   LP2P_EV_STREAM_RESET  the peer reset `stream`; it is gone
 *   LP2P_EV_EOF           the peer sent GoAway: it opens no more streams
 *
 * Bytes handed up in STREAM_DATA count as consumed: the engine returns the
 * credit to the peer itself, so the receive side never buffers. The event
 * callback may call lp2p_yamux_open/send/close/reset/goaway/ping, but not
 * lp2p_yamux_recv (LP2P_EINVAL) and never lp2p_yamux_free.
 *
 * Errors: 0 or a negative LP2P_E* code. A protocol violation by the peer
 * (LP2P_EPROTO, after a GoAway "protocol error" is written), a failing
 * io.write / io.event or an allocation failure while receiving leaves the
 * engine dead: every later call returns the same code. Local misuse
 * (LP2P_ECLOSED, LP2P_ELIMIT, LP2P_EINVAL from the stream calls) does not.
 */
#ifndef LP2P_YAMUX_H
#define LP2P_YAMUX_H

#include "lp2p/common.h"

#define LP2P_YAMUX_PROTOCOL "/yamux/1.0.0"

/* spec "Flow Control": every stream starts with a 256 KiB window both ways;
 * a larger one is announced by a window update on the SYN / ACK. */
#define LP2P_YAMUX_INITIAL_WINDOW (256u * 1024u)
/* Largest data frame we write: header and payload fill one Noise message
 * (65535 - 16-byte tag), so bulk data costs one AEAD call and one frame per
 * 64 KiB. The spec bounds frames only by the window; js-yamux writes up to
 * 64 KiB too, rust-yamux reads up to 1 MiB, go-yamux up to the window. */
#define LP2P_YAMUX_MAX_FRAME (65519u - 12u)
/* Cap on bytes queued beyond the peer's windows, over all streams of one
 * session; lp2p_yamux_send returns LP2P_ELIMIT rather than exceed it. */
#define LP2P_YAMUX_MAX_QUEUED (16u * 1024u * 1024u)
/* libp2p yamux "ACK backlog": at most 256 of our streams unacknowledged. */
#define LP2P_YAMUX_MAX_ACK_BACKLOG 256u
#define LP2P_YAMUX_DEFAULT_MAX_STREAMS 256u
#define LP2P_YAMUX_DEFAULT_MAX_PONGS 64u

/* GoAway codes (spec "Session termination"). */
enum {
  LP2P_YAMUX_GOAWAY_NORMAL = 0,
  LP2P_YAMUX_GOAWAY_PROTO = 1,
  LP2P_YAMUX_GOAWAY_INTERNAL = 2
};

typedef struct lp2p_yamux lp2p_yamux;

typedef struct lp2p_yamux_config {
  int initiator;        /* the connection's dialer: odd stream ids; listener: even */
  uint32_t max_streams; /* cap on concurrently open inbound streams; excess SYNs get RST;
                           0 -> default 256 */
  uint32_t window; /* initial receive window; 0 -> 256 KiB (spec default); below 256 KiB
                      is invalid */
  uint32_t max_pending_pongs; /* cap on ping replies queued per lp2p_yamux_recv call;
                                 excess pings are dropped; 0 -> default 64 */
  int autotune; /* grow each stream's receive window with the bandwidth-delay
                   product, up to LP2P_YAMUX_AUTOTUNE_MAX (see below) */
} lp2p_yamux_config;

/* Receive-window auto-tuning (autotune = 1), as go-yamux does: the session
 * measures the round trip once with a ping (opaque LP2P_YAMUX_RTT_OPAQUE,
 * sent with the first stream either way); a stream whose whole window was
 * used up within 4 round trips since its last window update is
 * flow-control bound, so its window doubles with the next update, up to
 * 16 MiB (go-yamux's maxStreamWindow). The clock is env->now_ms: a round
 * trip below its 1 ms tick counts as 1 ms. */
#define LP2P_YAMUX_AUTOTUNE_MAX (16u * 1024u * 1024u)
#define LP2P_YAMUX_RTT_OPAQUE 0x79727474u

/* Creates a session. env and the io callbacks must outlive it. Returns NULL
 * on allocation failure or a window below 256 KiB (the spec lets a window
 * only grow from its initial 256 KiB). Writes nothing. */
lp2p_yamux *lp2p_yamux_new(lp2p_env *env, const lp2p_yamux_config *cfg, lp2p_io io);

/* Feeds bytes from the peer, split anywhere. Fires events, writes replies
 * (ACK-less window updates, RSTs for refused streams, ping replies, GoAway
 * on a protocol error). Not re-entrant: LP2P_EINVAL from inside a callback. */
int lp2p_yamux_recv(lp2p_yamux *y, const uint8_t *in, size_t len);

/* Opens an outbound stream: writes a window update with SYN carrying
 * (window - 256 KiB). LP2P_ECLOSED after a GoAway either way, LP2P_ELIMIT
 * when 256 of our streams are still unacknowledged or ids ran out. */
int lp2p_yamux_open(lp2p_yamux *y, uint32_t *id);

/* Sends p[0..len) on stream id (copied). What fits the peer's window is
 * written at once in frames of at most LP2P_YAMUX_MAX_FRAME; the rest is
 * queued and flushed as window updates arrive. All or nothing:
 * LP2P_ELIMIT if the queue would pass LP2P_YAMUX_MAX_QUEUED, LP2P_ECLOSED
 * if the stream is gone or we closed it. */
int lp2p_yamux_send(lp2p_yamux *y, uint32_t id, const uint8_t *p, size_t len);

/* Half-close: FIN once the queued data is out. Idempotent. LP2P_ECLOSED
 * if the stream is gone. The stream is freed once both sides closed. */
int lp2p_yamux_close(lp2p_yamux *y, uint32_t id);

/* Writes RST and frees the stream, dropping queued data. No event is
 * fired for a local reset. A stream already gone is a no-op (0). */
int lp2p_yamux_reset(lp2p_yamux *y, uint32_t id);

/* Writes GoAway with code (0 normal, 1 protocol error, 2 internal error;
 * otherwise LP2P_EINVAL), once. Streams already open carry on; new SYNs
 * from the peer get RST and lp2p_yamux_open returns LP2P_ECLOSED. */
int lp2p_yamux_goaway(lp2p_yamux *y, uint32_t code);

/* Writes a ping (SYN) with the given opaque value, e.g. as a keep-alive.
 * The peer's ACK is only logged. */
int lp2p_yamux_ping(lp2p_yamux *y, uint32_t opaque);

/* Bytes queued on stream id awaiting the peer's window (0 if gone), so a
 * sender can pace itself; and the count of live streams. */
size_t lp2p_yamux_queued(const lp2p_yamux *y, uint32_t id);
size_t lp2p_yamux_num_streams(const lp2p_yamux *y);
/* Bytes lp2p_yamux_send would write at once on stream id: its send window
 * when nothing is queued, else 0 (also for a stream gone or closed). */
size_t lp2p_yamux_writable(const lp2p_yamux *y, uint32_t id);

/* Yamux keeps no timers: LP2P_NO_DEADLINE, and expire only reports a dead
 * engine's error. Keep-alives are the driver's call (lp2p_yamux_ping). */
uint64_t lp2p_yamux_deadline(const lp2p_yamux *y);
int lp2p_yamux_expire(lp2p_yamux *y);

void lp2p_yamux_free(lp2p_yamux *y);

#endif
