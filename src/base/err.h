/*
 * imago error codes.
 *
 * Every function that can fail returns an int: 0 (IMAGO_OK) on success, a
 * negative IMAGO_E* code on failure.  Codes are stable: tests and test
 * vectors name them, so a code is never renumbered or reused.  Add new codes
 * at the end of their group.
 *
 * imago_strerror() returns a static, human-readable description;
 * imago_errname() returns the symbolic name ("IMAGO_EIMG_MAGIC") and
 * imago_err_from_name() maps a name back (used by vector files).  None of
 * them allocate; all are safe to call from any thread.
 */
#ifndef IMAGO_BASE_ERR_H
#define IMAGO_BASE_ERR_H

/* X(name, value, description) */
#define IMAGO_ERR_LIST(X)                                                                          \
        /* generic */                                                                              \
        X(IMAGO_OK, 0, "success")                                                                  \
        X(IMAGO_EINVAL, -1, "invalid argument")                                                    \
        X(IMAGO_ENOMEM, -2, "out of memory")                                                       \
        X(IMAGO_EIO, -3, "input/output error")                                                     \
        X(IMAGO_ETRUNC, -4, "input truncated")                                                     \
        X(IMAGO_ETOOBIG, -5, "input larger than allowed")                                          \
        X(IMAGO_EMALFORMED, -6, "malformed input")                                                 \
        X(IMAGO_EOVERFLOW, -7, "integer overflow")                                                 \
        X(IMAGO_ENOTFOUND, -8, "not found")                                                        \
        X(IMAGO_EEXIST, -9, "already exists")                                                      \
        X(IMAGO_EPERM, -10, "operation not permitted")                                             \
        X(IMAGO_ECRYPTO, -11, "cryptographic library failure")                                     \
        X(IMAGO_EUNSUPPORTED, -12, "unsupported")                                                  \
        X(IMAGO_ESTATE, -13, "operation not valid in the current state")                           \
        X(IMAGO_EUSAGE, -14, "bad command-line usage")                                             \
        X(IMAGO_ETRAILING, -15, "trailing bytes after the end of the input")                       \
        X(IMAGO_ERANGE, -16, "number out of range")                                                \
        /* keys */                                                                                 \
        X(IMAGO_EKEY_FORMAT, -100, "key file is not a supported key")                              \
        X(IMAGO_EKEY_PASSPHRASE, -101, "wrong or missing key passphrase")                          \
        X(IMAGO_EKEY_TYPE, -102, "key type does not match")                                        \
        X(IMAGO_EKEY_PERM, -103, "private key file is readable by others")                         \
        /* signed images */                                                                        \
        X(IMAGO_EIMG_MAGIC, -200, "image: bad header magic")                                       \
        X(IMAGO_EIMG_HDR_TRUNC, -201, "image: header truncated")                                   \
        X(IMAGO_EIMG_HDR_SIZE, -202, "image: invalid header size")                                 \
        X(IMAGO_EIMG_SIZE_OVERFLOW, -203, "image: sizes overflow")                                 \
        X(IMAGO_EIMG_BODY_TRUNC, -204, "image: body truncated")                                    \
        X(IMAGO_EIMG_TLV_TRUNC, -205, "image: TLV area truncated")                                 \
        X(IMAGO_EIMG_TLV_MAGIC, -206, "image: bad TLV info magic")                                 \
        X(IMAGO_EIMG_TLV_LEN, -207, "image: TLV length past the end of its area")                  \
        X(IMAGO_EIMG_PROT_SIZE, -208, "image: protected TLV size does not match its area")         \
        X(IMAGO_EIMG_NO_HASH, -209, "image: no SHA256 TLV")                                        \
        X(IMAGO_EIMG_HASH, -210, "image: hash mismatch")                                           \
        X(IMAGO_EIMG_KEY_UNKNOWN, -211, "image: signed by an unknown key")                         \
        X(IMAGO_EIMG_SIG_BAD, -212, "image: bad signature")                                        \
        X(IMAGO_EIMG_SIG_MISSING, -213, "image: no signature")                                     \
        X(IMAGO_EIMG_SECCNT_DUP, -214, "image: duplicate security counter")                        \
        X(IMAGO_EIMG_SECCNT_UNPROT, -215, "image: security counter outside the protected area")    \
        X(IMAGO_EIMG_TLV_DUP, -216, "image: duplicate TLV")                                        \
        X(IMAGO_EIMG_TLV_BAD, -217, "image: TLV has an invalid length for its type")               \
        X(IMAGO_EIMG_TOO_LARGE, -218, "image: does not fit its slot")                              \
        X(IMAGO_EIMG_FLAGS, -219, "image: unsupported header flags")                               \
        X(IMAGO_EIMG_VERSION, -220, "image: invalid version string")                               \
        /* PKCS#11 (codes -500...) and secret store (-600...) */                                   \
        X(IMAGO_EP11_MODULE, -500, "pkcs11: cannot load the module")                               \
        X(IMAGO_EP11_TOKEN, -501, "pkcs11: token not found")                                       \
        X(IMAGO_EP11_PIN, -502, "pkcs11: wrong PIN")                                               \
        X(IMAGO_EP11_PIN_LOCKED, -503, "pkcs11: PIN locked")                                       \
        X(IMAGO_EP11_KEY, -504, "pkcs11: key not found")                                           \
        X(IMAGO_EP11_URI, -505, "pkcs11: malformed pkcs11: URI")                                   \
        X(IMAGO_EP11_FAIL, -506, "pkcs11: the token refused the operation")                        \
        X(IMAGO_EP11_DECRYPT, -507, "pkcs11: decryption failed authentication")                    \
        X(IMAGO_EP11_EXISTS, -508, "pkcs11: an object with that label already exists")             \
        X(IMAGO_ESTORE_FORMAT, -600, "store: not a store file")                                    \
        X(IMAGO_ESTORE_AUTH, -601, "store: authentication failed (tampered or another device)")    \
        X(IMAGO_ESTORE_ROLLBACK, -602, "store: file rolled back to an older state")                \
        X(IMAGO_ESTORE_FULL, -603, "store: no space left")                                         \
        X(IMAGO_ESTORE_RECORD_SIZE, -604, "store: record too large")                               \
        X(IMAGO_ESTORE_NOKEY, -605, "store: store key not in the token")                           \
        X(IMAGO_ESTORE_CORRUPT, -606, "store: no intact copy")                                     \
        X(IMAGO_ESTORE_DEVICE, -607, "store: file belongs to another device")                      \
        X(IMAGO_ESTORE_ERASED, -608, "store: decommissioned (file erased)")                        \
        /* PKI (codes -700...) */                                                                  \
        X(IMAGO_EPKI_PROFILE, -700, "pki: profile not allowed for this CA")                        \
        X(IMAGO_EPKI_NAME, -701, "pki: invalid name")                                              \
        X(IMAGO_EPKI_CHAIN, -702, "pki: certificate does not chain to the CA")                     \
        /* factory manifest (codes -800...) */                                                     \
        X(IMAGO_EMANIFEST_FORMAT, -800, "manifest: not a factory manifest")                        \
        X(IMAGO_EMANIFEST_FIELD, -801, "manifest: missing or invalid field")                       \
        X(IMAGO_EMANIFEST_SIG, -802, "manifest: signature does not verify")                        \
        X(IMAGO_EMANIFEST_DEVICE, -803, "manifest: device certificate not valid for its entry")    \
        X(IMAGO_EMANIFEST_DUP, -804, "manifest: duplicate device")                                 \
        /* device channel protocol (-900...) and registry (-1000...) */                            \
        X(IMAGO_EPROTO_FIELD, -900, "protocol: missing, unknown or invalid field")                 \
        X(IMAGO_EPROTO_VERSION, -901, "protocol: unsupported message version")                     \
        X(IMAGO_EPROTO_STATE, -902, "protocol: message not expected in this state")                \
        X(IMAGO_EREG_STATE, -1000, "registry: device is not in a state that allows this")          \
        X(IMAGO_EREG_UNKNOWN, -1001, "registry: unknown device")                                   \
        X(IMAGO_EREG_SCHEMA, -1002, "registry: database schema is newer than this program")        \
        X(IMAGO_EREG_DB, -1003, "registry: database error")                                        \
        X(IMAGO_EREG_KEY, -1004, "registry: key does not match the enrolled device")               \
        X(IMAGO_EREG_BUSY, -1005, "registry: database busy")                                       \
        /* imago-cloud config file (-1100...) */                                                   \
        X(IMAGO_ECONF_SYNTAX, -1100, "config: line is not key = value")                            \
        X(IMAGO_ECONF_KEY, -1101, "config: unknown key")                                           \
        X(IMAGO_ECONF_VALUE, -1102, "config: invalid value")                                       \
        X(IMAGO_ECONF_DUP, -1103, "config: key given twice")                                       \
        /* signed commands and registration tokens (-1200...) */                                   \
        X(IMAGO_ECMD_MALFORMED, -1200, "command: malformed envelope or result")                    \
        X(IMAGO_ECMD_SIG, -1201, "command: signature does not verify")                             \
        X(IMAGO_ECMD_DEVICE, -1202, "command: addressed to another device")                        \
        X(IMAGO_ECMD_REPLAY, -1203, "command: sequence not above the last accepted")               \
        X(IMAGO_ECMD_EXPIRED, -1204, "command: expired")                                           \
        X(IMAGO_ECMD_NOTYET, -1205, "command: not yet valid (issued in the future)")               \
        X(IMAGO_ECMD_TOKEN, -1206, "registration token: does not decrypt or is malformed")         \
        X(IMAGO_ECMD_TOKEN_EXPIRED, -1207, "registration token: expired")                          \
        X(IMAGO_ECMD_TOKEN_ALG, -1208, "registration token: algorithm not ECDH-ES/A256GCM")        \
        /* audit log (-1400...) and user authentication (-1300...) */                              \
        X(IMAGO_EAUDIT_CHAIN, -1400, "audit: hash chain broken")                                   \
        X(IMAGO_EAUDIT_HEAD, -1401, "audit: log does not end at the expected head")                \
        X(IMAGO_EAUDIT_DB, -1402, "audit: database error")                                         \
        X(IMAGO_EAUDIT_SCHEMA, -1403, "audit: schema version is newer than this program")          \
        X(IMAGO_EAUTH_PASSWORD, -1300, "auth: wrong user name or password")                        \
        X(IMAGO_EAUTH_POLICY, -1301, "auth: password does not meet the policy")                    \
        X(IMAGO_EAUTH_HASH, -1302, "auth: stored password hash is malformed or out of bounds")     \
        X(IMAGO_EAUTH_THROTTLED, -1303, "auth: too many attempts, try later")                      \
        X(IMAGO_EAUTH_TOKEN_FORMAT, -1304, "auth: token is malformed")                             \
        X(IMAGO_EAUTH_TOKEN_SIG, -1305, "auth: token signature does not verify")                   \
        X(IMAGO_EAUTH_TOKEN_EXPIRED, -1306, "auth: token expired")                                 \
        X(IMAGO_EAUTH_TOKEN_NOTYET, -1307, "auth: token issued in the future")                     \
        X(IMAGO_EAUTH_REFRESH, -1308, "auth: refresh token unknown, used or expired")              \
        X(IMAGO_EAUTH_DENIED, -1309, "auth: no grant allows this action")                          \
        /* app API, state documents, setup portal, HTTP (-1500...) */                              \
        X(IMAGO_ESTATE_VERSION, -1500, "state: version is stale")                                  \
        X(IMAGO_ESTATE_DOC, -1501, "state: document not acceptable (shape, depth or size)")        \
        X(IMAGO_EAPI_AUTH, -1502, "api: missing or invalid access token")                          \
        X(IMAGO_EAPI_RATE, -1503, "api: rate limit exceeded")                                      \
        X(IMAGO_EAPI_ROUTE, -1504, "api: no such endpoint")                                        \
        X(IMAGO_EAPI_METHOD, -1505, "api: method not allowed")                                     \
        X(IMAGO_EAPI_TIMEOUT, -1506, "api: the device did not answer in time")                     \
        X(IMAGO_EAPI_BOUND, -1507, "api: device is bound to another user")                         \
        X(IMAGO_ESETUP_CODE, -1508, "setup: wrong setup code")                                     \
        X(IMAGO_ESETUP_LOCKED, -1509, "setup: portal locked after too many wrong codes")           \
        X(IMAGO_EHTTP, -1510, "http: malformed or unexpected response")                            \
        X(IMAGO_EHTTP_PIN, -1511, "http: server certificate does not match the pinned one")        \
        /* secure updates: TUF metadata, deltas, block transfer (-1600...) */                      \
        X(IMAGO_ETUF_FORMAT, -1600, "tuf: metadata not in the expected format")                    \
        X(IMAGO_ETUF_THRESHOLD, -1601, "tuf: not enough valid signatures (threshold not met)")     \
        X(IMAGO_ETUF_EXPIRED, -1602, "tuf: metadata expired")                                      \
        X(IMAGO_ETUF_ROLLBACK, -1603, "tuf: version lower than the trusted one (rollback)")        \
        X(IMAGO_ETUF_HASH, -1604, "tuf: hash does not match")                                      \
        X(IMAGO_ETUF_LENGTH, -1605, "tuf: length does not match or exceeds the limit")             \
        X(IMAGO_ETUF_CONSISTENCY, -1606, "tuf: metadata do not agree (mix-and-match)")             \
        X(IMAGO_ETUF_DELEGATION, -1607, "tuf: target not delegated to the role that lists it")     \
        X(IMAGO_ETUF_HWID, -1608, "tuf: target is for another hardware id")                        \
        X(IMAGO_ETUF_NOTARGET, -1609, "tuf: no such target")                                       \
        X(IMAGO_EDELTA, -1610, "delta: malformed or does not apply to this base")                  \
        X(IMAGO_EBLK, -1611, "block transfer: unexpected or malformed block")                      \
        X(IMAGO_EOTA_DISAGREE, -1612, "ota: director and image repository disagree")               \
        X(IMAGO_EOTA_DEVICE, -1613, "ota: director metadata for another device")                   \
        X(IMAGO_EOTA_DOWNGRADE, -1614, "ota: update older than the installed image")               \
        X(IMAGO_EOTA_REPORT, -1615, "ota: version report malformed or not verified")               \
        X(IMAGO_EOTA_REPLAY, -1616, "ota: version report replayed")                                \
        X(IMAGO_EOTA_HEALTH, -1617, "ota: health check failed")                                    \
        X(IMAGO_EOTA_INSTALL, -1618, "ota: installing the image failed")                           \
        X(IMAGO_EROLLOUT_STATE, -1619, "rollout: not allowed in its current state")                \
        /* flash */                                                                                \
        X(IMAGO_EFLASH_RANGE, -300, "flash: access outside the area")                              \
        X(IMAGO_EFLASH_ALIGN, -301, "flash: misaligned write")                                     \
        X(IMAGO_EFLASH_NOT_ERASED, -302, "flash: write to a location that is not erased")          \
        X(IMAGO_EFLASH_SECTOR, -303, "flash: erase not on sector boundaries")                      \
        X(IMAGO_EFLASH_POWER_CUT, -304, "flash: power cut (simulated)")                            \
        X(IMAGO_EFLASH_LAYOUT, -305, "flash: layout not usable")                                   \
        /* bootloader */                                                                           \
        X(IMAGO_EBOOT_NO_IMAGE, -400, "boot: no slot holds a valid image")                         \
        X(IMAGO_EBOOT_ROLLBACK, -401, "boot: security counter below the stored counter")           \
        X(IMAGO_EBOOT_TRAILER, -402, "boot: invalid image trailer")                                \
        X(IMAGO_EBOOT_STATE, -403, "boot: invalid boot state record")                              \
        X(IMAGO_EBOOT_NOT_CONFIRMABLE, -404, "boot: running image cannot be confirmed")            \
        X(IMAGO_EBOOT_PENDING, -405, "boot: an update is already pending")                         \
        X(IMAGO_EBOOT_DOWNGRADE, -406, "boot: update is older than the running image")

enum imago_err {
#define IMAGO_ERR_ENUM(name, value, desc) name = (value),
        IMAGO_ERR_LIST(IMAGO_ERR_ENUM)
#undef IMAGO_ERR_ENUM
};

/* Description of code r; "unknown error" for a code not in the list. */
const char *imago_strerror(int r);

/* Symbolic name of code r ("IMAGO_EIO"); "IMAGO_E?" for an unknown code. */
const char *imago_errname(int r);

/* Code for a symbolic name; IMAGO_ENOTFOUND (and *out untouched) if none. */
int imago_err_from_name(const char *name, int *out);

#endif
