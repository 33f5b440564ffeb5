/* Fuzz target: keys and peer ids (keys.h) and the Noise handshake payload
 * protobuf (parsed inside noise.c; not exposed, so this runs the same
 * generated parser and the same key and signature checks on it).
 *
 * Input: [mode] data...  mode % 7:
 *   0 lp2p_pubkey_unmarshal(data)
 *   1 lp2p_peerid_parse(data as text)
 *   2 lp2p_peerid_from_bytes(data)
 *   3 lp2p_peerid_from_pubkey_pb(data)
 *   4 NoiseHandshakePayload unpack, then its key and signature as
 *     noise.c checks them
 *   5 lp2p_pubkey_verify with a raw key that skipped unmarshal:
 *     [type][len] key[len] sig...
 *   6 identity from a 32-byte secret, sign data, verify, tamper:
 *     [type] secret[32] msg...
 * Checked: every accepted key or id re-encodes to the same bytes and
 * survives the text and CID round trips. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "lp2p/noise.h"
#include "noise.pb-c.h"

static void check_peerid(const lp2p_peerid *id) {
  FZ_CHECK(id->len > 0 && id->len <= LP2P_PEERID_MAX);
  lp2p_peerid again, back;
  FZ_CHECK(lp2p_peerid_from_bytes(&again, id->bytes, id->len) == 0);
  FZ_CHECK(lp2p_peerid_equal(&again, id));

  char text[256];
  int n = lp2p_peerid_to_text(text, sizeof text, id);
  FZ_CHECK(n > 0 && (size_t)n == strlen(text));
  FZ_CHECK(lp2p_peerid_parse(&back, text) == 0 && lp2p_peerid_equal(&back, id));
  n = lp2p_peerid_to_cid(text, sizeof text, id);
  FZ_CHECK(n > 1 && text[0] == 'b' && (size_t)n == strlen(text));
  FZ_CHECK(lp2p_peerid_parse(&back, text) == 0 && lp2p_peerid_equal(&back, id));

  /* A too small buffer is refused, never overrun (exactly sized on the
   * heap so ASan would see it). */
  size_t cap = (size_t)n;
  char *small = malloc(cap);
  FZ_CHECK(small);
  FZ_CHECK(lp2p_peerid_to_cid(small, cap, id) < 0);
  free(small);

  lp2p_pubkey pk;
  if (lp2p_peerid_pubkey(&pk, id) == 0) {
    lp2p_peerid from_key;
    FZ_CHECK(lp2p_peerid_from_pubkey(&from_key, &pk) == 0);
    FZ_CHECK(lp2p_peerid_equal(&from_key, id));
  }
}

static void check_pubkey(const lp2p_pubkey *pk, const uint8_t *pb, size_t len) {
  uint8_t out[LP2P_PUBKEY_PB_MAX];
  int n = lp2p_pubkey_marshal(out, sizeof out, pk);
  FZ_CHECK(n == (int)len && memcmp(out, pb, len) == 0);
  lp2p_peerid id;
  FZ_CHECK(lp2p_peerid_from_pubkey(&id, pk) == 0);
  check_peerid(&id);
  static const uint8_t sig[72];
  FZ_CHECK(lp2p_pubkey_verify(pk, (const uint8_t *)"m", 1, sig, 64) != 0);
}

static void fuzz_payload(const uint8_t *p, size_t len) {
  Pb__NoiseHandshakePayload *pb = pb__noise_handshake_payload__unpack(NULL, len, p);
  if (!pb) return;
  if (pb->has_identity_key) {
    lp2p_pubkey pk;
    if (lp2p_pubkey_unmarshal(&pk, pb->identity_key.data, pb->identity_key.len) == 0) {
      check_pubkey(&pk, pb->identity_key.data, pb->identity_key.len);
      uint8_t msg[sizeof LP2P_NOISE_SIG_PREFIX - 1 + 32] = {0};
      memcpy(msg, LP2P_NOISE_SIG_PREFIX, sizeof LP2P_NOISE_SIG_PREFIX - 1);
      if (pb->has_identity_sig)
        (void)lp2p_pubkey_verify(&pk, msg, sizeof msg, pb->identity_sig.data,
                                 pb->identity_sig.len);
    }
  }
  if (pb->extensions) {
    for (size_t i = 0; i < pb->extensions->n_stream_muxers; i++)
      FZ_CHECK(pb->extensions->stream_muxers[i] != NULL);
  }
  pb__noise_handshake_payload__free_unpacked(pb, NULL);
}

static void fuzz_raw_verify(fz_in *in) {
  lp2p_pubkey pk;
  memset(&pk, 0, sizeof pk);
  pk.type = (lp2p_key_type)(fz_u8(in) % 5);
  size_t klen;
  const uint8_t *k = fz_take(in, fz_u8(in) % (LP2P_PUBKEY_MAX + 1), &klen);
  memcpy(pk.key, k, klen);
  pk.len = klen;
  size_t slen;
  const uint8_t *sig = fz_rest(in, &slen);
  uint8_t *exact = malloc(slen ? slen : 1);
  FZ_CHECK(exact);
  memcpy(exact, sig, slen);
  (void)lp2p_pubkey_verify(&pk, (const uint8_t *)"msg", 3, exact, slen);
  free(exact);
}

static void fuzz_sign(fz_in *in) {
  lp2p_key_type t = fz_u8(in) & 1 ? LP2P_KEY_SECP256K1 : LP2P_KEY_ED25519;
  uint8_t secret[32] = {0};
  size_t n;
  const uint8_t *s = fz_take(in, 32, &n);
  memcpy(secret, s, n);
  size_t mlen;
  const uint8_t *msg = fz_rest(in, &mlen);
  lp2p_identity id;
  if (lp2p_identity_from_secret(&id, t, secret) != 0) return;
  uint8_t sig[LP2P_SIG_MAX];
  size_t sig_len = 0;
  FZ_CHECK(lp2p_identity_sign(sig, &sig_len, &id, msg, mlen) == 0);
  FZ_CHECK(sig_len > 0 && sig_len <= LP2P_SIG_MAX);
  FZ_CHECK(lp2p_pubkey_verify(&id.pub, msg, mlen, sig, sig_len) == 0);
  uint8_t pb[LP2P_PUBKEY_PB_MAX];
  int pbl = lp2p_pubkey_marshal(pb, sizeof pb, &id.pub);
  lp2p_pubkey back;
  FZ_CHECK(pbl > 0 && lp2p_pubkey_unmarshal(&back, pb, (size_t)pbl) == 0);
  check_pubkey(&back, pb, (size_t)pbl);
  sig[sig_len / 2] ^= 1;
  FZ_CHECK(lp2p_pubkey_verify(&id.pub, msg, mlen, sig, sig_len) != 0);
  lp2p_identity_clear(&id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fz_in in = fz_in_make(data, size);
  uint8_t mode = fz_u8(&in);
  size_t len;
  fz_log_begin(0);
  switch (mode % 7) {
  case 0: {
    const uint8_t *p = fz_rest(&in, &len);
    lp2p_pubkey pk;
    int rc = lp2p_pubkey_unmarshal(&pk, p, len);
    if (rc == 0)
      check_pubkey(&pk, p, len);
    else
      FZ_CHECK(rc == LP2P_EKEY);
    break;
  }
  case 1: {
    const uint8_t *p = fz_rest(&in, &len);
    char *text = malloc(len + 1);
    FZ_CHECK(text);
    memcpy(text, p, len);
    text[len] = 0;
    lp2p_peerid id;
    if (lp2p_peerid_parse(&id, text) == 0) check_peerid(&id);
    free(text);
    break;
  }
  case 2: {
    const uint8_t *p = fz_rest(&in, &len);
    lp2p_peerid id;
    if (lp2p_peerid_from_bytes(&id, p, len) == 0) {
      FZ_CHECK(id.len == len && memcmp(id.bytes, p, len) == 0);
      check_peerid(&id);
    }
    break;
  }
  case 3: {
    const uint8_t *p = fz_rest(&in, &len);
    lp2p_peerid id;
    FZ_CHECK(lp2p_peerid_from_pubkey_pb(&id, p, len) == 0);
    /* from_pubkey_pb takes any bytes; only the id of a key we accept (or a
     * hashed one) must survive the strict parse of lp2p_peerid_from_bytes. */
    lp2p_pubkey pk;
    if (len && (id.bytes[0] != 0x00 || lp2p_pubkey_unmarshal(&pk, p, len) == 0))
      check_peerid(&id);
    break;
  }
  case 4: {
    const uint8_t *p = fz_rest(&in, &len);
    fuzz_payload(p, len);
    break;
  }
  case 5: fuzz_raw_verify(&in); break;
  default: fuzz_sign(&in); break;
  }
  fz_log_end();
  return 0;
}
