/* Shared helpers of the libFuzzer targets in tests/fuzz (one fuzz_<name>.c
 * per engine) and of the seed corpus generator.
 *
 * Every target is deterministic: randomness comes from a xorshift PRNG
 * reseeded for each input, time only from input bytes. A target frees all
 * it allocated before returning, so LeakSanitizer sees every leak, and
 * aborts (FZ_CHECK) when an engine breaks its own contract. */
#ifndef LP2P_FUZZ_H
#define LP2P_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "lp2p/common.h"
#include "lp2p/keys.h"

/* The libFuzzer entry point each fuzz_<name>.c defines. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant of the engine under test: aborts with the location, which
 * libFuzzer (or the replayer, under ctest) reports as a finding. */
#define FZ_CHECK(cond)                                                                   \
  do {                                                                                   \
    if (!(cond)) fz_fail(__FILE__, __LINE__, #cond);                                     \
  } while (0)
_Noreturn void fz_fail(const char *file, int line, const char *what);

/* Input reader: every take past the end yields zeros / empty slices, so a
 * target never needs to check lengths. */
typedef struct fz_in {
  const uint8_t *p;
  size_t len, off;
} fz_in;

static inline fz_in fz_in_make(const uint8_t *p, size_t len) {
  fz_in in = {p, len, 0};
  return in;
}
static inline size_t fz_left(const fz_in *in) { return in->len - in->off; }
uint8_t fz_u8(fz_in *in);
uint16_t fz_u16(fz_in *in); /* big-endian */
uint32_t fz_u32(fz_in *in); /* big-endian */
/* Up to n bytes: sets *len to what was available; returns a pointer into
 * the input (valid while the input is). */
const uint8_t *fz_take(fz_in *in, size_t n, size_t *len);
/* Everything left. */
const uint8_t *fz_rest(fz_in *in, size_t *len);

/* Deterministic randomness: xorshift64 over *ud (a uint64_t). */
int fz_random(void *ud, uint8_t *out, size_t len);
/* env with now_ms 0 and fz_random over *seed, which is set to `seed`. */
void fz_env_init(lp2p_env *env, uint64_t *state, uint64_t seed);

/* Logging: silent by default. verbose != 0 runs the engines at debug level
 * with stderr sent to /dev/null, so the log formatting code is exercised
 * without the cost of the terminal; LP2P_FUZZ_LOG=1 in the environment
 * shows every line instead (for debugging a crash). */
void fz_log_begin(int verbose);
void fz_log_end(void);

/* Feeds p[0..len) to feed() in pieces whose sizes come from the PRNG
 * seeded by `seed` (seed 0: in one piece). Stops at the first non-zero
 * return, which it returns. */
int fz_feed_split(uint64_t seed, const uint8_t *p, size_t len,
                  int (*feed)(void *ud, const uint8_t *p, size_t n), void *ud);

/* An io.write sink that reads every byte written (so ASan checks the
 * engine's output buffers) and keeps a running checksum. */
int fz_sink_write(void *ud, const uint8_t *p, size_t len);

/* Fixed identities: index 0..3 -> ed25519 / secp256k1 pairs from fixed
 * seeds. Computed once, never freed (no heap). */
const lp2p_identity *fz_identity(int idx);

/* A NoiseHandshakePayload signed by `id` over the X25519 static key
 * static_pk, optionally listing muxers; packed into out (cap bytes).
 * Returns the length or a negative code. */
int fz_noise_payload(uint8_t *out, size_t cap, const lp2p_identity *id,
                     const uint8_t static_pk[32], const char *const *muxers,
                     size_t n_muxers);

/* Fixed X25519 secret keys for the harness's own handshake roles. */
extern const uint8_t fz_static_sk[4][32];

/* Muxer lists a Noise engine or payload may carry, by sel & 3: none,
 * yamux, yamux then mplex, mplex. Returns the count, sets *list. */
size_t fz_muxers(unsigned sel, const char *const **list);

/* The Noise engine under test, made the same way by the target and the
 * corpus generator (so a recorded peer transcript replays): keys drawn
 * from env (reseeded here), identity fz_identity(sel), muxers
 * fz_muxers(sel >> 2). */
struct lp2p_noise;
struct lp2p_noise *fz_noise_new(lp2p_env *env, uint64_t *state, int initiator,
                                unsigned sel, lp2p_io io);

/* The listener connection under test (fuzz_conn), likewise shared with the
 * generator: sel bit 0 muxer (yamux / mplex), bit 1 no inlined muxer
 * negotiation, bit 2 secp256k1 identity. Step timeout FZ_STEP_MS. */
#define FZ_STEP_MS 10000
struct lp2p_conn;
struct lp2p_conn *fz_conn_new(lp2p_env *env, uint64_t *state, int initiator, unsigned sel,
                              lp2p_io io);

#endif
