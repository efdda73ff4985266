#!/usr/bin/env python3
"""Fill empty msgstr entries of a .po catalog from a JSON mapping {msgid: msgstr}.

Usage: scripts/po_fill.py locale/zh_Hans/LC_MESSAGES/django.po translations.json
Prints the msgids still untranslated, so a catalog can be checked for completeness.
Entries already translated are left alone; fuzzy flags on filled entries are removed.
"""

import json
import re
import sys


def _unquote(lines):
    return "".join(json.loads(line.strip()) for line in lines)


def _quote(text):
    return json.dumps(text, ensure_ascii=False)


def fill(po_path, mapping):
    with open(po_path, encoding="utf-8") as fh:
        blocks = fh.read().split("\n\n")
    missing = []
    out = []
    for block in blocks:
        lines = block.split("\n")
        try:
            i_id = next(i for i, line in enumerate(lines) if line.startswith("msgid "))
            i_str = next(i for i, line in enumerate(lines) if line.startswith("msgstr "))
        except StopIteration:
            out.append(block)
            continue
        cont = [ln for ln in lines[i_str + 1 :] if ln.startswith('"')]
        msgid = _unquote([lines[i_id][6:], *lines[i_id + 1 : i_str]])
        msgstr = _unquote([lines[i_str][7:], *cont])
        if msgid and not msgstr:
            if msgid in mapping:
                lines = [ln for ln in lines[:i_str] if not re.match(r"#, fuzzy$", ln)]
                lines = [ln.replace("#, fuzzy, ", "#, ") for ln in lines]
                lines.append("msgstr " + _quote(mapping[msgid]))
                lines += [ln for ln in block.split("\n")[i_str + 1 :] if not ln.startswith('"')]
            else:
                missing.append(msgid)
        out.append("\n".join(lines))
    with open(po_path, "w", encoding="utf-8") as fh:
        fh.write("\n\n".join(out))
    return missing


if __name__ == "__main__":
    with open(sys.argv[2], encoding="utf-8") as fh:
        mapping = json.load(fh)
    missing = fill(sys.argv[1], mapping)
    for msgid in missing:
        print("untranslated:", msgid)
    sys.exit(1 if missing else 0)
