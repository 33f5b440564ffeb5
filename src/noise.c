/* libp2p Noise engine (libp2p/specs noise/README.md): framing, the signed
 * handshake payload, inlined muxer negotiation and transport encryption
 * over the XX core in noise_xx.c. */
#include "lp2p/noise.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "aead.h"
#include "noise.pb-c.h"

/* States named after the XX token string each one waits for. */
typedef enum {
  LP2P_NOISE_ST_START,          /* initiator before lp2p_noise_start */
  LP2P_NOISE_ST_READ_E,         /* responder awaits -> e */
  LP2P_NOISE_ST_READ_E_EE_S_ES, /* initiator awaits <- e, ee, s, es */
  LP2P_NOISE_ST_READ_S_SE,      /* responder awaits -> s, se */
  LP2P_NOISE_ST_TRANSPORT
} noise_state;

struct lp2p_noise {
  lp2p_env *env;
  lp2p_io io;
  int initiator;
  noise_state state;
  int err; /* sticky: once set, every call returns it */
  int in_recv;

  lp2p_noise_hs hs;
  lp2p_noise_cs tx, rx;

  char **muxers; /* our list, copied */
  size_t n_muxers;
  const char *muxer; /* agreed: points into muxers, or NULL */

  uint8_t *payload; /* our NoiseHandshakePayload, packed */
  size_t payload_len;
  int payload_borrowed; /* payload belongs to a lp2p_noise_shared */

  lp2p_pubkey remote;
  int has_remote;

  lp2p__noise_framer framer; /* ciphertext of a frame split across calls */
  uint8_t *plain;            /* decrypted frame; wiped when regrown/freed */
  size_t plain_cap;
  lp2p_buf out; /* one outgoing frame: length + ciphertext */
};

/* Handshake messages are bounded by what XX and our payload cap allow:
 * e, encrypted s, two tags, the payload and its tag. */
#define HS_MSG_MAX                                                                       \
  (32 + 32 + LP2P_NOISE_TAGLEN + LP2P_NOISE_PAYLOAD_MAX + LP2P_NOISE_TAGLEN)

/* ---- framing ----------------------------------------------------------- */

int lp2p__noise_framer_next(lp2p__noise_framer *f, size_t max, const uint8_t *in,
                            size_t len, size_t *consumed, const uint8_t **frame,
                            size_t *frame_len) {
  size_t used = 0;
  *consumed = 0;
  *frame = NULL;
  *frame_len = 0;
  while (f->hdr_len < 2 && used < len)
    f->hdr[f->hdr_len++] = in[used++];
  if (f->hdr_len < 2) {
    *consumed = used;
    return 0;
  }
  size_t need = (size_t)f->hdr[0] << 8 | f->hdr[1];
  if (need > max) {
    *consumed = used;
    return LP2P_ETOOBIG;
  }
  f->need = need;
  size_t have = f->body.len;
  size_t take = len - used < need - have ? len - used : need - have;
  if (have == 0 && take == need) {
    /* Whole body present in the input: hand it out without copying. */
    *frame = in + used;
    used += take;
  } else {
    int rc = lp2p_buf_append(&f->body, in + used, take);
    if (rc) return rc;
    used += take;
    if (f->body.len < need) {
      *consumed = used;
      return 0;
    }
    *frame = f->body.data;
  }
  *frame_len = need;
  *consumed = used;
  /* Reset for the next frame; body.data stays valid until the next call
   * because lp2p_buf_consume keeps the allocation. */
  f->hdr_len = 0;
  f->need = 0;
  f->body.len = 0;
  return 1;
}

void lp2p__noise_framer_free(lp2p__noise_framer *f) {
  lp2p_buf_free(&f->body);
  f->hdr_len = 0;
  f->need = 0;
}

/* ---- helpers ----------------------------------------------------------- */

static int fail(lp2p_noise *n, int err) {
  if (!n->err) {
    n->err = err;
    LP2P_DEBUG("noise", "failed: %s", lp2p_strerror(err));
  }
  return err;
}

/* Grows the plaintext buffer; the old one is wiped, never left to realloc. */
static int plain_reserve(lp2p_noise *n, size_t need) {
  if (need <= n->plain_cap) return 0;
  size_t cap = need < 1024 ? 1024 : need;
  uint8_t *p = malloc(cap);
  if (!p) return LP2P_ENOMEM;
  if (n->plain) {
    sodium_memzero(n->plain, n->plain_cap);
    free(n->plain);
  }
  n->plain = p;
  n->plain_cap = cap;
  return 0;
}

static char *dupstr(const char *s) {
  size_t l = strlen(s) + 1;
  char *d = malloc(l);
  if (d) memcpy(d, s, l);
  return d;
}

int lp2p_noise_payload_encode(uint8_t *out, size_t cap, const lp2p_identity *id,
                              const uint8_t static_pk[LP2P_NOISE_DHLEN],
                              const char *const *muxers, size_t n_muxers) {
  uint8_t msg[sizeof LP2P_NOISE_SIG_PREFIX - 1 + LP2P_NOISE_DHLEN];
  uint8_t sig[LP2P_SIG_MAX], key[LP2P_PUBKEY_PB_MAX];
  size_t sig_len = 0;
  memcpy(msg, LP2P_NOISE_SIG_PREFIX, sizeof LP2P_NOISE_SIG_PREFIX - 1);
  memcpy(msg + sizeof LP2P_NOISE_SIG_PREFIX - 1, static_pk, LP2P_NOISE_DHLEN);
  int rc = lp2p_identity_sign(sig, &sig_len, id, msg, sizeof msg);
  if (rc) return rc;
  int key_len = lp2p_pubkey_marshal(key, sizeof key, &id->pub);
  if (key_len < 0) return key_len;

  Pb__NoiseHandshakePayload pb = PB__NOISE_HANDSHAKE_PAYLOAD__INIT;
  Pb__NoiseExtensions ext = PB__NOISE_EXTENSIONS__INIT;
  pb.has_identity_key = 1;
  pb.identity_key.data = key;
  pb.identity_key.len = (size_t)key_len;
  pb.has_identity_sig = 1;
  pb.identity_sig.data = sig;
  pb.identity_sig.len = sig_len;
  if (n_muxers) {
    ext.n_stream_muxers = n_muxers;
    ext.stream_muxers = (char **)muxers;
    pb.extensions = &ext;
  }
  size_t len = pb__noise_handshake_payload__get_packed_size(&pb);
  if (len > cap) return LP2P_ETOOBIG;
  return (int)pb__noise_handshake_payload__pack(&pb, out);
}

/* Builds our signed NoiseHandshakePayload, once per engine, kept at its
 * exact size. */
/* Our payload for static key pk, packed into a fresh allocation. */
static int pack_payload(uint8_t **out, size_t *out_len, const lp2p_identity *id,
                        const uint8_t *pk, const char *const *muxers, size_t n_muxers) {
  /* Our own payload must fit the cap we impose on peers. */
  uint8_t buf[LP2P_NOISE_PAYLOAD_MAX];
  int len = lp2p_noise_payload_encode(buf, sizeof buf, id, pk, muxers, n_muxers);
  if (len < 0) return len == LP2P_ETOOBIG ? LP2P_EINVAL : len;
  *out = malloc(len ? (size_t)len : 1);
  if (!*out) return LP2P_ENOMEM;
  memcpy(*out, buf, (size_t)len);
  *out_len = (size_t)len;
  return 0;
}

static int build_payload(lp2p_noise *n, const lp2p_identity *id) {
  return pack_payload(&n->payload, &n->payload_len, id,
                      lp2p_noise_hs_local_static(&n->hs), (const char *const *)n->muxers,
                      n->n_muxers);
}

struct lp2p_noise_shared {
  uint8_t s_sk[32], s_pk[32];
  uint8_t e_sk[32], e_pk[32];
  int has_e; /* the ephemeral pair drawn ahead is still unused */
  uint8_t *payload;
  size_t payload_len;
};

lp2p_noise_shared *lp2p_noise_shared_new(lp2p_env *env, const lp2p_identity *id,
                                         const char *const *muxers, size_t n_muxers) {
  if (!env || !env->random || !id || sodium_init() < 0) return NULL;
  lp2p_noise_shared *sh = calloc(1, sizeof *sh);
  if (!sh) return NULL;
  if (env->random(env->random_ud, sh->s_sk, 32) ||
      env->random(env->random_ud, sh->e_sk, 32) ||
      crypto_scalarmult_base(sh->s_pk, sh->s_sk) ||
      crypto_scalarmult_base(sh->e_pk, sh->e_sk) ||
      pack_payload(&sh->payload, &sh->payload_len, id, sh->s_pk, muxers, n_muxers)) {
    lp2p_noise_shared_free(sh);
    return NULL;
  }
  sh->has_e = 1;
  return sh;
}

void lp2p_noise_shared_free(lp2p_noise_shared *sh) {
  if (!sh) return;
  free(sh->payload);
  sodium_memzero(sh, sizeof *sh);
  free(sh);
}

/* Keys from the shared state: its static pair, and its ephemeral pair if
 * no engine took it yet, else a fresh one. */
static int init_shared_keys(lp2p_noise *n, lp2p_noise_shared *sh) {
  uint8_t e_sk[32], e_pk[32];
  if (sh->has_e) {
    memcpy(e_sk, sh->e_sk, 32);
    memcpy(e_pk, sh->e_pk, 32);
    sodium_memzero(sh->e_sk, 32);
    sh->has_e = 0;
  } else if (n->env->random(n->env->random_ud, e_sk, 32) ||
             crypto_scalarmult_base(e_pk, e_sk)) {
    sodium_memzero(e_sk, 32);
    return LP2P_EINVAL;
  }
  int rc = lp2p_noise_hs_init_keys(&n->hs, n->initiator, NULL, 0, sh->s_sk, sh->s_pk,
                                   e_sk, e_pk);
  sodium_memzero(e_sk, 32);
  n->payload = sh->payload;
  n->payload_len = sh->payload_len;
  n->payload_borrowed = 1;
  return rc;
}

/* Inlined negotiation: the first muxer of the initiator's list that the
 * responder also lists. Both sides run this on the same two lists. */
static const char *pick_muxer(char *const *ours, size_t n_ours, char *const *theirs,
                              size_t n_theirs, int we_initiate) {
  char *const *init = we_initiate ? ours : theirs;
  char *const *resp = we_initiate ? theirs : ours;
  size_t n_init = we_initiate ? n_ours : n_theirs;
  size_t n_resp = we_initiate ? n_theirs : n_ours;
  for (size_t i = 0; i < n_init; i++)
    for (size_t j = 0; j < n_resp; j++)
      if (init[i] && resp[j] && strcmp(init[i], resp[j]) == 0) {
        /* Return our own copy, which outlives the unpacked message. */
        for (size_t k = 0; k < n_ours; k++)
          if (strcmp(ours[k], init[i]) == 0) return ours[k];
      }
  return NULL;
}

/* Checks the peer's payload: its identity key must have signed the static
 * key the handshake authenticated. */
static int check_payload(lp2p_noise *n, const uint8_t *p, size_t len) {
  Pb__NoiseHandshakePayload *pb = pb__noise_handshake_payload__unpack(NULL, len, p);
  if (!pb) {
    LP2P_REASON("noise", "handshake payload: bad protobuf");
    return LP2P_EPROTO;
  }
  int rc = 0;
  if (!pb->has_identity_key || !pb->has_identity_sig) {
    LP2P_REASON("noise", "handshake payload: no identity key or signature");
    rc = LP2P_EPROTO;
    goto out;
  }
  rc = lp2p_pubkey_unmarshal(&n->remote, pb->identity_key.data, pb->identity_key.len);
  if (rc) {
    LP2P_REASON("noise", "handshake payload: bad identity key");
    goto out;
  }
  uint8_t msg[sizeof LP2P_NOISE_SIG_PREFIX - 1 + LP2P_NOISE_DHLEN];
  const uint8_t *rs = lp2p_noise_hs_remote_static(&n->hs);
  if (!rs) {
    rc = LP2P_EINVAL;
    goto out;
  }
  memcpy(msg, LP2P_NOISE_SIG_PREFIX, sizeof LP2P_NOISE_SIG_PREFIX - 1);
  memcpy(msg + sizeof LP2P_NOISE_SIG_PREFIX - 1, rs, LP2P_NOISE_DHLEN);
  rc = lp2p_pubkey_verify(&n->remote, msg, sizeof msg, pb->identity_sig.data,
                          pb->identity_sig.len);
  if (rc) {
    LP2P_REASON("noise", "handshake payload: signature check failed");
    goto out;
  }
  n->has_remote = 1;
  if (pb->extensions)
    n->muxer = pick_muxer(n->muxers, n->n_muxers, pb->extensions->stream_muxers,
                          pb->extensions->n_stream_muxers, n->initiator);
  LP2P_DEBUG("noise", "peer identity verified (key type %d), muxer %s",
             (int)n->remote.type, n->muxer ? n->muxer : "(none)");
out:
  pb__noise_handshake_payload__free_unpacked(pb, NULL);
  return rc;
}

/* Writes the next handshake message carrying payload (or nothing). */
static int write_hs(lp2p_noise *n, const uint8_t *payload, size_t len) {
  n->out.len = 0;
  int rc = lp2p_buf_reserve(&n->out, 2 + HS_MSG_MAX);
  if (rc) return rc;
  int m = lp2p_noise_hs_write(&n->hs, n->out.data + 2, HS_MSG_MAX, payload, len);
  if (m < 0) return m;
  n->out.data[0] = (uint8_t)(m >> 8);
  n->out.data[1] = (uint8_t)m;
  n->out.len = 2 + (size_t)m;
  return n->io.write(n->io.ud, n->out.data, n->out.len);
}

/* Reads one handshake message into n->plain; returns the payload length. */
static int read_hs(lp2p_noise *n, const uint8_t *msg, size_t len) {
  int rc = plain_reserve(n, len);
  if (rc) return rc;
  return lp2p_noise_hs_read(&n->hs, n->plain, LP2P_NOISE_PAYLOAD_MAX, msg, len);
}

static int finish(lp2p_noise *n) {
  int rc = lp2p_noise_hs_split(&n->hs, &n->tx, &n->rx);
  if (rc) return rc;
  lp2p_noise_hs_clear(&n->hs);
  n->state = LP2P_NOISE_ST_TRANSPORT;
  LP2P_DEBUG("noise", "handshake complete (%s)",
             n->initiator ? "initiator" : "responder");
  lp2p_event ev = {.type = LP2P_EV_READY, .peer = &n->remote, .protocol = n->muxer};
  return lp2p_io_event(&n->io, &ev);
}

static int on_frame(lp2p_noise *n, const uint8_t *f, size_t len) {
  int rc;
  switch (n->state) {
  case LP2P_NOISE_ST_READ_E:
    rc = read_hs(n, f, len);
    if (rc < 0) return rc;
    /* libp2p sends no payload in message 1; anything there is ignored. */
    LP2P_DEBUG("noise", "read message 1 (%zu bytes)", len);
    if ((rc = write_hs(n, n->payload, n->payload_len))) return rc;
    LP2P_DEBUG("noise", "wrote message 2");
    n->state = LP2P_NOISE_ST_READ_S_SE;
    return 0;
  case LP2P_NOISE_ST_READ_E_EE_S_ES:
    rc = read_hs(n, f, len);
    if (rc < 0) return rc;
    LP2P_DEBUG("noise", "read message 2 (%zu bytes)", len);
    if ((rc = check_payload(n, n->plain, (size_t)rc))) return rc;
    if ((rc = write_hs(n, n->payload, n->payload_len))) return rc;
    LP2P_DEBUG("noise", "wrote message 3");
    return finish(n);
  case LP2P_NOISE_ST_READ_S_SE:
    rc = read_hs(n, f, len);
    if (rc < 0) return rc;
    LP2P_DEBUG("noise", "read message 3 (%zu bytes)", len);
    if ((rc = check_payload(n, n->plain, (size_t)rc))) return rc;
    return finish(n);
  case LP2P_NOISE_ST_TRANSPORT: {
    /* libp2p noise: a transport message always carries the 16-byte tag. */
    if (len < LP2P_NOISE_TAGLEN) return LP2P_EPROTO;
    if ((rc = plain_reserve(n, len))) return rc;
    rc = lp2p_noise_cs_decrypt(&n->rx, n->plain, NULL, 0, f, len);
    if (rc < 0) return rc;
    if (rc == 0) return 0;
    return lp2p_io_emit(&n->io, LP2P_EV_DATA, 0, n->plain, (size_t)rc);
  }
  default: return LP2P_EINVAL;
  }
}

/* ---- public API -------------------------------------------------------- */

static lp2p_noise *alloc_engine(lp2p_env *env, lp2p_io io) {
  if (sodium_init() < 0) return NULL;
  lp2p_noise *n = calloc(1, sizeof *n);
  if (!n) return NULL;
  n->env = env;
  n->io = io;
  return n;
}

lp2p_noise *lp2p_noise_new(lp2p_env *env, const lp2p_noise_config *cfg, lp2p_io io) {
  if (!cfg || !cfg->identity) return NULL;
  if ((cfg->shared || !cfg->static_sk || !cfg->ephemeral_sk) && (!env || !env->random))
    return NULL;
  uint8_t s[32], e[32];
  int rc;
  lp2p_noise *n = alloc_engine(env, io);
  if (!n) return NULL;
  n->initiator = cfg->initiator ? 1 : 0;
  n->state = n->initiator ? LP2P_NOISE_ST_START : LP2P_NOISE_ST_READ_E;

  if (cfg->n_muxers && cfg->muxers) {
    n->muxers = calloc(cfg->n_muxers, sizeof *n->muxers);
    if (!n->muxers) goto fail;
    n->n_muxers = cfg->n_muxers;
    for (size_t i = 0; i < cfg->n_muxers; i++)
      if (!cfg->muxers[i] || !(n->muxers[i] = dupstr(cfg->muxers[i]))) goto fail;
  }

  if (cfg->shared) {
    if (init_shared_keys(n, cfg->shared)) goto fail;
    LP2P_DEBUG("noise", "new %s engine, %zu muxers, shared static key",
               n->initiator ? "initiator" : "responder", n->n_muxers);
    return n;
  }
  if (cfg->static_sk)
    memcpy(s, cfg->static_sk, 32);
  else if (env->random(env->random_ud, s, 32))
    goto fail;
  if (cfg->ephemeral_sk)
    memcpy(e, cfg->ephemeral_sk, 32);
  else if (env->random(env->random_ud, e, 32))
    goto fail;
  rc = lp2p_noise_hs_init(&n->hs, n->initiator, NULL, 0, s, e);
  sodium_memzero(s, sizeof s);
  sodium_memzero(e, sizeof e);
  if (rc) goto fail;
  if (build_payload(n, cfg->identity)) goto fail;
  LP2P_DEBUG("noise", "new %s engine, %zu muxers",
             n->initiator ? "initiator" : "responder", n->n_muxers);
  return n;

fail:
  sodium_memzero(s, sizeof s);
  sodium_memzero(e, sizeof e);
  lp2p_noise_free(n);
  return NULL;
}

lp2p_noise *lp2p__noise_new_transport(lp2p_env *env, lp2p_io io, const lp2p_noise_cs *tx,
                                      const lp2p_noise_cs *rx) {
  lp2p_noise *n = alloc_engine(env, io);
  if (!n) return NULL;
  n->tx = *tx;
  n->rx = *rx;
  n->state = LP2P_NOISE_ST_TRANSPORT;
  return n;
}

int lp2p_noise_start(lp2p_noise *n) {
  if (n->err) return n->err;
  if (!n->initiator) return 0;
  if (n->state != LP2P_NOISE_ST_START) return fail(n, LP2P_EINVAL);
  /* libp2p noise: message 1 carries no payload. */
  int rc = write_hs(n, NULL, 0);
  if (rc) return fail(n, rc);
  LP2P_DEBUG("noise", "wrote message 1");
  n->state = LP2P_NOISE_ST_READ_E_EE_S_ES;
  return 0;
}

int lp2p_noise_recv(lp2p_noise *n, const uint8_t *in, size_t len) {
  if (n->err) return n->err;
  if (n->in_recv || n->state == LP2P_NOISE_ST_START) return fail(n, LP2P_EINVAL);
  n->in_recv = 1;
  int rc = 0;
  while (len > 0) {
    size_t max = n->state == LP2P_NOISE_ST_TRANSPORT ? LP2P_NOISE_MSG_MAX : HS_MSG_MAX;
    size_t used = 0;
    const uint8_t *frame;
    size_t flen;
    rc = lp2p__noise_framer_next(&n->framer, max, in, len, &used, &frame, &flen);
    in += used;
    len -= used;
    if (rc < 0) break;
    if (rc == 0) {
      rc = 0;
      break;
    }
    rc = on_frame(n, frame, flen);
    /* An upcall may have killed the engine through lp2p_noise_send. */
    if (!rc && n->err) rc = n->err;
    if (rc) break;
  }
  n->in_recv = 0;
  return rc ? fail(n, rc) : 0;
}

/* Pieces one transport message may gather; a message whose plaintext
 * spans more pieces ends after the last of them (smaller, still valid). */
#define SEND_SLICES 8

int lp2p_noise_sendv(lp2p_noise *n, const lp2p_iovec *v, size_t cnt) {
  if (n->err) return n->err;
  if (n->state != LP2P_NOISE_ST_TRANSPORT) return fail(n, LP2P_EINVAL);
  size_t i = 0, off = 0; /* next plaintext byte: v[i].p + off */
  for (;;) {
    while (i < cnt && off == v[i].len) {
      i++;
      off = 0;
    }
    if (i == cnt) return 0;
    /* One message: up to LP2P_NOISE_PLAINTEXT_MAX bytes of the pieces. */
    lp2p_iovec sl[SEND_SLICES];
    size_t ns = 0, chunk = 0;
    while (i < cnt && ns < SEND_SLICES && chunk < LP2P_NOISE_PLAINTEXT_MAX) {
      size_t take = v[i].len - off;
      if (take > LP2P_NOISE_PLAINTEXT_MAX - chunk)
        take = LP2P_NOISE_PLAINTEXT_MAX - chunk;
      if (take) sl[ns++] = (lp2p_iovec){v[i].p + off, take};
      chunk += take;
      off += take;
      if (off == v[i].len) {
        i++;
        off = 0;
      }
    }
    size_t clen = chunk + LP2P_NOISE_TAGLEN;
    /* Encrypted straight into the driver's output where it lends room;
     * else into our own frame buffer, which write() then copies. */
    uint8_t *out = lp2p_io_reserve(&n->io, 2 + clen);
    if (!out) {
      n->out.len = 0;
      int rc = lp2p_buf_reserve(&n->out, 2 + clen);
      if (rc) return fail(n, rc);
      out = n->out.data;
    }
    out[0] = (uint8_t)(clen >> 8);
    out[1] = (uint8_t)clen;
    int rc = lp2p_noise_cs_encryptv(&n->tx, out + 2, NULL, 0, sl, ns);
    if (rc < 0) return fail(n, rc);
    rc = n->io.write(n->io.ud, out, 2 + clen);
    if (rc) return fail(n, rc);
  }
}

int lp2p_noise_send(lp2p_noise *n, const uint8_t *p, size_t len) {
  lp2p_iovec v = {p, len};
  return lp2p_noise_sendv(n, &v, 1);
}

int lp2p_noise_handshake_done(const lp2p_noise *n) {
  return n->state == LP2P_NOISE_ST_TRANSPORT;
}

void lp2p_noise_set_io(lp2p_noise *n, lp2p_io io) { n->io = io; }

const lp2p_pubkey *lp2p_noise_remote_key(const lp2p_noise *n) {
  return n->state == LP2P_NOISE_ST_TRANSPORT && n->has_remote ? &n->remote : NULL;
}

const char *lp2p_noise_muxer(const lp2p_noise *n) {
  return n->state == LP2P_NOISE_ST_TRANSPORT ? n->muxer : NULL;
}

void lp2p_noise_free(lp2p_noise *n) {
  if (!n) return;
  lp2p_noise_hs_clear(&n->hs);
  lp2p_noise_cs_clear(&n->tx);
  lp2p_noise_cs_clear(&n->rx);
  lp2p__aead_wipe(); /* the key the shared AEAD contexts last held */
  if (n->plain) {
    sodium_memzero(n->plain, n->plain_cap);
    free(n->plain);
  }
  lp2p__noise_framer_free(&n->framer);
  lp2p_buf_free(&n->out);
  for (size_t i = 0; i < n->n_muxers; i++)
    free(n->muxers[i]);
  free(n->muxers);
  if (!n->payload_borrowed) free(n->payload);
  sodium_memzero(n, sizeof *n);
  free(n);
}
