/* multistream-select 1.0 (multiformats/multistream-select), initiator and
 * responder. Every message is uvarint(len) + text + '\n', len counting the
 * newline. Both sides send the header "/multistream/1.0.0" at start; the
 * initiator sends its first proposal in the same write (no extra round
 * trip), and proposes the next one after each "na". The responder echoes a
 * protocol it supports or answers "na".
 *
 * On agreement the engine emits LP2P_EV_READY with `protocol` (a pointer
 * into the caller's protocol list) and then, in the same call, LP2P_EV_DATA
 * with every byte it was given past the agreement. After READY, recv()
 * passes all input on as DATA. */
#ifndef LP2P_MSS_H
#define LP2P_MSS_H

#include "lp2p/common.h"

#define LP2P_MSS_PROTOCOL "/multistream/1.0.0"
/* Cap on one message, newline included: the spec sets none; 1024 is what
 * go-multistream and js use and far above any protocol id in use. */
#define LP2P_MSS_MAX_MSG 1024
/* A responder gives up after this many unknown proposals in a row. */
#define LP2P_MSS_MAX_NA 32

typedef struct lp2p_mss {
  lp2p_io io;
  int initiator;
  const char *const *protos; /* initiator: in preference order */
  size_t n_protos;
  size_t proposal; /* initiator: index of the proposal in flight */
  unsigned na_count;
  int header_seen;
  int done;
  int err;
  size_t plen;
  uint8_t pending[LP2P_MSS_MAX_MSG + 9];
} lp2p_mss;

/* protos must outlive the engine. n_protos >= 1. */
void lp2p_mss_init(lp2p_mss *m, int initiator, const char *const *protos, size_t n_protos,
                   lp2p_io io);
/* Writes our header (and the initiator's first proposal). */
int lp2p_mss_start(lp2p_mss *m);
int lp2p_mss_recv(lp2p_mss *m, const uint8_t *in, size_t len);
/* The agreed protocol, or NULL before READY. */
const char *lp2p_mss_selected(const lp2p_mss *m);

/* Encodes one multistream message for `text` (without newline) into out;
 * returns its length or LP2P_ETOOBIG. */
int lp2p_mss_encode(uint8_t *out, size_t cap, const char *text);

#endif
