#!/usr/bin/env node
// Identifies a peer with the real js-libp2p identify service and checks what
// it says about itself:
//   node tests/interop/js/identify.mjs <multiaddr with /p2p/> [muxer]
// Passes (exit 0, one summary line on stdout) when the peer's identify
// reply names an agent "lp2p-interop/<version>" and lists /ipfs/ping/1.0.0
// and /ipfs/id/1.0.0, and the key in it is the peer's; then a stream for a
// protocol the peer lacks must be refused ("na") while the connection stays
// up and still answers a ping.
import './shims.mjs' // must stay the first import

import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { mplex } from '@libp2p/mplex'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'

const [addr, muxer = 'yamux'] = process.argv.slice(2)
const fail = (msg) => { console.error(`identify: FAIL ${msg}`); process.exit(1) }
if (!addr) fail('usage: identify.mjs <multiaddr> [yamux|mplex]')
setTimeout(() => fail('no identify result within 20 s'), 20000).unref()

const node = await createLibp2p({
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [muxer === 'mplex' ? mplex() : yamux()],
  services: { identify: identify(), ping: ping() },
  connectionMonitor: { enabled: false }
})

const target = multiaddr(addr)
const identified = new Promise((resolve) => {
  node.addEventListener('peer:identify', (evt) => resolve(evt.detail))
})
await node.dial(target)
const result = await identified

const want = target.getComponents().find((c) => c.name === 'p2p')?.value
if (result.peerId.toString() !== want) fail(`identified ${result.peerId} instead of ${want}`)
if (!/^lp2p-interop\/\d+\.\d+\.\d+$/.test(result.agentVersion ?? '')) fail(`agentVersion ${result.agentVersion}`)
for (const p of ['/ipfs/ping/1.0.0', '/ipfs/id/1.0.0']) {
  if (!result.protocols.includes(p)) fail(`protocols ${JSON.stringify(result.protocols)} lack ${p}`)
}
if (result.protocolVersion !== 'ipfs/0.1.0') fail(`protocolVersion ${result.protocolVersion}`)
const conn = node.getConnections(result.peerId)[0]
let refused = false
try {
  const s = await node.dialProtocol(target, '/lp2p-interop/no-such-protocol/1.0.0')
  await s.close()
} catch (err) {
  refused = err.name === 'UnsupportedProtocolError' || /protocol selection failed|not supported/i.test(err.message)
  if (!refused) fail(`unknown protocol: unexpected error ${err.name}: ${err.message}`)
}
if (!refused) fail('a stream for an unknown protocol was accepted')
const rtt = await node.services.ping.ping(target)
const after = node.getConnections(result.peerId)
if (after.length !== 1 || after[0].id !== conn.id) fail('the connection did not survive the refused stream')

console.log(`identify: PASS unknown-protocol=refused ping-after=${rtt}ms agent=${result.agentVersion} protocols=${result.protocols.join(',')} ` +
  `listenAddrs=${result.listenAddrs.map(String).join(',')} observed=${result.observedAddr ?? ''}`)
await node.stop()
process.exit(0)
