/* Internal: SHA-1 (FIPS 180-4 section 6.1), for the one place libp2p
 * meets it: the WebSocket opening handshake's Sec-WebSocket-Accept (RFC
 * 6455 section 4.2.2), a fixed-format check, not a security property.
 * libsodium has no SHA-1, and taking it from GnuTLS made every ws run map
 * GnuTLS's whole library chain (gnutls_module.h). */
#ifndef LP2P_SHA1_INTERNAL_H
#define LP2P_SHA1_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#define LP2P__SHA1_LEN 20

void lp2p__sha1(uint8_t out[LP2P__SHA1_LEN], const uint8_t *p, size_t len);

#endif
