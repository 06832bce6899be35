#!/usr/bin/env python3
"""Generate imago's image test vectors: <case>.bin + <case>.expect.

Every vector is verified against the keyring {key-ed25519.pub.pem,
key-p256.pub.pem} and must fail (or pass) with the IMAGO_E* name in its
.expect file.  tests/unit/test_image_vectors.c runs them all.

The private keys exist only while this script runs (throwaway, generated
fresh, never written); only the public keys are kept.  Re-running therefore
changes every signature and key: commit the whole directory together.

    python3 tests/vectors/image/gen_vectors.py   # from the repository root

Needs python3 and Debian's python3-cryptography.  Images are built with the
helpers of tests/interop/mcuboot_ref.py (the independent imgtool reference)
and then broken in exactly one way each, re-hashed and re-signed where the
case needs the other checks to pass.
"""

import hashlib
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "interop"))
import mcuboot_ref as ref  # noqa: E402

from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, ed25519  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed  # noqa: E402

ED = ed25519.Ed25519PrivateKey.generate()
EC = ec.generate_private_key(ec.SECP256R1())
OTHER = ed25519.Ed25519PrivateKey.generate()  # not in the keyring

BODY = bytes((i * 7 + 3) & 0xFF for i in range(300))


def keyhash(key):
    return hashlib.sha256(ref.spki(key.public_key())).digest()


def sig_tlvs(key, digest, kh=None):
    if isinstance(key, ed25519.Ed25519PrivateKey):
        s, t = key.sign(digest), ref.T_ED25519
    else:
        s, t = key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256()))), ref.T_ECDSA
    return [(ref.T_KEYHASH, kh or keyhash(key)), (t, s)]


def build(key=ED, sec_cnt=None, prot=None, tlvs=None, hdr=None, body=BODY, hdr_size=32,
          prot_size=None, tlv_tot_delta=0):
    """An image; tlvs(digest) returns the unprotected TLV list."""
    prot_list = prot if prot is not None else (
        [(ref.T_SEC_CNT, struct.pack("<I", sec_cnt))] if sec_cnt is not None else [])
    prot_b = b"".join(ref.tlv(t, v) for t, v in prot_list)
    prot_area = struct.pack("<HH", ref.TLV_PROT_INFO_MAGIC, 4 + len(prot_b)) + prot_b if prot_list else b""
    psize = len(prot_area) if prot_size is None else prot_size
    h = dict(magic=ref.IMAGE_MAGIC, load=0, hdr_size=hdr_size, prot=psize, img_size=len(body),
             flags=0, ver=(1, 2, 3, 4))
    h.update(hdr or {})
    header = struct.pack(ref.HDR_FMT, h["magic"], h["load"], h["hdr_size"], h["prot"],
                         h["img_size"], h["flags"], *h["ver"], 0)
    img = bytearray(header + b"\xff" * (hdr_size - 32) + body + prot_area)
    digest = hashlib.sha256(bytes(img)).digest()
    lst = tlvs(digest) if tlvs else [(ref.T_SHA256, digest)] + sig_tlvs(key, digest)
    tb = b"".join(ref.tlv(t, v) for t, v in lst)
    img += struct.pack("<HH", ref.TLV_INFO_MAGIC, 4 + len(tb) + tlv_tot_delta) + tb
    return bytes(img)


def flip(b, off):
    b = bytearray(b)
    b[off] ^= 0x01
    return bytes(b)


def set32(b, off, v):
    b = bytearray(b)
    b[off:off + 4] = struct.pack("<I", v)
    return bytes(b)


def set16(b, off, v):
    b = bytearray(b)
    b[off:off + 2] = struct.pack("<H", v)
    return bytes(b)


def cases():
    ok = build(sec_cnt=5)
    tlv_off = 32 + len(BODY) + 12
    c = {}
    c["valid-ed25519-seccnt"] = (ok, "IMAGO_OK")
    c["valid-p256"] = (build(key=EC), "IMAGO_OK")
    c["valid-hdr512-padded"] = (build(key=EC, sec_cnt=1, hdr_size=512) + b"\xff" * 1000, "IMAGO_OK")
    c["valid-unknown-tlv-skipped"] = (
        build(tlvs=lambda d: [(ref.T_SHA256, d), (0x7777, b"xyz")] + sig_tlvs(ED, d)), "IMAGO_OK")
    c["valid-two-sigs-one-unknown-key"] = (
        build(tlvs=lambda d: [(ref.T_SHA256, d)] + sig_tlvs(OTHER, d) + sig_tlvs(ED, d)), "IMAGO_OK")
    c["bad-magic"] = (flip(ok, 0), "IMAGO_EIMG_MAGIC")
    c["truncated-header"] = (ok[:20], "IMAGO_EIMG_HDR_TRUNC")
    c["empty-file"] = (b"", "IMAGO_EIMG_HDR_TRUNC")
    c["header-size-below-32"] = (set16(ok, 8, 16), "IMAGO_EIMG_HDR_SIZE")
    c["truncated-body"] = (ok[:32 + 100], "IMAGO_EIMG_BODY_TRUNC")
    c["truncated-tlv-info"] = (ok[:tlv_off + 2], "IMAGO_EIMG_TLV_TRUNC")
    c["tlv-total-past-end"] = (build(sec_cnt=5, tlv_tot_delta=8), "IMAGO_EIMG_TLV_TRUNC")
    c["tlv-length-past-area"] = (set16(ok, tlv_off + 4 + 2, 0x400), "IMAGO_EIMG_TLV_LEN")
    c["tlv-header-cut-by-area"] = (
        build(tlvs=lambda d: [(ref.T_SHA256, d)] + sig_tlvs(ED, d), tlv_tot_delta=-(64 + 2)),
        "IMAGO_EIMG_TLV_LEN")
    c["tlv-info-bad-magic"] = (set16(ok, tlv_off, 0x6908), "IMAGO_EIMG_TLV_MAGIC")
    c["img-size-overflow"] = (set32(ok, 12, 0xFFFFFFF0), "IMAGO_EIMG_SIZE_OVERFLOW")
    c["img-size-overflow-with-prot"] = (set32(ok, 12, 0xFFFFFFFF - 32 - 4), "IMAGO_EIMG_SIZE_OVERFLOW")
    c["img-size-huge"] = (set32(ok, 12, 0x7FFFFFFF), "IMAGO_EIMG_BODY_TRUNC")
    c["hash-mismatch"] = (flip(ok, 40), "IMAGO_EIMG_HASH")
    c["hash-mismatch-version-changed"] = (flip(ok, 20), "IMAGO_EIMG_HASH")
    c["hash-mismatch-seccnt-raised"] = (set32(ok, 32 + len(BODY) + 8, 0xFFFFFFFF), "IMAGO_EIMG_HASH")
    c["unknown-key"] = (build(key=OTHER), "IMAGO_EIMG_KEY_UNKNOWN")
    c["sig-without-keyhash"] = (
        build(tlvs=lambda d: [(ref.T_SHA256, d), sig_tlvs(ED, d)[1]]), "IMAGO_EIMG_KEY_UNKNOWN")
    c["bad-signature-ed25519"] = (flip(ok, len(ok) - 10), "IMAGO_EIMG_SIG_BAD")
    p = build(key=EC)
    c["bad-signature-p256"] = (flip(p, len(p) - 3), "IMAGO_EIMG_SIG_BAD")
    c["signature-type-mismatch"] = (
        build(tlvs=lambda d: [(ref.T_SHA256, d), (ref.T_KEYHASH, keyhash(EC)), sig_tlvs(ED, d)[1]]),
        "IMAGO_EIMG_SIG_BAD")
    c["signature-over-other-image"] = (
        build(tlvs=lambda d: [(ref.T_SHA256, d)] + sig_tlvs(ED, hashlib.sha256(b"other").digest())),
        "IMAGO_EIMG_SIG_BAD")
    c["missing-signature"] = (build(tlvs=lambda d: [(ref.T_SHA256, d)]), "IMAGO_EIMG_SIG_MISSING")
    c["keyhash-only"] = (build(tlvs=lambda d: [(ref.T_SHA256, d), (ref.T_KEYHASH, keyhash(ED))]),
                         "IMAGO_EIMG_SIG_MISSING")
    c["missing-hash"] = (build(tlvs=lambda d: sig_tlvs(ED, d)), "IMAGO_EIMG_NO_HASH")
    c["duplicate-hash"] = (build(tlvs=lambda d: [(ref.T_SHA256, d), (ref.T_SHA256, d)] + sig_tlvs(ED, d)),
                           "IMAGO_EIMG_TLV_DUP")
    c["hash-bad-length"] = (build(tlvs=lambda d: [(ref.T_SHA256, d[:31])] + sig_tlvs(ED, d)),
                            "IMAGO_EIMG_TLV_BAD")
    c["duplicate-security-counter"] = (
        build(prot=[(ref.T_SEC_CNT, struct.pack("<I", 1)), (ref.T_SEC_CNT, struct.pack("<I", 9))]),
        "IMAGO_EIMG_SECCNT_DUP")
    c["unprotected-security-counter"] = (
        build(tlvs=lambda d: [(ref.T_SEC_CNT, struct.pack("<I", 9)), (ref.T_SHA256, d)] + sig_tlvs(ED, d)),
        "IMAGO_EIMG_SECCNT_UNPROT")
    c["security-counter-bad-length"] = (build(prot=[(ref.T_SEC_CNT, b"\x01\x02")]), "IMAGO_EIMG_TLV_BAD")
    c["protected-size-mismatch"] = (build(sec_cnt=5, prot_size=16), "IMAGO_EIMG_PROT_SIZE")
    c["protected-size-too-small"] = (build(sec_cnt=5, prot_size=2), "IMAGO_EIMG_PROT_SIZE")
    c["protected-bad-magic"] = (
        set16(build(sec_cnt=5), 32 + len(BODY), 0x6907),
        "IMAGO_EIMG_TLV_MAGIC")
    return c


def main():
    for name in os.listdir(HERE):
        if name.endswith((".bin", ".expect")):
            os.unlink(os.path.join(HERE, name))
    for key, name in ((ED, "key-ed25519.pub.pem"), (EC, "key-p256.pub.pem")):
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo))
    all_cases = cases()
    for name, (data, expect) in sorted(all_cases.items()):
        with open(os.path.join(HERE, name + ".bin"), "wb") as f:
            f.write(data)
        with open(os.path.join(HERE, name + ".expect"), "w") as f:
            f.write(expect + "\n")
    print("wrote %d vectors to %s" % (len(all_cases), HERE))


if __name__ == "__main__":
    main()
