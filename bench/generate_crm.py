"""Generate N rows shaped like a CRM export (sample_data/crm_contacts.csv), fast and in bounded memory.

    python bench/generate_crm.py N OUT.csv [--seed 1] [--block-rows 100000]

The columns of sample_data/crm_contacts.csv (customer_id, email, mobile, first_name, last_name,
country, city, timezone, plan, signup_date, opted_out), read with its mapping spec
(sample_data/crm_contacts.mapping.yaml: an EMAIL and an SMS endpoint per row). Built a block at a
time with numpy and pyarrow.compute, like bench/generate.py, whose places and phone pools it uses.

Mix: ~95 % of rows have an email, ~60 % a mobile (E.164, international with spaces, or national,
read with the row's country); countries as ISO codes, English names or the name in the place's own
language (Deutschland, 日本…); ~3 % messy values (padded, upper-case email domains, lower-case time
zones, Y/N opt-outs); ~0.5 % rows the rules must reject somewhere (an email without a domain, a
phone number that is none, an unknown country or time zone, 31 February, no address at all); ~1 %
rows repeating an earlier customer of the block (both its endpoints supersede the earlier ones).

Prints one JSON line with the counts generated and writes the same next to OUT as OUT.meta.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from babel import Locale

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import DOMAINS, FIRST, LAST, Tables, _join, _q, _replace, _s, _take, to_csv_bytes  # noqa: E402

HEADER = ("customer_id", "email", "mobile", "first_name", "last_name", "country", "city", "timezone", "plan",
          "signup_date", "opted_out")
GENERATOR_VERSION = 1
PLANS = ("free", "pro", "business")
EMAIL_SHARE, MOBILE_SHARE = 0.95, 0.60
MESSY_SHARE, REJECT_SHARE, DUPLICATE_SHARE = 0.03, 0.005, 0.01
_DAY0 = np.datetime64("2015-01-01")


class CrmGenerator:
    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.t = Tables(self.rng)
        rows = [line.split("|") for line in __import__("generate").PLACES.strip().splitlines()]
        self.native = _s(Locale.parse(r[3]).territories.get(r[0], r[2]) for r in rows)
        self.counts = {"rows": 0, "emails": 0, "mobiles": 0, "messy": 0, "rejected_rows": 0, "duplicate_rows": 0}

    def block(self, start: int, n: int) -> list[pa.Array]:
        rng, t = self.rng, self.t
        rows = np.arange(start, start + n, dtype=np.int64)
        place = rng.choice(t.n_places, size=n, p=t.place_p)
        first, last = rng.integers(0, len(FIRST), n), rng.integers(0, len(LAST), n)
        col: dict[str, pa.Array] = {}
        col["customer_id"] = _join("C", pc.utf8_lpad(pc.cast(pa.array(rows + 1), pa.string()), 8, "0"))
        has_email, has_mobile = rng.random(n) < EMAIL_SHARE, rng.random(n) < MOBILE_SHARE
        domain = _take(t.domain, rng.integers(0, len(DOMAINS), n))
        email = _join(_take(t.first_ascii, first), ".", _take(t.last_ascii, last),
                      pc.cast(pa.array(rows), pa.string()), "@", domain)
        col["email"] = pc.if_else(pa.array(has_email), email, "")
        phone = t.phone_off[place] + (rng.random(n) * t.phone_n[place]).astype(np.int64)
        style = rng.choice(3, size=n, p=[0.6, 0.25, 0.15])
        mobile = pc.if_else(pa.array(style == 0), _take(t.phone, phone),
                            pc.if_else(pa.array(style == 1), _take(t.phone_spaced, phone), _take(t.phone_national, phone)))
        col["mobile"] = pc.if_else(pa.array(has_mobile), mobile, "")
        col["first_name"], col["last_name"] = _take(t.first, first), _take(t.last, last)
        spelling = rng.choice(3, size=n, p=[0.3, 0.3, 0.4])
        col["country"] = pc.if_else(pa.array(spelling == 0), _take(t.country, place),
                                    pc.if_else(pa.array(spelling == 1), _take(t.name, place), _take(self.native, place)))
        col["city"], col["timezone"] = _take(t.city, place), _take(t.tz, place)
        col["plan"] = _take(_s(PLANS), rng.choice(3, size=n, p=[0.6, 0.3, 0.1]))
        days = _DAY0 + rng.integers(0, 3650, n).astype("timedelta64[D]")
        col["signup_date"] = pc.strftime(pa.array(days.astype("datetime64[s]")), format="%d/%m/%Y")
        col["opted_out"] = _take(_s(["no", "yes", ""]), rng.choice(3, size=n, p=[0.85, 0.08, 0.07]))

        draw = rng.random(n)
        messy = draw < MESSY_SHARE
        rejected = (draw >= MESSY_SHARE) & (draw < MESSY_SHARE + REJECT_SHARE)
        kinds = rng.integers(0, 3, n)
        for k, (field, values) in enumerate((
            ("email", lambda m: _join("  ", pc.utf8_upper(email.filter(pa.array(m))), " ")),
            ("timezone", lambda m: pc.utf8_lower(col["timezone"].filter(pa.array(m)))),
            ("opted_out", lambda m: _take(_s(["N", "Y"]), (rng.random(int(m.sum())) < 0.1).astype(np.int8))),
        )):
            m = messy & (kinds == k) & (has_email if field == "email" else True)
            if m.any():
                col[field] = _replace(col[field], m, values(m))
        kinds = rng.integers(0, 6, n)
        for k, fields in enumerate(({"email": "someone@"}, {"mobile": "+1 000"}, {"country": "Atlantis"},
                                    {"timezone": "Mars/Olympus_Mons"}, {"signup_date": "31/02/2024"},
                                    {"email": "", "mobile": ""})):
            m = rejected & (kinds == k)
            if m.any():
                for field, value in fields.items():
                    col[field] = _replace(col[field], m, pa.array([_q(value)] * int(m.sum()), type=pa.string()))
        dup = (rng.random(n) < DUPLICATE_SHARE) & ~rejected
        dup[0] = False
        if dup.any():  # an earlier customer of the block, exported again
            target = (rng.random(int(dup.sum())) * np.flatnonzero(dup)).astype(np.int64)
            col["customer_id"] = _replace(col["customer_id"], dup, col["customer_id"].take(pa.array(target)))
        self.counts["rows"] += n
        self.counts["emails"] += int(pc.sum(pc.not_equal(col["email"], "")).as_py())
        self.counts["mobiles"] += int(pc.sum(pc.not_equal(col["mobile"], "")).as_py())
        self.counts["messy"] += int(messy.sum())
        self.counts["rejected_rows"] += int(rejected.sum())
        self.counts["duplicate_rows"] += int(dup.sum())
        return [col[name] for name in HEADER]


def generate(n: int, out: Path, seed: int = 1, block_rows: int = 100_000) -> dict:
    t0 = time.perf_counter()
    gen = CrmGenerator(seed)
    tmp = out.with_name(out.name + ".part")
    with open(tmp, "wb") as fh:
        fh.write((",".join(HEADER) + "\n").encode())
        for start in range(0, n, block_rows):
            fh.write(to_csv_bytes(gen.block(start, min(block_rows, n - start))))
    tmp.replace(out)
    meta = {"generator": "crm", "generator_version": GENERATOR_VERSION, "seed": seed, **gen.counts,
            "bytes": out.stat().st_size, "seconds": round(time.perf_counter() - t0, 2), "path": str(out)}
    out.with_name(out.name + ".meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    return meta


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rows", type=int)
    ap.add_argument("out", type=Path)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--block-rows", type=int, default=100_000)
    args = ap.parse_args(argv)
    print(json.dumps(generate(args.rows, args.out, args.seed, args.block_rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
