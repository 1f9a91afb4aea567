"""Not a test: time ``normalise()`` on a realistic chunk and the per-value cost of phones and emails.

Run: ``python -m tests.transforms.measure_normalise [rows]`` (default 200,000). Prints the best of
three runs, per 100k rows, beside a bare pandas read_csv + to_csv of the same frame for scale.
"""

from __future__ import annotations

import io
import random
import sys
import time

import numpy as np
import pandas as pd
import phonenumbers
import pyarrow as pa
import pycountry
from email_validator import validate_email

from pinpoint_etl.transforms.demographic import timezones
from pinpoint_etl.transforms.email_address import _fast_ok, canonical_email
from pinpoint_etl.transforms.normalise import normalise
from pinpoint_etl.transforms.phone import _parse_to_e164, e164_valid, normalise_phone


def realistic_frame(n: int, seed: int = 1) -> pd.DataFrame:
    """A chunk with realistic repetition: unique ids/addresses, few hundred countries/locales/zones."""
    rnd = random.Random(seed)
    countries = [c.alpha_2 for c in pycountry.countries]
    country_spellings = (countries + [c.alpha_2.lower() for c in pycountry.countries]
                         + [c.alpha_3 for c in pycountry.countries] + [c.name for c in pycountry.countries]
                         + ["usa", "U.S.", "United States of America", "UK", "Russia", "South Korea"])
    zones = sorted(timezones())
    zone_spellings = zones + [z.lower() for z in zones[:100]]
    locales = [f"{lang}{sep}{cc}" for lang in ("en", "de", "fr", "es", "pt", "zh", "ja", "it", "nl", "sv")
               for cc in ("US", "GB", "DE", "FR", "ES", "BR", "CN", "JP", "IT", "NL", "us", "gb")
               for sep in ("_", "-")]
    regions = ["US", "GB", "DE", "FR", "IN", "BR", "CA", "AU", "MX", "ES", "IT", "NL", "JP", "KR", "ZA"]
    mobiles = {r: phonenumbers.example_number_for_type(r, phonenumbers.PhoneNumberType.MOBILE) for r in regions}
    cities = [f"City {i}" for i in range(3000)]
    interests = ["Music", "Books", "Travel", "Sports", "News", "Cooking", "Gaming", "Art", " Film ", "tech"]
    rows = {k: [] for k in (
        "Id", "ChannelType", "Address", "OptOut", "Location.Country", "Location.Region", "Location.City",
        "Location.PostalCode", "Location.Latitude", "Location.Longitude", "Demographic.Locale",
        "Demographic.Timezone", "Demographic.Platform", "Demographic.PlatformVersion", "Demographic.Make",
        "Demographic.Model", "Demographic.AppVersion", "Metrics.sessions", "Metrics.value",
        "Attributes.Interests", "Attributes.Interests#2", "User.UserId", "User.UserAttributes.FirstName")}
    for i in range(n):
        r = rnd.random()
        region = rnd.choice(regions)
        if r < 0.40:
            channel, address = rnd.choice(["EMAIL", "EMAIL", "email"]), \
                f"user.{i}@{rnd.choice(['Example.com', 'mail.example.org', 'corp.example.net'])}"
        elif r < 0.80:
            channel = rnd.choice(["SMS", "SMS", "sms", "VOICE"])
            num = mobiles[region]
            nsn = str(num.national_number)
            nsn = nsn[:-5] + f"{rnd.randrange(100000):05d}"
            e164 = f"+{num.country_code}{nsn}"
            p = rnd.random()
            if p < 0.8:
                address = e164
            elif p < 0.9:
                address = phonenumbers.format_number(phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL)
            else:
                address = phonenumbers.format_number(phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.NATIONAL)
        else:
            channel, address = rnd.choice(["APNS", "GCM", "apns"]), f"{rnd.getrandbits(256):064x}"
        rows["Id"].append(f"ep-{i}")
        rows["ChannelType"].append(channel)
        rows["Address"].append(address if rnd.random() > 0.01 else f" {address}\t")
        rows["OptOut"].append(rnd.choice(["NONE", "NONE", "ALL", "none"]))
        rows["Location.Country"].append(region if channel in ("SMS", "sms", "VOICE") else rnd.choice(country_spellings))
        rows["Location.Region"].append(f"Region {rnd.randrange(300)}")
        rows["Location.City"].append(rnd.choice(cities))
        rows["Location.PostalCode"].append(f"{rnd.randrange(10000):05d}")
        rows["Location.Latitude"].append(f"{rnd.uniform(-60, 70):.4f}" if rnd.random() < 0.3 else f"{rnd.randrange(-60, 70)}.5")
        rows["Location.Longitude"].append(f"{rnd.uniform(-170, 170):.4f}" if rnd.random() < 0.3 else f"{rnd.randrange(-170, 170)}.2")
        rows["Demographic.Locale"].append(rnd.choice(locales))
        rows["Demographic.Timezone"].append(rnd.choice(zone_spellings))
        rows["Demographic.Platform"].append(rnd.choice(["ios", "iOS", "android", "Android", "iPhone OS", "web"]))
        rows["Demographic.PlatformVersion"].append(rnd.choice(["17.4", "14", "13", "16.1"]))
        rows["Demographic.Make"].append(rnd.choice(["apple", "Apple", "samsung", "Google", "oneplus"]))
        rows["Demographic.Model"].append(f"Model {rnd.randrange(100)}")
        rows["Demographic.AppVersion"].append(rnd.choice(["2.3.1", "2.3.0", "2.2.9"]))
        rows["Metrics.sessions"].append(str(rnd.randrange(500)))
        rows["Metrics.value"].append(f"{rnd.uniform(0, 5000):.2f}")
        rows["Attributes.Interests"].append(rnd.choice(interests))
        rows["Attributes.Interests#2"].append(rnd.choice(interests + [None] * 5))
        rows["User.UserId"].append(f"u{i // 3}")
        rows["User.UserAttributes.FirstName"].append(f"Name{rnd.randrange(1000)}")
    frame = pd.DataFrame(rows, dtype="str")
    frame.insert(0, "_row", [str(i + 1) for i in range(n)])
    frame.insert(0, "_source", "bench.csv")
    return frame


def best_of(fn, runs: int = 3, clock=time.perf_counter) -> float:
    times = []
    for _ in range(runs):
        t0 = clock()
        fn()
        times.append(clock() - t0)
    return min(times)


def main(n: int = 200_000) -> None:
    frame = realistic_frame(n)
    normalise(frame.head(1000))  # warm lookup tables
    result = normalise(frame)

    def cold_addresses():  # addresses are unique in real data: no cache hits from the previous run
        _parse_to_e164.cache_clear()
        canonical_email.cache_clear()
        return normalise(frame)

    t = best_of(cold_addresses)
    cpu = best_of(cold_addresses, clock=time.process_time)
    print(f"normalise(): {n:,} rows x {frame.shape[1]} columns in {t:.2f} s wall, {cpu:.2f} s CPU -> "
          f"{t / n * 1e5 * 1e3:.0f} ms wall, {cpu / n * 1e5 * 1e3:.0f} ms CPU per 100k rows")
    print("changes:", result.changes)
    buf = io.StringIO()
    frame.to_csv(buf, index=False)
    text = buf.getvalue()
    t_io = best_of(lambda: pd.read_csv(io.StringIO(text), dtype="str").to_csv(io.StringIO(), index=False))
    print(f"bare read_csv+to_csv of the same frame: {t_io:.2f} s ({t / t_io:.2f}x)")

    channel = frame["ChannelType"].str.upper().to_numpy()
    address = frame["Address"].str.strip().to_numpy()
    is_phone = np.isin(channel, ["SMS", "VOICE"])
    phones = [a for a in address[is_phone] if a.startswith("+") and " " not in a]
    country = frame["Location.Country"].to_numpy()
    national = [(a, c) for a, c in zip(address[is_phone], country[is_phone]) if not a.startswith("+")]
    emails = list(address[channel == "EMAIL"])
    t_pn = best_of(lambda: [phonenumbers.is_valid_number(phonenumbers.parse(p)) for p in phones[:20000]], 1)
    t_fast = best_of(lambda: e164_valid(pa.array(phones)))
    t_nat_pn = best_of(lambda: [_parse_to_e164.__wrapped__(p, c) for p, c in national[:5000]], 1)
    nat_series = pd.Series([p for p, _ in national], dtype="str")
    nat_region = pd.Series([c for _, c in national], dtype="str")
    t_nat = best_of(lambda: normalise_phone(nat_series, nat_region))
    t_ev = best_of(lambda: [validate_email(e, check_deliverability=False) for e in emails[:20000]], 1)
    t_efast = best_of(lambda: _fast_ok(pa.array(emails)))
    print(f"per unique E.164 phone ({len(phones):,}): phonenumbers parse+is_valid "
          f"{t_pn / min(len(phones), 20000) * 1e6:.1f} us, vectorised check {t_fast / len(phones) * 1e6:.2f} us")
    print(f"per unique national-format phone ({len(national):,}): phonenumbers.parse "
          f"{t_nat_pn / min(len(national), 5000) * 1e6:.1f} us, vectorised normalise_phone "
          f"{t_nat / max(len(national), 1) * 1e6:.2f} us")
    print(f"per unique email ({len(emails):,}): email-validator {t_ev / min(len(emails), 20000) * 1e6:.1f} us, "
          f"vectorised fast path {t_efast / len(emails) * 1e6:.2f} us")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000)
