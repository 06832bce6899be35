#!/usr/bin/env python3
"""Regenerates the block transfer vectors (docs/blk.md): <case>.json / .bin + <case>.expect."""
import os, struct

here = os.path.dirname(os.path.abspath(__file__))

def put(sub, name, ext, data, expect):
    d = os.path.join(here, sub)
    with open(os.path.join(d, name + ext), 'wb') as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    with open(os.path.join(d, name + '.expect'), 'w') as f:
        f.write(expect + '\n')

def req(name, text, expect):
    put('req', name, '.json', text, expect)

R = '{"v":1,"type":"req","tid":7,"obj":"targets/fw.bin","off":0,"len":16384}'
req('ok', R, 'IMAGO_OK')
req('ok_metadata', '{"v":1,"type":"req","tid":4294967295,"obj":"3.root.json","off":281474976710655,"len":1}', 'IMAGO_OK')
req('ok_order', '{"len":5,"off":10,"obj":"a","tid":1,"type":"req","v":1}', 'IMAGO_OK')
req('not_json', 'v=1', 'IMAGO_EMALFORMED')
req('array', '[1]', 'IMAGO_EMALFORMED')
req('trailing', R + '{}', 'IMAGO_EMALFORMED')
req('duplicate_key', R[:-1] + ',"len":1}', 'IMAGO_EMALFORMED')
req('too_big', R[:-1] + ',"x":"' + 'a' * 600 + '"}', 'IMAGO_ETOOBIG')
req('unknown_key', R[:-1] + ',"x":1}', 'IMAGO_EBLK')
req('missing_len', '{"v":1,"type":"req","tid":7,"obj":"a","off":0}', 'IMAGO_EBLK')
req('version_2', R.replace('"v":1', '"v":2'), 'IMAGO_EBLK')
req('type_block', R.replace('"req"', '"block"'), 'IMAGO_EBLK')
req('tid_zero', R.replace('"tid":7', '"tid":0'), 'IMAGO_EBLK')
req('tid_over', R.replace('"tid":7', '"tid":4294967296'), 'IMAGO_EBLK')
req('tid_string', R.replace('"tid":7', '"tid":"7"'), 'IMAGO_EBLK')
req('tid_real', R.replace('"tid":7', '"tid":7.0'), 'IMAGO_EBLK')
req('off_negative', R.replace('"off":0', '"off":-1'), 'IMAGO_EBLK')
req('off_limit', R.replace('"off":0', '"off":281474976710656'), 'IMAGO_EBLK')
req('off_bool', R.replace('"off":0', '"off":false'), 'IMAGO_EBLK')
req('len_zero', R.replace('"len":16384', '"len":0'), 'IMAGO_EBLK')
req('len_over', R.replace('"len":16384', '"len":16385'), 'IMAGO_EBLK')
req('len_huge', R.replace('"len":16384', '"len":18446744073709551615'), 'IMAGO_EMALFORMED')
for n, o in [('obj_dotdot', '../etc/passwd'), ('obj_dotdot_mid', 'targets/../x'), ('obj_dots', 'a..b'),
             ('obj_leading_slash', '/etc/passwd'), ('obj_trailing_slash', 'targets/'),
             ('obj_double_slash', 'targets//fw'), ('obj_space', 'fw 2.bin'), ('obj_backslash', 'a\\\\b'),
             ('obj_empty', ''), ('obj_long', 'a' * 201), ('obj_utf8', 'fw\u00e9'), ('obj_tab', 'a\\tb'),
             ]:
    req(n, R.replace('targets/fw.bin', o), 'IMAGO_EBLK')
# jansson refuses \u0000 itself (src/json's second line of defence is not reached)
req('obj_nul', R.replace('targets/fw.bin', 'a\\u0000b'), 'IMAGO_EMALFORMED')
req('obj_max', R.replace('targets/fw.bin', 'a' * 200), 'IMAGO_OK')
req('obj_number', R.replace('"targets/fw.bin"', '5'), 'IMAGO_EBLK')

def frame(typ=1, name=b'targets/fw.bin', code=0, tid=7, off=0, total=10, data=b'0123456789',
          n=None, dlen=None, magic=b'IMBK', ver=1):
    n = len(name) if n is None else n
    dlen = len(data) if dlen is None else dlen
    return magic + struct.pack('>BBBBIQQI', ver, typ, n, code, tid, off, total, dlen) + name + data

def data(name, b, expect):
    put('data', name, '.bin', b, expect)

data('ok_block', frame(), 'IMAGO_OK')
data('ok_last_block', frame(off=8, total=10, data=b'89'), 'IMAGO_OK')
data('ok_error_notfound', frame(typ=2, code=1, total=0, data=b''), 'IMAGO_OK')
data('ok_error_range', frame(typ=2, code=2, off=99, total=0, data=b''), 'IMAGO_OK')
data('ok_max_block', frame(total=16384, data=b'x' * 16384), 'IMAGO_OK')
data('empty', b'', 'IMAGO_ETRUNC')
data('header_only', frame()[:32], 'IMAGO_ETRUNC')
data('short_data', frame()[:-1], 'IMAGO_ETRUNC')
data('trailing', frame() + b'\0', 'IMAGO_ETRAILING')
data('magic', frame(magic=b'IMBX'), 'IMAGO_EBLK')
data('version', frame(ver=2), 'IMAGO_EBLK')
data('type_0', frame(typ=0), 'IMAGO_EBLK')
data('type_3', frame(typ=3), 'IMAGO_EBLK')
data('block_with_code', frame(code=1), 'IMAGO_EBLK')
data('block_empty', frame(data=b''), 'IMAGO_EBLK')
data('block_over_max', frame(total=16385, data=b'x' * 16385), 'IMAGO_EBLK')
data('block_past_total', frame(off=5, total=10), 'IMAGO_EBLK')
data('block_offset_wraps', frame(off=2**64 - 5, total=10), 'IMAGO_EBLK')
data('total_limit', frame(off=0, total=2**48), 'IMAGO_EBLK')
data('tid_zero', frame(tid=0), 'IMAGO_EBLK')
data('error_code_0', frame(typ=2, code=0, total=0, data=b''), 'IMAGO_EBLK')
data('error_code_3', frame(typ=2, code=3, total=0, data=b''), 'IMAGO_EBLK')
data('error_with_data', frame(typ=2, code=1, total=0), 'IMAGO_EBLK')
data('error_with_total', frame(typ=2, code=1, total=10, data=b''), 'IMAGO_EBLK')
data('name_empty', frame(name=b''), 'IMAGO_EBLK')
data('name_201', frame(name=b'a' * 201), 'IMAGO_EBLK')
data('name_nul', frame(name=b'a\0b'), 'IMAGO_EBLK')
data('name_dotdot', frame(name=b'../x'), 'IMAGO_EBLK')
data('name_slash', frame(name=b'/x'), 'IMAGO_EBLK')
data('name_high', frame(name=b'a\xffb'), 'IMAGO_EBLK')
data('name_len_lies', frame(n=200), 'IMAGO_ETRUNC')
data('dlen_lies', frame(dlen=11), 'IMAGO_ETRUNC')

def prog(magic=b'IMBP', ver=1, n=None, z=b'\0\0', block=16384, length=100000, done=32768, name=b'targets/fw.bin'):
    n = len(name) if n is None else n
    return magic + bytes([ver, n]) + z + struct.pack('>IQQ', block, length, done) + name

def progress(name, b, expect):
    put('progress', name, '.bin', b, expect)

progress('ok', prog(), 'IMAGO_OK')
progress('ok_complete', prog(done=100000), 'IMAGO_OK')
progress('ok_zero', prog(length=0, done=0), 'IMAGO_OK')
progress('short', prog()[:27], 'IMAGO_ETRUNC')
progress('short_name', prog()[:-1], 'IMAGO_ETRUNC')
progress('trailing', prog() + b'x', 'IMAGO_ETRAILING')
progress('magic', prog(magic=b'IMBK'), 'IMAGO_EBLK')
progress('version', prog(ver=0), 'IMAGO_EBLK')
progress('nonzero_pad', prog(z=b'\0\1'), 'IMAGO_EBLK')
progress('done_past_length', prog(done=100001), 'IMAGO_EBLK')
progress('done_unaligned', prog(done=1000), 'IMAGO_EBLK')
progress('block_zero', prog(block=0, done=0), 'IMAGO_EBLK')
progress('block_over', prog(block=16385, done=0), 'IMAGO_EBLK')
progress('length_over', prog(length=2**30 + 1, done=0), 'IMAGO_EBLK')
progress('name_bad', prog(name=b'a//b'), 'IMAGO_EBLK')
progress('name_empty', prog(name=b''), 'IMAGO_EBLK')
