"""Generate N realistic Pinpoint endpoint rows as CSV, fast and in bounded memory.

    python bench/generate.py N OUT.csv [--seed 1] [--block-rows 100000]

Same columns as sample_data/endpoints.csv (the header list is imported from
sample_data/make_sample_data.py, so the two cannot drift apart). Rows are built a block at a
time with numpy (random draws) and pyarrow.compute (string assembly), written as minimal-quoted
RFC 4180 CSV, and forgotten: memory does not grow with N.

Mix: ~40 % EMAIL, ~30 % SMS, ~30 % push (APNS, GCM, a little ADM and BAIDU); ~55 places whose
country, locale and time zone repeat endlessly; ~5 % messy values the pipeline normalises; ~0.5 %
values the rules must reject; ~1 % rows that repeat an earlier row's Id (the later row wins).
Emails are at example.com/.org/.net; phone numbers are valid per libphonenumber (NANP numbers are
555-01XX; elsewhere the phonenumbers example numbers with the last digits varied).

Prints one JSON line with the counts actually generated (rows, messy, rejected, duplicate_ids,
bytes, seconds) and writes the same next to OUT as OUT.meta.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
import unicodedata
from pathlib import Path

import numpy as np
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc
from phonenumbers import PhoneNumberFormat, PhoneNumberType

REPO = Path(__file__).resolve().parent.parent
GENERATOR_VERSION = 2


def _sample_header() -> tuple[str, ...]:
    spec = importlib.util.spec_from_file_location("_make_sample_data", REPO / "sample_data" / "make_sample_data.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return tuple(mod.HEADER)


HEADER = _sample_header()

# code | alpha3 | English name | locale | time zone | city | region | postal | lat | lon | NANP area | weight
PLACES = """\
US|USA|United States|en_US|America/New_York|New York|New York|10001|40.7|-74.0|212|9
US|USA|United States|en_US|America/Chicago|Chicago|Illinois|60601|41.9|-87.6|312|6
US|USA|United States|es_US|America/Denver|Denver|Colorado|80202|39.7|-105.0|303|3
US|USA|United States|en_US|America/Los_Angeles|Los Angeles|California|90012|34.1|-118.2|213|8
US|USA|United States|en_US|America/Phoenix|Phoenix|Arizona|85004|33.4|-112.1|602|3
US|USA|United States|en_US|Pacific/Honolulu|Honolulu|Hawaii|96813|21.3|-157.9|808|1
US|USA|United States|en_US|America/Anchorage|Anchorage|Alaska|99501|61.2|-149.9|907|1
CA|CAN|Canada|en_CA|America/Toronto|Toronto|Ontario|M5H 2N2|43.7|-79.4|416|4
CA|CAN|Canada|en_CA|America/Vancouver|Vancouver|British Columbia|V6B 1A1|49.3|-123.1|604|2
CA|CAN|Canada|fr_CA|America/Halifax|Halifax|Nova Scotia|B3H 1A1|44.6|-63.6|902|1
GB|GBR|United Kingdom|en_GB|Europe/London|London|England|SW1A 1AA|51.5|-0.1||6
IE|IRL|Ireland|en_IE|Europe/Dublin|Dublin|Leinster|D02 X285|53.3|-6.3||1
DE|DEU|Germany|de_DE|Europe/Berlin|Berlin|Berlin|10115|52.5|13.4||5
FR|FRA|France|fr_FR|Europe/Paris|Paris|Île-de-France|75001|48.9|2.4||4
ES|ESP|Spain|es_ES|Europe/Madrid|Madrid|Community of Madrid|28001|40.4|-3.7||3
PT|PRT|Portugal|pt_PT|Europe/Lisbon|Lisbon|Lisbon|1100-148|38.7|-9.1||1
IT|ITA|Italy|it_IT|Europe/Rome|Rome|Lazio|00184|41.9|12.5||3
NL|NLD|Netherlands|nl_NL|Europe/Amsterdam|Amsterdam|North Holland|1012 AB|52.4|4.9||2
BE|BEL|Belgium|nl_BE|Europe/Brussels|Brussels|Brussels-Capital|1000|50.8|4.4||1
CH|CHE|Switzerland|de_CH|Europe/Zurich|Zurich|Zurich|8001|47.4|8.5||1
AT|AUT|Austria|de_AT|Europe/Vienna|Vienna|Vienna|1010|48.2|16.4||1
SE|SWE|Sweden|sv_SE|Europe/Stockholm|Stockholm|Stockholm County|111 20|59.3|18.1||1
NO|NOR|Norway|nb_NO|Europe/Oslo|Oslo|Oslo|0150|59.9|10.8||1
DK|DNK|Denmark|da_DK|Europe/Copenhagen|Copenhagen|Capital Region|1050|55.7|12.6||1
FI|FIN|Finland|fi_FI|Europe/Helsinki|Helsinki|Uusimaa|00100|60.2|24.9||1
PL|POL|Poland|pl_PL|Europe/Warsaw|Warsaw|Masovian|00-001|52.2|21.0||2
CZ|CZE|Czechia|cs_CZ|Europe/Prague|Prague|Prague|110 00|50.1|14.4||1
GR|GRC|Greece|el_GR|Europe/Athens|Athens|Attica|105 57|38.0|23.7||1
TR|TUR|Türkiye|tr_TR|Europe/Istanbul|Istanbul|Istanbul|34110|41.0|29.0||2
UA|UKR|Ukraine|uk_UA|Europe/Kyiv|Kyiv|Kyiv|01001|50.5|30.5||1
IL|ISR|Israel|he_IL|Asia/Jerusalem|Tel Aviv|Tel Aviv|6100000|32.1|34.8||1
AE|ARE|United Arab Emirates|ar_AE|Asia/Dubai|Dubai|Dubai|00000|25.2|55.3||1
SA|SAU|Saudi Arabia|ar_SA|Asia/Riyadh|Riyadh|Riyadh|11564|24.7|46.7||1
EG|EGY|Egypt|ar_EG|Africa/Cairo|Cairo|Cairo|11511|30.0|31.2||1
NG|NGA|Nigeria|en_NG|Africa/Lagos|Lagos|Lagos|100001|6.5|3.4||2
KE|KEN|Kenya|sw_KE|Africa/Nairobi|Nairobi|Nairobi|00100|-1.3|36.8||1
ZA|ZAF|South Africa|en_ZA|Africa/Johannesburg|Johannesburg|Gauteng|2001|-26.2|28.0||1
IN|IND|India|hi_IN|Asia/Kolkata|Mumbai|Maharashtra|400001|19.1|72.9||5
PK|PAK|Pakistan|ur_PK|Asia/Karachi|Karachi|Sindh|74000|24.9|67.0||1
CN|CHN|China|zh_CN|Asia/Shanghai|Shanghai|Shanghai|200000|31.2|121.5||3
JP|JPN|Japan|ja_JP|Asia/Tokyo|Tokyo|Tokyo|100-0001|35.7|139.7||4
KR|KOR|South Korea|ko_KR|Asia/Seoul|Seoul|Seoul|04524|37.6|127.0||2
SG|SGP|Singapore|en_SG|Asia/Singapore|Singapore|Singapore|018956|1.3|103.9||1
MY|MYS|Malaysia|ms_MY|Asia/Kuala_Lumpur|Kuala Lumpur|Kuala Lumpur|50050|3.1|101.7||1
TH|THA|Thailand|th_TH|Asia/Bangkok|Bangkok|Bangkok|10200|13.8|100.5||1
VN|VNM|Vietnam|vi_VN|Asia/Ho_Chi_Minh|Ho Chi Minh City|Ho Chi Minh City|700000|10.8|106.7||1
ID|IDN|Indonesia|id_ID|Asia/Jakarta|Jakarta|Jakarta|10110|-6.2|106.8||2
PH|PHL|Philippines|en_PH|Asia/Manila|Manila|Metro Manila|1000|14.6|121.0||2
AU|AUS|Australia|en_AU|Australia/Sydney|Sydney|New South Wales|2000|-33.9|151.2||3
AU|AUS|Australia|en_AU|Australia/Perth|Perth|Western Australia|6000|-32.0|115.9||1
NZ|NZL|New Zealand|en_NZ|Pacific/Auckland|Auckland|Auckland|1010|-36.8|174.8||1
BR|BRA|Brazil|pt_BR|America/Sao_Paulo|São Paulo|São Paulo|01000-000|-23.6|-46.6||4
AR|ARG|Argentina|es_AR|America/Argentina/Buenos_Aires|Buenos Aires|Buenos Aires|C1002|-34.6|-58.4||1
MX|MEX|Mexico|es_MX|America/Mexico_City|Mexico City|Ciudad de México|06000|19.4|-99.1||3
CO|COL|Colombia|es_CO|America/Bogota|Bogotá|Bogotá|110111|4.7|-74.1||1
CL|CHL|Chile|es_CL|America/Santiago|Santiago|Santiago Metropolitan|8320000|-33.4|-70.7||1
"""
COUNTRY_ALIASES = {"US": "U.S.", "GB": "UK"}

FIRST = ("Mary", "John", "Olivia", "James", "Emma", "Liam", "Ava", "Noah", "Sophia", "Lucas", "Mia",
         "Ethan", "Grace", "Henry", "Chloe", "Jack", "Ella", "Owen", "Ruby", "Leo", "Anna", "Jonas",
         "Lena", "Felix", "Zoé", "Hugo", "Léa", "Priya", "Arjun", "João", "Beatriz", "Yui", "Haruto",
         "Minjun", "Seoyeon", "Wei", "Fang", "José", "Lucía", "Åsa", "Erik", "Thabo", "Naledi", "Chinedu",
         "Ngozi", "Aoife", "Seán", "Zofia", "Jakub", "Mateo")
LAST = ("Major", "Doe", "Roe", "Stiles", "Miller", "Parker", "Hughes", "Bennett", "Foster", "Reed",
        "Carter", "Morgan", "Brooks", "Hayes", "Walsh", "Schmidt", "Müller", "Weber", "Lefèvre",
        "Martin", "Dubois", "Sharma", "Patel", "Iyer", "Silva", "Santos", "Gonçalves", "Sato", "Tanaka",
        "Kim", "Park", "Wang", "Li", "Zhang", "García", "Martínez", "López", "Ström", "Andersson",
        "Nkosi", "Okafor", "Murphy", "O'Brien", "Nowak", "Kowalski", "Rossi", "Bianchi", "de Jong",
        "Jansen", "Tan")
INTERESTS = ("Music", "Books", "Travel", "Cooking", "Sports", "News", "Gaming", "Fitness", "Fashion",
             "Photography", "Gardening", "Movies", "Technology", "Art", "Outdoors")
TIERS = ("Bronze", "Silver", "Gold", "Platinum")
SOURCES = ("web", "ios_app", "android_app", "store", "referral", "newsletter")
COMPANIES = ("ExampleCorp, Inc.", "Example Holdings", 'Beispiel "GmbH"', "Exemple SARL", "AnyCompany",
             "Example Trading Co.", "Contoso Ltd", "Fabrikam, Inc.")
DOMAINS = ("example.com", "example.org", "example.net")
APP_VERSIONS = ("2.3.1", "2.3.0", "2.2.9", "2.4.0-beta", "3.0.0")

# ChannelType, share, device rows (platform, platform version, make, model, model version)
CHANNELS = (
    ("EMAIL", 0.40, ()), ("SMS", 0.30, ()),
    ("APNS", 0.13, (("ios", "17.4", "apple", "iPhone", "15"), ("ios", "18.1", "apple", "iPhone", "16"),
                    ("ios", "16.7", "apple", "iPhone", "13"), ("ios", "17.6", "apple", "iPad", "10"))),
    ("GCM", 0.13, (("android", "14", "samsung", "SM-S911B", "1"), ("android", "15", "google", "Pixel 8", "1"),
                   ("android", "13", "samsung", "SM-A546B", "1"), ("android", "14", "xiaomi", "2201123G", "1"),
                   ("android", "12", "motorola", "moto g54", "1"), ("android", "14", "oneplus", "CPH2449", "1"))),
    ("ADM", 0.02, (("android", "11", "amazon", "KFTRWI", "1"), ("android", "11", "amazon", "KFRAWI", "1"))),
    ("BAIDU", 0.02, (("android", "13", "huawei", "NOH-NX9", "1"), ("android", "14", "oppo", "CPH2505", "1"))),
)
PUSH_TOKENS = {  # prefix, alphabet, random length
    "APNS": ("", "0123456789abcdef", 64),
    "GCM": ("", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 152),
    "ADM": ("amzn1.adm-registration.v3.", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 92),
    "BAIDU": ("", "0123456789", 19),
}
MESSY_SHARE, REJECT_SHARE, DUPLICATE_SHARE = 0.05, 0.005, 0.01
LONG_VALUE = ("Vintage mechanical keyboards, restoration of typewriters from the nineteen-fifties and "
              "letterpress printing")
PHONES_PER_COUNTRY = 200


def _ascii(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if c.isascii() and c.isalnum()).lower()


def _q(value: str) -> str:
    """RFC 4180 quoting of one value, only if it needs it (the CSV is written with minimal quoting)."""
    return '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\r\n') else value


def _s(values) -> pa.Array:
    """A dictionary of values, already CSV-quoted: rows index into it with take()."""
    return pa.array([_q(v) for v in values], type=pa.string())


def _take(dictionary: pa.Array, idx: np.ndarray) -> pa.Array:
    return dictionary.take(pa.array(idx, type=pa.int32()))


def _join(*parts) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _random_strings(rng: np.random.Generator, n: int, alphabet: str, length: int) -> pa.Array:
    """n random strings of one length, built straight into an Arrow buffer."""
    letters = np.frombuffer(alphabet.encode(), dtype=np.uint8)
    data = letters[rng.integers(0, len(letters), size=(n, length), dtype=np.uint8)]
    offsets = np.arange(0, (n + 1) * length, length, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(data)))


class Tables:
    """Small dictionaries (places, phone pools, devices) that rows index into."""

    def __init__(self, rng: np.random.Generator):
        rows = [line.split("|") for line in PLACES.strip().splitlines()]
        self.n_places = len(rows)

        def col(i: int) -> pa.Array:
            return _s(r[i] for r in rows)

        self.country, self.alpha3, self.name = col(0), col(1), col(2)
        self.locale, self.tz, self.city, self.region, self.postal = col(3), col(4), col(5), col(6), col(7)
        self.lat, self.lon = col(8), col(9)
        self.lat_f = np.array([float(r[8]) for r in rows])
        self.lon_f = np.array([float(r[9]) for r in rows])
        w = np.array([float(r[11]) for r in rows])
        self.place_p = w / w.sum()
        # messy spellings of place values
        self.country_messy = [
            _s(r[1].lower() for r in rows), self.alpha3, self.name,
            _s(COUNTRY_ALIASES.get(r[0], r[2]) for r in rows)]
        self.locale_messy = [_s(r[3].replace("_", "-") for r in rows),
                             _s(r[3].upper()[:2] + "_" + r[3][3:].lower() for r in rows),
                             _s(r[3].lower().replace("_", "-") for r in rows)]
        self.tz_messy = [_s(r[4].lower() for r in rows), _s(r[4].upper() for r in rows)]
        # phone pools: for each place, PHONES_PER_COUNTRY valid mobile numbers (E.164, national, spaced)
        e164, national, spaced, self.phone_off, self.phone_n = [], [], [], [], []
        for r in rows:
            nums = self._phones(r[0], r[10], rng)
            self.phone_off.append(len(e164))
            self.phone_n.append(len(nums))
            for num in nums:
                e164.append(phonenumbers.format_number(num, PhoneNumberFormat.E164))
                national.append(phonenumbers.format_number(num, PhoneNumberFormat.NATIONAL))
                spaced.append(phonenumbers.format_number(num, PhoneNumberFormat.INTERNATIONAL))
        self.phone_off, self.phone_n = np.array(self.phone_off), np.array(self.phone_n)
        self.phone, self.phone_national, self.phone_spaced = _s(e164), _s(national), _s(spaced)
        self.first, self.last = _s(FIRST), _s(LAST)
        self.first_ascii, self.last_ascii = _s(map(_ascii, FIRST)), _s(map(_ascii, LAST))
        self.channel = _s(c for c, _, _ in CHANNELS)
        self.channel_lower = _s(c.lower() if i % 2 else c.title() for i, (c, _, _) in enumerate(CHANNELS))
        self.channel_p = np.array([p for _, p, _ in CHANNELS])
        devices = [d for _, _, devs in CHANNELS for d in devs]
        self.device = [_s(d[i] for d in devices) for i in range(5)]
        self.device_off = np.cumsum([0] + [len(devs) for _, _, devs in CHANNELS])[:-1]
        self.device_n = np.array([len(devs) for _, _, devs in CHANNELS])
        self.platform_messy = _s({"ios": "iOS", "android": "Android"}[d[0]] for d in devices)
        self.make_messy = _s(d[2].title() for d in devices)
        self.interests = _s(INTERESTS)
        self.tier = _s(TIERS)
        self.source = _s(SOURCES)
        self.company = _s(COMPANIES)
        self.app_version = _s(APP_VERSIONS)
        self.domain = _s(DOMAINS)

    @staticmethod
    def _phones(region: str, area: str, rng: np.random.Generator) -> list:
        if area:  # NANP 555-0100…0199 is reserved for fiction
            cands = [f"+1{area}55501{k:02d}" for k in range(100)]
        else:
            ex = phonenumbers.format_number(
                phonenumbers.example_number_for_type(region, PhoneNumberType.MOBILE), PhoneNumberFormat.E164)
            cands = [f"{ex[:-3]}{k:03d}" for k in rng.permutation(1000)]
        out = []
        for c in cands:
            num = phonenumbers.parse(c)
            if phonenumbers.is_valid_number(num) and phonenumbers.region_code_for_number(num) == region:
                out.append(num)
                if len(out) == PHONES_PER_COUNTRY:
                    break
        if not out:
            raise RuntimeError(f"no valid phone numbers for {region}")
        return out


class Generator:
    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.t = Tables(self.rng)
        self.next_user = 1
        self.counts = {"rows": 0, "messy": 0, "rejected": 0, "duplicate_ids": 0}

    def block(self, start: int, n: int) -> list[pa.Array]:
        rng, t = self.rng, self.t
        rows = np.arange(start, start + n, dtype=np.int64)
        # users of 1–4 endpoints each, in row order
        sizes = rng.integers(1, 5, size=n // 2 + 2)
        user = np.repeat(np.arange(len(sizes)), sizes)[:n] + self.next_user
        self.next_user = int(user[-1]) + 1
        uidx = user - user[0]  # per-block user index: user-level draws are indexed by it
        n_users = int(uidx[-1]) + 1
        place = rng.choice(t.n_places, size=n_users, p=t.place_p)[uidx]
        first = (user * 7 + 3) % len(FIRST)
        last = (user * 13 + user // len(FIRST)) % len(LAST)
        ch = rng.choice(len(CHANNELS), size=n, p=t.channel_p)
        phone = t.phone_off[place] + (rng.random(n) * t.phone_n[place]).astype(np.int64)

        def email(sel: np.ndarray, messy: bool = False) -> pa.Array:
            """first.last<row>@example.xxx: unique per row, the user's name in it."""
            domain = _take(t.domain, user[sel] % len(DOMAINS))
            addr = [_take(t.first_ascii, first[sel]), ".", _take(t.last_ascii, last[sel]),
                    pc.cast(pa.array(rows[sel]), pa.string()), "@", pc.utf8_upper(domain) if messy else domain]
            return _join("  ", *addr, " ") if messy else _join(*addr)

        col: dict[str, pa.Array] = {}
        col["Id"] = _join("ep-", pc.cast(pa.array(rows), pa.string()))
        col["ChannelType"] = _take(t.channel, ch)
        # Address: built per channel in channel order, then put back in row order
        order = np.argsort(ch, kind="stable")
        parts = []
        for c, (name, _, _) in enumerate(CHANNELS):
            sel = order[ch[order] == c]
            k = len(sel)
            if name == "EMAIL":
                parts.append(email(sel))
            elif name == "SMS":
                parts.append(_take(t.phone, phone[sel]))
            else:
                prefix, alphabet, length = PUSH_TOKENS[name]
                tok = _random_strings(rng, k, alphabet, length)
                if name == "GCM":  # FCM shape: <11 chars>:APA91b<134 chars>
                    tok = _join(pc.utf8_slice_codeunits(tok, 0, 11), ":APA91b", pc.utf8_slice_codeunits(tok, 11, 145))
                parts.append(_join(prefix, tok) if prefix else tok)
        inverse = np.empty(n, dtype=np.int64)
        inverse[order] = np.arange(n)
        col["Address"] = pa.concat_arrays(parts).take(pa.array(inverse))
        col["OptOut"] = _take(_s(["NONE", "ALL"]), (rng.random(n) < 0.08).astype(np.int8))
        for name, arr in (("Country", t.country), ("Region", t.region), ("City", t.city),
                          ("PostalCode", t.postal), ("Latitude", t.lat), ("Longitude", t.lon)):
            col[f"Location.{name}"] = _take(arr, place)
        # device fields only on push endpoints
        is_push = ch >= 2
        dev = np.where(is_push, t.device_off[ch] + (rng.random(n) * np.maximum(t.device_n[ch], 1)).astype(np.int64), 0)
        push_mask = pa.array(is_push)
        for i, name in enumerate(("Platform", "PlatformVersion", "Make", "Model", "ModelVersion")):
            col[f"Demographic.{name}"] = pc.if_else(push_mask, _take(t.device[i], dev), "")
        col["Demographic.AppVersion"] = _take(t.app_version, rng.integers(0, len(APP_VERSIONS), n_users)[uidx])
        col["Demographic.Locale"] = _take(t.locale, place)
        col["Demographic.Timezone"] = _take(t.tz, place)
        n_interests = rng.choice(4, size=n_users, p=[0.15, 0.3, 0.35, 0.2])[uidx]
        interests = rng.integers(0, len(INTERESTS), size=(n_users, 3))[uidx]
        for slot in range(3):
            col[f"Attributes.Interests#{slot}"] = pc.if_else(pa.array(n_interests > slot),
                                                             _take(t.interests, interests[:, slot]), "")
        col["Attributes.Tier"] = _take(t.tier, rng.integers(0, len(TIERS), n_users)[uidx])
        col["Attributes.SignupSource"] = _take(t.source, rng.integers(0, len(SOURCES), n_users)[uidx])
        col["Metrics.sessions"] = pc.cast(pa.array(rng.integers(0, 250, n_users)[uidx]), pa.string())
        col["Metrics.cart_items"] = pc.cast(pa.array(rng.choice([0, 0, 0, 1, 2, 3, 5], n_users)[uidx]), pa.string())
        cents = rng.integers(0, 250_000, n_users)[uidx]
        ltv = _join(pc.cast(pa.array(cents // 100), pa.string()), ".",
                    pc.utf8_lpad(pc.cast(pa.array(cents % 100), pa.string()), 2, "0"))
        col["Metrics.lifetime_value"] = pc.if_else(pa.array(cents % 10 < 7), ltv, "")
        col["User.UserId"] = _join("u", pc.cast(pa.array(user), pa.string()))
        col["User.UserAttributes.FirstName"] = _take(t.first, first)
        col["User.UserAttributes.LastName"] = _take(t.last, last)
        company = rng.integers(0, len(COMPANIES) * 3, n_users)[uidx]
        col["User.UserAttributes.Company"] = pc.if_else(pa.array(company < len(COMPANIES)),
                                                        _take(t.company, company % len(COMPANIES)), "")

        # ---- messy (~5 %), rejected (~0.5 %), duplicate Ids (~1 %): disjoint messy/rejected rows
        draw = rng.random(n)
        messy = draw < MESSY_SHARE
        rejected = (draw >= MESSY_SHARE) & (draw < MESSY_SHARE + REJECT_SHARE)
        messy = self._mess(col, rng, messy, ch, place, dev, is_push, phone, email)
        self._reject(col, rng, rejected, ch)
        # a duplicate repeats the Id of an earlier row of the block that keeps its own Id and passes,
        # so that duplicate_ids is exactly the number of rows a correct run marks superseded
        dup = (rng.random(n) < DUPLICATE_SHARE) & ~rejected
        keeps = np.flatnonzero(~dup & ~rejected)
        before = np.searchsorted(keeps, np.flatnonzero(dup))  # how many such rows precede each dup
        dup[np.flatnonzero(dup)[before == 0]] = False
        before = before[before > 0]
        if dup.any():
            target = rows[keeps[(rng.random(len(before)) * before).astype(np.int64)]]
            col["Id"] = _replace(col["Id"], dup, _join("ep-", pc.cast(pa.array(target), pa.string())))
        self.counts["rows"] += n
        self.counts["messy"] += int(messy.sum())
        self.counts["rejected"] += int(rejected.sum())
        self.counts["duplicate_ids"] += int(dup.sum())
        return [col[name] for name in _column_keys()]

    def _mess(self, col, rng, messy, ch, place, dev, is_push, phone, email) -> np.ndarray:
        """Give the ``messy`` rows one messy value each; returns the rows actually changed."""
        t = self.t
        sms, is_email = ch == 1, ch == 0
        kinds = rng.integers(0, 11, size=len(ch))
        # a kind that does not apply to the row's channel becomes one that applies to every row
        fits = ~(((kinds == 1) | (kinds == 2)) & ~sms | (kinds == 3) & ~is_email | (kinds >= 7) & (kinds <= 8) & ~is_push)
        kinds = np.where(fits, kinds, np.array([0, 4, 5, 6, 9, 10])[kinds % 6])

        def rows(k, extra=True):
            return messy & (kinds == k) & extra
        rep = [
            ("ChannelType", rows(0), lambda m: _take(t.channel_lower, ch[m])),
            ("Address", rows(1, sms), lambda m: _take(t.phone_national, phone[m])),
            ("Address", rows(2, sms), lambda m: _take(t.phone_spaced, phone[m])),
            ("Address", rows(3, is_email), lambda m: email(m, messy=True)),
            ("Location.Country", rows(4), lambda m: _pick(t.country_messy, rng, place[m])),
            ("Demographic.Locale", rows(5), lambda m: _pick(t.locale_messy, rng, place[m])),
            ("Demographic.Timezone", rows(6), lambda m: _pick(t.tz_messy, rng, place[m])),
            ("Demographic.Platform", rows(7, is_push), lambda m: _take(t.platform_messy, dev[m])),
            ("Demographic.Make", rows(8, is_push), lambda m: _take(t.make_messy, dev[m])),
            ("OptOut", rows(9), lambda m: pc.utf8_lower(col["OptOut"].filter(pa.array(m)))),
        ]
        for field, m, values in rep:
            if m.any():
                col[field] = _replace(col[field], m, values(m))
        m = rows(10)
        if m.any():  # coordinates with many decimals (rounding to 1 decimal gives the clean value)
            k = int(m.sum())
            for field, base in (("Location.Latitude", t.lat_f), ("Location.Longitude", t.lon_f)):
                precise = np.round(base[place[m]] + rng.uniform(-0.0449, 0.0449, k), 6)
                col[field] = _replace(col[field], m, pc.cast(pa.array(precise), pa.string()))
        return messy

    def _reject(self, col, rng, rejected, ch) -> None:
        kinds = rng.integers(0, 8, size=len(ch))
        for k, fields in enumerate((
            {"ChannelType": "SMS", "Address": "+1 000"},
            {"ChannelType": "EMAIL", "Address": "someone@"},
            {"Location.Country": "Atlantis"},
            {"Demographic.Timezone": "Mars/Olympus_Mons"},
            {"OptOut": "MAYBE"},
            {"Location.Latitude": "123"},
            {"Attributes.Interests#2": _q(LONG_VALUE)},
            {"Id": "", "Address": ""},
        )):
            m = rejected & (kinds == k)
            if m.any():
                for field, value in fields.items():
                    col[field] = _replace(col[field], m, pa.array([value] * int(m.sum()), type=pa.string()))


def _pick(variants: list[pa.Array], rng: np.random.Generator, place: np.ndarray) -> pa.Array:
    which = rng.integers(0, len(variants), size=len(place))
    out = variants[0].take(pa.array(place))
    for i, v in enumerate(variants[1:], start=1):
        out = pc.if_else(pa.array(which == i), v.take(pa.array(place)), out)
    return out


def _replace(arr: pa.Array, mask: np.ndarray, values: pa.Array) -> pa.Array:
    return pc.replace_with_mask(arr, pa.array(mask), values)


def _column_keys() -> list[str]:
    keys, slot = [], 0
    for name in HEADER:
        if name == "Attributes.Interests":
            keys.append(f"Attributes.Interests#{slot}")
            slot += 1
        else:
            keys.append(name)
    return keys


def to_csv_bytes(columns: list[pa.Array]) -> memoryview:
    """Join the (already quoted, null-free) columns into CSV lines with LF line ends, in Arrow."""
    lines = pc.binary_join_element_wise(*columns[:-1], _join(columns[-1], "\n"), ",")
    _, offsets, data = lines.buffers()
    off = np.frombuffer(offsets, dtype=np.int32)[lines.offset:lines.offset + len(lines) + 1]
    return memoryview(data)[off[0]:off[-1]]


def generate(n: int, out: Path, seed: int = 1, block_rows: int = 100_000) -> dict:
    t0 = time.perf_counter()
    gen = Generator(seed)
    tmp = out.with_name(out.name + ".part")
    written = 0
    with open(tmp, "wb") as fh:
        fh.write((",".join(HEADER) + "\n").encode())
        for start in range(0, n, block_rows):
            data = to_csv_bytes(gen.block(start, min(block_rows, n - start)))
            fh.write(data)
            written += len(data)
    tmp.replace(out)
    meta = {"generator_version": GENERATOR_VERSION, "seed": seed, **gen.counts, "bytes": out.stat().st_size,
            "seconds": round(time.perf_counter() - t0, 2), "path": str(out)}
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
