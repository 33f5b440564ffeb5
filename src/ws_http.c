/* The HTTP/1.1 head of the WebSocket opening handshake (RFC 6455 section
 * 4, with RFC 7230 section 3 for the message syntax). */
#include "lp2p/ws.h"

#include "sha1.h"

#include <sodium.h>
#include <string.h>
#include <strings.h>

/* RFC 6455 section 1.3. */
static const char WS_GUID[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

int lp2p_ws_accept(char out[LP2P_WS_ACCEPT_LEN + 1], const char *key) {
  size_t klen = strlen(key);
  uint8_t buf[64 + sizeof WS_GUID], digest[LP2P__SHA1_LEN];
  if (klen > 64) return LP2P_EINVAL;
  memcpy(buf, key, klen);
  memcpy(buf + klen, WS_GUID, sizeof WS_GUID - 1);
  int rc = lp2p__sha1(digest, buf, klen + sizeof WS_GUID - 1);
  if (rc) return rc;
  sodium_bin2base64(out, LP2P_WS_ACCEPT_LEN + 1, digest, sizeof digest,
                    sodium_base64_VARIANT_ORIGINAL);
  return 0;
}

int lp2p_ws_http_head_len(const uint8_t *p, size_t len) {
  size_t line_start = 0, lines = 0;
  for (size_t i = 0; i < len; i++) {
    if (i + 1 > LP2P_WS_HTTP_MAX) return LP2P_ETOOBIG;
    if (p[i] != '\n') {
      if (i - line_start >= LP2P_WS_HTTP_LINE_MAX) return LP2P_ETOOBIG;
      continue;
    }
    /* A line of just CRLF ends the head (RFC 7230 section 3). */
    if (i - line_start == 1 && p[line_start] == '\r') return (int)(i + 1);
    /* The start line plus the header fields. */
    if (++lines > LP2P_WS_HTTP_MAX_HEADERS + 1) return LP2P_ETOOBIG;
    line_start = i + 1;
  }
  return 0;
}

static int bad(const char *what) {
  LP2P_REASON("ws", "bad HTTP upgrade: %s", what);
  return LP2P_EPROTO;
}

/* tchar of RFC 7230 section 3.2.6. */
static int tchar(uint8_t c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Whether the comma-separated list v[0..n) has token tok (any case). */
static int has_token(const char *v, size_t n, const char *tok) {
  size_t tl = strlen(tok), i = 0;
  while (i < n) {
    while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
      i++;
    size_t s = i;
    while (i < n && v[i] != ',')
      i++;
    size_t e = i;
    while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
      e--;
    if (e - s == tl && strncasecmp(v + s, tok, tl) == 0) return 1;
  }
  return 0;
}

static int is(const char *name, size_t n, const char *want) {
  return strlen(want) == n && strncasecmp(name, want, n) == 0;
}

static int header(lp2p_ws_http *h, const char *name, size_t nl, const char *v,
                  size_t vl) {
  if (is(name, nl, "Upgrade"))
    h->upgrade_websocket |= has_token(v, vl, "websocket");
  else if (is(name, nl, "Connection"))
    h->connection_upgrade |= has_token(v, vl, "upgrade");
  else if (is(name, nl, "Host"))
    h->has_host = 1;
  else if (is(name, nl, "Sec-WebSocket-Version"))
    h->version13 = vl == 2 && memcmp(v, "13", 2) == 0;
  else if (is(name, nl, "Sec-WebSocket-Extensions"))
    h->extensions = 1;
  else if (is(name, nl, "Sec-WebSocket-Protocol"))
    h->subprotocol = 1;
  else if (is(name, nl, "Sec-WebSocket-Key") || is(name, nl, "Sec-WebSocket-Accept")) {
    if (h->key[0] || vl >= sizeof h->key) return bad("a bad or repeated key");
    memcpy(h->key, v, vl);
    h->key[vl] = 0;
  }
  return 0;
}

/* "Name: value" (RFC 7230 section 3.2); obs-fold is refused. */
static int field_line(lp2p_ws_http *h, const char *l, size_t n) {
  size_t i = 0;
  while (i < n && tchar((uint8_t)l[i]))
    i++;
  if (i == 0 || i == n || l[i] != ':') return bad("a malformed header line");
  size_t nl = i++;
  while (i < n && (l[i] == ' ' || l[i] == '\t'))
    i++;
  size_t e = n;
  while (e > i && (l[e - 1] == ' ' || l[e - 1] == '\t'))
    e--;
  for (size_t k = i; k < e; k++)
    if ((uint8_t)l[k] < 0x20 && l[k] != '\t') return bad("a control byte in a header");
  return header(h, l, nl, l + i, e - i);
}

/* "GET <target> HTTP/1.1" or "HTTP/1.1 101 <reason>". */
static int start_line(lp2p_ws_http *h, const char *l, size_t n, int response) {
  if (response) {
    if (n < 12 || memcmp(l, "HTTP/1.", 7) != 0 || l[8] != ' ')
      return bad("no status line");
    h->http11 = l[7] == '1';
    for (int k = 9; k < 12; k++)
      if (l[k] < '0' || l[k] > '9') return bad("no status code");
    h->status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
    return 0;
  }
  const char *sp1 = memchr(l, ' ', n);
  if (!sp1) return bad("no request line");
  const char *sp2 = memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - l));
  if (!sp2 || sp2 == sp1 + 1) return bad("no request target");
  h->get = sp1 - l == 3 && memcmp(l, "GET", 3) == 0;
  size_t vl = n - (size_t)(sp2 + 1 - l);
  h->http11 = vl == 8 && memcmp(sp2 + 1, "HTTP/1.1", 8) == 0;
  return 0;
}

int lp2p_ws_http_parse(lp2p_ws_http *h, const uint8_t *p, size_t len, int response) {
  memset(h, 0, sizeof *h);
  const char *s = (const char *)p;
  size_t pos = 0;
  int first = 1;
  while (pos < len) {
    const char *nl = memchr(s + pos, '\n', len - pos);
    if (!nl || nl == s + pos || nl[-1] != '\r') return bad("a line without CRLF");
    size_t n = (size_t)(nl - 1 - (s + pos));
    if (n == 0) return pos + 2 == len ? 0 : bad("bytes after the head");
    if (memchr(s + pos, 0, n)) return bad("a NUL byte");
    int rc = first ? start_line(h, s + pos, n, response) : field_line(h, s + pos, n);
    if (rc) return rc;
    first = 0;
    pos += n + 2;
  }
  return bad("no blank line");
}
