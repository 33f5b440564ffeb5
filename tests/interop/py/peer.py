#!/usr/bin/env python3
"""py-libp2p 0.8.1 transport-interop ping peer for lp2p-interop's tests.

Written to behave on the wire and towards the harness like py-libp2p's own
harness app (interop/transport/ping_test.py in libp2p/py-libp2p); see
README.md next to this file for what it does and where it deliberately
differs (only the listen address: we never bind beyond the `ip` we are given).

Configuration comes only from the harness environment; every name is read in
UPPER or lower case as upstream does.  Unified-testing mode (TEST_KEY,
`<TEST_KEY>_listener_multiaddr`, YAML result) when TEST_KEY is set or
`--unified` is given; test-plans mode (`listenerAddr`, one JSON line)
otherwise or with `--test-plans`.  Only the dialer's result goes to stdout.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta, timezone
import ipaddress
import json
import logging
import os
import signal
import ssl
import sys
import tempfile
import time

import multiaddr
import redis
import trio

from libp2p import create_mplex_muxer_option, create_yamux_muxer_option, new_host
from libp2p.crypto.ed25519 import create_new_key_pair
from libp2p.crypto.x25519 import create_new_key_pair as create_x25519_key_pair
from libp2p.custom_types import TProtocol
import libp2p.identity.identify.identify as identify_mod
from libp2p.peer.peerinfo import info_from_p2p_addr
from libp2p.security.insecure.transport import PLAINTEXT_PROTOCOL_ID, InsecureTransport
from libp2p.security.noise.transport import PROTOCOL_ID as NOISE_ID
from libp2p.security.noise.transport import Transport as NoiseTransport
from libp2p.security.tls.transport import PROTOCOL_ID as TLS_ID
from libp2p.security.tls.transport import TLSTransport
from libp2p.utils.address_validation import get_available_interfaces

PING = TProtocol("/ipfs/ping/1.0.0")
PING_SIZE = 32
TIMEOUT_CAP = 300  # upstream caps the harness timeout at 300 s
TRANSPORTS = ("tcp", "ws", "wss", "quic-v1")
# quic-v1 brings its own security and muxing, so those env vars are optional
SELF_CONTAINED = ("quic-v1",)
SECURITIES = ("noise", "tls", "plaintext")
MUXERS = ("yamux", "mplex")
# After answering the ping the upstream listener lingers, then exits 0: in the
# test-plans compose setup the dialer is stopped as soon as the listener
# exits, so the linger must outlast the dialer printing its result.  TLS+mplex
# teardown is slow in py, hence the longer linger there; unified-testing only
# waits for the muxer to drain.
LINGER_TEST_PLANS = 12.0
LINGER_TLS_MPLEX = 30.0
LINGER_UNIFIED = 0.2

log = logging.getLogger("lp2p.py-peer")
# The result is the only thing allowed on stdout: keep the real stdout for it
# and point fd 1 (and sys.stdout) at stderr for anything a library prints.
RESULT = sys.stdout


class Failure(Exception):
    """A configuration or test failure reported as one line on stderr."""


def err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def env(*names: str) -> str | None:
    """First non-empty value among the given names (upstream's lookup order)."""
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


# --- identify: answer with a minimal message, as upstream does ------------
#
# Upstream strips listen addrs (field 2), observed addr (4), protocols (3) and
# the signed peer record (8) from its identify response because nim-libp2p's
# decoder rejects the whole message on any field it cannot decode.  Identify
# push keeps the full message (upstream patches only the identify module).
_full_identify = identify_mod._mk_identify_protobuf


def _minimal_identify(host, observed_multiaddr):  # type: ignore[no-untyped-def]
    msg = _full_identify(host, observed_multiaddr)
    for name in ("listen_addrs", "observed_addr", "protocols"):
        msg.ClearField(name)
    record = msg.DESCRIPTOR.fields_by_number.get(8)
    if record is not None:
        msg.ClearField(record.name)
    return msg


identify_mod._mk_identify_protobuf = _minimal_identify


# --- configuration ---------------------------------------------------------


class Config:
    def __init__(self, unified: bool) -> None:
        self.unified = unified
        self.transport = env("TRANSPORT", "transport")
        if not self.transport:
            raise Failure("TRANSPORT (or transport) is required")
        if self.transport not in TRANSPORTS:
            raise Failure(f"unsupported transport {self.transport!r}; py offers {', '.join(TRANSPORTS)}")
        self.security = env("SECURE_CHANNEL", "security")
        self.muxer = env("MUXER", "muxer")
        if self.transport not in SELF_CONTAINED:
            if self.security not in SECURITIES:
                raise Failure(f"unsupported security {self.security!r}; py offers {', '.join(SECURITIES)}")
            if self.muxer not in MUXERS:
                raise Failure(f"unsupported muxer {self.muxer!r}; py offers {', '.join(MUXERS)}")
        is_dialer = env("IS_DIALER", "is_dialer")
        if is_dialer is None:
            raise Failure("IS_DIALER (or is_dialer) is required")
        self.is_dialer = is_dialer.lower() == "true"
        # Upstream defaults ip/redis_addr only in test-plans mode.
        self.ip = env("LISTENER_IP", "ip") or (None if unified else "0.0.0.0")
        if not self.ip:
            raise Failure("LISTENER_IP is required")
        try:
            self.ip_obj = ipaddress.ip_address(self.ip)
        except ValueError:
            raise Failure(f"LISTENER_IP/ip is not an IP address: {self.ip!r}") from None
        redis_addr = env("redis_addr", "REDIS_ADDR") or (None if unified else "redis:6379")
        if not redis_addr:
            raise Failure("REDIS_ADDR is required")
        host, sep, port = redis_addr.rpartition(":")
        if not sep:
            host, port = redis_addr, "6379"
        try:
            self.redis_host, self.redis_port = host, int(port)
        except ValueError:
            raise Failure(f"bad redis address {redis_addr!r}") from None
        raw_timeout = env("TEST_TIMEOUT_SECS", "test_timeout_seconds") or "180"
        try:
            self.timeout = min(int(raw_timeout), TIMEOUT_CAP)
        except ValueError:
            raise Failure(f"test timeout is not an integer: {raw_timeout!r}") from None
        if self.timeout <= 0:
            raise Failure(f"test timeout must be positive, got {raw_timeout!r}")
        # how long the dialer waits for the pong (upstream: 60 %, at least 30 s)
        self.pong_timeout = max(30, int(self.timeout * 0.6))
        if unified:
            test_key = env("TEST_KEY", "test_key")
            if not test_key:
                raise Failure("TEST_KEY is required in unified-testing mode")
            self.redis_key = f"{test_key}_listener_multiaddr"
        else:
            self.redis_key = "listenerAddr"

    def label(self) -> str:
        return f"{self.transport}/{self.security or '-'}/{self.muxer or '-'}"

    def linger(self) -> float:
        if self.unified:
            return LINGER_UNIFIED
        if self.security == "tls" and self.muxer == "mplex":
            return LINGER_TLS_MPLEX
        return LINGER_TEST_PLANS


# --- host construction -----------------------------------------------------


def security_options(cfg: Config, key_pair):  # type: ignore[no-untyped-def]
    if cfg.transport in SELF_CONTAINED:
        return {}
    if cfg.security == "noise":
        static = create_x25519_key_pair().private_key
        return {NOISE_ID: NoiseTransport(libp2p_keypair=key_pair, noise_privkey=static)}
    if cfg.security == "tls":
        return {TLS_ID: TLSTransport(libp2p_keypair=key_pair)}
    return {PLAINTEXT_PROTOCOL_ID: InsecureTransport(local_key_pair=key_pair)}


def muxer_options(cfg: Config):  # type: ignore[no-untyped-def]
    if cfg.transport in SELF_CONTAINED:
        return None
    return create_yamux_muxer_option() if cfg.muxer == "yamux" else create_mplex_muxer_option()


def client_tls(cfg: Config) -> ssl.SSLContext | None:
    """wss: the harness peers use self-signed certificates, so do not verify."""
    if cfg.transport != "wss":
        return None
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def server_tls(cfg: Config) -> ssl.SSLContext | None:
    """wss listener: a fresh self-signed RSA-2048 certificate for this run."""
    if cfg.transport != "wss":
        return None
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "libp2p.local")])
    now = datetime.now(timezone.utc)
    alt = [x509.DNSName("localhost"), x509.DNSName("libp2p.local")]
    alt.append(x509.IPAddress(ipaddress.IPv4Address("127.0.0.1")))
    if not cfg.ip_obj.is_unspecified and cfg.ip != "127.0.0.1":
        alt.append(x509.IPAddress(cfg.ip_obj))
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .sign(key, hashes.SHA256())
    )
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    # load_cert_chain only takes paths: write both PEMs to a private temp dir
    with tempfile.TemporaryDirectory(prefix="lp2p-py-wss-") as tmp:
        cert_path, key_path = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
        with open(cert_path, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        with open(os.open(key_path, os.O_WRONLY | os.O_CREAT, 0o600), "wb") as f:
            f.write(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
        ctx.load_cert_chain(cert_path, key_path)
    return ctx


def transport_suffix(cfg: Config) -> str:
    return {"tcp": "", "ws": "/ws", "wss": "/wss"}[cfg.transport]


def listen_addrs(cfg: Config, wss_as_ws: bool = False) -> list[multiaddr.Multiaddr]:
    """Where to listen (port 0).

    Upstream listens on every interface whatever `ip` says; we bind the
    given ip only, and every interface only when it is a wildcard, so a
    loopback test never opens a socket beyond loopback.
    """
    if cfg.ip_obj.is_unspecified:
        bases = [str(a).rsplit("/tcp/", 1)[0] for a in get_available_interfaces(0, protocol="tcp")]
    else:
        bases = [f"/ip{cfg.ip_obj.version}/{cfg.ip}"]
    if cfg.transport == "quic-v1":
        return [multiaddr.Multiaddr(f"{b}/udp/0/quic-v1") for b in bases]
    suffix = "/ws" if wss_as_ws else transport_suffix(cfg)
    return [multiaddr.Multiaddr(f"{b}/tcp/0{suffix}") for b in bases]


def build_host(cfg: Config, addrs: list[multiaddr.Multiaddr] | None, listener: bool):  # type: ignore[no-untyped-def]
    key_pair = create_new_key_pair()  # Ed25519, a fresh identity per run
    kwargs = dict(
        key_pair=key_pair,
        sec_opt=security_options(cfg, key_pair),
        muxer_opt=muxer_options(cfg),
        enable_quic=cfg.transport == "quic-v1",
        tls_client_config=client_tls(cfg),
        tls_server_config=server_tls(cfg) if listener else None,
    )
    if addrs:
        kwargs["listen_addrs"] = addrs
    return new_host(**kwargs)


# --- shutdown noise --------------------------------------------------------

_CLOSED_WORDS = (
    "connection closed",
    "stream reset",
    "connection reset",
    "broken pipe",
    "stream eof",
    "end of file",
)


def is_teardown_noise(exc: BaseException | None) -> bool:
    """Errors py raises when the peer closes first; upstream ignores them."""
    if exc is None:
        return False
    if isinstance(exc, BaseExceptionGroup):
        return all(is_teardown_noise(e) for e in exc.exceptions)
    if any(w in str(exc).lower() for w in _CLOSED_WORDS):
        return True
    return is_teardown_noise(exc.__cause__)


# --- redis -------------------------------------------------------------------


async def connect_redis(cfg: Config) -> redis.Redis:
    # upstream: 10 attempts, 1 s apart (the harness starts redis concurrently)
    last: Exception | None = None
    for attempt in range(10):
        try:
            client = redis.Redis(host=cfg.redis_host, port=cfg.redis_port, decode_responses=True)
            client.ping()
            return client
        except Exception as e:  # noqa: BLE001 - any failure means retry
            last = e
            err(f"redis {cfg.redis_host}:{cfg.redis_port} attempt {attempt + 1}: {e}")
            if attempt < 9:
                await trio.sleep(1.0)
    raise Failure(f"cannot reach redis at {cfg.redis_host}:{cfg.redis_port}: {last}")


# --- listener ----------------------------------------------------------------


def publishable_addr(cfg: Config, addrs: list[multiaddr.Multiaddr]) -> str:
    """The address to publish: our transport, the asked ip, else non-loopback."""

    def protos(a: multiaddr.Multiaddr) -> list[str]:
        return [p.name for p in a.protocols()]

    want = {"tcp": None, "ws": "ws", "wss": "wss", "quic-v1": "quic-v1"}[cfg.transport]
    ours = []
    for a in addrs:
        names = protos(a)
        if want is None and not {"ws", "wss", "quic-v1", "webrtc-direct"} & set(names):
            ours.append(a)
        elif want is not None and want in names:
            ours.append(a)
    ours = ours or addrs
    if not ours:
        raise Failure("the host has no listen address")

    def ip_of(a: multiaddr.Multiaddr) -> str | None:
        for p in ("ip4", "ip6"):
            try:
                return a.value_for_protocol(p)
            except Exception:  # noqa: BLE001 - protocol not in this address
                continue
        return None

    if not cfg.ip_obj.is_unspecified:
        for a in ours:
            if ip_of(a) == cfg.ip:
                return str(a)
    for a in ours:
        ip = ip_of(a)
        if ip and not ipaddress.ip_address(ip).is_loopback and not ipaddress.ip_address(ip).is_unspecified:
            return str(a)
    return str(ours[0])


async def run_listener(cfg: Config) -> int:
    client = await connect_redis(cfg)
    addrs = listen_addrs(cfg)
    host = build_host(cfg, addrs, listener=True)
    pinged = trio.Event()

    async def on_ping(stream) -> None:  # type: ignore[no-untyped-def]
        # Like upstream: one 32-byte ping per stream, echoed once.
        try:
            payload = await stream.read(PING_SIZE)
            if payload:
                err(f"ping from {stream.muxed_conn.peer_id}, answering")
                await stream.write(payload)
                pinged.set()
        except Exception as e:  # noqa: BLE001 - report and reset the stream
            err(f"ping handler error: {type(e).__name__}: {e}")
            try:
                await stream.reset()
            except Exception:  # noqa: BLE001
                pass

    host.set_stream_handler(PING, on_ping)
    ok = False
    try:
        async with host.run(listen_addrs=addrs):
            addr = publishable_addr(cfg, host.get_addrs())
            err(f"listening on {[str(a) for a in host.get_addrs()]}; publishing {addr}")
            client.delete(cfg.redis_key)  # the key must be a fresh list
            if not cfg.unified and cfg.transport in ("ws", "wss"):
                await trio.sleep(0.3)  # upstream settles ws listeners before publishing
            client.rpush(cfg.redis_key, addr)
            err(f"published to {cfg.redis_key}; waiting for a ping ({cfg.timeout} s)")
            with trio.move_on_after(cfg.timeout):
                await pinged.wait()
            if not pinged.is_set():
                raise Failure(f"no ping received within {cfg.timeout} s")
            ok = True
            err(f"ping answered; lingering {cfg.linger()} s before exiting")
            await trio.sleep(cfg.linger())
    except Failure:
        raise
    except BaseException as e:
        if ok and is_teardown_noise(e):
            err(f"listener done (teardown: {e})")
            return 0
        raise
    finally:
        client.close()
    return 0


# --- dialer ------------------------------------------------------------------


async def open_ping_stream(host, peer_id):  # type: ignore[no-untyped-def]
    # upstream: 3 attempts, 0.5 s apart, in case the connection is not ready
    for attempt in range(3):
        try:
            return await host.new_stream(peer_id, [PING])
        except Exception as e:  # noqa: BLE001
            if attempt == 2:
                raise
            err(f"ping stream attempt {attempt + 1}: {e}; retrying")
            await trio.sleep(0.5)


async def ping_once(cfg: Config, stream) -> float:  # type: ignore[no-untyped-def]
    payload = b"\x01" * PING_SIZE  # upstream sends a fixed payload, not random bytes
    start = time.time()
    await stream.write(payload)
    with trio.fail_after(cfg.pong_timeout):
        reply = await stream.read(PING_SIZE)
    rtt = (time.time() - start) * 1000
    if reply != payload:
        raise Failure(f"bad pong: got {len(reply or b'')} byte(s) that differ from the ping")
    return rtt


async def run_dialer(cfg: Config) -> int:
    client = await connect_redis(cfg)
    try:
        popped = client.blpop(cfg.redis_key, timeout=max(1, cfg.timeout))
    finally:
        client.close()
    if not popped:
        raise Failure(f"no listener address in redis key {cfg.redis_key} after {cfg.timeout} s")
    addr = popped[1]
    err(f"listener address: {addr}")
    if "/tls/ws" in addr and cfg.transport == "wss":
        # go publishes wss as /tls/ws; py dials the /wss spelling
        addr = addr.replace("/tls/ws", "/wss")
        err(f"dialing {addr}")
    try:
        info = info_from_p2p_addr(multiaddr.Multiaddr(addr))
    except Exception as e:  # noqa: BLE001
        raise Failure(f"bad listener address {addr!r}: {e}") from None

    # py only registers its WebSocket transport when it has a ws listen
    # address, so the ws/wss dialer listens on /ws too (as upstream's does).
    addrs = listen_addrs(cfg, wss_as_ws=True) if cfg.transport in ("ws", "wss") else None
    host = build_host(cfg, addrs, listener=False)
    printed = False
    try:
        async with host.run(listen_addrs=addrs or []):
            start = time.time()
            await host.connect(info)
            err(f"connected after {(time.time() - start) * 1000:.3f} ms")
            await trio.sleep(0.1)  # upstream's settle delay, inside the timed span
            stream = await open_ping_stream(host, info.peer_id)
            try:
                rtt = await ping_once(cfg, stream)
            except Exception as e:  # noqa: BLE001
                retry = not cfg.unified and cfg.transport in ("ws", "wss")
                words = ("eof", "reset", "closed", "broken", "incomplete")
                if not (retry and any(w in str(e).lower() for w in words)):
                    raise
                err(f"ping failed ({e!r}); one retry on a new stream, as upstream")
                await trio.sleep(0.5)
                try:
                    await stream.close()
                except Exception:  # noqa: BLE001
                    pass
                stream = await open_ping_stream(host, info.peer_id)
                rtt = await ping_once(cfg, stream)
            total = (time.time() - start) * 1000
            err(f"ping rtt {rtt:.3f} ms, handshake+rtt {total:.3f} ms")
            if cfg.unified:
                out = f"latency:\n  handshake_plus_one_rtt: {total}\n  ping_rtt: {rtt}\n  unit: ms\n"
            else:
                out = json.dumps(
                    {"handshakePlusOneRTTMillis": round(total, 3), "pingRTTMilllis": round(rtt, 3)},
                    separators=(",", ":"),
                ) + "\n"
            RESULT.write(out)
            RESULT.flush()
            printed = True
            await stream.close()
            # Upstream's explicit peer close is a no-op on 0.8.1 (no such host
            # method); the connection closes with the host below.
            await trio.sleep(0.1)
    except Failure:
        raise
    except BaseException as e:
        if printed and is_teardown_noise(e):
            err(f"dialer done (teardown: {e})")
            return 0
        raise
    return 0


# --- entry -------------------------------------------------------------------


def configure_logging() -> None:
    debug = (env("DEBUG", "debug") or env("LIBP2P_DEBUG", "libp2p_debug") or "").upper()
    on = debug in ("DEBUG", "1", "TRUE", "YES")
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.DEBUG if on else logging.WARNING,
        format="%(relativeCreated)9.1f %(name)s %(levelname)s %(message)s",
    )
    # py-libp2p sets levels on its own loggers: set them too, as upstream does
    for name in ("libp2p", "libp2p.transport", "libp2p.network", "libp2p.security",
                 "libp2p.stream_muxer", "libp2p.host", "libp2p.protocol_muxer"):
        logging.getLogger(name).setLevel(logging.DEBUG if on else logging.WARNING)
    for name in ("multiaddr", "multiaddr.transforms", "multiaddr.codecs"):
        logging.getLogger(name).setLevel(logging.WARNING)


async def main_async(cfg: Config) -> int:
    err(f"py-libp2p 0.8.1 {'dialer' if cfg.is_dialer else 'listener'} {cfg.label()} "
        f"({'unified-testing' if cfg.unified else 'test-plans'})")
    return await (run_dialer(cfg) if cfg.is_dialer else run_listener(cfg))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--test-plans", action="store_true", help="force test-plans mode")
    mode.add_argument("--unified", action="store_true", help="force unified-testing mode")
    args = ap.parse_args()
    global RESULT
    RESULT = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    unified = args.unified or (not args.test_plans and env("TEST_KEY", "test_key") is not None)
    configure_logging()
    # As PID 1 in a container (or started in the background by a shell) these
    # would be ignored: end at once instead (a dialer's result is flushed).
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        cfg = Config(unified)
        return trio.run(main_async, cfg)
    except BaseException as e:  # noqa: BLE001 - details, then one summary line
        leaves = leaf_errors(e)
        failures = [x for x in leaves if isinstance(x, Failure)]
        if failures:
            err(f"py peer: {failures[0]}")
            return 1
        import traceback

        traceback.print_exception(e, file=sys.stderr)
        real = [x for x in leaves if not is_teardown_noise(x)] or leaves
        err(f"py peer: {type(real[0]).__name__}: {real[0]}")
    return 1


def on_signal(signum: int, frame: object) -> None:
    err(f"py peer: stopped by {signal.Signals(signum).name}")
    os._exit(128 + signum)


def leaf_errors(e: BaseException) -> list[BaseException]:
    """The innermost exceptions of (nested) exception groups: trio nurseries
    wrap what the host's tasks raise."""
    if isinstance(e, BaseExceptionGroup):
        return [leaf for sub in e.exceptions for leaf in leaf_errors(sub)]
    return [e]


if __name__ == "__main__":
    sys.exit(main())
