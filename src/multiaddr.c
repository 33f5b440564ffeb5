#include "lp2p/multiaddr.h"

#include "lp2p/keys.h"

#include <arpa/inet.h>
#include <string.h>

/* ---- multiaddr (multiformats/multiaddr README, protocols.csv) ---- */

typedef enum {
  MA_NONE, /* bare name, no value */
  MA_IP4,  /* 4 bytes */
  MA_IP6,  /* 16 bytes */
  MA_PORT, /* 2 bytes big-endian */
  MA_DNS,  /* varint length + name */
  MA_P2P   /* varint length + multihash */
} ma_kind;

typedef struct {
  const char *name;
  uint64_t code;
  ma_kind kind;
} ma_proto;

static const ma_proto PROTOS[] = {
    {"ip4", LP2P_MA_IP4, MA_IP4},   {"ip6", LP2P_MA_IP6, MA_IP6},
    {"dns4", LP2P_MA_DNS4, MA_DNS}, {"dns6", LP2P_MA_DNS6, MA_DNS},
    {"tcp", LP2P_MA_TCP, MA_PORT},  {"udp", LP2P_MA_UDP, MA_PORT},
    {"p2p", LP2P_MA_P2P, MA_P2P},   {"ws", LP2P_MA_WS, MA_NONE},
    {"wss", LP2P_MA_WSS, MA_NONE},  {"tls", LP2P_MA_TLS, MA_NONE},
    {"sni", LP2P_MA_SNI, MA_DNS},   {"quic-v1", LP2P_MA_QUIC_V1, MA_NONE},
};
#define NPROTOS (sizeof PROTOS / sizeof PROTOS[0])

/* A DNS name (RFC 1035 section 2.3.4: at most 255 octets). */
#define MA_DNS_MAX 255

static const ma_proto *proto_by_code(uint64_t code) {
  for (size_t i = 0; i < NPROTOS; i++)
    if (PROTOS[i].code == code) return &PROTOS[i];
  return NULL;
}

static const ma_proto *proto_by_name(const char *s, size_t n) {
  /* "ipfs" is the former name of p2p (multiaddr protocols.csv). */
  if (n == 4 && memcmp(s, "ipfs", 4) == 0) return proto_by_code(LP2P_MA_P2P);
  for (size_t i = 0; i < NPROTOS; i++)
    if (strlen(PROTOS[i].name) == n && memcmp(PROTOS[i].name, s, n) == 0)
      return &PROTOS[i];
  return NULL;
}

/* Printable ASCII without '/', so that the text form stays unambiguous. */
static int dns_ok(const uint8_t *p, size_t n) {
  if (n == 0 || n > MA_DNS_MAX) return 0;
  for (size_t i = 0; i < n; i++)
    if (p[i] <= 0x20 || p[i] >= 0x7f || p[i] == '/') return 0;
  return 1;
}

/* The same rule as a peer id's, so every accepted value has a text form. */
static int p2p_ok(const uint8_t *p, size_t n) {
  lp2p_peerid id;
  return lp2p_peerid_from_bytes(&id, p, n) == 0;
}

int lp2p_multiaddr_next(const lp2p_multiaddr *ma, size_t *off, lp2p_ma_part *p) {
  size_t len = ma->len < LP2P_MULTIADDR_MAX ? ma->len : LP2P_MULTIADDR_MAX;
  if (*off >= len) return 0;
  const uint8_t *in = ma->bytes + *off;
  size_t left = len - *off;
  uint64_t code;
  int n = lp2p_varint_decode(&code, in, left);
  if (n <= 0) return LP2P_EADDR;
  const ma_proto *pr = proto_by_code(code);
  if (!pr) return LP2P_EADDR;
  size_t pos = (size_t)n, vlen;
  switch (pr->kind) {
  case MA_NONE: vlen = 0; break;
  case MA_IP4: vlen = 4; break;
  case MA_IP6: vlen = 16; break;
  case MA_PORT: vlen = 2; break;
  default: {
    uint64_t l;
    int m = lp2p_varint_decode(&l, in + pos, left - pos);
    if (m <= 0 || l > left - pos - (size_t)m) return LP2P_EADDR;
    pos += (size_t)m;
    vlen = (size_t)l;
  }
  }
  if (vlen > left - pos) return LP2P_EADDR;
  if (pr->kind == MA_DNS && !dns_ok(in + pos, vlen)) return LP2P_EADDR;
  if (pr->kind == MA_P2P && !p2p_ok(in + pos, vlen)) return LP2P_EADDR;
  p->code = code;
  p->value = in + pos;
  p->len = vlen;
  *off += pos + vlen;
  return 1;
}

int lp2p_multiaddr_from_bytes(lp2p_multiaddr *ma, const uint8_t *p, size_t len) {
  ma->len = 0;
  if (len > LP2P_MULTIADDR_MAX) return LP2P_ETOOBIG;
  if (len == 0) return LP2P_EADDR; /* as the text "" is */
  memcpy(ma->bytes, p, len);
  ma->len = len;
  size_t off = 0;
  lp2p_ma_part part;
  int rc;
  while ((rc = lp2p_multiaddr_next(ma, &off, &part)) == 1) {
  }
  if (rc < 0) ma->len = 0;
  return rc;
}

/* -- text -> binary -- */

static int put(lp2p_multiaddr *ma, const void *p, size_t n) {
  if (n > LP2P_MULTIADDR_MAX - ma->len) return LP2P_EADDR;
  memcpy(ma->bytes + ma->len, p, n);
  ma->len += n;
  return 0;
}

static int put_varint(lp2p_multiaddr *ma, uint64_t v) {
  uint8_t b[LP2P_VARINT_MAX];
  return put(ma, b, lp2p_varint_encode(b, v));
}

/* Decimal 0..65535 without sign or leading zeros, so text round-trips. */
static int parse_port(uint8_t out[2], const char *s, size_t n) {
  if (n == 0 || n > 5 || (n > 1 && s[0] == '0')) return LP2P_EADDR;
  unsigned v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return LP2P_EADDR;
    v = v * 10 + (unsigned)(s[i] - '0');
  }
  if (v > 65535) return LP2P_EADDR;
  out[0] = (uint8_t)(v >> 8);
  out[1] = (uint8_t)v;
  return 0;
}

static int put_value(lp2p_multiaddr *ma, const ma_proto *pr, const char *s, size_t n) {
  char z[MA_DNS_MAX + 1]; /* NUL-terminated copy for inet_pton / peer id */
  uint8_t v[LP2P_PEERID_MAX];
  if (n > MA_DNS_MAX) return LP2P_EADDR;
  memcpy(z, s, n);
  z[n] = 0;
  switch (pr->kind) {
  case MA_IP4:
    if (inet_pton(AF_INET, z, v) != 1) return LP2P_EADDR;
    return put(ma, v, 4);
  case MA_IP6:
    if (inet_pton(AF_INET6, z, v) != 1) return LP2P_EADDR;
    return put(ma, v, 16);
  case MA_PORT:
    if (parse_port(v, s, n)) return LP2P_EADDR;
    return put(ma, v, 2);
  case MA_DNS:
    if (!dns_ok((const uint8_t *)s, n)) return LP2P_EADDR;
    if (put_varint(ma, n)) return LP2P_EADDR;
    return put(ma, s, n);
  case MA_P2P: {
    lp2p_peerid id;
    if (lp2p_peerid_parse(&id, z) != 0) return LP2P_EADDR;
    if (put_varint(ma, id.len)) return LP2P_EADDR;
    return put(ma, id.bytes, id.len);
  }
  default: return 0;
  }
}

/* Next '/'-delimited field of s at *pos; its length, or 0 at the end. */
static size_t field(const char *s, size_t *pos, const char **f) {
  size_t i = *pos;
  if (s[i] != '/') return 0;
  i++;
  size_t start = i;
  while (s[i] && s[i] != '/')
    i++;
  *f = s + start;
  *pos = i;
  return i - start;
}

int lp2p_multiaddr_parse(lp2p_multiaddr *ma, const char *text) {
  ma->len = 0;
  if (!text || text[0] != '/') return LP2P_EADDR;
  size_t pos = 0;
  while (text[pos]) {
    const char *name, *val;
    size_t nlen = field(text, &pos, &name);
    const ma_proto *pr = nlen ? proto_by_name(name, nlen) : NULL;
    if (!pr || put_varint(ma, pr->code)) goto bad;
    if (pr->kind == MA_NONE) continue;
    size_t vlen = field(text, &pos, &val);
    if (vlen == 0 || put_value(ma, pr, val, vlen)) goto bad;
  }
  return 0;
bad:
  ma->len = 0;
  return LP2P_EADDR;
}

/* -- binary -> text -- */

typedef struct {
  char *out;
  size_t cap, len;
  int err;
} writer;

static void wr(writer *w, const char *s, size_t n) {
  if (w->err) return;
  if (n >= w->cap - w->len) {
    w->err = LP2P_ETOOBIG;
    return;
  }
  memcpy(w->out + w->len, s, n);
  w->len += n;
  w->out[w->len] = 0;
}

static void wr_value(writer *w, const ma_proto *pr, const lp2p_ma_part *p) {
  char t[MA_DNS_MAX + 1];
  switch (pr->kind) {
  case MA_IP4:
  case MA_IP6:
    if (!inet_ntop(pr->kind == MA_IP4 ? AF_INET : AF_INET6, p->value, t, sizeof t)) {
      w->err = LP2P_EADDR;
      return;
    }
    break;
  case MA_PORT: {
    unsigned port = (unsigned)p->value[0] << 8 | p->value[1];
    int i = (int)sizeof t - 1;
    t[i] = 0;
    do {
      t[--i] = (char)('0' + port % 10);
      port /= 10;
    } while (port);
    wr(w, "/", 1);
    wr(w, t + i, strlen(t + i));
    return;
  }
  case MA_DNS:
    wr(w, "/", 1);
    wr(w, (const char *)p->value, p->len);
    return;
  case MA_P2P: {
    int n = lp2p_base58_encode(t, sizeof t, p->value, p->len);
    if (n < 0) {
      w->err = n;
      return;
    }
    break;
  }
  default: return;
  }
  wr(w, "/", 1);
  wr(w, t, strlen(t));
}

int lp2p_multiaddr_format(char *out, size_t cap, const lp2p_multiaddr *ma) {
  if (cap == 0) return LP2P_ETOOBIG;
  writer w = {out, cap, 0, 0};
  out[0] = 0;
  size_t off = 0;
  lp2p_ma_part p;
  int rc;
  while ((rc = lp2p_multiaddr_next(ma, &off, &p)) == 1) {
    const ma_proto *pr = proto_by_code(p.code);
    wr(&w, "/", 1);
    wr(&w, pr->name, strlen(pr->name));
    wr_value(&w, pr, &p);
  }
  if (rc < 0) w.err = rc;
  if (w.err) {
    out[0] = 0;
    return w.err;
  }
  return (int)w.len;
}

/* -- dialing -- */

int lp2p_multiaddr_dial_target(lp2p_dial_target *t, const lp2p_multiaddr *ma) {
  memset(t, 0, sizeof *t);
  size_t off = 0;
  lp2p_ma_part p;
  int rc, have_host = 0, have_port = 0, host_was_last = 0;
  while ((rc = lp2p_multiaddr_next(ma, &off, &p)) == 1) {
    int took_host = 0;
    if (!have_host && (p.code == LP2P_MA_IP4 || p.code == LP2P_MA_IP6)) {
      t->family = p.code == LP2P_MA_IP4 ? 4 : 6;
      if (!inet_ntop(t->family == 4 ? AF_INET : AF_INET6, p.value, t->host,
                     sizeof t->host))
        break;
      have_host = took_host = 1;
    } else if (!have_host && (p.code == LP2P_MA_DNS4 || p.code == LP2P_MA_DNS6)) {
      memcpy(t->host, p.value, p.len); /* p.len <= MA_DNS_MAX < sizeof host */
      t->dns_family = p.code == LP2P_MA_DNS4 ? 4 : 6;
      t->host[p.len] = 0;
      have_host = took_host = 1;
    } else if ((p.code == LP2P_MA_TCP || p.code == LP2P_MA_UDP) && host_was_last) {
      t->port = (uint16_t)(p.value[0] << 8 | p.value[1]);
      have_port = 1;
    } else if (p.code == LP2P_MA_P2P) {
      memcpy(t->peer, p.value, p.len); /* p2p_ok capped it to 64 bytes */
      t->peer_len = p.len;
    }
    host_was_last = took_host;
  }
  if (rc != 0 || !have_port) {
    memset(t, 0, sizeof *t);
    return LP2P_EADDR;
  }
  return 0;
}
