/* /plaintext/2.0.0 (libp2p/specs plaintext/README.md). */
#include "lp2p/plaintext.h"

#include "lp2p/codec.h"

#include <stdlib.h>
#include <string.h>

#include "plaintext.pb-c.h"

typedef enum {
  ST_START,  /* before lp2p_plaintext_start */
  ST_LENGTH, /* reading the varint length of the peer's Exchange */
  ST_BODY,   /* reading the Exchange */
  ST_OPEN    /* READY sent: bytes pass through */
} pt_state;

struct lp2p_plaintext {
  lp2p_env *env;
  lp2p_io io;
  lp2p_pubkey local;
  pt_state state;
  int err;
  int in_recv;
  uint8_t hdr[LP2P_VARINT_MAX];
  size_t hdr_len;
  size_t need; /* body length */
  lp2p_buf body;
  lp2p_pubkey remote;
};

static int fail(lp2p_plaintext *p, int err) {
  if (!p->err) p->err = err;
  return err;
}

int lp2p_plaintext_exchange_encode(lp2p_buf *out, const lp2p_pubkey *pub) {
  uint8_t key[LP2P_PUBKEY_PB_MAX];
  int key_len = lp2p_pubkey_marshal(key, sizeof key, pub);
  if (key_len < 0) return key_len;
  lp2p_peerid id;
  int rc = lp2p_peerid_from_pubkey_pb(&id, key, (size_t)key_len);
  if (rc) return rc;
  Pb__Exchange ex = PB__EXCHANGE__INIT;
  ex.has_id = ex.has_pubkey = 1;
  ex.id = (ProtobufCBinaryData){id.len, id.bytes};
  ex.pubkey = (ProtobufCBinaryData){(size_t)key_len, key};
  size_t n = pb__exchange__get_packed_size(&ex);
  uint8_t v[LP2P_VARINT_MAX];
  size_t vl = lp2p_varint_encode(v, n);
  if ((rc = lp2p_buf_append(out, v, vl)) || (rc = lp2p_buf_reserve(out, n))) return rc;
  out->len += pb__exchange__pack(&ex, out->data + out->len);
  return 0;
}

/* The spec's one check: the id is the one the key derives. */
static int check_exchange(lp2p_plaintext *p, const uint8_t *msg, size_t len) {
  Pb__Exchange *ex = pb__exchange__unpack(NULL, len, msg);
  if (!ex) {
    LP2P_REASON("plaintext", "Exchange: bad protobuf");
    return LP2P_EPROTO;
  }
  int rc = 0;
  lp2p_peerid derived;
  if (!ex->has_id || !ex->has_pubkey) {
    LP2P_REASON("plaintext", "Exchange without id or public key");
    rc = LP2P_EPROTO;
  } else if ((rc = lp2p_pubkey_unmarshal(&p->remote, ex->pubkey.data, ex->pubkey.len))) {
    LP2P_REASON("plaintext", "Exchange: public key malformed or refused");
  } else if ((rc = lp2p_peerid_from_pubkey(&derived, &p->remote))) {
    LP2P_REASON("plaintext", "Exchange: no peer id from the key");
  } else if (derived.len != ex->id.len ||
             memcmp(derived.bytes, ex->id.data, derived.len)) {
    LP2P_REASON("plaintext", "Exchange: the id is not the key's peer id");
    rc = LP2P_EPEERID;
  }
  pb__exchange__free_unpacked(ex, NULL);
  return rc;
}

/* Consumes input toward the Exchange; on completion, READY. Returns bytes
 * used, or a negative code. */
static int handshake(lp2p_plaintext *p, const uint8_t *in, size_t len) {
  size_t used = 0;
  if (p->state == ST_LENGTH) {
    uint64_t v = 0;
    int n = 0;
    while (used < len && n == 0) {
      if (p->hdr_len == LP2P_VARINT_MAX) {
        LP2P_REASON("plaintext", "Exchange length: varint too long");
        return LP2P_EVARINT;
      }
      p->hdr[p->hdr_len++] = in[used++];
      n = lp2p_varint_decode(&v, p->hdr, p->hdr_len);
    }
    if (n < 0) {
      LP2P_REASON("plaintext", "Exchange length: malformed varint");
      return n;
    }
    if (n == 0) return (int)used;
    if (v > LP2P_PLAINTEXT_MSG_MAX) {
      LP2P_REASON("plaintext", "Exchange of %llu bytes: over the cap",
                  (unsigned long long)v);
      return LP2P_ETOOBIG;
    }
    p->need = (size_t)v;
    p->state = ST_BODY;
  }
  size_t take = len - used < p->need - p->body.len ? len - used : p->need - p->body.len;
  int rc = lp2p_buf_append(&p->body, in + used, take);
  if (rc) return rc;
  used += take;
  if (p->body.len < p->need) return (int)used;
  if ((rc = check_exchange(p, p->body.data, p->body.len))) return rc;
  lp2p_buf_free(&p->body);
  p->state = ST_OPEN;
  LP2P_DEBUG("plaintext", "peer key checked (type %d)", (int)p->remote.type);
  lp2p_event ev = {.type = LP2P_EV_READY, .peer = &p->remote};
  rc = lp2p_io_event(&p->io, &ev);
  return rc ? rc : (int)used;
}

lp2p_plaintext *lp2p_plaintext_new(lp2p_env *env, const lp2p_plaintext_config *cfg,
                                   lp2p_io io) {
  if (!cfg || !cfg->identity) return NULL;
  lp2p_plaintext *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  p->env = env;
  p->io = io;
  p->local = cfg->identity->pub;
  return p;
}

int lp2p_plaintext_start(lp2p_plaintext *p) {
  if (p->err) return p->err;
  if (p->state != ST_START) return LP2P_EINVAL;
  lp2p_buf out = {0};
  int rc = lp2p_plaintext_exchange_encode(&out, &p->local);
  if (!rc) rc = p->io.write(p->io.ud, out.data, out.len);
  lp2p_buf_free(&out);
  if (rc) return fail(p, rc);
  p->state = ST_LENGTH;
  return 0;
}

int lp2p_plaintext_recv(lp2p_plaintext *p, const uint8_t *in, size_t len) {
  if (p->err) return p->err;
  if (p->in_recv || p->state == ST_START) return fail(p, LP2P_EINVAL);
  p->in_recv = 1;
  int rc = 0;
  if (p->state != ST_OPEN) {
    rc = handshake(p, in, len);
    if (rc >= 0) {
      in += rc;
      len -= (size_t)rc;
      rc = p->err;
    }
  }
  if (rc == 0 && len > 0 && p->state == ST_OPEN) {
    rc = lp2p_io_emit(&p->io, LP2P_EV_DATA, 0, in, len);
  }
  p->in_recv = 0;
  return rc ? fail(p, rc) : 0;
}

int lp2p_plaintext_send(lp2p_plaintext *p, const uint8_t *data, size_t len) {
  if (p->err) return p->err;
  if (p->state != ST_OPEN) return fail(p, LP2P_EINVAL);
  int rc = len ? p->io.write(p->io.ud, data, len) : 0;
  return rc ? fail(p, rc) : 0;
}

const lp2p_pubkey *lp2p_plaintext_remote_key(const lp2p_plaintext *p) {
  return p->state == ST_OPEN ? &p->remote : NULL;
}

void lp2p_plaintext_free(lp2p_plaintext *p) {
  if (!p) return;
  lp2p_buf_free(&p->body);
  free(p);
}
