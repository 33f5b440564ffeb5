"""Check what the py listener's identify answer carries (run in the py venv).

Used as a DIALER_CMD of tests/interop/run-pair.sh; prints the Identify fields
it received on stderr and always exits 1 (so run-pair reports FAIL by
design: it is a probe, not a peer):

    PAIR_LOG_DIR=/tmp/idp tests/interop/run-pair.sh tests/interop/py/run.sh \
      "$(tests/interop/py/install.sh)/bin/python tests/interop/py/identify-probe.py"
    grep fields /tmp/idp/dialer.err
"""

import os
import sys

import multiaddr
import redis
import trio

from libp2p import new_host
from libp2p.identity.identify.pb.identify_pb2 import Identify
from libp2p.peer.peerinfo import info_from_p2p_addr


def split_varint_frame(data: bytes) -> bytes:
    n = shift = i = 0
    while True:
        if i >= len(data) or shift > 28:
            raise ValueError("no complete varint length prefix")
        b = data[i]
        n |= (b & 0x7F) << shift
        i += 1
        shift += 7
        if b < 0x80:
            break
    if len(data) - i < n:
        raise ValueError(f"message truncated: {len(data) - i} of {n} bytes")
    return data[i : i + n]


async def main() -> None:
    host_port = os.environ["redis_addr"].rsplit(":", 1)
    r = redis.Redis(host=host_port[0], port=int(host_port[1]), decode_responses=True)
    addr = r.blpop("listenerAddr", 20)[1]
    info = info_from_p2p_addr(multiaddr.Multiaddr(addr))
    host = new_host()
    async with host.run([]):
        await host.connect(info)
        stream = await host.new_stream(info.peer_id, ["/ipfs/id/1.0.0"])
        data = b""
        with trio.move_on_after(5):
            while True:
                try:
                    chunk = await stream.read()
                except Exception:  # noqa: BLE001 - EOF ends the message
                    break
                if not chunk:
                    break
                data += chunk
        msg = Identify()
        msg.ParseFromString(split_varint_frame(data))
        fields = [f"{f.name}({f.number})" for f, _ in msg.ListFields()]
        print("identify fields present:", fields, file=sys.stderr)


trio.run(main)
sys.exit(1)
