#!/usr/bin/env python3
"""Independent reference of MCUboot's imgtool `sign` and `verify` for imago's
interoperability tests.

imgtool itself lives only on PyPI, which the build machines cannot reach, so
this file re-implements the parts imago must agree with, written from
MCUboot's documented image format (docs/design.md, bootutil/image.h) and
imgtool's observable behaviour -- not copied from imgtool:

  header (32 bytes, <IIHHIIBBHII): magic 0x96f3b83d, load_addr, hdr_size,
      protect_tlv_size, img_size, flags, version major/minor/revision/build, pad
  --pad-header: hdr_size bytes of the erased value are prepended to the input
  protected TLVs (only with --security-counter): {0x6908, total}, SEC_CNT 0x50
  TLVs: {0x6907, total}, SHA256 0x10, KEYHASH 0x01 (SHA-256 of the SPKI DER),
      ED25519 0x24 (Ed25519 over the 32-byte digest) or ECDSA_SIG 0x22
      (DER ECDSA P-256 over the digest, i.e. over SHA-256 of the hashed bytes)
  --pad: erased bytes up to slot_size, trailer = max_sectors*3*align + 8*4 + 16,
      boot magic in the last 16 bytes, --confirm: image_ok 0x01 at -(16+8)

Flags follow imgtool's long names so a test can swap in the real imgtool.
Only python3 and Debian's python3-cryptography are needed.
"""

import argparse
import hashlib
import re
import struct
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

IMAGE_MAGIC = 0x96F3B83D
HDR_FMT = "<IIHHIIBBHII"
TLV_INFO_MAGIC = 0x6907
TLV_PROT_INFO_MAGIC = 0x6908
T_KEYHASH, T_SHA256, T_ECDSA, T_ED25519, T_SEC_CNT = 0x01, 0x10, 0x22, 0x24, 0x50
MAX_ALIGN = 8
BOOT_MAGIC = bytes.fromhex("77c295f360d2ef7f3552500f2cb67980")


def parse_version(s):
    m = re.fullmatch(r"(\d+)(?:\.(\d+)(?:\.(\d+)(?:\+(\d+))?)?)?", s)
    if not m:
        raise SystemExit("bad version %r" % s)
    v = [int(x) if x is not None else 0 for x in m.groups()]
    if v[0] > 255 or v[1] > 255 or v[2] > 65535 or v[3] > 0xFFFFFFFF:
        raise SystemExit("version out of range")
    return v


def load_private(path):
    with open(path, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1":
        return key
    raise SystemExit("%s: not an Ed25519 or P-256 key" % path)


def load_public(path):
    with open(path, "rb") as f:
        data = f.read()
    try:
        return serialization.load_pem_public_key(data)
    except ValueError:
        return serialization.load_pem_private_key(data, password=None).public_key()


def spki(pub):
    return pub.public_bytes(serialization.Encoding.DER,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


def tlv(kind, value):
    return struct.pack("<HH", kind, len(value)) + value


def trailer_size(align, max_sectors):
    if align not in (1, 2, 4, 8):
        raise SystemExit("bad align")
    return max_sectors * 3 * align + MAX_ALIGN * 4 + len(BOOT_MAGIC)


def cmd_sign(a):
    key = load_private(a.key)
    ver = parse_version(a.version)
    erased = int(a.erased_val, 0)
    with open(a.infile, "rb") as f:
        body = f.read()
    payload = bytearray(bytes([erased]) * a.header_size if a.pad_header else b"")
    payload += body
    prot = b""
    if a.security_counter is not None:
        if a.security_counter == "auto":
            cnt = (ver[0] << 24) | (ver[1] << 16) | ver[2]
        else:
            cnt = int(a.security_counter, 0)
        inner = tlv(T_SEC_CNT, struct.pack("<I", cnt))
        prot = struct.pack("<HH", TLV_PROT_INFO_MAGIC, 4 + len(inner)) + inner
    hdr = struct.pack(HDR_FMT, IMAGE_MAGIC, 0, a.header_size, len(prot),
                      len(payload) - a.header_size, 0, ver[0], ver[1], ver[2], ver[3], 0)
    payload[:len(hdr)] = hdr
    payload += prot
    digest = hashlib.sha256(payload).digest()
    pub = key.public_key()
    if isinstance(key, ed25519.Ed25519PrivateKey):
        sig, sig_t = key.sign(digest), T_ED25519
    else:
        sig, sig_t = key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256()))), T_ECDSA
    tlvs = tlv(T_SHA256, digest) + tlv(T_KEYHASH, hashlib.sha256(spki(pub)).digest()) + tlv(sig_t, sig)
    payload += struct.pack("<HH", TLV_INFO_MAGIC, 4 + len(tlvs)) + tlvs
    if a.pad or a.confirm:
        tsize = trailer_size(a.align, a.max_sectors)
        padding = a.slot_size - (len(payload) + tsize)
        if padding < 0:
            raise SystemExit("image (0x%x) + trailer (0x%x) exceeds slot size 0x%x"
                             % (len(payload), tsize, a.slot_size))
        pad = bytearray([erased]) * (padding + tsize - len(BOOT_MAGIC)) + BOOT_MAGIC
        if a.confirm:
            pad[-(len(BOOT_MAGIC) + MAX_ALIGN)] = 0x01
        payload += pad
    with open(a.outfile, "wb") as f:
        f.write(payload)
    return 0


def verify(b, pubs):
    """MCUboot bootutil's checks; returns (ok, message)."""
    try:
        return _verify(b, pubs)
    except struct.error:
        return False, "truncated"


def _verify(b, pubs):
    if len(b) < 32:
        return False, "truncated header"
    (magic, _, hdr_size, prot_size, img_size, _, maj, mnr, rev, bld, _) = struct.unpack(
        HDR_FMT, b[:32])
    if magic != IMAGE_MAGIC:
        return False, "bad magic"
    if hdr_size < 32:
        return False, "bad header size"
    off = hdr_size + img_size
    if off > len(b):
        return False, "truncated body"
    cnt = None
    if prot_size:
        m, tot = struct.unpack("<HH", b[off:off + 4])
        if m != TLV_PROT_INFO_MAGIC or tot != prot_size:
            return False, "bad protected TLV info"
        p, end = off + 4, off + prot_size
        while p < end:
            t, ln = struct.unpack("<HH", b[p:p + 4])
            if p + 4 + ln > end:
                return False, "protected TLV past its area"
            if t == T_SEC_CNT:
                if cnt is not None or ln != 4:
                    return False, "bad security counter"
                cnt = struct.unpack("<I", b[p + 4:p + 8])[0]
            p += 4 + ln
    hashed_end = off + prot_size
    if hashed_end + 4 > len(b):
        return False, "truncated TLV info"
    m, tot = struct.unpack("<HH", b[hashed_end:hashed_end + 4])
    if m != TLV_INFO_MAGIC or hashed_end + tot > len(b):
        return False, "bad TLV info"
    digest = hashlib.sha256(b[:hashed_end]).digest()
    keyhashes = {hashlib.sha256(spki(k)).digest(): k for k in pubs}
    p, end, key, hash_ok, sig_ok = hashed_end + 4, hashed_end + tot, None, False, False
    while p < end:
        t, ln = struct.unpack("<HH", b[p:p + 4])
        v = b[p + 4:p + 4 + ln]
        if p + 4 + ln > end:
            return False, "TLV past its area"
        if t == T_SHA256:
            if hash_ok:
                return False, "duplicate hash"
            if v != digest:
                return False, "hash mismatch"
            hash_ok = True
        elif t == T_SEC_CNT:
            return False, "unprotected security counter"
        elif t == T_KEYHASH:
            key = keyhashes.get(v)
        elif t in (T_ED25519, T_ECDSA) and key is not None:
            try:
                if t == T_ED25519 and isinstance(key, ed25519.Ed25519PublicKey):
                    key.verify(v, digest)
                elif t == T_ECDSA and isinstance(key, ec.EllipticCurvePublicKey):
                    key.verify(v, digest, ec.ECDSA(Prehashed(hashes.SHA256())))
                else:
                    return False, "signature type does not match the key"
                sig_ok = True
            except InvalidSignature:
                return False, "bad signature"
            key = None
        p += 4 + ln
    if not hash_ok:
        return False, "no hash"
    if not sig_ok:
        return False, "no signature by a known key"
    version = "%d.%d.%d+%d" % (maj, mnr, rev, bld)
    return True, "version %s, security counter %s" % (version, cnt)


def cmd_verify(a):
    pubs = [load_public(k) for k in a.key]
    with open(a.image, "rb") as f:
        b = f.read()
    ok, msg = verify(b, pubs)
    print(("OK: " if ok else "FAIL: ") + msg)
    return 0 if ok else 1


def cmd_keygen(a):
    if a.type == "ed25519":
        key = ed25519.Ed25519PrivateKey.generate()
    else:
        key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    import os
    fd = os.open(a.out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    with open(a.out + ".pub", "xb") as f:
        f.write(key.public_key().public_bytes(serialization.Encoding.PEM,
                                              serialization.PublicFormat.SubjectPublicKeyInfo))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sign")
    s.add_argument("-k", "--key", required=True)
    s.add_argument("-v", "--version", required=True)
    s.add_argument("--security-counter")
    s.add_argument("-H", "--header-size", type=lambda x: int(x, 0), default=32)
    s.add_argument("--pad-header", action="store_true")
    s.add_argument("--pad", action="store_true")
    s.add_argument("--confirm", action="store_true")
    s.add_argument("-S", "--slot-size", type=lambda x: int(x, 0), default=0)
    s.add_argument("--align", type=int, default=1)
    s.add_argument("-M", "--max-sectors", type=int, default=128)
    s.add_argument("-R", "--erased-val", default="0xff")
    s.add_argument("infile")
    s.add_argument("outfile")
    v = sub.add_parser("verify")
    v.add_argument("-k", "--key", action="append", required=True)
    v.add_argument("image")
    g = sub.add_parser("keygen")
    g.add_argument("-t", "--type", choices=["ed25519", "p256"], required=True)
    g.add_argument("-o", "--out", required=True)
    a = ap.parse_args()
    return {"sign": cmd_sign, "verify": cmd_verify, "keygen": cmd_keygen}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
