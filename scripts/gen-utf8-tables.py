#!/usr/bin/env python3
# Prints the width tables of src/basic/utf8.c from the Unicode data of the
# Python running it: python3 scripts/gen-utf8-tables.py
import unicodedata as u, sys
def ranges(pred):
    out=[]; start=None
    for cp in range(0x110000):
        ok = pred(cp)
        if ok and start is None: start=cp
        if not ok and start is not None: out.append((start,cp-1)); start=None
    if start is not None: out.append((start,0x10FFFF))
    return out
def name(cp):
    try: return u.name(chr(cp))
    except ValueError: return ""
def combining(cp):
    c=chr(cp); cat=u.category(c)
    if cat in ('Mn','Me'): return True
    n=name(cp)
    return 'COMBINING' in n or 'VARIATION SELECTOR' in n
def wide(cp):
    n=name(cp)
    if 'VARIATION SELECTOR' in n: return False
    if u.category(chr(cp)) == 'Cn':
        # unassigned: EastAsianWidth.txt defaults these blocks to W
        return any(a <= cp <= b for a, b in ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF),
                                             (0x20000, 0x2FFFD), (0x30000, 0x3FFFD)))
    return u.east_asian_width(chr(cp)) in ('W','F')
def extend(cp):
    # joins the previous grapheme: marks (Mn, Me, Mc), ZWJ, variation selectors, emoji modifiers
    c=chr(cp); cat=u.category(c)
    return cat in ('Mn','Me','Mc') or cp==0x200D or 0x1F3FB<=cp<=0x1F3FF or 'VARIATION SELECTOR' in name(cp)
def emit(nm, rs):
    print("static const struct urange %s[] = {" % nm)
    line="       "
    for a,b in rs:
        s=" { 0x%04X, 0x%04X }," % (a,b)
        if len(line)+len(s) > 98:
            print(line); line="       "
        line+=s
    print(line); print("};")
print("/* Generated from Unicode %s data (Python's unicodedata) by scripts/gen-utf8-tables.py. */" % u.unidata_version)
emit("zero_width", ranges(combining))
emit("double_width", ranges(wide))
emit("grapheme_extend", ranges(extend))
