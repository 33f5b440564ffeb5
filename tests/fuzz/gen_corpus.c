/* Seed corpus generator: writes small valid inputs for every fuzz target
 * into OUTDIR/<name>/seed-*, taken from real engine output where there is
 * one (recorded multistream and Noise exchanges, a dialer's whole
 * transcript against the fuzz_conn listener, real keys and payloads).
 *
 *   cmake --build build --target fuzz_gen_corpus
 *   build/fuzz_gen_corpus tests/fuzz/corpus
 *
 * Input layouts are described at the top of each fuzz_<name>.c. The
 * output is deterministic, so regenerating changes nothing unless an
 * engine or a layout changed; except the TLS seeds (tls, tls_cert: GnuTLS
 * draws its own randomness for keys and handshakes), which are only written
 * where none exists yet. */
#include "fuzz.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lp2p/codec.h"
#include "lp2p/multiaddr.h"
#include "lp2p/conn.h"
#include "lp2p/mss.h"
#include "lp2p/noise.h"
#include "lp2p/ping.h"
#include "lp2p/plaintext.h"
#include "lp2p/tls.h"
#include "lp2p/tls_cert.h"

#include "../../src/der.h"

static const char *outdir;
static int failures;

/* ---- building inputs ---- */

static void b_u8(lp2p_buf *b, unsigned v) {
  uint8_t c = (uint8_t)v;
  if (lp2p_buf_append(b, &c, 1)) abort();
}
static void b_u16(lp2p_buf *b, unsigned v) {
  b_u8(b, v >> 8);
  b_u8(b, v);
}
static void b_bytes(lp2p_buf *b, const void *p, size_t n) {
  if (lp2p_buf_append(b, p, n)) abort();
}
static void b_str(lp2p_buf *b, const char *s) { b_bytes(b, s, strlen(s)); }
static void b_mss(lp2p_buf *b, const char *text) {
  uint8_t m[LP2P_MSS_MAX_MSG + LP2P_VARINT_MAX];
  int n = lp2p_mss_encode(m, sizeof m, text);
  if (n < 0) abort();
  b_bytes(b, m, (size_t)n);
}
static void b_yamux(lp2p_buf *b, unsigned type, unsigned flags, uint32_t id,
                    uint32_t len) {
  uint8_t h[12] = {0,
                   (uint8_t)type,
                   (uint8_t)(flags >> 8),
                   (uint8_t)flags,
                   (uint8_t)(id >> 24),
                   (uint8_t)(id >> 16),
                   (uint8_t)(id >> 8),
                   (uint8_t)id,
                   (uint8_t)(len >> 24),
                   (uint8_t)(len >> 16),
                   (uint8_t)(len >> 8),
                   (uint8_t)len};
  b_bytes(b, h, sizeof h);
}
static void b_mplex(lp2p_buf *b, uint64_t id, unsigned flag, const void *p, size_t len) {
  uint8_t v[LP2P_VARINT_MAX];
  b_bytes(b, v, lp2p_varint_encode(v, id << 3 | flag));
  b_bytes(b, v, lp2p_varint_encode(v, len));
  b_bytes(b, p, len);
}

/* ---- output ---- */

static void mkdirs(const char *target) {
  char path[4096];
  snprintf(path, sizeof path, "%s", outdir);
  if (mkdir(path, 0755) && errno != EEXIST) perror(path);
  snprintf(path, sizeof path, "%s/%s", outdir, target);
  if (mkdir(path, 0755) && errno != EEXIST) perror(path);
}

static void put(const char *target, const lp2p_buf *b, const char *fmt, ...) {
  char name[256], path[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(name, sizeof name, fmt, ap);
  va_end(ap);
  mkdirs(target);
  snprintf(path, sizeof path, "%s/%s/seed-%s", outdir, target, name);
  FILE *f = fopen(path, "wb");
  if (!f || (b->len && fwrite(b->data, 1, b->len, f) != b->len)) {
    perror(path);
    failures++;
  }
  if (f) fclose(f);
}

static void put_free(const char *target, lp2p_buf *b, const char *fmt, ...) {
  char name[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(name, sizeof name, fmt, ap);
  va_end(ap);
  put(target, b, "%s", name);
  lp2p_buf_free(b);
}

/* ---- varint, multiaddr, keys ---- */

static void gen_varint(void) {
  static const uint64_t vals[] = {0, 1, 127, 128, 255, 300, 16384, (1ull << 63) - 1};
  lp2p_buf b = {0};
  b_u8(&b, 0);
  b_u16(&b, 64);
  for (size_t i = 0; i < sizeof vals / sizeof *vals; i++) {
    uint8_t v[LP2P_VARINT_MAX];
    b_bytes(&b, v, lp2p_varint_encode(v, vals[i]));
  }
  put_free("varint", &b, "varints");
  b_u8(&b, 0);
  b_u16(&b, 0);
  b_bytes(&b, "\x80\x00", 2); /* non-minimal */
  put_free("varint", &b, "nonminimal");
  b_u8(&b, 1);
  b_u16(&b, 64);
  b_str(&b, "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA");
  put_free("varint", &b, "base58");
  b_u8(&b, 1);
  b_u16(&b, 8);
  b_str(&b, "1112");
  put_free("varint", &b, "base58-zeros");
  b_u8(&b, 2);
  b_u16(&b, 64);
  b_str(&b, "afzbeie5745rpv2m6tjyuugywy4d5ewrqgqqhfnf445he3omzpjbx5xqxe");
  put_free("varint", &b, "base32");
  b_u8(&b, 3);
  b_u16(&b, 0);
  b_bytes(&b, "\x12\x20", 2);
  for (int i = 0; i < 32; i++)
    b_u8(&b, i);
  put_free("varint", &b, "multihash");
}

static void gen_multiaddr(void) {
  static const char *const texts[] = {
      "/ip4/127.0.0.1/tcp/4001",
      "/ip6/::1/tcp/65535/ws",
      "/dns4/example.com/tcp/443/wss",
      "/dns6/a.b/udp/1/quic-v1",
      "/ip4/10.0.0.1/tcp/80/tls/ws/p2p/"
      "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA",
      "/ipfs/QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N",
      "/p2p/bafzbeie5745rpv2m6tjyuugywy4d5ewrqgqqhfnf445he3omzpjbx5xqxe",
  };
  for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
    lp2p_buf b = {0};
    b_u8(&b, 0);
    b_u16(&b, 100);
    b_str(&b, texts[i]);
    put_free("multiaddr", &b, "text-%zu", i);
    lp2p_multiaddr ma;
    if (lp2p_multiaddr_parse(&ma, texts[i])) {
      fprintf(stderr, "multiaddr %s does not parse\n", texts[i]);
      failures++;
      continue;
    }
    b_u8(&b, 1);
    b_u16(&b, 100);
    b_bytes(&b, ma.bytes, ma.len);
    put_free("multiaddr", &b, "bin-%zu", i);
  }
}

static void gen_keys(void) {
  for (int i = 0; i < 2; i++) {
    const lp2p_identity *id = fz_identity(i);
    uint8_t pb[LP2P_PUBKEY_PB_MAX];
    int n = lp2p_pubkey_marshal(pb, sizeof pb, &id->pub);
    lp2p_peerid pid;
    lp2p_peerid_from_pubkey(&pid, &id->pub);
    char text[256];
    lp2p_buf b = {0};
    b_u8(&b, 0);
    b_bytes(&b, pb, (size_t)n);
    put_free("keys", &b, "pubkey-%d", i);
    b_u8(&b, 1);
    lp2p_peerid_to_text(text, sizeof text, &pid);
    b_str(&b, text);
    put_free("keys", &b, "peerid-text-%d", i);
    b_u8(&b, 1);
    lp2p_peerid_to_cid(text, sizeof text, &pid);
    b_str(&b, text);
    put_free("keys", &b, "peerid-cid-%d", i);
    b_u8(&b, 2);
    b_bytes(&b, pid.bytes, pid.len);
    put_free("keys", &b, "peerid-bytes-%d", i);
    b_u8(&b, 3);
    b_bytes(&b, pb, (size_t)n);
    put_free("keys", &b, "pubkey-pb-%d", i);
    uint8_t pl[512];
    static const char *const mux[] = {"/yamux/1.0.0", "/mplex/6.7.0"};
    int pn = fz_noise_payload(pl, sizeof pl, id, fz_static_sk[0], mux, 2);
    b_u8(&b, 4);
    b_bytes(&b, pl, (size_t)pn);
    put_free("keys", &b, "noise-payload-%d", i);
    b_u8(&b, 5);
    b_u8(&b, id->pub.type);
    b_u8(&b, id->pub.len);
    b_bytes(&b, id->pub.key, id->pub.len);
    b_bytes(&b, pl, 64);
    put_free("keys", &b, "verify-%d", i);
    b_u8(&b, 6);
    b_u8(&b, i);
    for (int k = 0; k < 32; k++)
      b_u8(&b, 0x40 + k);
    b_str(&b, "message");
    put_free("keys", &b, "sign-%d", i);
  }
  lp2p_buf b = {0};
  b_u8(&b, 1);
  b_str(&b, "QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N");
  put_free("keys", &b, "peerid-sha256");
}

/* ---- multistream ---- */

static void gen_multistream(void) {
  lp2p_buf b = {0};
  /* Responder: header, an unknown proposal, then ours and data. */
  b_u8(&b, 0 | 2 << 1);
  b_u8(&b, 0);
  b_mss(&b, LP2P_MSS_PROTOCOL);
  b_mss(&b, "/tls/1.0.0");
  b_mss(&b, "/mplex/6.7.0");
  b_str(&b, "leftover");
  put_free("multistream", &b, "responder");
  b_u8(&b, 0);
  b_u8(&b, 7);
  b_mss(&b, LP2P_MSS_PROTOCOL);
  b_mss(&b, "/noise");
  put_free("multistream", &b, "responder-split");
  /* Initiator: header, "na" to the first proposal, echo of the second. */
  b_u8(&b, 1 | 1 << 1);
  b_u8(&b, 0);
  b_mss(&b, LP2P_MSS_PROTOCOL);
  b_mss(&b, "na");
  b_mss(&b, "/yamux/1.0.0");
  b_bytes(&b, "\0\0\0\0", 4);
  put_free("multistream", &b, "initiator-na");
  b_u8(&b, 1);
  b_u8(&b, 3);
  b_mss(&b, LP2P_MSS_PROTOCOL);
  b_mss(&b, "/noise");
  b_str(&b, "data");
  put_free("multistream", &b, "initiator");
}

/* ---- noise ---- */

typedef struct pipe {
  lp2p_buf wire;
  lp2p_noise *n;
  int ready;
} pipe;

static int pipe_write(void *ud, const uint8_t *p, size_t len) {
  return lp2p_buf_append(&((pipe *)ud)->wire, p, len);
}
static int pipe_event(void *ud, const lp2p_event *ev) {
  if (ev->type == LP2P_EV_READY) ((pipe *)ud)->ready = 1;
  return 0;
}

/* A real exchange: engine `rec` (the fuzz target's peer) against the
 * target's engine `tgt` made as fz_noise_new(tgt_sel); returns what rec
 * wrote, handshake plus two transport frames. */
static void noise_transcript(lp2p_buf *out, int tgt_initiator, unsigned tgt_sel,
                             unsigned rec_sel) {
  lp2p_env te, re;
  uint64_t ts, rs;
  pipe t = {0}, r = {0};
  lp2p_io tio = {.write = pipe_write, .event = pipe_event, .ud = &t},
          rio = {.write = pipe_write, .event = pipe_event, .ud = &r};
  t.n = fz_noise_new(&te, &ts, tgt_initiator, tgt_sel, tio);
  r.n = fz_noise_new(&re, &rs, !tgt_initiator, rec_sel | 16, rio);
  lp2p_noise_start(t.n);
  lp2p_noise_start(r.n);
  for (int i = 0; i < 4; i++) {
    lp2p_buf a = t.wire;
    t.wire = (lp2p_buf){0};
    if (a.len) lp2p_noise_recv(r.n, a.data, a.len);
    lp2p_buf_free(&a);
    if (r.wire.len) {
      b_bytes(out, r.wire.data, r.wire.len);
      lp2p_noise_recv(t.n, r.wire.data, r.wire.len);
      r.wire.len = 0;
    }
  }
  if (!r.ready || !t.ready) {
    fprintf(stderr, "noise transcript: handshake did not complete\n");
    failures++;
  }
  lp2p_noise_send(r.n, (const uint8_t *)"hello", 5);
  lp2p_noise_send(r.n, (const uint8_t *)"x", 1);
  b_bytes(out, r.wire.data, r.wire.len);
  lp2p_noise_free(t.n);
  lp2p_noise_free(r.n);
  lp2p_buf_free(&t.wire);
  lp2p_buf_free(&r.wire);
}

static void gen_noise_handshake(void) {
  for (unsigned sel = 0; sel < 16; sel += 5) {
    for (int role = 0; role < 2; role++) {
      lp2p_buf b = {0};
      b_u8(&b, (unsigned)role);
      b_u8(&b, sel);
      b_u8(&b, 0);
      noise_transcript(&b, role, sel, (sel + 3) & 15);
      put_free("noise_handshake", &b, "raw-%s-%u", role ? "initiator" : "responder", sel);
    }
    /* Against the harness peer: a valid payload (kind 1) and transport. */
    for (int mode = 2; mode < 4; mode++) {
      lp2p_buf b = {0};
      b_u8(&b, (unsigned)mode);
      b_u8(&b, sel | (sel & 1 ? 32 : 0));
      b_u8(&b, sel == 5 ? 9 : 0);
      if (mode == 3) b_u8(&b, 0); /* message 1 payload length */
      b_u8(&b, 1);                /* kind: valid */
      b_u8(&b, (sel + 6) & 15);   /* peer sel */
      b_u8(&b, 0);                /* nothing appended */
      b_u8(&b, 1);
      b_u8(&b, 5);
      b_str(&b, "hello");
      b_u8(&b, 1);
      b_u8(&b, 0);
      b_u8(&b, 0);
      b_u8(&b, 3);
      b_str(&b, "abc");
      put_free("noise_handshake", &b, "harness-%d-%u", mode, sel);
    }
  }
  /* Bad signature, appended muxers, and a raw payload. */
  lp2p_buf b = {0};
  b_u8(&b, 2);
  b_u8(&b, 4);
  b_u8(&b, 0);
  b_u8(&b, 2);
  b_u8(&b, 1);
  b_u8(&b, 0);
  put_free("noise_handshake", &b, "badsig");
  b_u8(&b, 3);
  b_u8(&b, 8);
  b_u8(&b, 0);
  b_u8(&b, 0);
  b_u8(&b, 1);
  b_u8(&b, 4);
  b_u8(&b, 16);
  b_bytes(&b, "\x22\x0e\x12\x0c/yamux/1.0.0", 16);
  put_free("noise_handshake", &b, "appended-muxer");
  b_u8(&b, 2);
  b_u8(&b, 0);
  b_u8(&b, 0);
  b_u8(&b, 0);
  b_u8(&b, 0);
  uint8_t pl[512];
  int pn = fz_noise_payload(pl, sizeof pl, fz_identity(1), fz_static_sk[0], NULL, 0);
  b_u16(&b, (unsigned)pn);
  b_bytes(&b, pl, (size_t)pn);
  put_free("noise_handshake", &b, "raw-payload");
  b_u8(&b, 2);
  b_u8(&b, 0);
  b_u8(&b, 0);
  b_u8(&b, 0);
  b_u8(&b, 0);
  b_u16(&b, 9000); /* over the payload cap */
  put_free("noise_handshake", &b, "payload-too-big");
  /* Message 3 payload: a valid secp256k1 identity key and an empty
   * identity_sig (protobuf-c gives data NULL, len 0). */
  {
    uint8_t key[LP2P_PUBKEY_PB_MAX];
    int kn = lp2p_pubkey_marshal(key, sizeof key, &fz_identity(1)->pub);
    b_u8(&b, 3);
    b_u8(&b, 0);
    b_u8(&b, 0);
    b_u8(&b, 0); /* message 1 payload length */
    b_u8(&b, 0); /* kind: raw payload */
    b_u8(&b, 0);
    b_u16(&b, (unsigned)kn + 4);
    b_u8(&b, 0x0a); /* identity_key */
    b_u8(&b, (unsigned)kn);
    b_bytes(&b, key, (size_t)kn);
    b_bytes(&b, "\x12\x00", 2); /* identity_sig, empty */
    put_free("noise_handshake", &b, "secp256k1-empty-signature");
  }
}

static void gen_noise_transport(void) {
  lp2p_buf b = {0};
  b_u8(&b, 2); /* echo */
  b_u8(&b, 0);
  b_u8(&b, 0);
  b_u8(&b, 5);
  b_str(&b, "hello");
  b_u8(&b, 0);
  b_u8(&b, 5);
  b_u8(&b, 3);
  b_str(&b, "abc");
  b_u8(&b, 2);
  b_u8(&b, 0);
  b_u8(&b, 0);
  b_u8(&b, 2);
  b_u16(&b, 300);
  put_free("noise_transport", &b, "frames-and-sends");
  b_u8(&b, 0);
  b_u8(&b, 0);
  b_u8(&b, 4);
  b_u16(&b, 65519);
  b_u8(&b, 5);
  b_u8(&b, 2 | 0x80);
  b_u16(&b, 1000);
  put_free("noise_transport", &b, "big");
  b_u8(&b, 1); /* nonce near the end */
  b_u8(&b, 0);
  for (int i = 0; i < 3; i++) {
    b_u8(&b, 0);
    b_u8(&b, 2);
    b_str(&b, "hi");
    b_u8(&b, 0);
  }
  put_free("noise_transport", &b, "nonce-exhaustion");
  b_u8(&b, 0);
  b_u8(&b, 0);
  b_u8(&b, 3);
  b_u8(&b, 4);
  b_str(&b, "abcd");
  b_u8(&b, 17);
  put_free("noise_transport", &b, "tampered");
  b_u8(&b, 0);
  b_u8(&b, 0);
  b_u8(&b, 1);
  b_u8(&b, 20);
  b_bytes(&b,
          "\x00\x12"
          "0123456789abcdefgh",
          20);
  put_free("noise_transport", &b, "raw");
}

/* ---- yamux, mplex ---- */

enum { Y_DATA = 0, Y_WU = 1, Y_PING = 2, Y_GOAWAY = 3 };
enum { Y_SYN = 1, Y_ACK = 2, Y_FIN = 4, Y_RST = 8 };

static void gen_yamux(void) {
  lp2p_buf b = {0}, w = {0};
  /* Listener: the peer opens stream 1, sends, half-closes; pings; goes. */
  b_yamux(&w, Y_WU, Y_SYN, 1, 0);
  b_yamux(&w, Y_DATA, 0, 1, 5);
  b_str(&w, "hello");
  b_yamux(&w, Y_DATA, Y_FIN, 1, 3);
  b_str(&w, "bye");
  b_yamux(&w, Y_PING, Y_SYN, 0, 7);
  b_yamux(&w, Y_WU, Y_SYN, 3, 1000);
  b_yamux(&w, Y_WU, Y_RST, 3, 0);
  b_yamux(&w, Y_GOAWAY, 0, 0, 0);
  b_u8(&b, 0);
  b_u8(&b, 0);
  b_u8(&b, 1);
  b_u8(&b, (unsigned)w.len);
  b_bytes(&b, w.data, w.len);
  b_u8(&b, 5);
  put_free("yamux", &b, "listener");
  /* Same, one byte at a time, with callback actions. */
  b_u8(&b, 0 | 1 << 3);
  b_u8(&b, 16);
  b_u8(&b, 1);
  b_u8(&b, (unsigned)w.len);
  b_bytes(&b, w.data, w.len);
  b_u8(&b, 1);
  for (int i = 0; i < 8; i++)
    b_u8(&b, (unsigned)i);
  put_free("yamux", &b, "listener-callbacks");
  lp2p_buf_free(&w);
  /* Dialer: opens 1 and 3, sends over the window, the peer ACKs, grows
   * the window, resets. */
  b_u8(&b, 1 | 1 << 1);
  b_u8(&b, 0);
  b_u8(&b, 3);
  b_u8(&b, 3);
  b_u8(&b, 4);
  b_u8(&b, 0);
  b_u16(&b, 0xffff); /* 256 KiB: the whole window */
  b_u8(&b, 9);
  b_u8(&b, Y_WU);
  b_u8(&b, Y_ACK);
  b_u8(&b, 0);
  b_u16(&b, 4096);
  b_u8(&b, 9);
  b_u8(&b, Y_DATA);
  b_u8(&b, Y_ACK);
  b_u8(&b, 1);
  b_u16(&b, 4);
  b_str(&b, "data");
  b_u8(&b, 5); /* close stream 1 */
  b_u8(&b, 0);
  b_u8(&b, 8); /* ping 9 */
  b_u16(&b, 0);
  b_u16(&b, 9);
  b_u8(&b, 6); /* reset stream 3 */
  b_u8(&b, 1);
  b_u8(&b, 7); /* goaway, internal error */
  b_u8(&b, 2);
  put_free("yamux", &b, "dialer");
  /* Listener with max_pending_pongs 2: three pings in one call, and 192
   * KiB on stream 1, past half the window, so credit goes back. */
  b_u8(&b, 64);
  b_u8(&b, 0);
  b_yamux(&w, Y_PING, Y_SYN, 0, 1);
  b_yamux(&w, Y_PING, Y_SYN, 0, 2);
  b_yamux(&w, Y_PING, Y_SYN, 0, 3);
  b_yamux(&w, Y_WU, Y_SYN, 1, 0);
  b_yamux(&w, Y_DATA, 0, 1, 3u << 16);
  b_u8(&b, 0);
  b_u8(&b, (unsigned)w.len);
  b_bytes(&b, w.data, w.len);
  for (int i = 0; i < 3; i++) {
    b_u8(&b, 2);
    b_u16(&b, 0xffff);
    b_u8(&b, 'z');
  }
  b_u8(&b, 2);
  b_u16(&b, 3);
  b_u8(&b, 'z');
  lp2p_buf_free(&w);
  put_free("yamux", &b, "listener-credit");
}

static void gen_mplex(void) {
  lp2p_buf b = {0}, w = {0};
  b_mplex(&w, 0, 0, "0", 1);
  b_mplex(&w, 0, 2, "hello", 5);
  b_mplex(&w, 1, 0, "stream", 6);
  b_mplex(&w, 0, 4, NULL, 0);
  b_mplex(&w, 1, 6, NULL, 0);
  b_u8(&b, 0);
  b_u8(&b, 0);
  b_u8(&b, 0);
  b_u8(&b, (unsigned)w.len);
  b_bytes(&b, w.data, w.len);
  put_free("mplex", &b, "listener");
  b_u8(&b, 1 | 2 << 4);
  b_u8(&b, 16);
  b_u8(&b, 1);
  b_u8(&b, (unsigned)w.len);
  b_bytes(&b, w.data, w.len);
  b_u8(&b, 1);
  for (int i = 0; i < 8; i++)
    b_u8(&b, (unsigned)i);
  put_free("mplex", &b, "dialer-callbacks");
  lp2p_buf_free(&w);
  /* Our streams: open, send, the peer answers on them, close, reset. */
  b_u8(&b, 1);
  b_u8(&b, 0);
  b_u8(&b, 3);
  b_u8(&b, 3);
  b_u8(&b, 4);
  b_u8(&b, 0);
  b_u16(&b, 100);
  b_u8(&b, 9);
  b_u8(&b, 1); /* message from the receiver of our stream */
  b_u8(&b, 0);
  b_u16(&b, 3);
  b_str(&b, "abc");
  b_u8(&b, 9);
  b_u8(&b, 3);
  b_u8(&b, 0);
  b_u16(&b, 0);
  b_u8(&b, 5);
  b_u8(&b, 0);
  b_u8(&b, 6);
  b_u8(&b, 1);
  b_u8(&b, 7);
  put_free("mplex", &b, "dialer");
}

/* ---- conn ---- */

typedef struct side {
  lp2p_conn *c;
  lp2p_buf out;
  int ready;
} side;

static int side_write(void *ud, const uint8_t *p, size_t len) {
  return lp2p_buf_append(&((side *)ud)->out, p, len);
}
static int side_event(void *ud, const lp2p_event *ev) {
  if (ev->type == LP2P_EV_READY) ((side *)ud)->ready = 1;
  return 0;
}

/* Runs a real dialer against the fuzz_conn listener for sel and records
 * the dialer's bytes: the upgrade and two pings. */
static void conn_transcript(lp2p_buf *rec, unsigned sel) {
  lp2p_env le, de;
  uint64_t ls, ds;
  side l = {0}, d = {0};
  l.c = fz_conn_new(&le, &ls, 0, sel,
                    (lp2p_io){.write = side_write, .event = side_event, .ud = &l});
  d.c = fz_conn_new(&de, &ds, 1, sel | 8,
                    (lp2p_io){.write = side_write, .event = side_event, .ud = &d});
  lp2p_conn_start(l.c);
  lp2p_conn_start(d.c);
  int pings = 0;
  for (int i = 0; i < 50; i++) {
    if (d.ready && pings < 2 && !d.out.len && !l.out.len) {
      lp2p_conn_ping(d.c);
      pings++;
    }
    lp2p_buf a = d.out;
    d.out = (lp2p_buf){0};
    if (a.len) {
      b_bytes(rec, a.data, a.len);
      lp2p_conn_recv(l.c, a.data, a.len);
    }
    lp2p_buf_free(&a);
    a = l.out;
    l.out = (lp2p_buf){0};
    if (a.len) lp2p_conn_recv(d.c, a.data, a.len);
    lp2p_buf_free(&a);
  }
  if (!l.ready || !d.ready) {
    fprintf(stderr, "conn transcript %u: not ready\n", sel);
    failures++;
  }
  lp2p_conn_free(l.c);
  lp2p_conn_free(d.c);
  lp2p_buf_free(&l.out);
  lp2p_buf_free(&d.out);
}

/* Secured-mode op 0: plaintext sent through the harness dialer. */
static void op_plain(lp2p_buf *b, const lp2p_buf *p) {
  if (p->len < 256) {
    b_u8(b, 0);
    b_u8(b, (unsigned)p->len);
  } else {
    b_u8(b, 1);
    b_u16(b, (unsigned)p->len);
  }
  b_bytes(b, p->data, p->len);
}

static void gen_conn(void) {
  for (unsigned sel = 0; sel < 8; sel++) {
    lp2p_buf b = {0};
    b_u8(&b, 0);
    b_u8(&b, sel);
    b_u8(&b, sel & 1 ? 5 : 0);
    conn_transcript(&b, sel);
    put_free("conn", &b, "raw-%u", sel);
  }
  /* Secured: the fuzzer writes the plaintext. dsel 2 lists yamux then
   * mplex; dsel 0 none (so the muxer goes through multistream). */
  for (unsigned sel = 0; sel < 4; sel++) {
    for (unsigned dsel = 0; dsel < 16; dsel += 8) {
      int mplex = sel & 1;
      lp2p_buf b = {0}, p = {0};
      b_u8(&b, 1 | (dsel ? 2 : 0));
      b_u8(&b, sel | dsel << 3);
      b_u8(&b, sel == 3 ? 3 : 0);
      int inlined = dsel && !(sel & 2);
      if (!inlined) {
        b_mss(&p, LP2P_MSS_PROTOCOL);
        b_mss(&p, mplex ? "/mplex/6.7.0" : "/yamux/1.0.0");
        op_plain(&b, &p);
        p.len = 0;
      }
      lp2p_buf s = {0};
      b_mss(&s, LP2P_MSS_PROTOCOL);
      b_mss(&s, LP2P_PING_PROTOCOL);
      uint8_t ping[32];
      for (int i = 0; i < 32; i++)
        ping[i] = (uint8_t)(i * 7);
      if (mplex) {
        b_mplex(&p, 0, 0, "0", 1);
        b_mplex(&p, 0, 2, s.data, s.len);
        op_plain(&b, &p);
        p.len = 0;
        b_mplex(&p, 0, 2, ping, 32);
        b_mplex(&p, 0, 4, NULL, 0);
        op_plain(&b, &p);
        p.len = 0;
        b_mplex(&p, 1, 0, "1", 1);
        b_mplex(&p, 1, 2, "\x13/multistream/1.0.0\n\x04/x\n", 24);
        b_mplex(&p, 1, 6, NULL, 0);
      } else {
        b_yamux(&p, Y_WU, Y_SYN, 1, 0);
        b_yamux(&p, Y_DATA, 0, 1, (uint32_t)s.len);
        b_bytes(&p, s.data, s.len);
        op_plain(&b, &p);
        p.len = 0;
        b_yamux(&p, Y_DATA, Y_FIN, 1, 32);
        b_bytes(&p, ping, 32);
        b_yamux(&p, Y_PING, Y_SYN, 0, 1);
        op_plain(&b, &p);
        p.len = 0;
        b_yamux(&p, Y_WU, Y_SYN, 3, 0);
        b_yamux(&p, Y_DATA, 0, 3, 24);
        b_bytes(&p, "\x13/multistream/1.0.0\n\x04/x\n", 24);
        b_yamux(&p, Y_WU, Y_RST, 3, 0);
      }
      op_plain(&b, &p);
      b_u8(&b, 4); /* listener pings */
      b_u8(&b, 3); /* time passes */
      b_u16(&b, 100);
      b_u8(&b, 5); /* listener closes */
      b_u8(&b, 3);
      b_u16(&b, 2000);
      lp2p_buf_free(&p);
      lp2p_buf_free(&s);
      put_free("conn", &b, "secured-%u-%u", sel, dsel);
    }
    /* The listener pings; its multistream proposal and then its ping come
     * back as echoes (op 6), for PONG. mplex echoes need the flag of the
     * other side: Message-initiator (2) becomes Message-receiver (1). */
    int mplex = sel & 1;
    lp2p_buf b = {0}, p = {0};
    b_u8(&b, 1);
    b_u8(&b, sel);
    b_u8(&b, 0);
    b_mss(&p, LP2P_MSS_PROTOCOL); /* dialer sel 0 lists no muxer */
    b_mss(&p, mplex ? "/mplex/6.7.0" : "/yamux/1.0.0");
    op_plain(&b, &p);
    p.len = 0;
    b_mss(&p, LP2P_MSS_PROTOCOL);
    b_mss(&p, LP2P_PING_PROTOCOL);
    unsigned hdr = mplex ? 2 : 12, x = mplex ? 3 : 0;
    for (int round = 0; round < 2; round++) {
      b_u8(&b, 4);
      if (round == 0) {
        b_u8(&b, 6);
        b_u16(&b, hdr + (unsigned)p.len);
        b_u8(&b, x);
      }
      b_u8(&b, 6);
      b_u16(&b, hdr + 32);
      b_u8(&b, x);
    }
    lp2p_buf_free(&p);
    put_free("conn", &b, "secured-echo-%u", sel);
  }
}

/* ---- TLS and plaintext ---- */

static int exists(const char *target, const char *name) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s/seed-%s", outdir, target, name);
  struct stat st;
  return stat(path, &st) == 0;
}

/* The tls.md vectors (tests/vectors/tls-certs.txt, next to the corpus),
 * each as [mode] certificate, to target/seed-vector-<name>. */
static void put_tls_vectors(const char *target, unsigned mode) {
  char path[4096];
  snprintf(path, sizeof path, "%s/../../vectors/tls-certs.txt", outdir);
  FILE *f = fopen(path, "r");
  if (!f) {
    perror(path);
    failures++;
    return;
  }
  char line[8192];
  while (fgets(line, sizeof line, f)) {
    char name[32], id[128], hex[4096];
    if (line[0] == '#' || sscanf(line, "%31s %127s %4095s", name, id, hex) != 3) continue;
    lp2p_buf b = {0};
    b_u8(&b, mode);
    for (size_t i = 0; hex[i] && hex[i + 1]; i += 2) {
      unsigned v;
      sscanf(hex + i, "%2x", &v);
      b_u8(&b, v);
    }
    put_free(target, &b, "vector-%s", name);
  }
  fclose(f);
}

static void gen_tls_cert(void) {
  put_tls_vectors("tls_cert", 0);
  lp2p_buf b = {0};
  b_u8(&b, 2);
  put_free("tls_cert", &b, "vector-unedited");
  b_u8(&b, 2);
  b_u16(&b, 300);
  b_u8(&b, 1);
  put_free("tls_cert", &b, "vector-one-edit");
  if (exists("tls_cert", "ours-0")) return;
  lp2p_env env;
  uint64_t st;
  fz_env_init(&env, &st, 1);
  env.unix_s = 1790000000;
  for (int i = 0; i < 2; i++) {
    lp2p_buf cert = {0}, key = {0};
    if (lp2p_tls_cert_make(&cert, &key, fz_identity(i), &env)) {
      failures++;
      continue;
    }
    b_u8(&b, 0);
    b_bytes(&b, cert.data, cert.len);
    put_free("tls_cert", &b, "ours-%d", i);
    /* The SignedKey alone: the last OCTET STRING pair before the
     * signature is hard to find by hand, so encode one afresh. */
    lp2p_buf sk = {0};
    lp2p_tls_signedkey_encode(&sk, fz_identity(i), cert.data, 91);
    b_u8(&b, 1);
    b_bytes(&b, sk.data, sk.len);
    put_free("tls_cert", &b, "signedkey-%d", i);
    lp2p_buf_free(&sk);
    lp2p_buf_free(&cert);
    lp2p_buf_free_secret(&key);
  }
}

/* DER: the certificates walked whole, a SignedKey, each length form, and
 * what DER forbids (fuzz_der.c). */
static void gen_der(void) {
  put_tls_vectors("der", 0);
  lp2p_buf b = {0};
  uint8_t spki[91] = {0x30, 0x59};
  b_u8(&b, 0);
  if (lp2p_tls_signedkey_encode(&b, fz_identity(0), spki, sizeof spki)) failures++;
  put_free("der", &b, "signedkey-ed25519");
  /* Not 3 length octets: a 64 KiB seed would make libFuzzer's inputs
   * that long and every run slow (the unit test covers that form). */
  static const size_t lens[] = {0, 0x7f, 0x80, 0x100};
  for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
    b_u8(&b, 1);
    b_u8(&b, LP2P_DER_OCTET_STRING);
    if (lp2p__der_header(&b, LP2P_DER_OCTET_STRING, lens[i])) failures++;
    for (size_t k = 0; k < lens[i]; k++)
      b_u8(&b, k);
    put_free("der", &b, "octets-%zu", lens[i]);
  }
  static const struct {
    const char *name;
    uint8_t in[12];
    size_t len;
  } bad[] = {
      {"indefinite", {0, 0x30, 0x80, 0x04, 0x00, 0x00, 0x00}, 7},
      {"non-minimal", {0, 0x30, 0x81, 0x02, 0x04, 0x00}, 6},
      {"leading-zero", {0, 0x04, 0x82, 0x00, 0x80}, 5},
      {"over-cap", {0, 0x04, 0x84, 0x01, 0x00, 0x00, 0x00}, 7},
      {"nested", {0, 0x30, 0x06, 0x30, 0x04, 0x04, 0x02, 0xaa, 0xbb}, 9},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    b_bytes(&b, bad[i].in, bad[i].len);
    put_free("der", &b, "%s", bad[i].name);
  }
}

typedef struct tls_rec {
  lp2p_buf wire;
} tls_rec;

static int rec_write(void *ud, const uint8_t *p, size_t len) {
  return lp2p_buf_append(&((tls_rec *)ud)->wire, p, len);
}
static int rec_event(void *ud, const lp2p_event *ev) {
  (void)ud;
  (void)ev;
  return 0;
}

static void gen_tls(void) {
  lp2p_buf b = {0};
  /* Mode 2: the pair, then ops: data, raw bytes, close. */
  b_u8(&b, 2);
  b_u8(&b, 4);
  b_u8(&b, 0);
  b_u8(&b, 1);
  b_u8(&b, 5);
  b_str(&b, "hello");
  b_u8(&b, 3);
  b_u8(&b, 3);
  b_str(&b, "bye");
  put_free("tls", &b, "pair-data-close");
  b_u8(&b, 2);
  b_u8(&b, 8);
  b_u8(&b, 3);
  b_u8(&b, 1);
  b_u8(&b, 2);
  b_str(&b, "ok");
  b_u8(&b, 0);
  b_u8(&b, 5);
  b_bytes(&b, "\x17\x03\x03\x00\x20", 5);
  put_free("tls", &b, "pair-data-raw");
  if (exists("tls", "clienthello")) return;
  /* Modes 0 and 1: a real ClientHello for the listener, and a real
   * listener's flight for a dialer (whose own ClientHello differs, so it
   * fails at the keys, after parsing). */
  lp2p_env env;
  uint64_t st;
  fz_env_init(&env, &st, 2);
  env.unix_s = 1790000000;
  tls_rec d = {0}, l = {0};
  static const char *const mux[] = {"/yamux/1.0.0"};
  lp2p_tls_sec_config dc = {
      .initiator = 1, .identity = fz_identity(0), .muxers = mux, .n_muxers = 1};
  lp2p_tls_sec_config lc = {
      .initiator = 0, .identity = fz_identity(1), .muxers = mux, .n_muxers = 1};
  lp2p_tls *dt = lp2p_tls_new(
      &env, &dc, (lp2p_io){.write = rec_write, .event = rec_event, .ud = &d});
  lp2p_tls *lt = lp2p_tls_new(
      &env, &lc, (lp2p_io){.write = rec_write, .event = rec_event, .ud = &l});
  if (!dt || !lt || lp2p_tls_start(dt) || lp2p_tls_recv(lt, d.wire.data, d.wire.len)) {
    failures++;
  } else {
    b_u8(&b, 0);
    b_u8(&b, 4);
    b_u8(&b, 0);
    b_bytes(&b, d.wire.data, d.wire.len);
    put_free("tls", &b, "clienthello");
    b_u8(&b, 1);
    b_u8(&b, 4);
    b_u8(&b, 0);
    b_bytes(&b, l.wire.data, l.wire.len);
    put_free("tls", &b, "server-flight");
  }
  lp2p_tls_free(dt);
  lp2p_tls_free(lt);
  lp2p_buf_free(&d.wire);
  lp2p_buf_free(&l.wire);
}

static void gen_plaintext(void) {
  lp2p_buf b = {0};
  for (unsigned mode = 0; mode < 8; mode += 3) {
    b_u8(&b, mode);
    b_u8(&b, 0);
    b_str(&b, "/yamux/1.0.0\n");
    put_free("plaintext", &b, "honest-%u", mode);
  }
  b_u8(&b, 0);
  b_u8(&b, 0);
  lp2p_plaintext_exchange_encode(&b, &fz_identity(1)->pub);
  b_str(&b, "data");
  put_free("plaintext", &b, "exchange-secp256k1");
}

/* ---- perf (fuzz_perf.c's script) ---- */

static void b_u32(lp2p_buf *b, uint32_t v) {
  b_u16(b, v >> 16);
  b_u16(b, v & 0xffff);
}

/* Peer bytes: op 0, a u16 length, the bytes. */
static void b_perf_recv(lp2p_buf *b, const uint8_t *p, size_t n) {
  b_u8(b, 0);
  b_u16(b, (unsigned)n);
  b_bytes(b, p, n);
}

static void gen_perf(void) {
  static const uint8_t zeros[300];
  lp2p_buf b = {0};
  /* Server: asks for 1000 bytes, uploads 300, half-closes; we serve. */
  uint8_t hdr[16] = {0, 0, 0, 0, 0, 0, 0x03, 0xe8};
  b_u8(&b, 1);
  b_u32(&b, 100000);
  b_perf_recv(&b, hdr, 8);
  b_perf_recv(&b, zeros, 300);
  b_u8(&b, 1);
  b_u8(&b, 3);
  put_free("perf", &b, "server-spec");
  /* Server: the two-header variant, upload 8 then download 1000. */
  uint8_t two[16] = {0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0x03, 0xe8};
  b_u8(&b, 1);
  b_u32(&b, 100000);
  b_perf_recv(&b, two, 16);
  b_perf_recv(&b, zeros, 8);
  b_u8(&b, 1);
  b_u8(&b, 3);
  put_free("perf", &b, "server-two-headers");
  /* Server: a request over the cap. */
  b_u8(&b, 1);
  b_u32(&b, 10);
  b_perf_recv(&b, hdr, 8);
  b_u8(&b, 1);
  b_u8(&b, 3);
  put_free("perf", &b, "server-over-cap");
  /* Client: uploads 200, downloads 300, in pulls of 100. */
  b_u8(&b, 0);
  b_u32(&b, 200u << 16 | 300u);
  for (int i = 0; i < 4; i++) {
    b_u8(&b, 2);
    b_u16(&b, 99);
  }
  b_perf_recv(&b, zeros, 300);
  b_u8(&b, 1);
  b_u8(&b, 3);
  put_free("perf", &b, "client");
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s OUTDIR (e.g. tests/fuzz/corpus)\n", argv[0]);
    return 2;
  }
  outdir = argv[1];
  lp2p_log_level = -1;
  gen_varint();
  gen_multiaddr();
  gen_keys();
  gen_multistream();
  gen_noise_handshake();
  gen_noise_transport();
  gen_yamux();
  gen_mplex();
  gen_conn();
  gen_tls_cert();
  gen_der();
  gen_tls();
  gen_plaintext();
  gen_perf();
  return failures ? 1 : 0;
}
