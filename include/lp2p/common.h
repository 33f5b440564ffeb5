/* Shared contract of every lp2p engine: error codes, the environment that
 * brings time and randomness in, growable buffers, the two-way io of a layer
 * (bytes down, events up) and levelled logging to stderr.
 *
 * Engines are pure: they never touch sockets, clocks or random sources. The
 * driver sets env->now_ms (and env->unix_s) before each call and provides
 * env->random. */
#ifndef LP2P_COMMON_H
#define LP2P_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* Our error codes live in -1000..-1099 so they never collide with libuv's
 * (negative errno) codes; lp2p_strerror() falls back to strerror(-err). */
enum {
  LP2P_OK = 0,
  LP2P_EPROTO = -1000,    /* the peer broke the protocol */
  LP2P_ETOOBIG = -1001,   /* a peer-controlled size is over its cap */
  LP2P_EVARINT = -1002,   /* malformed or non-minimal varint */
  LP2P_ENOTSUP = -1003,   /* the peer does not support the protocol */
  LP2P_EDECRYPT = -1004,  /* AEAD authentication failed */
  LP2P_ESIG = -1005,      /* bad identity signature */
  LP2P_EPEERID = -1006,   /* remote peer id differs from the expected one */
  LP2P_ETIMEDOUT = -1007, /* a step passed its deadline */
  LP2P_ENOMEM = -1008,
  LP2P_EINVAL = -1009,    /* bad argument or local configuration */
  LP2P_EKEY = -1010,      /* unknown key type or malformed key */
  LP2P_ECLOSED = -1011,   /* used after close */
  LP2P_ERESET = -1012,    /* stream reset by the peer */
  LP2P_EADDR = -1013,     /* malformed multiaddr */
  LP2P_EMISMATCH = -1014, /* ping echo differs from what was sent */
  LP2P_EEOF = -1015,      /* the peer closed before the step finished */
  LP2P_ELIMIT = -1016,    /* a local resource limit (streams, queue) hit */
  LP2P_EBASE58 = -1017    /* malformed base58 / multibase text */
};

const char *lp2p_strerror(int err);

/* Time and randomness, injected. random() fills out[0..len) and returns 0,
 * or a negative code. now_ms is a monotonic millisecond clock. */
typedef struct lp2p_env {
  uint64_t now_ms;
  int (*random)(void *ud, uint8_t *out, size_t len);
  void *random_ud;
  /* Wall clock, seconds since the Unix epoch: only for certificate
   * validity (TLS). 0 when the driver gives none; TLS then refuses. */
  int64_t unix_s;
} lp2p_env;

/* A deadline value that means "no timer". */
#define LP2P_NO_DEADLINE UINT64_MAX

/* Growable byte buffer. Zero-initialised is empty and valid. */
typedef struct lp2p_buf {
  uint8_t *data;
  size_t len;
  size_t cap;
} lp2p_buf;

int lp2p_buf_reserve(lp2p_buf *b, size_t extra);
int lp2p_buf_append(lp2p_buf *b, const void *p, size_t n);
/* Room for len more bytes at the tail, lent to a writer that builds there
 * (io.reserve); NULL when it cannot grow. */
uint8_t *lp2p_buf_lend(lp2p_buf *b, size_t len);
/* Appends p, or, when p is the room lp2p_buf_lend lent and the bytes were
 * built there, only counts them in (*in_place set to 1 then, when given). */
int lp2p_buf_take(lp2p_buf *b, const uint8_t *p, size_t len, int *in_place);
/* Drops the first n bytes (n <= len). */
void lp2p_buf_consume(lp2p_buf *b, size_t n);
void lp2p_buf_free(lp2p_buf *b);
/* Frees after wiping: for buffers that held plaintext or keys. */
void lp2p_buf_free_secret(lp2p_buf *b);

/* Events a layer sends up. Pointers inside an event are valid only for the
 * duration of the callback. */
typedef enum lp2p_event_type {
  LP2P_EV_READY = 1,    /* negotiation or handshake done: protocol / peer */
  LP2P_EV_DATA,         /* bytes for the layer above */
  LP2P_EV_EOF,          /* the peer will send no more (e.g. yamux GoAway) */
  LP2P_EV_STREAM_OPEN,  /* muxer: the peer opened stream `stream` */
  LP2P_EV_STREAM_DATA,  /* muxer: bytes on `stream` */
  LP2P_EV_STREAM_FIN,   /* muxer: the peer half-closed `stream` */
  LP2P_EV_STREAM_RESET, /* muxer: `stream` was reset; it is gone */
  LP2P_EV_PONG,         /* ping: an echo matched; `rtt_ms` unused (driver
                           measures with its own clock) */
  LP2P_EV_PERF_DONE     /* perf client: the exchange finished (both FINs,
                           the download complete) */
} lp2p_event_type;

typedef struct lp2p_event {
  lp2p_event_type type;
  uint32_t stream;     /* muxer events */
  const uint8_t *data; /* DATA, STREAM_DATA; leftover bytes */
  size_t len;
  /* READY of multistream-select: the agreed protocol. READY of a security
   * layer: the muxer agreed by inlined negotiation, or NULL. */
  const char *protocol;
  const void *peer; /* READY of a security layer: const lp2p_pubkey* */
} lp2p_event;

/* One piece of a gathered write: a frame header and its payload go down
 * as two pieces of one write instead of being copied together. */
typedef struct lp2p_iovec {
  const uint8_t *p;
  size_t len;
} lp2p_iovec;

/* The two directions of a layer. write() takes bytes toward the wire (it
 * copies them or sends them on before returning); event() takes events
 * toward the application. Both return 0 or a negative code, which the layer
 * returns from the call in progress. An event callback may call back into
 * the layer's send functions, but never frees the layer.
 *
 * Two optional calls (NULL: not offered) spare bulk data its copies:
 * writev() takes the pieces of one write in order (a layer that frames its
 * output may put them in one frame: lp2p_io_writev falls back to one
 * write() per piece); reserve() lends room for len bytes at the tail of the
 * sink's own output, so the layer above builds its frame there (Noise
 * encrypts into it) and then hands that very pointer to write(), which
 * takes it without copying. The room is valid until the next call on this
 * io; reserve returns NULL when it has none to lend (the caller then writes
 * from a buffer of its own). */
typedef struct lp2p_io {
  int (*write)(void *ud, const uint8_t *p, size_t len);
  int (*event)(void *ud, const lp2p_event *ev);
  void *ud;
  int (*writev)(void *ud, const lp2p_iovec *v, size_t n);
  uint8_t *(*reserve)(void *ud, size_t len);
} lp2p_io;

/* io->writev when offered, else io->write for each non-empty piece. */
int lp2p_io_writev(const lp2p_io *io, const lp2p_iovec *v, size_t n);
/* io->reserve when offered, else NULL. */
uint8_t *lp2p_io_reserve(const lp2p_io *io, size_t len);
/* Total length of n pieces. */
size_t lp2p_iov_len(const lp2p_iovec *v, size_t n);

/* Sends ev up through io: io.event's code, or 0 when io takes no events
 * (event NULL). Every layer sends its events up through this or
 * lp2p_io_emit. */
int lp2p_io_event(const lp2p_io *io, const lp2p_event *ev);
/* Sends one stream event up: type, stream, data (lp2p_io_event). */
int lp2p_io_emit(const lp2p_io *io, lp2p_event_type type, uint32_t stream,
                 const uint8_t *data, size_t len);

/* Logging: stderr only, cheap when off. */
enum { LP2P_LOG_ERROR = 0, LP2P_LOG_INFO = 1, LP2P_LOG_DEBUG = 2 };
extern int lp2p_log_level;
void lp2p_log_(int level, const char *layer, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define lp2p_log(level, layer, ...)                                                      \
  do {                                                                                   \
    if ((level) <= lp2p_log_level) lp2p_log_(level, layer, __VA_ARGS__);                 \
  } while (0)
#define LP2P_DEBUG(layer, ...) lp2p_log(LP2P_LOG_DEBUG, layer, __VA_ARGS__)
#define LP2P_INFO(layer, ...) lp2p_log(LP2P_LOG_INFO, layer, __VA_ARGS__)
#define LP2P_ERROR(layer, ...) lp2p_log(LP2P_LOG_ERROR, layer, __VA_ARGS__)

/* A failure the peer caused, said once where it is detected: logged at info
 * level and kept as the reason the connection gives in its one error line.
 * One slot for the process: we run one thread. */
void lp2p_reason_(const char *layer, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
#define LP2P_REASON(layer, ...) lp2p_reason_(layer, __VA_ARGS__)
/* The reason kept since the last clear, or NULL; clears it. */
const char *lp2p_take_reason(void);
void lp2p_clear_reason(void);

#endif
