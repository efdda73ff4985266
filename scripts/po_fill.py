#!/usr/bin/env python3
"""Fill empty msgstr entries of a .po catalog from a JSON mapping {msgid: msgstr}.

Usage: scripts/po_fill.py locale/zh_Hans/LC_MESSAGES/django.po translations.json
Prints the msgids still untranslated, so a catalog can be checked for completeness.
Entries already translated are left alone; fuzzy entries (msgmerge guesses, which gettext
ignores) count as untranslated and are replaced from the mapping, their flag removed.
"""

import json
import sys


def _unquote(lines):
    return "".join(json.loads(line.strip()) for line in lines)


def _quote(text):
    return json.dumps(text, ensure_ascii=False)


def _without_fuzzy(line):
    """A flags comment without the fuzzy flag; None when no flag is left."""
    if not line.startswith("#, "):
        return line
    flags = [f.strip() for f in line[3:].split(",") if f.strip() and f.strip() != "fuzzy"]
    return "#, " + ", ".join(flags) if flags else None


def fill(po_path, mapping):
    """Fill empty or fuzzy entries (msgmerge's guesses are not translations) from `mapping`.

    Plural entries (nplurals=1 for zh_Hans) are filled from the singular msgid's mapping.
    Returns the msgids still untranslated, fuzzy ones included (gettext ignores them).
    """
    with open(po_path, encoding="utf-8") as fh:
        blocks = fh.read().split("\n\n")
    missing = []
    out = []
    for block in blocks:
        lines = block.split("\n")
        try:
            i_id = next(i for i, line in enumerate(lines) if line.startswith("msgid "))
            i_str = next(
                i for i, line in enumerate(lines) if line.startswith(("msgstr ", "msgstr[0] "))
            )
        except StopIteration:
            out.append(block)
            continue
        prefix = "msgstr[0] " if lines[i_str].startswith("msgstr[0] ") else "msgstr "
        i_id_end = next(
            i
            for i in range(i_id + 1, len(lines))
            if lines[i].startswith(("msgid_plural ", "msgstr"))
        )
        j = i_str + 1
        while j < len(lines) and lines[j].startswith('"'):
            j += 1
        msgid = _unquote([lines[i_id][6:], *lines[i_id + 1 : i_id_end]])
        msgstr = _unquote([lines[i_str][len(prefix) :], *lines[i_str + 1 : j]])
        fuzzy = any(
            line.startswith("#, ") and "fuzzy" in [f.strip() for f in line[3:].split(",")]
            for line in lines[:i_id]
        )
        if msgid and (not msgstr or fuzzy):
            if msgid in mapping:
                head = [_without_fuzzy(ln) for ln in lines[:i_str] if not ln.startswith("#|")]
                lines = [ln for ln in head if ln is not None]
                lines.append(prefix + _quote(mapping[msgid]))
                lines += block.split("\n")[j:]
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
