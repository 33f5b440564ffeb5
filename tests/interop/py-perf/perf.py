#!/usr/bin/env python3
"""py-libp2p 0.8.1 perf peer for lp2p-interop's tests.

py-libp2p's own perf service (libp2p.perf.PerfService, /perf/1.0.0, the
spec's wire: libp2p/specs perf/perf.md) behind the command line of the
test-plans perf apps (there is no py-libp2p app there; this follows the
go-libp2p one, read for facts, not copied):

  perf.py --run-server --server-address IP:PORT
  perf.py --server-address IP:PORT --transport tcp|quic-v1 \
          --upload-bytes N --download-bytes M

The server has the test-plans perf servers' stable identity (Ed25519 from 32
zero bytes, 12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN) and listens
on tcp and quic-v1 at IP:PORT; the client dials that peer id, since py's
client cannot dial an address without one. The client prints
{"type":"intermediary"|"final","timeSeconds":..,"uploadBytes":..,"downloadBytes":..}
lines on stdout, everything else goes to stderr. See README.md.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import os
import signal
import sys

import multiaddr
import trio

from libp2p import create_mplex_muxer_option, new_host
from libp2p.crypto.ed25519 import create_new_key_pair
from libp2p.crypto.x25519 import create_new_key_pair as create_x25519_key_pair
from libp2p.perf import PROTOCOL_NAME, PerfService
from libp2p.security.noise.transport import PROTOCOL_ID as NOISE_ID
from libp2p.security.noise.transport import Transport as NoiseTransport
from libp2p.security.tls.transport import PROTOCOL_ID as TLS_ID
from libp2p.security.tls.transport import TLSTransport
from libp2p.stream_muxer.yamux.yamux import PROTOCOL_ID as YAMUX_ID
from libp2p.stream_muxer.yamux.yamux import Yamux

SERVER_PEER_ID = "12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN"
RESULT = sys.stdout


def err(msg: str) -> None:
    print(f"py-perf: {msg}", file=sys.stderr, flush=True)


class Failure(Exception):
    pass


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run-server", nargs="?", const="true", default="false",
                    choices=("true", "false"), help="run the server")
    ap.add_argument("--server-address", required=True, help="IP:PORT")
    ap.add_argument("--transport", default="tcp", choices=("tcp", "quic-v1"))
    ap.add_argument("--upload-bytes", type=int, default=0)
    ap.add_argument("--download-bytes", type=int, default=0)
    # Ours, not the test-plans CLI's: narrow tcp's channel and muxer to one
    # (default: both securities, Noise proposed first; yamux, then mplex).
    ap.add_argument("--security", choices=("noise", "tls"))
    ap.add_argument("--muxer", choices=("yamux", "mplex"))
    a = ap.parse_args()
    a.run_server = a.run_server == "true"
    host, sep, port = a.server_address.rpartition(":")
    host = host.strip("[]")
    try:
        a.ip = ipaddress.ip_address(host)
        a.port = int(port)
        if not sep or not 0 < a.port < 65536:
            raise ValueError
    except ValueError:
        ap.error(f"--server-address {a.server_address!r}: want IP:PORT")
    if a.upload_bytes < 0 or a.download_bytes < 0:
        ap.error("sizes must not be negative")
    return a


def addr(a: argparse.Namespace, transport: str) -> multiaddr.Multiaddr:
    base = f"/ip{a.ip.version}/{a.ip}"
    if transport == "quic-v1":
        return multiaddr.Multiaddr(f"{base}/udp/{a.port}/quic-v1")
    return multiaddr.Multiaddr(f"{base}/tcp/{a.port}")


def build_host(a: argparse.Namespace, key_pair, listen):  # type: ignore[no-untyped-def]
    sec = {}
    if a.security in (None, "noise"):
        sec[NOISE_ID] = NoiseTransport(libp2p_keypair=key_pair,
                                       noise_privkey=create_x25519_key_pair().private_key)
    if a.security in (None, "tls"):
        sec[TLS_ID] = TLSTransport(libp2p_keypair=key_pair)
    mux = {YAMUX_ID: Yamux} if a.muxer == "yamux" else None
    if a.muxer == "mplex":
        mux = create_mplex_muxer_option()
    quic = a.run_server or a.transport == "quic-v1"
    kwargs = dict(key_pair=key_pair, sec_opt=sec, muxer_opt=mux, enable_quic=quic)
    if listen:
        kwargs["listen_addrs"] = listen
    return new_host(**kwargs)


def stack(stream) -> str:  # type: ignore[no-untyped-def]
    """Which channel and muxer a stream's connection got, for the logs."""
    conn = stream.muxed_conn
    secured = getattr(conn, "secured_conn", None)
    return "/".join(type(x).__name__ for x in (secured, conn) if x is not None)


class CountingStream:
    """The server's stream as py's perf handler sees it, counting the bytes
    read and written so that the server can log what it served."""

    def __init__(self, stream) -> None:  # type: ignore[no-untyped-def]
        self._s = stream
        self.read_bytes = 0
        self.written = 0
        self.was_reset = False

    async def read(self, n: int | None = None) -> bytes:
        try:
            data = await self._s.read(n)
        except Exception as e:
            # py's handler takes any read error for the end of the upload
            # and goes on: say so, or a short upload would pass unnoticed.
            err(f"perf: read failed after {self.read_bytes} bytes: {type(e).__name__}: {e}")
            raise
        self.read_bytes += len(data or b"")
        return data

    async def write(self, data: bytes) -> None:
        await self._s.write(data)
        self.written += len(data)

    async def reset(self) -> None:
        self.was_reset = True
        await self._s.reset()

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self._s, name)


async def serve(a: argparse.Namespace) -> int:
    listen = [addr(a, "tcp"), addr(a, "quic-v1")]
    host = build_host(a, create_new_key_pair(bytes(32)), listen)
    if str(host.get_id()) != SERVER_PEER_ID:
        raise Failure(f"server peer id {host.get_id()}, want {SERVER_PEER_ID}")
    perf = PerfService(host)

    async def handler(stream) -> None:  # type: ignore[no-untyped-def]
        err(f"perf stream from {stream.muxed_conn.peer_id} ({stack(stream)})")
        s = CountingStream(stream)
        # py's own server side (PerfService._handle_message): reads the u64,
        # drains the upload to EOF, sends, closes; it resets on errors.
        await perf._handle_message(s)
        if s.was_reset:
            err(f"perf: stream reset after receiving {s.read_bytes} bytes, sending {s.written} bytes")
        else:
            # the 8 header bytes are not part of the upload
            err(f"perf: served: received {s.read_bytes - 8} bytes, sent {s.written} bytes")

    async with host.run(listen_addrs=listen):
        await perf.start()
        host.set_stream_handler(PROTOCOL_NAME, handler)
        for ma in host.get_addrs():
            err(f"listening on {ma}")
        await trio.sleep_forever()
    return 0


async def client(a: argparse.Namespace) -> int:
    host = build_host(a, create_new_key_pair(), None)
    perf = PerfService(host)
    target = multiaddr.Multiaddr(f"{addr(a, a.transport)}/p2p/{SERVER_PEER_ID}")
    final = None
    async with host.run(listen_addrs=[]):
        await perf.start()
        async for out in perf.measure_performance(target, a.upload_bytes, a.download_bytes):
            line = {"type": out["type"], "timeSeconds": out["time_seconds"],
                    "uploadBytes": out["upload_bytes"], "downloadBytes": out["download_bytes"]}
            RESULT.write(json.dumps(line, separators=(",", ":")) + "\n")
            RESULT.flush()
            if out["type"] == "final":
                final = out
        if final is None:
            raise Failure("no final result")
    return 0


def main() -> int:
    global RESULT
    # Only the JSON lines go to stdout: anything a library prints goes to stderr.
    RESULT = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    a = parse_args()
    level = logging.DEBUG if os.environ.get("DEBUG") == "true" else logging.WARNING
    logging.basicConfig(stream=sys.stderr, level=level,
                        format="%(relativeCreated)9.1f %(name)s %(levelname)s %(message)s")
    for name in ("libp2p", "multiaddr"):
        logging.getLogger(name).setLevel(level)
    # Python ignores SIGTERM in a background job started by a shell script
    # unless told: the server stops at once, exit 0.
    def stop(signum: int, _frame: object) -> None:
        err(f"stopped by {signal.Signals(signum).name}")
        os._exit(0 if a.run_server else 128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        return trio.run(serve if a.run_server else client, a)
    except BaseException as e:  # noqa: BLE001 - one line, details above with DEBUG
        leaves = leaf_errors(e)
        first = leaves[0]
        if os.environ.get("DEBUG") == "true":
            import traceback

            traceback.print_exception(e, file=sys.stderr)
        err(f"{type(first).__name__}: {first}")
        return 1


def leaf_errors(e: BaseException) -> list[BaseException]:
    if isinstance(e, BaseExceptionGroup):
        return [leaf for sub in e.exceptions for leaf in leaf_errors(sub)]
    return [e]


if __name__ == "__main__":
    sys.exit(main())
