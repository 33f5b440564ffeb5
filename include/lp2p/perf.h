/* /perf/1.0.0 (libp2p/specs perf/perf.md) on one stream, client or server,
 * as a pure engine: stream bytes in, stream bytes out on demand.
 *
 *   client: u64 BE download size, the upload, half-close, read to FIN
 *   server: read the u64, discard the upload to FIN, send the asked bytes,
 *           half-close ("MUST NOT be run concurrently with step 2")
 *
 * Output is pulled, never pushed: lp2p_perf_output() hands out the next
 * bytes to write (the header, then zeros from one static block), so the
 * caller sends only what its transport can take and nothing the peer asks
 * for is ever buffered or allocated. The spec says the payload "should be a
 * predetermined arbitrary set of bytes. Zero is fine".
 *
 * Two-header peers: the perf image unified-testing ships for rust-libp2p
 * (perf/images/rust/v0.56/src/protocol.rs) writes TWO u64s, its upload size
 * then its download size, before the upload. The server tells the two
 * apart once the upload ends, since it must read to EOF anyway: if the
 * bytes after the first u64 number exactly 8 + that u64, the first was an
 * upload size and the next 8 bytes are the download size. Misread only a
 * spec client whose upload is exactly its download size + 8 bytes; the
 * harnesses' (up, down) pairs are (N, 0), (0, N) and (1, 1). Our client
 * always sends the spec's one header.
 *
 * Errors: LP2P_EPROTO (short header; a download longer or shorter than
 * asked), LP2P_ETOOBIG (server: more asked than the listener's cap; the
 * caller resets the stream), LP2P_EEOF (client: the server closed before
 * our upload was out). Sticky. */
#ifndef LP2P_PERF_H
#define LP2P_PERF_H

#include "lp2p/common.h"

#define LP2P_PERF_PROTOCOL "/perf/1.0.0"
/* Largest piece lp2p_perf_output hands out at once. */
#define LP2P_PERF_BLOCK (256u * 1024u)

typedef enum lp2p_perf_state {
  LP2P_PERF_ST_SEND, /* client: header + upload; server: download */
  LP2P_PERF_ST_READ, /* client: download to FIN; server: header + upload */
  LP2P_PERF_ST_DONE, /* both directions finished */
  LP2P_PERF_ST_FAILED
} lp2p_perf_state;

typedef struct lp2p_perf {
  int client;
  lp2p_perf_state state;
  int err;
  int peer_fin;       /* the peer half-closed */
  uint64_t send_left; /* zeros still to hand out */
  uint64_t sent;      /* payload bytes handed out (header excluded) */
  uint64_t received;  /* payload bytes read (server: after the first u64) */
  uint64_t expect;    /* client: download size asked */
  uint64_t max_send;  /* server: the listener's cap */
  uint8_t hdr[16];    /* client: our header; server: first 16 bytes read */
  size_t hdr_len;     /* client: header bytes still to send; server: read */
  int two_headers;    /* server: the peer used the two-u64 variant */
} lp2p_perf;

/* Client: asks for `download` bytes and will upload `upload`. */
void lp2p_perf_client_init(lp2p_perf *p, uint64_t upload, uint64_t download);
/* Server: refuses (LP2P_ETOOBIG) a request above max_send bytes. */
void lp2p_perf_server_init(lp2p_perf *p, uint64_t max_send);

/* Bytes the peer wrote on the stream, split anywhere. */
int lp2p_perf_recv(lp2p_perf *p, const uint8_t *in, size_t len);
/* The peer half-closed. Server: the request is now known (or refused);
 * output follows. Client: checks the download size; DONE once our own
 * half-close has gone out too. */
int lp2p_perf_fin(lp2p_perf *p);

/* The next at most `max` bytes to write: *out points at them (valid until
 * the next call; the caller writes them all). Returns their count; *fin is
 * set when the stream must be half-closed after them (then no more output
 * follows). 0 with *fin clear: nothing to write now. */
size_t lp2p_perf_output(lp2p_perf *p, size_t max, const uint8_t **out, int *fin);
/* 1 while output is owed (bytes or the half-close). */
int lp2p_perf_wants_output(const lp2p_perf *p);
int lp2p_perf_done(const lp2p_perf *p);

#endif
