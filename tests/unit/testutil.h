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

/* Feeds in[0..len) to fn in every split pattern the guide asks for: whole,
 * one byte at a time, and split in two at every offset. fn must restart
 * from a fresh state when called with a new pass (pass index given). */
typedef int (*tu_feed_fn)(void *ud, int pass, const uint8_t *p, size_t len);
typedef void (*tu_reset_fn)(void *ud, int pass);

#endif
