#include "lp2p/identify.h"

#include "identify.pb-c.h"

#include <stdio.h>
#include <string.h>

int lp2p_identify_encode(lp2p_buf *out, const lp2p_identify_info *info) {
  Pb__Identify msg = PB__IDENTIFY__INIT;
  uint8_t pk[LP2P_PUBKEY_PB_MAX];
  int pklen = lp2p_pubkey_marshal(pk, sizeof pk, info->pub);
  if (pklen < 0) return pklen;
  ProtobufCBinaryData addrs[8];
  size_t n_addrs = info->n_listen_addrs < 8 ? info->n_listen_addrs : 8;
  for (size_t i = 0; i < n_addrs; i++)
    addrs[i] = (ProtobufCBinaryData){info->listen_addrs[i].len,
                                     (uint8_t *)info->listen_addrs[i].bytes};
  msg.protocolversion = (char *)LP2P_IDENTIFY_PROTOCOL_VERSION;
  msg.agentversion = (char *)info->agent_version;
  msg.has_publickey = 1;
  msg.publickey = (ProtobufCBinaryData){(size_t)pklen, pk};
  msg.n_listenaddrs = n_addrs;
  msg.listenaddrs = addrs;
  if (info->observed) {
    msg.has_observedaddr = 1;
    msg.observedaddr =
        (ProtobufCBinaryData){info->observed->len, (uint8_t *)info->observed->bytes};
  }
  msg.n_protocols = info->n_protocols;
  msg.protocols = (char **)info->protocols;
  size_t len = pb__identify__get_packed_size(&msg);
  if (len > LP2P_IDENTIFY_MAX_OUT) return LP2P_ETOOBIG;
  int rc = lp2p_buf_reserve(out, LP2P_VARINT_MAX + len);
  if (rc) return rc;
  out->len += lp2p_varint_encode(out->data + out->len, len);
  out->len += pb__identify__pack(&msg, out->data + out->len);
  return 0;
}

static int check_key(const Pb__Identify *m, const lp2p_peerid *peer) {
  if (!m->has_publickey) return 0; /* optional per the spec */
  lp2p_peerid got;
  int rc = lp2p_peerid_from_pubkey_pb(&got, m->publickey.data, m->publickey.len);
  if (rc) return LP2P_EPROTO;
  return lp2p_peerid_equal(&got, peer) ? 0 : LP2P_EPEERID;
}

static int parse(lp2p_identify_peer *out, const lp2p_peerid *peer, const uint8_t *p,
                 size_t len) {
  Pb__Identify *m = pb__identify__unpack(NULL, len, p);
  if (!m) return LP2P_EPROTO;
  int rc = check_key(m, peer);
  if (rc == 0) {
    memset(out, 0, sizeof *out);
    snprintf(out->agent_version, sizeof out->agent_version, "%s",
             m->agentversion ? m->agentversion : "");
    snprintf(out->protocol_version, sizeof out->protocol_version, "%s",
             m->protocolversion ? m->protocolversion : "");
    out->n_protocols = m->n_protocols;
    out->n_listen_addrs = m->n_listenaddrs;
  }
  pb__identify__free_unpacked(m, NULL);
  return rc;
}

int lp2p_identify_read(lp2p_identify_reader *r, lp2p_identify_peer *out,
                       const lp2p_peerid *peer, const uint8_t *in, size_t len) {
  if (r->done) return LP2P_EPROTO; /* one message per stream */
  uint64_t mlen;
  /* Cap what we hold before buffering: varint + message. */
  if (len > LP2P_IDENTIFY_MAX_IN + LP2P_VARINT_MAX - r->buf.len) return LP2P_ETOOBIG;
  int rc = lp2p_buf_append(&r->buf, in, len);
  if (rc) return rc;
  int hl = lp2p_varint_decode(&mlen, r->buf.data, r->buf.len);
  if (hl <= 0) return hl;
  if (mlen > LP2P_IDENTIFY_MAX_IN) return LP2P_ETOOBIG;
  if (r->buf.len < (size_t)hl + mlen) return 0;
  if (r->buf.len > (size_t)hl + mlen) return LP2P_EPROTO;
  r->done = 1;
  rc = parse(out, peer, r->buf.data + hl, (size_t)mlen);
  return rc ? rc : 1;
}

void lp2p_identify_reader_free(lp2p_identify_reader *r) { lp2p_buf_free(&r->buf); }
