/* Internal: the Redis client the roles meet through, hiredis async on our
 * loop. The connection is retried until a deadline (HARNESS.md pitfall 3:
 * Redis may start after us). */
#ifndef LP2P_REDIS_INTERNAL_H
#define LP2P_REDIS_INTERNAL_H

#include <stdint.h>
#include <uv.h>

typedef struct lp2p__redis lp2p__redis;
/* err 0 when connected; otherwise a negative code, reason logged. */
typedef void (*lp2p__redis_ready_cb)(void *ud, int err);
/* value: the reply string, or NULL when the reply was nil. */
typedef void (*lp2p__redis_value_cb)(void *ud, int err, const char *value);

lp2p__redis *lp2p__redis_connect(uv_loop_t *loop, const char *host, uint16_t port,
                                 uint64_t timeout_ms, lp2p__redis_ready_cb cb, void *ud);
int lp2p__redis_rpush(lp2p__redis *r, const char *key, const char *value,
                      lp2p__redis_value_cb cb, void *ud);
/* SET key value (the unified-testing perf images' convention). */
int lp2p__redis_set(lp2p__redis *r, const char *key, const char *value,
                    lp2p__redis_value_cb cb, void *ud);
/* BLPOP key timeout_s; a key holding a plain string is read with GET
 * instead (some unified-testing images SET it). */
int lp2p__redis_take(lp2p__redis *r, const char *key, unsigned timeout_s,
                     lp2p__redis_value_cb cb, void *ud);
/* Drops the connection; no callback runs afterwards. */
void lp2p__redis_close(lp2p__redis *r);

#endif
