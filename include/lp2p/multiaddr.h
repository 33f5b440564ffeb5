/* Multiaddr text <-> binary for the protocols we use (ip4, ip6, dns4, dns6,
 * tcp, udp, p2p, sni, plus ws/wss/tls/quic-v1 as bare names), and what a
 * dialer reads out of one. Pure. Depends on keys for the /p2p/ value. */
#ifndef LP2P_MULTIADDR_H
#define LP2P_MULTIADDR_H

#include "lp2p/codec.h"

/* Multiaddr. Binary form is the canonical one; text helpers convert.
 * Caps: binary 1024 bytes. */
#define LP2P_MULTIADDR_MAX 1024
typedef struct lp2p_multiaddr {
  uint8_t bytes[LP2P_MULTIADDR_MAX];
  size_t len;
} lp2p_multiaddr;

/* multicodec codes (multiformats/multicodec table.csv). */
enum {
  LP2P_MA_IP4 = 0x04,
  LP2P_MA_TCP = 0x06,
  LP2P_MA_IP6 = 0x29,
  LP2P_MA_DNS4 = 0x36,
  LP2P_MA_DNS6 = 0x37,
  LP2P_MA_P2P = 0x01a5,
  LP2P_MA_UDP = 0x0111,
  LP2P_MA_QUIC_V1 = 0x01cd, /* multicodec table: quic is 0x01cc */
  LP2P_MA_TLS = 0x01c0,
  LP2P_MA_SNI = 0x01c1,
  LP2P_MA_WS = 0x01dd,
  LP2P_MA_WSS = 0x01de
};

/* Text form "/ip4/1.2.3.4/tcp/1": returns 0 or LP2P_EADDR. "/ipfs/" is read
 * as "/p2p/"; the p2p value may be base58btc or CIDv1 text. */
int lp2p_multiaddr_parse(lp2p_multiaddr *ma, const char *text);
/* Binary form, as carried by identify: copies and validates every component;
 * returns 0, LP2P_ETOOBIG (over LP2P_MULTIADDR_MAX) or LP2P_EADDR (also for
 * an empty one). On error ma->len is 0. */
int lp2p_multiaddr_from_bytes(lp2p_multiaddr *ma, const uint8_t *p, size_t len);
/* NUL-terminated text into out[0..cap); returns length or negative. */
int lp2p_multiaddr_format(char *out, size_t cap, const lp2p_multiaddr *ma);

/* One component. value points into the multiaddr's bytes. */
typedef struct lp2p_ma_part {
  uint64_t code;
  const uint8_t *value;
  size_t len;
} lp2p_ma_part;
/* Iterates: *off starts at 0; returns 1 with a part, 0 at the end, or
 * LP2P_EADDR. */
int lp2p_multiaddr_next(const lp2p_multiaddr *ma, size_t *off, lp2p_ma_part *p);

/* Extracts what a dialer needs: host text (ip4/ip6 dotted form, or dns name),
 * tcp or udp port, and the /p2p/ peer id bytes (multihash) if present. Returns 0,
 * or LP2P_EADDR when there is no host directly followed by a tcp or udp port.
 * Other components (ws, tls, ...) are not reflected here: a caller that only
 * speaks raw TCP checks them with lp2p_multiaddr_next. */
typedef struct lp2p_dial_target {
  char host[256];
  int family;     /* 4, 6, or 0 for dns */
  int dns_family; /* dns4: 4, dns6: 6 (the address family to resolve) */
  uint16_t port;
  uint8_t peer[64]; /* multihash bytes of /p2p/, len 0 when absent */
  size_t peer_len;
} lp2p_dial_target;
int lp2p_multiaddr_dial_target(lp2p_dial_target *t, const lp2p_multiaddr *ma);

#endif
