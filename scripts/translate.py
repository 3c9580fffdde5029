"""Bring the catalogues in step with the code and fill in translations from a JSON file.

    .venv/bin/python scripts/translate.py translations.json

The JSON maps each message id to its French and Arabic text: {"Save": {"fr": "Enregistrer", "ar": "حفظ"}}.
A plural message id is written "singular|plural" and its texts as lists, one per plural form. The script
runs `make messages` first, under a lock, so two people filling catalogues at once never lose each other's
entries. It prints the message ids still untranslated in French or Arabic.
"""

import fcntl
import json
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ROOT / "app" / "locales"
LOCK = Path("/tmp/medina-catalogues.lock")  # noqa: S108 - one lock for everyone working in this checkout


def _fill(lang: str, texts: dict[str, dict[str, str | list[str]]]) -> list[str]:
    path = LOCALES / lang / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as f:
        catalog = read_po(f, locale=lang)
    for message in catalog:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else "|".join(message.id)
        given = texts.get(key, {}).get(lang)
        if given:
            message.string = tuple(given) if isinstance(message.id, tuple) else given
            message.flags.discard("fuzzy")
    with path.open("wb") as f:
        write_po(f, catalog, sort_output=True)
    return [
        str(m.id)
        for m in catalog
        if m.id and (not m.string or (isinstance(m.string, tuple) and not all(m.string)) or m.fuzzy)
    ]


def main() -> int:
    texts = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8")) if len(sys.argv) > 1 else {}
    with LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        subprocess.run(["make", "-s", "messages"], cwd=ROOT, check=True, **quiet)  # noqa: S607
        missing = {lang: _fill(lang, texts) for lang in ("fr", "ar")}
    for lang, ids in missing.items():
        for msgid in ids:
            print(f"{lang}: untranslated: {msgid}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
