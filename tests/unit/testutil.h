/* Helpers shared by the unit and integration tests. */
#ifndef LP2P_TESTUTIL_H
#define LP2P_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka needs the three includes above first. */
#include <cmocka.h>

#include "lp2p/common.h"

/* Decodes hex text into out; returns bytes written, aborts on bad input. */
size_t tu_hex(uint8_t *out, size_t cap, const char *hex);
/* A deterministic random source (xorshift seeded by *ud as uint64_t). */
int tu_random(void *ud, uint8_t *out, size_t len);
/* Reads a whole file under tests/vectors; caller frees. */
char *tu_read_vector(const char *name, size_t *len);

/* Records what an engine writes and the events it sends up. */
typedef struct tu_capture {
  lp2p_buf wire; /* everything written down */
  lp2p_buf data; /* DATA / STREAM_DATA payloads, concatenated */
  int ready;     /* READY events seen */
  int pongs;
  int other;          /* any other event */
  char protocol[128]; /* protocol of the last READY */
} tu_capture;

lp2p_io tu_capture_io(tu_capture *c);
/* Output that lends room at its tail as the stream driver does
 * (io.reserve), counting the writes built there. */
typedef struct tu_lent {
  lp2p_buf out;
  size_t in_place;
} tu_lent;
uint8_t *tu_lent_reserve(void *lent, size_t len);
int tu_lent_write(void *lent, const uint8_t *p, size_t len);
/* An io that offers only gathered writes, to writev(ud, ...): a plain
 * write() fails the test; events are ignored. */
lp2p_io tu_gather_io(int (*writev)(void *ud, const lp2p_iovec *v, size_t n), void *ud);
void tu_capture_free(tu_capture *c);

/* Split patterns for feeding input: pass 0 whole, pass 1 one byte at a time,
 * pass 2+k two pieces split at offset k (1 <= k < len). */
size_t tu_split_passes(size_t len);
/* Feeds in[0..len) per `pass` to feed(ud, ...); returns the first error. */
int tu_feed(int pass, const uint8_t *in, size_t len,
            int (*feed)(void *ud, const uint8_t *p, size_t n), void *ud);

/* Appends a hand-built yamux frame header (hashicorp/yamux spec.md
 * "Framing": version, type, flags, stream id, length; big-endian),
 * independent of the engine's encoder. */
void tu_yamux_header(lp2p_buf *b, uint8_t ver, uint8_t type, uint16_t flags, uint32_t id,
                     uint32_t len);

#endif
