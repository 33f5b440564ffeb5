#include "redis.h"

#include "lp2p/common.h"

#include <hiredis/adapters/libuv.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RETRY_MS 200
/* Bound on one connection attempt. hiredis' libuv adapter (0.14) drops
 * the poll error of a refused connect, so the connect callback never runs
 * and the attempt would hang: we give up on it ourselves and retry. */
#define ATTEMPT_MS 500
/* A listener address is a short multiaddr; anything longer is not one. */
#define MAX_VALUE 1024

struct lp2p__redis {
  uv_loop_t *loop;
  uv_timer_t retry;
  redisAsyncContext *ac;
  char host[256];
  uint16_t port;
  uint64_t give_up_at;
  lp2p__redis_ready_cb ready_cb;
  void *ud;
  int connected;
  int closing;
  char last_error[128];
};

typedef struct request {
  lp2p__redis *r;
  lp2p__redis_value_cb cb;
  void *ud;
  char key[256];
} request;

static void try_connect(lp2p__redis *r);

static void retry_cb(uv_timer_t *t) { try_connect(t->data); }

static void schedule_retry(lp2p__redis *r, const char *why);

static void attempt_timeout_cb(uv_timer_t *t) {
  lp2p__redis *r = t->data;
  if (r->connected || r->closing || !r->ac) return;
  redisAsyncContext *ac = r->ac;
  r->ac = NULL;
  redisAsyncFree(ac); /* not connected: no callback runs */
  schedule_retry(r, "connection refused or no answer");
}

static void schedule_retry(lp2p__redis *r, const char *why) {
  snprintf(r->last_error, sizeof r->last_error, "%s", why);
  if (uv_now(r->loop) + RETRY_MS >= r->give_up_at) {
    LP2P_ERROR("redis", "cannot reach redis at %s:%u: %s", r->host, r->port,
               r->last_error);
    r->ready_cb(r->ud, LP2P_ETIMEDOUT);
    return;
  }
  LP2P_DEBUG("redis", "not reachable yet (%s), retrying", why);
  uv_timer_start(&r->retry, retry_cb, RETRY_MS, 0);
}

static void on_connect(const redisAsyncContext *ac, int status) {
  lp2p__redis *r = ac->data;
  if (r->closing) return;
  uv_timer_stop(&r->retry);
  if (status != REDIS_OK) {
    /* hiredis frees the context after this callback. */
    r->ac = NULL;
    schedule_retry(r, ac->errstr);
    return;
  }
  r->connected = 1;
  LP2P_DEBUG("redis", "connected to %s:%u", r->host, r->port);
  r->ready_cb(r->ud, 0);
}

static void on_disconnect(const redisAsyncContext *ac, int status) {
  lp2p__redis *r = ac->data;
  (void)status;
  r->ac = NULL;
  if (!r->closing && r->connected) LP2P_INFO("redis", "connection lost");
}

static void try_connect(lp2p__redis *r) {
  redisAsyncContext *ac = redisAsyncConnect(r->host, r->port);
  if (!ac) {
    schedule_retry(r, "out of memory");
    return;
  }
  if (ac->err) {
    char why[128];
    snprintf(why, sizeof why, "%s", ac->errstr);
    redisAsyncFree(ac);
    schedule_retry(r, why);
    return;
  }
  ac->data = r;
  if (redisLibuvAttach(ac, r->loop) != REDIS_OK) {
    redisAsyncFree(ac);
    schedule_retry(r, "cannot attach to the loop");
    return;
  }
  redisAsyncSetConnectCallback(ac, on_connect);
  redisAsyncSetDisconnectCallback(ac, on_disconnect);
  r->ac = ac;
  uint64_t now = uv_now(r->loop);
  uint64_t left = r->give_up_at > now ? r->give_up_at - now : 0;
  uv_timer_start(&r->retry, attempt_timeout_cb, left < ATTEMPT_MS ? left : ATTEMPT_MS, 0);
}

lp2p__redis *lp2p__redis_connect(uv_loop_t *loop, const char *host, uint16_t port,
                                 uint64_t timeout_ms, lp2p__redis_ready_cb cb, void *ud) {
  lp2p__redis *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  r->loop = loop;
  snprintf(r->host, sizeof r->host, "%s", host);
  r->port = port;
  r->give_up_at = uv_now(loop) + timeout_ms;
  r->ready_cb = cb;
  r->ud = ud;
  uv_timer_init(loop, &r->retry);
  r->retry.data = r;
  try_connect(r);
  return r;
}

/* Replies to the caller once, checking type and size. */
static void finish(request *q, redisReply *reply, const char *cmd) {
  lp2p__redis *r = q->r;
  int err = 0;
  const char *value = NULL;
  if (r->closing) goto done;
  if (!reply) {
    LP2P_ERROR("redis", "%s: connection lost", cmd);
    err = LP2P_EEOF;
  } else if (reply->type == REDIS_REPLY_ERROR) {
    LP2P_ERROR("redis", "%s: %s", cmd, reply->str);
    err = LP2P_EPROTO;
  } else if (reply->type == REDIS_REPLY_STRING) {
    value = reply->str;
  } else if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
             reply->element[1]->type == REDIS_REPLY_STRING) {
    value = reply->element[1]->str; /* BLPOP: [key, value] */
  }
  if (value && strlen(value) > MAX_VALUE) {
    LP2P_ERROR("redis", "%s: value over %d bytes", cmd, MAX_VALUE);
    err = LP2P_ETOOBIG;
    value = NULL;
  }
  q->cb(q->ud, err, value);
done:
  free(q);
}

static void generic_cb(redisAsyncContext *ac, void *reply, void *priv) {
  (void)ac;
  finish(priv, reply, "command");
}

static request *request_new(lp2p__redis *r, const char *key, lp2p__redis_value_cb cb,
                            void *ud) {
  if (!r->ac || !r->connected || strlen(key) >= sizeof((request *)0)->key) return NULL;
  request *q = calloc(1, sizeof *q);
  if (!q) return NULL;
  q->r = r;
  q->cb = cb;
  q->ud = ud;
  strcpy(q->key, key);
  return q;
}

/* A command that stores value under key: RPUSH or SET. */
static int store(lp2p__redis *r, const char *cmd, const char *key, const char *value,
                 lp2p__redis_value_cb cb, void *ud) {
  request *q = request_new(r, key, cb, ud);
  if (!q) return LP2P_EINVAL;
  if (redisAsyncCommand(r->ac, generic_cb, q, "%s %s %s", cmd, key, value) != REDIS_OK) {
    free(q);
    return LP2P_ECLOSED;
  }
  return 0;
}

int lp2p__redis_rpush(lp2p__redis *r, const char *key, const char *value,
                      lp2p__redis_value_cb cb, void *ud) {
  return store(r, "RPUSH", key, value, cb, ud);
}

int lp2p__redis_set(lp2p__redis *r, const char *key, const char *value,
                    lp2p__redis_value_cb cb, void *ud) {
  return store(r, "SET", key, value, cb, ud);
}

static void get_cb(redisAsyncContext *ac, void *reply, void *priv) {
  (void)ac;
  finish(priv, reply, "GET");
}

static void blpop_cb(redisAsyncContext *ac, void *reply, void *priv) {
  request *q = priv;
  redisReply *rep = reply;
  if (rep && rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "WRONGTYPE", 9) == 0 &&
      !q->r->closing) {
    LP2P_DEBUG("redis", "%s holds a string; reading it with GET", q->key);
    if (redisAsyncCommand(ac, get_cb, q, "GET %s", q->key) == REDIS_OK) return;
  }
  finish(q, rep, "BLPOP");
}

int lp2p__redis_take(lp2p__redis *r, const char *key, unsigned timeout_s,
                     lp2p__redis_value_cb cb, void *ud) {
  request *q = request_new(r, key, cb, ud);
  if (!q) return LP2P_EINVAL;
  if (redisAsyncCommand(r->ac, blpop_cb, q, "BLPOP %s %u", key, timeout_s) != REDIS_OK) {
    free(q);
    return LP2P_ECLOSED;
  }
  return 0;
}

static void retry_closed(uv_handle_t *h) { free(h->data); }

void lp2p__redis_close(lp2p__redis *r) {
  if (!r || r->closing) return;
  r->closing = 1;
  if (r->ac) {
    redisAsyncContext *ac = r->ac;
    r->ac = NULL;
    redisAsyncFree(ac);
  }
  uv_close((uv_handle_t *)&r->retry, retry_closed);
}
