/* DER (ITU-T X.690) type-length-value elements: one small reader and its
 * header writer, shared by the libp2p TLS certificate (tls_cert.c) and the
 * credentials import (tls_session.c). Pure: bytes in, offsets out. */
#ifndef LP2P_DER_H
#define LP2P_DER_H

#include <stddef.h>
#include <stdint.h>

#include "lp2p/common.h"

/* X.690 8.1.2 / X.680 universal tags (low-tag-number form). */
#define LP2P_DER_OCTET_STRING 0x04
#define LP2P_DER_SEQUENCE 0x30 /* constructed */

/* The longest body either side takes: three length octets (16 MiB - 1),
 * far above any certificate cap here (LP2P_TLS_CERT_MAX). */
#define LP2P_DER_LEN_MAX 0xffffffu
/* The longest header lp2p__der_header writes: tag and 0x83 plus 3. */
#define LP2P_DER_HEADER_MAX 5

/* Reads the element at in[*pos..len), which must have tag `tag` (one
 * octet, low-tag-number form). On success its body is
 * in[*body..*body + *body_len) and *pos moves past the element; on error
 * nothing is written. Strict DER (X.690 10.1): definite length only, in
 * the minimal number of octets (short form below 128), never past len.
 * Requires *pos <= len.
 * Errors: LP2P_EPROTO (another tag, truncated, indefinite or reserved or
 * non-minimal length, body past len), LP2P_ETOOBIG (a length in more than
 * 3 octets: over LP2P_DER_LEN_MAX). */
int lp2p__der_read(const uint8_t *in, size_t len, size_t *pos, uint8_t tag, size_t *body,
                   size_t *body_len);

/* Size of the header lp2p__der_header writes for a body of len bytes (0:
 * over LP2P_DER_LEN_MAX). */
size_t lp2p__der_header_len(size_t len);
/* Appends the header of an element: tag, then the definite length of a
 * body of len bytes in minimal form. LP2P_ETOOBIG over LP2P_DER_LEN_MAX. */
int lp2p__der_header(lp2p_buf *out, uint8_t tag, size_t len);

#endif
