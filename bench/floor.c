/* lp2p-floor: the latency floor of the transport-interop ping exchange, the
 * reference bench/latency.sh measures our binary against. A minimal client
 * and server on blocking sockets (no libuv, no Redis, no framework), doing
 * the same real work as a libp2p dialer and listener over tcp/noise/yamux:
 * multistream-select, Noise XX with libp2p identity payloads (our noise
 * engine, so the crypto is identical), the muxer agreed inside the Noise
 * handshake, yamux, multistream on the stream and one ping, in the fewest
 * round trips the protocols allow:
 *
 *   1. client: mss header + "/noise" + Noise message 1, in one write
 *   2. server: mss echo + Noise message 2
 *   3. client: Noise message 3 + yamux SYN + stream mss + 32 ping bytes
 *   4. server: yamux ACK + stream mss echo + the 32 bytes echoed
 *
 *   lp2p-floor server [KEY_TYPE]        listens on 127.0.0.1, prints the port
 *   lp2p-floor client PORT [KEY_TYPE]   one connection; prints
 *     "<handshake+1rtt ms> <first ping ms> <second ping ms>"
 *
 * The first ping is timed as our dialer times its one ping (the harness's
 * pingRTT): from the moment the connection is secured on the client
 * (message 2 read) to the echo, so it holds message 3, the server's
 * completion of the handshake (a DH and a signature check), the stream's
 * multistream and the echo. The second ping, on the established stream,
 * is the bare round trip through both Noise engines.
 *
 * The client is a fresh process per measurement, as the harness runs our
 * dialer; its clock starts once its identity exists (ours starts when the
 * listener address is in hand, also after identity generation). A
 * benchmark: no thresholds. */
#include "lp2p/noise.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PING_LEN 32 /* ping/ping.md: 32 random bytes */
#define YAMUX_HDR 12
static const char MSS_HDR[] = "/multistream/1.0.0\n";
static const char NOISE_PROTO[] = "/noise\n";
static const char PING_PROTO[] = "/ipfs/ping/1.0.0\n";
static const char *const MUXERS[] = {"/yamux/1.0.0"};

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int rnd(void *ud, uint8_t *out, size_t len) {
  (void)ud;
  randombytes_buf(out, len);
  return 0;
}

static void die(const char *what) {
  fprintf(stderr, "lp2p-floor: %s\n", what);
  exit(1);
}

/* One side's state: wire bytes to write, plaintext received. */
typedef struct side {
  int fd;
  lp2p_noise *noise;
  lp2p_buf wire;  /* to write */
  lp2p_buf plain; /* decrypted, not yet parsed */
  int ready;
} side;

static int on_write(void *ud, const uint8_t *p, size_t len) {
  return lp2p_buf_append(&((side *)ud)->wire, p, len);
}

static int on_event(void *ud, const lp2p_event *ev) {
  side *s = ud;
  if (ev->type == LP2P_EV_READY) s->ready = 1;
  if (ev->type == LP2P_EV_DATA) return lp2p_buf_append(&s->plain, ev->data, ev->len);
  return 0;
}

static void flush(side *s) {
  size_t off = 0;
  while (off < s->wire.len) {
    ssize_t n = write(s->fd, s->wire.data + off, s->wire.len - off);
    if (n <= 0) die("write failed");
    off += (size_t)n;
  }
  s->wire.len = 0;
}

/* Reads what the socket has into the noise engine (after `skip` bytes of
 * cleartext multistream that the caller consumes first). */
static size_t read_some(side *s, uint8_t *buf, size_t cap) {
  ssize_t n = read(s->fd, buf, cap);
  if (n <= 0) die("connection closed");
  return (size_t)n;
}

static void feed(side *s, const uint8_t *p, size_t len) {
  if (len && lp2p_noise_recv(s->noise, p, len)) die("noise failed");
}

static void put_mss(lp2p_buf *b, const char *line) {
  uint8_t n = (uint8_t)strlen(line); /* every line here is < 128 bytes */
  lp2p_buf_append(b, &n, 1);
  lp2p_buf_append(b, line, n);
}

/* yamux spec "Framing": version 0, type, flags, stream id, length. */
static void put_yamux(lp2p_buf *b, uint8_t type, uint16_t flags, uint32_t id,
                      uint32_t len) {
  uint8_t h[YAMUX_HDR] = {0, type, (uint8_t)(flags >> 8), (uint8_t)flags};
  uint32_t be = htonl(id);
  memcpy(h + 4, &be, 4);
  be = htonl(len);
  memcpy(h + 8, &be, 4);
  lp2p_buf_append(b, h, sizeof h);
}

/* Skips the two cleartext mss lines the peer echoes (header, /noise). */
static size_t skip_mss_echo(const uint8_t *p, size_t len, int *lines) {
  size_t off = 0;
  while (*lines < 2 && off < len && off + 1 + p[off] <= len) {
    off += 1 + p[off];
    (*lines)++;
  }
  return off;
}

static side *side_new(int fd, int initiator, const lp2p_identity *id, lp2p_env *env) {
  side *s = calloc(1, sizeof *s);
  s->fd = fd;
  lp2p_noise_config cfg = {
      .initiator = initiator, .identity = id, .muxers = MUXERS, .n_muxers = 1};
  lp2p_io io = {.write = on_write, .event = on_event, .ud = s};
  if (!(s->noise = lp2p_noise_new(env, &cfg, io))) die("noise_new");
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return s;
}

static void side_free(side *s) {
  lp2p_noise_free(s->noise);
  lp2p_buf_free(&s->wire);
  lp2p_buf_free(&s->plain);
  close(s->fd);
  free(s);
}

/* Waits until the stream's plaintext (yamux frames) holds `want` payload
 * bytes on stream 1 after the headers; returns with plain consumed. */
static void read_stream(side *s, size_t want) {
  uint8_t buf[65536];
  size_t have = 0;
  for (;;) {
    /* Drop yamux headers, count stream payload. */
    while (s->plain.len >= YAMUX_HDR) {
      uint32_t len;
      memcpy(&len, s->plain.data + 8, 4);
      len = ntohl(len);
      uint8_t type = s->plain.data[1];
      size_t body = type == 0 ? len : 0;
      if (s->plain.len < YAMUX_HDR + body) break;
      have += body;
      lp2p_buf_consume(&s->plain, YAMUX_HDR + body);
    }
    if (have >= want) return;
    feed(s, buf, read_some(s, buf, sizeof buf));
  }
}

static void client(int port, const lp2p_identity *id, lp2p_env *env) {
  double t0 = now_ms();
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa)) die("connect failed");
  side *s = side_new(fd, 1, id, env);
  put_mss(&s->wire, MSS_HDR);
  put_mss(&s->wire, NOISE_PROTO);
  if (lp2p_noise_start(s->noise)) die("noise start");
  flush(s);
  uint8_t buf[65536];
  int lines = 0;
  while (!s->ready) {
    size_t n = read_some(s, buf, sizeof buf);
    size_t off = skip_mss_echo(buf, n, &lines);
    feed(s, buf + off, n - off);
  }
  /* Where our dialer starts its ping clock: secured (message 2 read),
   * message 3 not yet written. */
  double t_ready = now_ms();
  /* Message 3 is in s->wire; the stream goes out behind it. */
  lp2p_buf frame = {0};
  uint8_t ping[PING_LEN];
  randombytes_buf(ping, sizeof ping);
  lp2p_buf body = {0};
  put_mss(&body, MSS_HDR);
  put_mss(&body, PING_PROTO);
  lp2p_buf_append(&body, ping, sizeof ping);
  put_yamux(&frame, 1, 1 /* SYN */, 1, 0);
  put_yamux(&frame, 0, 0, 1, (uint32_t)body.len);
  lp2p_buf_append(&frame, body.data, body.len);
  if (lp2p_noise_send(s->noise, frame.data, frame.len)) die("send");
  flush(s);
  read_stream(s, strlen(MSS_HDR) + strlen(PING_PROTO) + 2 + PING_LEN);
  double t_echo = now_ms();
  double hs = t_echo - t0, first = t_echo - t_ready;
  double t1 = now_ms();
  frame.len = 0;
  put_yamux(&frame, 0, 0, 1, PING_LEN);
  lp2p_buf_append(&frame, ping, sizeof ping);
  if (lp2p_noise_send(s->noise, frame.data, frame.len)) die("send");
  flush(s);
  read_stream(s, PING_LEN);
  printf("%.3f %.3f %.3f\n", hs, first, now_ms() - t1);
  lp2p_buf_free(&frame);
  lp2p_buf_free(&body);
  side_free(s);
}

/* Answers yamux frames: SYN with an ACK, stream mss lines with their echo,
 * ping bytes with themselves. */
static void serve_frames(side *s, lp2p_buf *out) {
  while (s->plain.len >= YAMUX_HDR) {
    uint8_t type = s->plain.data[1];
    uint16_t flags = (uint16_t)(s->plain.data[2] << 8 | s->plain.data[3]);
    uint32_t id, len;
    memcpy(&id, s->plain.data + 4, 4);
    memcpy(&len, s->plain.data + 8, 4);
    id = ntohl(id);
    len = ntohl(len);
    size_t body = type == 0 ? len : 0;
    if (s->plain.len < YAMUX_HDR + body) return;
    if (flags & 1) put_yamux(out, 1, 2 /* ACK */, id, 0);
    if (body) {
      /* The stream's first bytes are the two mss lines; echo all as is:
       * mss echo and ping echo are both the same bytes back. */
      put_yamux(out, 0, 0, id, (uint32_t)body);
      lp2p_buf_append(out, s->plain.data + YAMUX_HDR, body);
    }
    lp2p_buf_consume(&s->plain, YAMUX_HDR + body);
  }
}

static void serve_one(int fd, const lp2p_identity *id, lp2p_env *env) {
  side *s = side_new(fd, 0, id, env);
  uint8_t buf[65536];
  lp2p_buf in = {0}, out = {0};
  int echoed = 0;
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    size_t off = 0;
    if (!echoed) {
      lp2p_buf_append(&in, buf, (size_t)n);
      int lines = 0;
      off = skip_mss_echo(in.data, in.len, &lines);
      if (lines < 2) continue;
      put_mss(&s->wire, MSS_HDR);
      put_mss(&s->wire, NOISE_PROTO);
      echoed = 1;
      feed(s, in.data + off, in.len - off);
    } else {
      feed(s, buf, (size_t)n);
    }
    out.len = 0;
    serve_frames(s, &out);
    if (out.len && lp2p_noise_send(s->noise, out.data, out.len)) break;
    flush(s);
  }
  lp2p_buf_free(&in);
  lp2p_buf_free(&out);
  side_free(s);
}

static void server(const lp2p_identity *id, lp2p_env *env) {
  int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in sa = {.sin_family = AF_INET};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t sl = sizeof sa;
  if (bind(ls, (struct sockaddr *)&sa, sizeof sa) || listen(ls, 64) ||
      getsockname(ls, (struct sockaddr *)&sa, &sl))
    die("listen failed");
  printf("%u\n", ntohs(sa.sin_port));
  fflush(stdout);
  for (;;) {
    int fd = accept(ls, NULL, NULL);
    if (fd >= 0) serve_one(fd, id, env);
  }
}

int main(int argc, char **argv) {
  int is_server = argc > 1 && strcmp(argv[1], "server") == 0;
  if (!is_server && (argc < 3 || strcmp(argv[1], "client") != 0)) {
    fprintf(stderr, "usage: lp2p-floor server [KEY_TYPE] | client PORT [KEY_TYPE]\n");
    return 2;
  }
  const char *kt = argc > (is_server ? 2 : 3) ? argv[is_server ? 2 : 3] : "secp256k1";
  if (sodium_init() < 0) return 1;
  lp2p_env env = {.random = rnd};
  lp2p_identity id;
  lp2p_key_type type = strcmp(kt, "ed25519") == 0 ? LP2P_KEY_ED25519 : LP2P_KEY_SECP256K1;
  /* As our node does before it takes the address: identity, self-check. */
  if (lp2p_identity_generate(&id, type, &env) || lp2p_identity_self_check(&id))
    die("identity");
  if (is_server)
    server(&id, &env);
  else
    client(atoi(argv[2]), &id, &env);
  lp2p_identity_clear(&id);
  return 0;
}
