#!/usr/bin/env node
// Real js-libp2p playing one side of the libp2p/test-plans transport-interop
// ping test, configured exactly like the test-plans js implementation
// (tcp + noise + yamux|mplex, ping + identify services, connection monitor
// off, permissive dial gater).
//
// Environment (test-plans "legacy" convention, see /work/shared/HARNESS.md):
//   transport            must be "tcp"
//   security             must be "noise"
//   muxer                "yamux" | "mplex"
//   is_dialer            "true" | "false"
//   ip                   listen IP (default 0.0.0.0)
//   redis_addr           host:port (default redis:6379)
//   test_timeout_seconds whole-test bound (default 180; test_timeout_secs,
//                        the spelling js-libp2p's interop suite reads, is
//                        accepted too)
//
// Listener: listens on /ip4/<ip>/tcp/0, RPUSHes listenerAddr (its multiaddr,
// ending /p2p/<id>), serves until SIGTERM/SIGINT (exit 0) or until the
// timeout (exit 1).
// Dialer: BLPOPs listenerAddr, dials, pings once, prints ONE JSON line
//   {"handshakePlusOneRTTMillis": x, "pingRTTMilllis": y}
// on stdout and exits 0.  Any failure: message on stderr, exit 1.
// Everything except the result line goes to stderr.

import './shims.mjs' // must stay the first import: patches Node 20 before libp2p loads

import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { mplex } from '@libp2p/mplex'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { createClient } from 'redis'
import { performance } from 'node:perf_hooks'

const log = (...args) => { console.error('[js-peer]', ...args) }

function fail (msg, err) {
  log(`FAIL: ${msg}`, err ?? '')
  process.exit(1)
}

process.on('uncaughtException', (err) => fail('uncaught exception', err))
process.on('unhandledRejection', (err) => fail('unhandled rejection', err))

const env = process.env
const transport = env.transport
const security = env.security
const muxer = env.muxer
const isDialer = env.is_dialer === 'true'
const ip = env.ip ?? '0.0.0.0'
const redisAddr = env.redis_addr ?? 'redis:6379'
const timeoutSecs = parseInt(env.test_timeout_seconds ?? env.test_timeout_secs ?? '180', 10)
const timeoutMs = timeoutSecs * 1000
const deadline = Date.now() + timeoutMs

if (env.is_dialer !== 'true' && env.is_dialer !== 'false') fail(`is_dialer must be "true" or "false", got ${JSON.stringify(env.is_dialer)}`)
if (transport !== 'tcp') fail(`unsupported transport ${JSON.stringify(transport)} (only tcp)`)
if (security !== 'noise') fail(`unsupported security ${JSON.stringify(security)} (only noise)`)
if (!Number.isFinite(timeoutSecs) || timeoutSecs <= 0) fail(`bad test timeout ${timeoutSecs}`)

let streamMuxer
switch (muxer) {
  case 'yamux': streamMuxer = yamux(); break
  case 'mplex': streamMuxer = mplex(); break
  default: fail(`unsupported muxer ${JSON.stringify(muxer)} (yamux or mplex)`)
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

async function stopQuietly (node) {
  // node.stop() can wait on graceful stream closes; never let it block exit.
  await Promise.race([
    node.stop().catch(() => {}),
    new Promise(resolve => setTimeout(resolve, 2000).unref())
  ])
}

async function main () {
  const node = await createLibp2p({
    start: true,
    addresses: { listen: isDialer ? [] : [`/ip4/${ip}/tcp/0`] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [streamMuxer],
    connectionGater: { denyDialMultiaddr: async () => false },
    connectionMonitor: { enabled: false },
    services: { ping: ping(), identify: identify() }
  })
  log(`peer id ${node.peerId.toString()} (${isDialer ? 'dialer' : 'listener'}, tcp/noise/${muxer})`)

  const redis = await connectRedis()

  if (!isDialer) {
    // Same choice as the js interop listener: prefer a non-loopback address.
    const addrs = node.getMultiaddrs().map(ma => ma.toString())
    addrs.sort((a, b) => Number(a.includes('/127.0.0.1/')) - Number(b.includes('/127.0.0.1/')))
    log('listening on', addrs)
    if (addrs.length === 0) throw new Error('no listen address')
    await redis.rPush('listenerAddr', addrs[0])
    log(`published listenerAddr ${addrs[0]}`)
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

  const blpopSecs = Math.max(1, Math.ceil((deadline - Date.now()) / 1000))
  const res = await redis.blPop('listenerAddr', blpopSecs)
  await redis.quit().catch(() => {})
  if (res == null) throw new Error(`no listenerAddr in redis within ${blpopSecs}s`)
  // Same fix-up the js interop dialer applies (no-op for tcp).
  const ma = multiaddr(res.element.replace('/tls/ws', '/wss'))

  const signal = AbortSignal.timeout(Math.max(1, deadline - Date.now()))
  const start = performance.now()
  log(`dialing ${ma.toString()}`)
  await node.dial(ma, { signal })
  log(`pinging ${ma.toString()}`)
  const pingRTT = await node.services.ping.ping(ma, { signal })
  const handshakePlusOneRTT = performance.now() - start

  const line = JSON.stringify({ handshakePlusOneRTTMillis: handshakePlusOneRTT, pingRTTMilllis: pingRTT }) + '\n'
  await new Promise((resolve, reject) => process.stdout.write(line, err => err ? reject(err) : resolve()))
  await stopQuietly(node)
  process.exit(0)
}

main().catch(err => fail(err?.message ?? String(err), err))
