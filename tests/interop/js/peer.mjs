#!/usr/bin/env node
// Real js-libp2p playing one side of the transport-interop ping test,
// configured like the js implementation's own harness app (js-libp2p
// `interop/test/fixtures/get-libp2p.ts`, run by test-plans
// `transport-interop/impl/js/v3.x`): ping + identify services, connection
// monitor off, permissive dial gater, one transport / encrypter / muxer.
//
// What it offers (tests/interop/js/combos.txt):
//   transport  tcp | ws | wss (dial only, as in the harness) | quic-v1
//   security   noise | tls | plaintext (ignored for quic-v1)
//   muxer      yamux | mplex             (ignored for quic-v1)
//
// Environment, both harness conventions (see /work/shared/HARNESS.md):
//   test-plans (default)      unified-testing (when TEST_KEY is set)
//   transport                 TRANSPORT
//   security                  SECURE_CHANNEL
//   muxer                     MUXER
//   is_dialer                 IS_DIALER
//   ip (default 0.0.0.0)      LISTENER_IP (default 0.0.0.0)
//   redis_addr (redis:6379)   REDIS_ADDR (redis:6379)
//   test_timeout_seconds      TEST_TIMEOUT_SECS (default 180; the spelling
//     (or test_timeout_secs,    upstream js reads, test_timeout_secs, is
//     default 180)              accepted in both modes)
// The mode's own name wins; the other convention's name is the fallback.
//
// Listener: listens, publishes its multiaddr (ending /p2p/<id>) with RPUSH
// to `listenerAddr` (test-plans) or `<TEST_KEY>_listener_multiaddr`
// (unified), serves until SIGTERM/SIGINT (exit 0) or the timeout (exit 1).
// Dialer: takes the address (BLPOP; a plain string value, as some unified
// perf images SET, is read too), rewrites `/tls/ws` to `/wss` as the
// upstream js dialer does, dials, pings once, prints on stdout
//   test-plans: {"handshakePlusOneRTTMillis": x, "pingRTTMilllis": y}
//   unified:    latency:\n  handshake_plus_one_rtt: x\n  ping_rtt: y\n  unit: ms
// and exits 0. Any failure: one message on stderr, exit 1, nothing on stdout.

import './shims.mjs' // must stay the first import: patches Node 20 before libp2p loads

import { noise } from '@chainsafe/libp2p-noise'
import { quic } from '@chainsafe/libp2p-quic'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { mplex } from '@libp2p/mplex'
import { ping } from '@libp2p/ping'
import { plaintext } from '@libp2p/plaintext'
import { tcp } from '@libp2p/tcp'
import { tls } from '@libp2p/tls'
import { webSockets } from '@libp2p/websockets'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { createClient } from 'redis'
import { performance } from 'node:perf_hooks'

const log = (...args) => { console.error('[js-peer]', ...args) }

function fail (msg, err) {
  log(`FAIL: ${msg}`, err?.stack ?? err ?? '')
  process.exit(1)
}

process.on('uncaughtException', (err) => fail('uncaught exception', err))
process.on('unhandledRejection', (err) => fail('unhandled rejection', err))

const env = process.env
const unified = (env.TEST_KEY ?? '') !== ''
// The mode's own variable first, then the other convention's spelling.
const get = (lower, upper) => {
  const [a, b] = unified ? [env[upper], env[lower]] : [env[lower], env[upper]]
  return (a != null && a !== '') ? a : ((b != null && b !== '') ? b : undefined)
}

const STANDALONE = new Set(['quic-v1'])
const transport = get('transport', 'TRANSPORT')
const security = get('security', 'SECURE_CHANNEL')
const muxer = get('muxer', 'MUXER')
const isDialerRaw = get('is_dialer', 'IS_DIALER')
const isDialer = isDialerRaw === 'true'
const ip = get('ip', 'LISTENER_IP') ?? '0.0.0.0'
const redisAddr = get('redis_addr', 'REDIS_ADDR') ?? 'redis:6379'
const timeoutRaw = get('test_timeout_seconds', 'TEST_TIMEOUT_SECS') ?? env.test_timeout_secs ?? '180'
const timeoutSecs = Number(timeoutRaw)
const redisKey = unified ? `${env.TEST_KEY}_listener_multiaddr` : 'listenerAddr'

if (isDialerRaw !== 'true' && isDialerRaw !== 'false') fail(`is_dialer must be "true" or "false", got ${JSON.stringify(isDialerRaw)}`)
if (!Number.isFinite(timeoutSecs) || timeoutSecs <= 0) fail(`bad test timeout ${JSON.stringify(timeoutRaw)}`)
if (unified && !/^[0-9a-fA-F]{1,64}$/.test(env.TEST_KEY)) fail(`bad TEST_KEY ${JSON.stringify(env.TEST_KEY)} (hex expected)`)
const timeoutMs = timeoutSecs * 1000
const deadline = Date.now() + timeoutMs
const label = STANDALONE.has(transport) ? transport : `${transport}/${security}/${muxer}`

// Listen address for the transport; js does not listen on wss in the
// harness (test-plans lists its wss as onlyDial).
function transportConfig () {
  const ipProto = ip.includes(':') ? 'ip6' : 'ip4'
  switch (transport) {
    case 'tcp': return { transports: [tcp()], listen: `/${ipProto}/${ip}/tcp/0` }
    case 'ws': return { transports: [webSockets()], listen: `/${ipProto}/${ip}/tcp/0/ws` }
    case 'wss':
      if (!isDialer) fail('transport wss: js only dials wss (as in the harness), it does not listen on it')
      // The listeners' certificates are self-signed (go, py); the upstream js
      // app turns verification off the same way.
      env.NODE_TLS_REJECT_UNAUTHORIZED = '0'
      return { transports: [webSockets()], listen: null }
    case 'quic-v1': return { transports: [quic()], listen: `/${ipProto}/${ip}/udp/0/quic-v1` }
    default: return fail(`unsupported transport ${JSON.stringify(transport)} (tcp, ws, wss, quic-v1)`)
  }
}

function encrypters () {
  switch (security) {
    case 'noise': return [noise()]
    case 'tls': return [tls()]
    case 'plaintext': return [plaintext()]
    default: return fail(`unsupported security ${JSON.stringify(security)} (noise, tls, plaintext)`)
  }
}

function muxers () {
  switch (muxer) {
    case 'yamux': return [yamux()]
    case 'mplex': return [mplex()]
    default: return fail(`unsupported muxer ${JSON.stringify(muxer)} (yamux, mplex)`)
  }
}

// Whole-test bound, as the harness expects (the listener is normally killed
// long before this).
setTimeout(() => fail(`test timeout of ${timeoutSecs}s reached`), timeoutMs).unref()

async function connectRedis () {
  // Redis may not be up yet: retry until the test deadline.
  for (let attempt = 1; ; attempt++) {
    const client = createClient({
      url: `redis://${redisAddr}`,
      socket: { reconnectStrategy: false, connectTimeout: 2000 }
    })
    client.on('error', () => {}) // surfaced via connect()/commands instead
    try {
      await client.connect()
      return client
    } catch (err) {
      if (Date.now() + 500 > deadline) throw new Error(`cannot connect to redis at ${redisAddr}: ${err.message}`)
      if (attempt === 1 || attempt % 10 === 0) log(`redis ${redisAddr} not ready (${err.message}), retrying`)
      await new Promise(resolve => setTimeout(resolve, 250))
    }
  }
}

// The listener's address: a list entry (RPUSH, both harnesses) or a plain
// string (SET, some unified perf images). Polls in 1 s slices so a SET made
// while we block on BLPOP is still seen.
async function takeListenerAddr (redis) {
  while (Date.now() < deadline) {
    const type = await redis.type(redisKey)
    if (type === 'string') return await redis.get(redisKey)
    const res = await redis.blPop(redisKey, 1)
    if (res != null) return res.element
  }
  throw new Error(`no ${redisKey} in redis within ${timeoutSecs}s`)
}

async function stopQuietly (node) {
  // node.stop() can wait on graceful stream closes; never let it block exit.
  await Promise.race([
    node.stop().catch(() => {}),
    new Promise(resolve => setTimeout(resolve, 2000).unref())
  ])
}

function resultText (hs, rtt) {
  if (unified) return `latency:\n  handshake_plus_one_rtt: ${hs}\n  ping_rtt: ${rtt}\n  unit: ms\n`
  return JSON.stringify({ handshakePlusOneRTTMillis: hs, pingRTTMilllis: rtt }) + '\n'
}

async function main () {
  const { transports, listen } = transportConfig()
  const options = {
    start: true,
    addresses: { listen: isDialer || listen == null ? [] : [listen] },
    transports,
    connectionGater: { denyDialMultiaddr: async () => false },
    connectionMonitor: { enabled: false },
    services: { ping: ping(), identify: identify() }
  }
  // quic-v1 brings its own TLS and streams: no encrypter, no muxer (the
  // harness does not even set security/muxer for it).
  if (!STANDALONE.has(transport)) {
    options.connectionEncrypters = encrypters()
    options.streamMuxers = muxers()
  }
  const node = await createLibp2p(options)
  log(`peer id ${node.peerId.toString()} (${isDialer ? 'dialer' : 'listener'}, ${label}, ${unified ? 'unified-testing' : 'test-plans'} mode)`)

  const redis = await connectRedis()

  if (!isDialer) {
    // Same choice as the js interop listener: prefer a non-loopback address.
    const addrs = node.getMultiaddrs().map(ma => ma.toString())
    addrs.sort((a, b) => Number(a.includes('/127.0.0.1/')) - Number(b.includes('/127.0.0.1/')))
    log('listening on', addrs)
    if (addrs.length === 0) throw new Error('no listen address')
    await redis.rPush(redisKey, addrs[0])
    log(`published ${redisKey} ${addrs[0]}`)
    await redis.quit().catch(() => {})

    const shutdown = (sig) => {
      log(`${sig}: stopping`)
      stopQuietly(node).finally(() => process.exit(0))
    }
    process.on('SIGTERM', () => shutdown('SIGTERM'))
    process.on('SIGINT', () => shutdown('SIGINT'))
    // Stay alive until killed; the unref'd timeout above fails us at the deadline.
    setInterval(() => {}, 1 << 30)
    return
  }

  const addr = (await takeListenerAddr(redis) ?? '').trim()
  await redis.quit().catch(() => {})
  if (!addr.startsWith('/')) throw new Error(`bad listener address ${JSON.stringify(addr)} in ${redisKey}`)
  // The fix-up the upstream js dialer applies: go publishes /tls/ws for wss.
  const ma = multiaddr(addr.replace('/tls/ws', '/wss'))

  const signal = AbortSignal.timeout(Math.max(1, deadline - Date.now()))
  const start = performance.now()
  log(`dialing ${ma.toString()}`)
  await node.dial(ma, { signal })
  log(`pinging ${ma.toString()}`)
  const pingRTT = await node.services.ping.ping(ma, { signal })
  const handshakePlusOneRTT = performance.now() - start

  const text = resultText(handshakePlusOneRTT, pingRTT)
  await new Promise((resolve, reject) => process.stdout.write(text, err => err ? reject(err) : resolve()))
  await stopQuietly(node)
  process.exit(0)
}

main().catch(err => fail(err?.message ?? String(err), err))
