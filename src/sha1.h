/* Internal: SHA-1, for the one place libp2p meets it: the WebSocket
 * opening handshake's Sec-WebSocket-Accept (RFC 6455 section 4.2.2).
 * libsodium has no SHA-1, so GnuTLS computes it, through the GnuTLS module
 * (gnutls_module.h): a ws process opens the module at start, as wss and
 * quic-v1 do, and a tcp process never maps GnuTLS. */
#ifndef LP2P_SHA1_INTERNAL_H
#define LP2P_SHA1_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#define LP2P__SHA1_LEN 20

/* 0, or LP2P_ENOTSUP when the module cannot be loaded, another LP2P_E*
 * when GnuTLS fails. */
int lp2p__sha1(uint8_t out[LP2P__SHA1_LEN], const uint8_t *p, size_t len);

#endif
