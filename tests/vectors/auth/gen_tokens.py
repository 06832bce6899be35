#!/usr/bin/env python3
"""Writes the access-token vectors (token-*.token + .expect) of docs/auth.md.

Secret: bytes 0x00..0x1f; verified at now = 1700000000 (test_auth_token.c).
Re-run only to add vectors; the files are committed.
"""
import hashlib, hmac, struct

SECRET = bytes(range(32))
NOW = 1700000000
TID = bytes(range(0xa0, 0xb0))


def body(version=1, user=42, roles=0x6, iat=NOW - 10, exp=NOW + 600):
    return bytes([version]) + TID + struct.pack(">QIqq", user, roles, iat, exp)


def tok(b, secret=SECRET, prefix="at1."):
    m = hmac.new(secret, b"imago-access-v1" + b, hashlib.sha256).digest()
    return prefix + b.hex() + "." + m.hex()


good = tok(body())
vec = {
    "ok": (good, "IMAGO_OK"),
    "expired": (tok(body(iat=NOW - 700, exp=NOW - 100)), "IMAGO_EAUTH_TOKEN_EXPIRED"),
    "expires-now": (tok(body(iat=NOW - 600, exp=NOW)), "IMAGO_EAUTH_TOKEN_EXPIRED"),
    "issued-in-future": (tok(body(iat=NOW + 61, exp=NOW + 600)), "IMAGO_EAUTH_TOKEN_NOTYET"),
    "skew-ok": (tok(body(iat=NOW + 60, exp=NOW + 600)), "IMAGO_OK"),
    "bad-mac": (good[:-1] + ("0" if good[-1] != "0" else "1"), "IMAGO_EAUTH_TOKEN_SIG"),
    "other-key": (tok(body(), secret=b"\xff" * 32), "IMAGO_EAUTH_TOKEN_SIG"),
    "tampered-user": (
        "at1." + body(user=1).hex() + good[good.index(".", 4):], "IMAGO_EAUTH_TOKEN_SIG"),
    "tampered-roles": (
        "at1." + body(roles=0xffffffff).hex() + good[good.index(".", 4):], "IMAGO_EAUTH_TOKEN_SIG"),
    "tampered-expiry": (
        "at1." + body(exp=NOW + 3590).hex() + good[good.index(".", 4):], "IMAGO_EAUTH_TOKEN_SIG"),
    "uppercase-hex": (good.upper().replace("AT1.", "at1."), "IMAGO_EAUTH_TOKEN_FORMAT"),
    "trailing-byte": (good + "0", "IMAGO_EAUTH_TOKEN_FORMAT"),
    "trailing-newline": (good + "\n", "IMAGO_EAUTH_TOKEN_FORMAT"),
    "truncated": (good[:-1], "IMAGO_EAUTH_TOKEN_FORMAT"),
    "prefix-at2": ("at2." + good[4:], "IMAGO_EAUTH_TOKEN_FORMAT"),
    "no-dot": (good.replace(".", "0", 2).replace("at10", "at1."), "IMAGO_EAUTH_TOKEN_FORMAT"),
    "empty-mac": (good[: good.index(".", 4) + 1], "IMAGO_EAUTH_TOKEN_FORMAT"),
    "empty": ("", "IMAGO_EAUTH_TOKEN_FORMAT"),
    "jwt-alg-none": ("eyJhbGciOiJub25lIn0.eyJzdWIiOjQyfQ.", "IMAGO_EAUTH_TOKEN_FORMAT"),
    "version-2": (tok(body(version=2)), "IMAGO_EAUTH_TOKEN_FORMAT"),
    "user-zero": (tok(body(user=0)), "IMAGO_EAUTH_TOKEN_FORMAT"),
    "lifetime-too-long": (tok(body(iat=NOW - 10, exp=NOW + 3600)), "IMAGO_EAUTH_TOKEN_FORMAT"),
    "expiry-before-issue": (tok(body(iat=NOW, exp=NOW - 1)), "IMAGO_EAUTH_TOKEN_FORMAT"),
    "issued-negative": (tok(body(iat=-(2**62), exp=NOW)), "IMAGO_EAUTH_TOKEN_FORMAT"),
    "space-inside": (good[:50] + " " + good[51:], "IMAGO_EAUTH_TOKEN_FORMAT"),
}
for name, (t, e) in vec.items():
    open("token-%s.token" % name, "w").write(t)
    open("token-%s.expect" % name, "w").write(e + "\n")
