#!/usr/bin/env node
// A /perf/1.0.0 client and server on the js-libp2p 3 stack pinned by
// tests/interop/js (libp2p 3.3.11, @libp2p/tcp, @chainsafe/libp2p-quic,
// @chainsafe/libp2p-noise, @libp2p/tls, @chainsafe/libp2p-yamux,
// @libp2p/mplex), behind the command line of the test-plans perf apps.
//
// The perf handler and client are ours, written from libp2p/specs
// perf/perf.md: js-libp2p's own @libp2p/perf is not served by the npm
// registry here (README.md). Everything below the stream (transport,
// security, muxer, multistream-select) is js-libp2p's.
//
//   perf.mjs --run-server --server-address IP:PORT [--transport T]
//            [--security S] [--muxer M]
//   perf.mjs --server-address IP:PORT --transport tcp|quic-v1
//            --upload-bytes N --download-bytes M [--security S] [--muxer M]
//
// Wire (perf.md): the client opens /perf/1.0.0, writes the download size as
// a big-endian u64, then the upload, and closes its write side; the server
// reads the u64, reads the upload to EOF, writes that many bytes and closes
// its write side; the client reads the download to EOF.
//
// Only the client's JSON lines go to stdout; everything else to stderr.

import '../js/shims.mjs' // first: patches Node 20 before libp2p loads

import { noise } from '@chainsafe/libp2p-noise'
import { quic } from '@chainsafe/libp2p-quic'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { mplex } from '@libp2p/mplex'
import { tcp } from '@libp2p/tcp'
import { tls } from '@libp2p/tls'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { isIP } from 'node:net'
import { performance } from 'node:perf_hooks'

const PROTOCOL = '/perf/1.0.0'
// Large writes, as the other perf apps (64 KiB): the time goes to the
// stack, not to the loop around send().
const BLOCK = 64 << 10
const ZEROS = new Uint8Array(BLOCK)
// The test-plans perf servers' identity: Ed25519 from a seed of 32 zero
// bytes. A client dials <address>/p2p/<this id> without having learnt it.
const SERVER_ID = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'

const log = (...args) => { console.error('js-perf:', ...args) }
function die (msg, code = 1) {
  log(msg)
  process.exit(code)
}
// One line, as any failure here (e.g. a refused dial surfaces as an
// uncaught socket error); the stack only with DEBUG set.
const why = (err) => (process.env.DEBUG ? err?.stack : err?.message) ?? String(err)
process.on('uncaughtException', (err) => die(`uncaught: ${why(err)}`))
process.on('unhandledRejection', (err) => die(`unhandled: ${why(err)}`))

// --name value, --name=value; --run-server takes an optional true|false.
function parseArgs (argv) {
  const known = ['run-server', 'server-address', 'transport', 'upload-bytes', 'download-bytes', 'security', 'muxer']
  const o = {}
  for (let i = 0; i < argv.length; i++) {
    const m = /^--?([a-z-]+)(?:=(.*))?$/.exec(argv[i])
    if (m == null || !known.includes(m[1])) die(`unknown argument ${JSON.stringify(argv[i])}`, 2)
    let v = m[2]
    if (m[1] === 'run-server') {
      if (v == null && (argv[i + 1] === 'true' || argv[i + 1] === 'false')) v = argv[++i]
      if (v != null && v !== 'true' && v !== 'false') die(`--run-server ${JSON.stringify(v)}: want true or false`, 2)
      o[m[1]] = v !== 'false'
      continue
    }
    if (v == null) {
      if (i + 1 >= argv.length) die(`--${m[1]}: missing value`, 2)
      v = argv[++i]
    }
    o[m[1]] = v
  }
  return o
}

function size (name, v) {
  if (v == null) return 0
  if (!/^[0-9]+$/.test(v) || !Number.isSafeInteger(Number(v))) die(`--${name} ${JSON.stringify(v)}: want a byte count below 2^53`, 2)
  return Number(v)
}

function pick (name, v, table) {
  if (v == null) return Object.values(table).map(f => f())
  if (table[v] == null) die(`--${name} ${JSON.stringify(v)}: want ${Object.keys(table).join(' or ')}`, 2)
  return [table[v]()]
}

const args = parseArgs(process.argv.slice(2))
const server = args['run-server'] === true
const addr = args['server-address'] ?? ''
// IP:PORT, [IPv6]:PORT (as go's net.SplitHostPort)
const am = /^(?:\[([^\]]+)\]|([^:]+)):([0-9]{1,5})$/.exec(addr)
const host = am?.[1] ?? am?.[2] ?? ''
const port = Number(am?.[3])
if (am == null || isIP(host) === 0 || port > 65535) die(`--server-address ${JSON.stringify(addr)}: want IP:PORT`, 2)
const family = isIP(host) === 6 ? 'ip6' : 'ip4'
const addrs = {
  tcp: `/${family}/${host}/tcp/${port}`,
  'quic-v1': `/${family}/${host}/udp/${port}/quic-v1`
}
const transport = args.transport ?? (server ? undefined : 'tcp')
if (transport != null && addrs[transport] == null) die(`--transport ${JSON.stringify(transport)}: want tcp or quic-v1`, 2)
// Without --security / --muxer both are offered (Noise and yamux first, as
// a client proposes them in this order), like the go and py perf peers.
const encrypters = pick('security', args.security, { noise: () => noise(), tls: () => tls() })
const muxers = pick('muxer', args.muxer, { yamux: () => yamux(), mplex: () => mplex() })
const upload = size('upload-bytes', args['upload-bytes'])
const download = size('download-bytes', args['download-bytes'])

function options (transports, listen) {
  return {
    addresses: { listen },
    transports: transports.map(t => t === 'tcp' ? tcp() : quic()),
    connectionEncrypters: encrypters,
    streamMuxers: muxers,
    // Every dial allowed, as the js peer (peer.mjs): Node's default gater
    // allows all already, js-libp2p's browser one refuses private
    // addresses. A perf run is one connection after the other from one
    // host, so no inbound rate limit.
    connectionGater: { denyDialMultiaddr: async () => false },
    connectionManager: { inboundConnectionThreshold: Infinity, maxIncomingPendingConnections: 1000 },
    connectionMonitor: { enabled: false }
  }
}

function describe (conn) {
  const a = conn.remoteAddr.toString()
  const tr = a.includes('/quic-v1') ? 'quic-v1' : 'tcp'
  return `${conn.remotePeer} ${a}: transport ${tr}, security ${conn.encryption ?? '-'}, muxer ${conn.multiplexer ?? '-'}`
}

// Writes n zero bytes in BLOCK-sized sends, waiting for 'drain' whenever
// the stream says its buffer is full (send() returned false).
async function sendZeros (stream, n, onSent) {
  while (n > 0) {
    const k = Math.min(n, BLOCK)
    const ok = stream.send(k === BLOCK ? ZEROS : ZEROS.subarray(0, k))
    n -= k
    onSent?.(k)
    if (!ok) await stream.onDrain()
  }
}

// Reads the stream to its end, giving each chunk to onData. Neither the
// async iterator nor 'end' alone says where a stream ends here
// (@libp2p/interface 3.3.0 message-stream.d.ts, README.md): our client's
// u64 and upload come behind its protocol proposal, so multistream-select's
// byte stream (@libp2p/utils stream-utils.js) has read them when the
// remote's FIN arrives; with the stream's own buffer empty, 'end' fires and
// readableEnded turns true, and only then does unwrap() push the bytes back
// ("data can be pushed back after 'end'", readableEnded's documentation).
// The iterator ends on 'remoteCloseWrite', which by then has fired once,
// so it waits forever. So the end is readableEnded with nothing left in
// readBufferLength, checked on 'end' and after each 'message' (adding the
// 'message' listener delivers what is buffered); a reset or abort is
// 'close' with an error.
function readAll (stream, onData) {
  return new Promise((resolve, reject) => {
    let over = false
    const done = (err) => {
      if (over) return
      over = true
      stream.removeEventListener('message', onMessage)
      stream.removeEventListener('end', check)
      stream.removeEventListener('close', onClose)
      err != null ? reject(err) : resolve()
    }
    // A reset or abort also ends the readable side ('end' first): the
    // 'close' event right after it carries the error.
    const broken = () => stream.status === 'reset' || stream.status === 'aborted'
    function check () {
      if (!broken() && stream.readableEnded && stream.readBufferLength === 0) done()
    }
    const onMessage = (evt) => {
      onData(evt.data)
      check()
    }
    const onClose = (evt) => evt.error != null ? done(evt.error) : check()
    if (broken()) {
      done(new Error(`stream ${stream.status} before reading`))
      return
    }
    stream.addEventListener('message', onMessage)
    stream.addEventListener('end', check)
    stream.addEventListener('close', onClose)
    check()
  })
}

// One perf stream, server side (perf.md): u64 download size, upload to EOF,
// then the download and a half-close.
async function handle (stream) {
  const hdr = new Uint8Array(8)
  let have = 0
  let up = 0
  try {
    await readAll(stream, (chunk) => {
      let n = chunk.byteLength
      if (have < 8) {
        const k = Math.min(8 - have, n)
        hdr.set(chunk.subarray(0, k), have)
        have += k
        n -= k
      }
      up += n
    })
  } catch (err) {
    log(`perf: reading the upload after ${up} bytes: ${err.message}`)
    stream.abort(err)
    return
  }
  if (have < 8) {
    log(`perf: reading the header: stream ended after ${have} bytes`)
    stream.abort(new Error('short perf header'))
    return
  }
  const want = new DataView(hdr.buffer).getBigUint64(0, false)
  if (want > BigInt(Number.MAX_SAFE_INTEGER)) {
    log(`perf: download size ${want} above 2^53`)
    stream.abort(new Error('download size too large'))
    return
  }
  const down = Number(want)
  try {
    await sendZeros(stream, down)
    await stream.close()
  } catch (err) {
    log(`perf: sending ${down} bytes: ${err.message}`)
    stream.abort(err)
    return
  }
  log(`perf: served: received ${up} bytes, sent ${down} bytes`)
}

async function runServer () {
  const privateKey = await generateKeyPairFromSeed('Ed25519', new Uint8Array(32))
  const transports = transport != null ? [transport] : ['tcp', 'quic-v1']
  const node = await createLibp2p({
    ...options(transports, transports.map(t => addrs[t])),
    privateKey
  })
  if (node.peerId.toString() !== SERVER_ID) die(`server peer id ${node.peerId}, want ${SERVER_ID}`)
  node.addEventListener('connection:open', (evt) => log(`connected ${describe(evt.detail)}`))
  await node.handle(PROTOCOL, (stream) => {
    handle(stream).catch(err => log(`perf: ${err.message}`))
  }, { maxInboundStreams: 16 })
  for (const a of node.getMultiaddrs()) log(`listening on ${a}`)
  const stop = (sig) => {
    log(`stopped by ${sig}`)
    Promise.race([node.stop().catch(() => {}), new Promise(resolve => setTimeout(resolve, 2000).unref())])
      .finally(() => process.exit(0))
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
}

function emit (type, timeSeconds, uploadBytes, downloadBytes) {
  process.stdout.write(JSON.stringify({ type, timeSeconds, uploadBytes, downloadBytes }) + '\n')
}

// "intermediary" lines at most once a second: the bytes moved since the
// previous line, as the test-plans perf apps print them.
function progress () {
  let last = performance.now()
  let up = 0
  let down = 0
  return (u, d) => {
    up += u
    down += d
    const now = performance.now()
    if (now - last >= 1000) {
      emit('intermediary', (now - last) / 1000, up, down)
      last = now
      up = down = 0
    }
  }
}

async function runClient () {
  const node = await createLibp2p(options([transport], []))
  node.addEventListener('connection:open', (evt) => log(`connected ${describe(evt.detail)}`))
  const ma = multiaddr(`${addrs[transport]}/p2p/${SERVER_ID}`)
  const start = performance.now() // the test-plans clients time from before the dial
  const conn = await node.dial(ma, { signal: AbortSignal.timeout(30_000) })
  const stream = await conn.newStream(PROTOCOL, { signal: AbortSignal.timeout(30_000) })
  const tick = progress()
  const hdr = new Uint8Array(8)
  new DataView(hdr.buffer).setBigUint64(0, BigInt(download), false)
  let got = 0
  try {
    if (!stream.send(hdr)) await stream.onDrain()
    await sendZeros(stream, upload, (k) => tick(k, 0))
    await stream.close()
    await readAll(stream, (chunk) => {
      got += chunk.byteLength
      tick(0, chunk.byteLength)
    })
  } catch (err) {
    stream.abort(err)
    die(`perf: after ${got} bytes downloaded: ${err.message}`)
  }
  if (got !== download) die(`perf: downloaded ${got} bytes, asked for ${download}`)
  const secs = (performance.now() - start) / 1000
  const line = JSON.stringify({ type: 'final', timeSeconds: secs, uploadBytes: upload, downloadBytes: got }) + '\n'
  await new Promise((resolve, reject) => process.stdout.write(line, err => err ? reject(err) : resolve()))
  // node.stop() closes the connection politely; never let it hold the exit.
  await Promise.race([node.stop().catch(() => {}), new Promise(resolve => setTimeout(resolve, 2000).unref())])
  process.exit(0)
}

try {
  await (server ? runServer() : runClient())
} catch (err) {
  die(`${server ? 'server' : 'client'}: ${why(err)}`)
}
