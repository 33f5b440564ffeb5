#!/usr/bin/env python3
"""Writes key-sigs.txt: RSA and ECDSA signatures for tests/unit/test_keys.c.

Made with the OpenSSL 3 command line (`openssl pkey`, `openssl genpkey`,
`openssl dgst -sha256 -sign`), never with our own code, so the test checks
our GnuTLS verification against an independent signer. Usage:

    python3 tests/vectors/make-key-sigs.py > tests/vectors/key-sigs.txt

1. The spec's RSA and ECDSA private keys (peer-ids.txt, rsa_priv and
   ecdsa_priv, from libp2p/specs peer-ids.md "Test vectors") are unwrapped
   from their PrivateKey protobuf (RSA: PKCS#1 DER; ECDSA: SEC1 DER). As the
   spec asks, the public key OpenSSL derives from each must equal the spec's
   public key (rsa_pub, ecdsa_pub); the script stops otherwise.
2. Each signs MSG with SHA-256: RSASSA-PKCS1-v1_5 for RSA (OpenSSL's default
   padding), DER ECDSA for ECDSA.
3. Fresh keys (random, so a rerun gives other values) for the edges: P-384
   and P-521 ECDSA (SHA-256 too, as libp2p uses for every curve), RSA 2048
   (smallest accepted), RSA 1024 (refused), RSA-PSS 2048 (an SPKI whose
   algorithm is id-RSASSA-PSS, not rsaEncryption: refused), RSA 8192 (its
   DER is over our 1024-byte cap: refused before use), and EC keys on curves
   we refuse under the ECDSA type: P-224 and secp256k1 (which has its own
   key type).
"""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
# What a Noise handshake signs: the prefix and a 32-byte static key.
MSG = b"noise-libp2p-static-key:" + bytes(range(32))


def openssl(*args, data=None):
    return subprocess.run(["openssl", *args], input=data, check=True,
                          stdout=subprocess.PIPE).stdout


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def pb(key_type, data):
    """PublicKey / PrivateKey protobuf, deterministic encoding."""
    return bytes([0x08, key_type, 0x12]) + varint(len(data)) + data


def unpb(blob):
    assert blob[0] == 0x08 and blob[2] == 0x12
    n, shift, i = 0, 0, 3
    while True:
        n |= (blob[i] & 0x7F) << shift
        shift += 7
        i += 1
        if not blob[i - 1] & 0x80:
            break
    assert len(blob) == i + n
    return blob[1], blob[i:]


def spec(name):
    for line in open(os.path.join(HERE, "peer-ids.txt")):
        if line.startswith(name + " "):
            return bytes.fromhex(line.split()[1])
    sys.exit("missing " + name)


def sign(pem_path):
    return openssl("dgst", "-sha256", "-sign", pem_path, data=MSG)


def spki(pem_path):
    return openssl("pkey", "-in", pem_path, "-pubout", "-outform", "DER")


def main():
    out = [
        "# RSA and ECDSA signatures, made by tests/vectors/make-key-sigs.py",
        "# with " + openssl("version").decode().strip() + " (see the script).",
        "# <name> <hex>; *_pub are PublicKey protobufs, *_sig signatures of msg.",
        "msg " + MSG.hex(),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for name, key_type, form in (("rsa", 0, "RSA"), ("ecdsa", 3, "EC")):
            t, der = unpb(spec(name + "_priv"))
            assert t == key_type
            pem = os.path.join(tmp, name + ".pem")
            pem_data = openssl(form.lower(), "-inform", "DER", data=der)
            open(pem, "wb").write(pem_data)
            if pb(key_type, spki(pem)) != spec(name + "_pub"):
                sys.exit(name + ": public key differs from the spec's")
            out.append(name + "_sig " + sign(pem).hex())

        fresh = (
            ("ecdsa384", 3, ["-algorithm", "EC", "-pkeyopt",
                             "ec_paramgen_curve:P-384"]),
            ("ecdsa521", 3, ["-algorithm", "EC", "-pkeyopt",
                             "ec_paramgen_curve:P-521"]),
            ("rsa2048", 0, ["-algorithm", "RSA", "-pkeyopt",
                            "rsa_keygen_bits:2048"]),
            ("rsa1024", 0, ["-algorithm", "RSA", "-pkeyopt",
                            "rsa_keygen_bits:1024"]),
            ("rsapss", 0, ["-algorithm", "RSA-PSS", "-pkeyopt",
                           "rsa_keygen_bits:2048"]),
            ("rsa8192", 0, ["-algorithm", "RSA", "-pkeyopt",
                            "rsa_keygen_bits:8192"]),
            ("ecdsa224", 3, ["-algorithm", "EC", "-pkeyopt",
                             "ec_paramgen_curve:P-224"]),
            ("ecdsak1", 3, ["-algorithm", "EC", "-pkeyopt",
                            "ec_paramgen_curve:secp256k1"]),
        )
        for name, key_type, opts in fresh:
            pem = os.path.join(tmp, name + ".pem")
            openssl("genpkey", "-quiet", *opts, "-out", pem)
            out.append(name + "_pub " + pb(key_type, spki(pem)).hex())
            if name not in ("rsa8192", "ecdsa224", "ecdsak1"):
                out.append(name + "_sig " + sign(pem).hex())
    print("\n".join(out))


main()
