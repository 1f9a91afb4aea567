"""Country names in every language CLDR knows (babel's locale data) → ISO 3166-1 alpha-2.

Reading every language's locale data is slow and leaves its memory in the process that reads it
(babel keeps what it loads, and the freed objects do not go back to the system), so the table is
built in a child process (a process-wide trick: ``core.tricks``) and kept as JSON in a cache folder (``$PINPOINT_ETL_CACHE_DIR``, else
``$XDG_CACHE_HOME/pinpoint-etl``, else ``~/.cache/pinpoint-etl``), one file per babel version:
later runs only read it. When the folder cannot be written the table is still built
(in the child) every time.

Keys are compared as ``transforms.location`` compares them: case-folded, whitespace collapsed, dots
optional, and accents optional where the folded key is ASCII. A name two countries share is left
out; a name a country shares with a region (``Amerika``: the US in some languages, the Americas in
more) is the country's only when more languages use it for the country.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import unicodedata
from pathlib import Path

from pinpoint_etl.core import tricks

#: bump when the way the table is built changes (old cache files are then ignored)
TABLE_VERSION = 1


def key(text: str) -> str:
    return " ".join(text.replace("\u2019", "'").casefold().split())


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def build() -> dict[str, str]:
    """The table, from babel's locale data (in this process: see module docstring)."""
    import pycountry
    from babel import Locale, localedata

    codes = {c.alpha_2 for c in pycountry.countries}
    found: dict[str, dict[str, int]] = {}  # name → code (a country, or a region such as 019) → languages
    for ident in localedata.locale_identifiers():
        try:
            locale = Locale.parse(ident)
        except (ValueError, LookupError):
            continue
        if locale.territory:  # a regional variant repeats its language's names
            continue
        for code, name in locale.territories.items():
            k = key(name)
            for variant in {k, k.replace(".", ""), fold(k)}:
                if variant.isascii() or variant == k:
                    by_code = found.setdefault(variant, {})
                    by_code[code] = by_code.get(code, 0) + 1
    table = {}
    for name, by_code in found.items():
        countries = [c for c in by_code if c in codes]
        regions = sum(n for c, n in by_code.items() if c not in codes)
        if len(countries) == 1 and by_code[countries[0]] > regions:
            table[name] = countries[0]
    return table


def _cache_file() -> Path:
    from babel import __version__ as babel_version

    base = os.environ.get("PINPOINT_ETL_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "pinpoint-etl")
    return Path(base) / f"cldr-countries-babel{babel_version}-v{TABLE_VERSION}.json"


def load() -> dict[str, str]:
    """The table: from the cache file, else built in a child process (and cached)."""
    path = _cache_file()
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    if tricks.enabled("cldr_child_process"):
        code = "import json, sys; from pinpoint_etl.transforms.cldr_countries import build; json.dump(build(), sys.stdout)"
        text = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                              encoding="utf-8").stdout
        table = json.loads(text)
    else:
        table = build()
        text = json.dumps(table)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass
    return table
