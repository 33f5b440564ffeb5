// Node 20 compatibility shims for js-libp2p 3.x.
//
// js-libp2p 3 (and its deps, e.g. p-retry 8) target Node >= 22.  We run on
// Node 20, so this module patches the few globals they rely on.  It must be
// imported BEFORE anything from libp2p: peer.mjs imports it first, and as it
// has no top-level await, ESM evaluates it completely before the next import.
// Every shim is a no-op when the runtime already provides the feature.

import { WebSocket as UndiciWebSocket } from 'undici'

// 1. Promise.withResolvers (ES2024; Node >= 22).  Used unguarded by
//    @libp2p/ping (ping()), @libp2p/utils (stream-utils, abstract-message-stream),
//    @chainsafe/libp2p-yamux (muxer ping) and it-queue: without it the very
//    first stream read/write throws "Promise.withResolvers is not a function".
if (typeof Promise.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers () {
      let resolve
      let reject
      const promise = new this((res, rej) => { resolve = res; reject = rej })
      return { promise, resolve, reject }
    }
  })
}

// 2. Global WebSocket (unflagged only from Node 22; Node 20 needs
//    --experimental-websocket).  The tcp transport does not use it, but
//    js-libp2p's browser-compatible code paths (websockets transport, some
//    utils) assume the WHATWG global exists, so provide undici's, which is
//    the same implementation Node 22 ships.
if (typeof globalThis.WebSocket === 'undefined') {
  globalThis.WebSocket = UndiciWebSocket
}

// 3. CustomEvent (global from Node 19) and AbortSignal.any (Node 20.3): both
//    are used by libp2p's event targets / abort handling.  Present on our
//    Node 20.20, but fail loudly on an older runtime rather than mid-dial.
if (typeof globalThis.CustomEvent !== 'function' || typeof AbortSignal.any !== 'function') {
  throw new Error(`Node ${process.version} is too old for js-libp2p 3: need Node >= 20.18.1`)
}

// Not shimmed on purpose: Uint8Array.fromHex/toHex (ES2025) - @noble/* feature
// detect them and fall back to their own code.
