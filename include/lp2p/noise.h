/* Noise security layer (libp2p/specs noise/README.md) in two parts:
 *
 * 1. The Noise_XX_25519_ChaChaPoly_SHA256 core of the Noise protocol
 *    framework, rev 34: CipherState, SymmetricState and an XX
 *    HandshakeState with injected static and ephemeral keys. Pure
 *    functions over caller buffers; no allocation, no randomness.
 *
 * 2. The libp2p engine on top: 2-byte big-endian framing, the signed
 *    NoiseHandshakePayload, inlined muxer negotiation
 *    (connections/inlined-muxer-negotiation.md) and transport encryption.
 *    Bytes in through lp2p_noise_recv / lp2p_noise_send, bytes out
 *    through io.write, events up through io.event. */
#ifndef LP2P_NOISE_H
#define LP2P_NOISE_H

#include "lp2p/common.h"
#include "lp2p/keys.h"

/* Noise spec section 8: names are padded to HASHLEN when they fit. */
#define LP2P_NOISE_PROTOCOL_NAME "Noise_XX_25519_ChaChaPoly_SHA256"
#define LP2P_NOISE_KEYLEN 32  /* ChaChaPoly key, section 5.1 */
#define LP2P_NOISE_DHLEN 32   /* X25519, section 12.1 */
#define LP2P_NOISE_HASHLEN 32 /* SHA-256 */
#define LP2P_NOISE_TAGLEN 16  /* AEAD tag, section 5 */
/* Section 3: a Noise message is at most 65535 bytes; libp2p frames each
 * with a 2-byte length, so the same cap holds on the wire. */
#define LP2P_NOISE_MSG_MAX 65535
#define LP2P_NOISE_PLAINTEXT_MAX (LP2P_NOISE_MSG_MAX - LP2P_NOISE_TAGLEN)

/* ---- Noise core ------------------------------------------------------ */

/* CipherState (section 5.1). has_k == 0 means "empty": encrypt and
 * decrypt then pass bytes through unchanged, as the spec requires. */
typedef struct lp2p_noise_cs {
  uint8_t k[LP2P_NOISE_KEYLEN];
  uint64_t n;
  int has_k;
} lp2p_noise_cs;

/* InitializeKey: k NULL empties the state. n is reset to 0. */
void lp2p_noise_cs_init(lp2p_noise_cs *cs, const uint8_t *k);
/* EncryptWithAd: out must hold len + LP2P_NOISE_TAGLEN bytes (len when
 * empty); out may equal pt. Returns the bytes written, or LP2P_ELIMIT when
 * the nonce is exhausted (2^64-1 is reserved), LP2P_ETOOBIG when len is
 * over LP2P_NOISE_PLAINTEXT_MAX. */
int lp2p_noise_cs_encrypt(lp2p_noise_cs *cs, uint8_t *out, const uint8_t *ad,
                          size_t adlen, const uint8_t *pt, size_t len);
/* The same over the concatenation of n pieces, read where they lie (no
 * piece may overlap out, except a single piece equal to it). */
int lp2p_noise_cs_encryptv(lp2p_noise_cs *cs, uint8_t *out, const uint8_t *ad,
                           size_t adlen, const lp2p_iovec *v, size_t n);
/* DecryptWithAd: out must hold len - LP2P_NOISE_TAGLEN bytes; out may equal
 * ct. Returns the plaintext length, or LP2P_EDECRYPT on a bad tag (n is then
 * not advanced), LP2P_EPROTO when len is shorter than the tag, LP2P_ELIMIT
 * when the nonce is exhausted. */
int lp2p_noise_cs_decrypt(lp2p_noise_cs *cs, uint8_t *out, const uint8_t *ad,
                          size_t adlen, const uint8_t *ct, size_t len);
void lp2p_noise_cs_clear(lp2p_noise_cs *cs);

/* SymmetricState (section 5.2). */
typedef struct lp2p_noise_ss {
  lp2p_noise_cs cs;
  uint8_t ck[LP2P_NOISE_HASHLEN];
  uint8_t h[LP2P_NOISE_HASHLEN];
} lp2p_noise_ss;

/* HandshakeState (section 5.3) for XX (section 7.5):
 *   -> e
 *   <- e, ee, s, es
 *   -> s, se */
typedef struct lp2p_noise_hs {
  lp2p_noise_ss ss;
  int initiator;
  int msg; /* index of the next handshake message, 0..3 */
  uint8_t s_sk[LP2P_NOISE_DHLEN], s_pk[LP2P_NOISE_DHLEN];
  uint8_t e_sk[LP2P_NOISE_DHLEN], e_pk[LP2P_NOISE_DHLEN];
  uint8_t rs[LP2P_NOISE_DHLEN], re[LP2P_NOISE_DHLEN];
} lp2p_noise_hs;

/* Initialize: both key pairs are injected as 32-byte X25519 secret keys
 * (the caller draws them from env->random; tests pass vector keys). The
 * prologue may be NULL/0 (libp2p uses an empty one). Returns 0. */
int lp2p_noise_hs_init(lp2p_noise_hs *hs, int initiator, const uint8_t *prologue,
                       size_t prologue_len, const uint8_t s_sk[LP2P_NOISE_DHLEN],
                       const uint8_t e_sk[LP2P_NOISE_DHLEN]);
/* The same with both public keys already derived (they must match the
 * secret keys): for keys made ahead of the connection. */
int lp2p_noise_hs_init_keys(lp2p_noise_hs *hs, int initiator, const uint8_t *prologue,
                            size_t prologue_len, const uint8_t s_sk[LP2P_NOISE_DHLEN],
                            const uint8_t s_pk[LP2P_NOISE_DHLEN],
                            const uint8_t e_sk[LP2P_NOISE_DHLEN],
                            const uint8_t e_pk[LP2P_NOISE_DHLEN]);
/* WriteMessage: the next handshake message carrying payload, into out
 * (cap bytes). Returns the message length, or LP2P_EINVAL when it is not
 * our turn, LP2P_ETOOBIG when the message would exceed cap or
 * LP2P_NOISE_MSG_MAX, LP2P_EKEY when a DH result is all zero. */
int lp2p_noise_hs_write(lp2p_noise_hs *hs, uint8_t *out, size_t cap,
                        const uint8_t *payload, size_t payload_len);
/* ReadMessage: processes the peer's next handshake message and decrypts
 * its payload into payload (cap bytes; must not overlap msg). Returns the
 * payload length, or LP2P_EPROTO when the message is too short,
 * LP2P_EDECRYPT on a bad tag, LP2P_ETOOBIG when the payload exceeds cap,
 * LP2P_EKEY on an all-zero DH result, LP2P_EINVAL when not our turn. On
 * error the state is unusable. */
int lp2p_noise_hs_read(lp2p_noise_hs *hs, uint8_t *payload, size_t cap,
                       const uint8_t *msg, size_t len);
/* 1 once all three messages have been written or read. */
int lp2p_noise_hs_done(const lp2p_noise_hs *hs);
/* Split (section 5.2), oriented: tx encrypts what we send, rx decrypts
 * what we receive (the initiator sends with the first key). LP2P_EINVAL
 * before the handshake is done. */
int lp2p_noise_hs_split(lp2p_noise_hs *hs, lp2p_noise_cs *tx, lp2p_noise_cs *rx);
/* The handshake hash h (channel binding; the vector checks it). */
const uint8_t *lp2p_noise_hs_hash(const lp2p_noise_hs *hs);
/* The peer's static key once received (after message 2 / 3), else NULL. */
const uint8_t *lp2p_noise_hs_remote_static(const lp2p_noise_hs *hs);
/* Our static public key. */
const uint8_t *lp2p_noise_hs_local_static(const lp2p_noise_hs *hs);
void lp2p_noise_hs_clear(lp2p_noise_hs *hs);

/* ---- libp2p Noise engine -------------------------------------------- */

/* The signed payload is "noise-libp2p-static-key:" || static public key. */
#define LP2P_NOISE_SIG_PREFIX "noise-libp2p-static-key:"
/* Cap on a peer's NoiseHandshakePayload: a key, a signature and a few
 * extensions fit in far less. Checked before decrypting. */
#define LP2P_NOISE_PAYLOAD_MAX 8192

typedef struct lp2p_noise lp2p_noise;

/* Per-process state every engine of one identity and muxer list can
 * share. noise/README.md "Static Key Authentication": "a single static
 * keypair may be generated when noise-libp2p is initialized and used for
 * all sessions". So the static key pair and our signed handshake payload
 * are made once, and a connection pays for neither the key nor the
 * identity signature. It also keeps one ephemeral key pair drawn ahead,
 * which the next engine takes: a dialer's one connection starts with its
 * keys ready. Engines borrow from it: free it after the last engine. */
typedef struct lp2p_noise_shared lp2p_noise_shared;
lp2p_noise_shared *lp2p_noise_shared_new(lp2p_env *env, const lp2p_identity *id,
                                         const char *const *muxers, size_t n_muxers);
void lp2p_noise_shared_free(lp2p_noise_shared *sh);

typedef struct lp2p_noise_config {
  int initiator;
  const lp2p_identity *identity; /* signs our static key; only used by
                                    lp2p_noise_new */
  const char *const *muxers;     /* our stream_muxers, in preference
                                    order; may be NULL/0; copied */
  size_t n_muxers;
  const uint8_t *static_sk;    /* optional fixed 32-byte X25519 static
                                  key (tests); else env->random */
  const uint8_t *ephemeral_sk; /* optional fixed ephemeral key (tests);
                                  else env->random */
  lp2p_noise_shared *shared;   /* optional: static key and payload from
                                  here (identity and muxers must be the
                                  ones it was made for) */
} lp2p_noise_config;

/* Encodes a libp2p NoiseHandshakePayload for `id` over the X25519 static
 * key static_pk (noise/README.md "The libp2p Handshake Payload"): identity
 * key, signature over "noise-libp2p-static-key:" || static_pk, and the
 * stream_muxers extension when n_muxers > 0. Returns the length written to
 * out[0..cap), or LP2P_ETOOBIG / a signing error. */
int lp2p_noise_payload_encode(uint8_t *out, size_t cap, const lp2p_identity *id,
                              const uint8_t static_pk[LP2P_NOISE_DHLEN],
                              const char *const *muxers, size_t n_muxers);

/* Creates an engine. Draws the keys it was not given from env->random,
 * signs our static key with cfg->identity and builds our handshake payload
 * now, so the identity need not outlive this call. env must outlive the
 * engine. Returns NULL on ENOMEM, a failing env->random, a NULL identity
 * or a failing signature. */
lp2p_noise *lp2p_noise_new(lp2p_env *env, const lp2p_noise_config *cfg, lp2p_io io);
/* Initiator: writes message 1 (-> e). Responder: nothing. A second call is
 * LP2P_EINVAL. */
int lp2p_noise_start(lp2p_noise *n);
/* Feeds bytes from the wire, split at any offset. Handshake messages are
 * answered through io.write; when the handshake completes (initiator:
 * after reading message 2 and writing message 3; responder: after reading
 * message 3) one LP2P_EV_READY is emitted with peer = the remote
 * const lp2p_pubkey* and protocol = the muxer agreed by inlined
 * negotiation or NULL. Remaining bytes of the same call are decrypted and
 * delivered as LP2P_EV_DATA (one per non-empty frame). The event callback
 * may call lp2p_noise_send and lp2p_noise_set_io, never lp2p_noise_recv or
 * lp2p_noise_free.
 * Errors: LP2P_EDECRYPT (bad tag), LP2P_ETOOBIG (handshake message or
 * payload over its cap), LP2P_EPROTO (short message, bad protobuf, missing
 * key or signature), LP2P_EKEY (malformed identity key or low-order X25519
 * point), LP2P_ESIG (bad signature), LP2P_EINVAL (recv before start on the
 * initiator, or re-entered), or whatever io returned. */
int lp2p_noise_recv(lp2p_noise *n, const uint8_t *in, size_t len);
/* Encrypts p into frames of at most LP2P_NOISE_PLAINTEXT_MAX plaintext
 * bytes each and writes them. Only after READY (else LP2P_EINVAL); len 0
 * writes nothing. */
int lp2p_noise_send(lp2p_noise *n, const uint8_t *p, size_t len);
/* The same for the concatenation of cnt pieces (a muxer frame's header and
 * payload): each message gathers its plaintext from the pieces where they
 * lie and is encrypted into room io.reserve lends, when it does, so bulk
 * data is never copied on its way to the driver. */
int lp2p_noise_sendv(lp2p_noise *n, const lp2p_iovec *v, size_t cnt);
int lp2p_noise_handshake_done(const lp2p_noise *n);
/* Replaces the io; meant for the READY callback, where the connection
 * splices in the layer above. Takes effect for the next event or write. */
void lp2p_noise_set_io(lp2p_noise *n, lp2p_io io);
/* After READY: the remote identity key and the agreed muxer (or NULL);
 * valid until lp2p_noise_free. NULL before READY. */
const lp2p_pubkey *lp2p_noise_remote_key(const lp2p_noise *n);
const char *lp2p_noise_muxer(const lp2p_noise *n);
/* Wipes every secret and frees. NULL is fine. */
void lp2p_noise_free(lp2p_noise *n);

/* Internal, exposed for tests. */

/* Frame reassembler: 2-byte big-endian length, then the body. */
typedef struct lp2p__noise_framer {
  uint8_t hdr[2];
  size_t hdr_len;
  size_t need;   /* body length once the header is complete */
  lp2p_buf body; /* body bytes gathered across calls */
} lp2p__noise_framer;

/* Consumes bytes of in toward the next frame and sets *consumed. When a
 * frame is complete, *frame / *frame_len point at its body (inside in when
 * it arrived whole, else inside the framer, valid until the next call) and
 * 1 is returned; 0 means more bytes are needed. A length above max is
 * LP2P_ETOOBIG, before anything is buffered. */
int lp2p__noise_framer_next(lp2p__noise_framer *f, size_t max, const uint8_t *in,
                            size_t len, size_t *consumed, const uint8_t **frame,
                            size_t *frame_len);
void lp2p__noise_framer_free(lp2p__noise_framer *f);

/* An engine already in transport mode with the given cipher states (the
 * vector test feeds the published transport messages through it). peer
 * and muxer stay NULL and no READY is emitted. */
lp2p_noise *lp2p__noise_new_transport(lp2p_env *env, lp2p_io io, const lp2p_noise_cs *tx,
                                      const lp2p_noise_cs *rx);

#endif
