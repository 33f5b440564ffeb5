/* TLS as a byte layer (layer.h) under the WebSocket layer of wss: the
 * generic GnuTLS session of tls_session.h with a plain self-signed
 * certificate (the listener's, params.tls_creds) and no verification by
 * the dialer, as every harness app does: the peer is authenticated by the
 * libp2p security handshake above (Noise), not by this certificate. Adds
 * the handshake deadline the session does not keep. */
#ifndef LP2P_TLS_LAYER_H
#define LP2P_TLS_LAYER_H

#include "lp2p/layer.h"

extern const lp2p_layer_ops lp2p_tls_layer;

#endif
