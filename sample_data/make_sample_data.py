"""Generate sample_data/endpoints.csv, sample_data/endpoints.ndjson and sample_data/expected.json.

Deterministic (seeded): running it again rewrites the same bytes, given the same phonenumbers
metadata. Every email is at example.com/.org/.net; phone numbers are fictional where a fictional
range exists that libphonenumber accepts (NANP 555-01XX, Ofcom drama numbers 020 7946 0xxx /
0161 496 0xxx, ACMA 0491 570 xxx and (02) 5550 xxxx, ARCEP 01 99 00 xx xx) and otherwise the
phonenumbers example number of the region with its last digits varied, each one checked with
``phonenumbers.is_valid_number``. Push tokens are random.

Each file gets: clean rows, ~15 % messy rows (one messy field each, which the pipeline must
normalise), a fixed set of rows that the rules must reject (one reason each), and, in the CSV
only, three duplicate Ids (the later row wins). expected.json and the tables of README.md list
them all with row numbers (CSV: 1-based data row, header excluded; NDJSON: 1-based line).

    python sample_data/make_sample_data.py            # writes the files beside this script
    python sample_data/make_sample_data.py --check    # exits 1 if the files on disk differ
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import re
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import available_timezones

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

sys.path.insert(0, str(Path(__file__).resolve().parent))
import crm_data  # noqa: E402 - the CRM and app-backend exports (issue 13), beside this script

HERE = Path(__file__).resolve().parent
SEED = 20261123
CSV_ROWS = 300
NDJSON_LINES = 200

# --------------------------------------------------------------------------------------------
# Reference data
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class City:
    name: str
    region: str
    postal: str
    lat: float
    lon: float
    tz: str
    area: str | None = None  # NANP area code, or None


@dataclass(frozen=True)
class Country:
    code: str
    alpha3: str
    name: str
    locales: tuple[str, ...]
    cities: tuple[City, ...]
    first: tuple[str, ...]
    last: tuple[str, ...]
    weight: int
    fixed_fiction: tuple[tuple[str, int], ...] = ()  # fictional fixed-line ranges: (prefix, digits)
    mobile_fiction: tuple[str, ...] = ()  # explicit fictional mobile numbers (E.164)
    makes: tuple[str, ...] = ("apple", "samsung", "google")


EN_FIRST = ("Mary", "John", "Olivia", "James", "Emma", "Liam", "Ava", "Noah", "Sophia", "Lucas",
            "Mia", "Ethan", "Grace", "Henry", "Chloe", "Jack", "Ella", "Owen", "Ruby", "Leo")
EN_LAST = ("Major", "Doe", "Roe", "Stiles", "Miller", "Parker", "Hughes", "Bennett", "Foster",
           "Reed", "Carter", "Morgan", "Brooks", "Hayes", "Walsh", "Price", "Ward", "Ellis")
ACMA_MOBILES = ("+61491570006", "+61491570156", "+61491570157", "+61491570158", "+61491570159",
                "+61491570110", "+61491570313", "+61491570737", "+61491571266", "+61491571491",
                "+61491571804", "+61491572549", "+61491572665", "+61491572983", "+61491573770",
                "+61491573087", "+61491574118", "+61491574632", "+61491575254", "+61491575789")

COUNTRIES: tuple[Country, ...] = (
    Country("US", "USA", "United States", ("en_US", "en_US", "en_US", "es_US"), (
        City("Seattle", "Washington", "98101", 47.6, -122.3, "America/Los_Angeles", "206"),
        City("New York", "New York", "10001", 40.7, -74.0, "America/New_York", "212"),
        City("Chicago", "Illinois", "60601", 41.9, -87.6, "America/Chicago", "312"),
        City("Austin", "Texas", "78701", 30.3, -97.7, "America/Chicago", "512"),
        City("Denver", "Colorado", "80202", 39.7, -105.0, "America/Denver", "303"),
        City("Boston", "Massachusetts", "02108", 42.4, -71.1, "America/New_York", "617"),
        City("San Francisco", "California", "94103", 37.8, -122.4, "America/Los_Angeles", "415"),
        City("Miami", "Florida", "33130", 25.8, -80.2, "America/New_York", "305"),
    ), EN_FIRST, EN_LAST, 60),
    Country("GB", "GBR", "United Kingdom", ("en_GB",), (
        City("London", "England", "SW1A 1AA", 51.5, -0.1, "Europe/London"),
        City("Manchester", "England", "M1 1AE", 53.5, -2.2, "Europe/London"),
        City("Edinburgh", "Scotland", "EH1 1YZ", 56.0, -3.2, "Europe/London"),
        City("Cardiff", "Wales", "CF10 1EP", 51.5, -3.2, "Europe/London"),
    ), EN_FIRST, EN_LAST, 18, fixed_fiction=(("+442079460", 3), ("+441614960", 3))),
    Country("DE", "DEU", "Germany", ("de_DE",), (
        City("Berlin", "Berlin", "10115", 52.5, 13.4, "Europe/Berlin"),
        City("Munich", "Bavaria", "80331", 48.1, 11.6, "Europe/Berlin"),
        City("Hamburg", "Hamburg", "20095", 53.6, 10.0, "Europe/Berlin"),
        City("Cologne", "North Rhine-Westphalia", "50667", 50.9, 7.0, "Europe/Berlin"),
    ), ("Jürgen", "Anna", "Lukas", "Lena", "Felix", "Marie", "Jonas", "Sophie", "Max", "Hannah"),
        ("Schmidt", "Müller", "Schneider", "Fischer", "Weber", "Wagner", "Becker", "Hoffmann"), 14),
    Country("FR", "FRA", "France", ("fr_FR",), (
        City("Paris", "Île-de-France", "75001", 48.9, 2.4, "Europe/Paris"),
        City("Lyon", "Auvergne-Rhône-Alpes", "69001", 45.8, 4.8, "Europe/Paris"),
        City("Marseille", "Provence-Alpes-Côte d'Azur", "13001", 43.3, 5.4, "Europe/Paris"),
    ), ("Zoé", "Louis", "Camille", "Hugo", "Léa", "Gabriel", "Chloé", "Arthur", "Manon", "Jules"),
        ("Lefèvre", "Martin", "Bernard", "Dubois", "Moreau", "Laurent", "Girard", "Roux"), 10,
        fixed_fiction=(("+3319900", 4),)),
    Country("IN", "IND", "India", ("en_IN", "hi_IN"), (
        City("Mumbai", "Maharashtra", "400001", 19.1, 72.9, "Asia/Kolkata"),
        City("Bengaluru", "Karnataka", "560001", 13.0, 77.6, "Asia/Kolkata"),
        City("Delhi", "Delhi", "110001", 28.6, 77.2, "Asia/Kolkata"),
    ), ("Nikhil", "Priya", "Arjun", "Ananya", "Rohan", "Kavya", "Vikram", "Isha"),
        ("Jayashankar", "Sharma", "Patel", "Iyer", "Reddy", "Gupta", "Nair", "Rao"), 10,
        makes=("samsung", "xiaomi", "oneplus", "apple")),
    Country("BR", "BRA", "Brazil", ("pt_BR",), (
        City("São Paulo", "São Paulo", "01000-000", -23.6, -46.6, "America/Sao_Paulo"),
        City("Rio de Janeiro", "Rio de Janeiro", "20000-000", -22.9, -43.2, "America/Sao_Paulo"),
    ), ("João", "Maria", "Pedro", "Ana", "Lucas", "Beatriz", "Gabriel", "Júlia"),
        ("Silva", "Santos", "Oliveira", "Souza", "Gonçalves", "Lima", "Costa", "Ferreira"), 8,
        makes=("samsung", "motorola", "apple")),
    Country("JP", "JPN", "Japan", ("ja_JP",), (
        City("Tokyo", "Tokyo", "100-0001", 35.7, 139.7, "Asia/Tokyo"),
        City("Osaka", "Osaka", "530-0001", 34.7, 135.5, "Asia/Tokyo"),
    ), ("Haruto", "Yui", "Sota", "Hina", "Ren", "Aoi", "Yuto", "Sakura"),
        ("Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura"), 7,
        makes=("apple", "sony", "sharp")),
    Country("AU", "AUS", "Australia", ("en_AU",), (
        City("Sydney", "New South Wales", "2000", -33.9, 151.2, "Australia/Sydney"),
        City("Melbourne", "Victoria", "3000", -37.8, 145.0, "Australia/Melbourne"),
    ), EN_FIRST, EN_LAST, 7, fixed_fiction=(("+6125550", 4),), mobile_fiction=ACMA_MOBILES),
    Country("CA", "CAN", "Canada", ("en_CA", "en_CA", "fr_CA"), (
        City("Toronto", "Ontario", "M5H 2N2", 43.7, -79.4, "America/Toronto", "416"),
        City("Vancouver", "British Columbia", "V6B 1A1", 49.3, -123.1, "America/Vancouver", "604"),
        City("Montreal", "Quebec", "H2Y 1C6", 45.5, -73.6, "America/Toronto", "514"),
    ), EN_FIRST, EN_LAST, 8),
    Country("MX", "MEX", "Mexico", ("es_MX",), (
        City("Mexico City", "Ciudad de México", "06000", 19.4, -99.1, "America/Mexico_City"),
        City("Guadalajara", "Jalisco", "44100", 20.7, -103.3, "America/Mexico_City"),
    ), ("José", "Lucía", "Diego", "Valentina", "Mateo", "Camila", "Santiago", "Sofía"),
        ("Martínez", "García", "Hernández", "López", "González", "Pérez", "Ramírez", "Flores"), 6,
        makes=("samsung", "motorola", "apple")),
    Country("ES", "ESP", "Spain", ("es_ES",), (
        City("Madrid", "Community of Madrid", "28001", 40.4, -3.7, "Europe/Madrid"),
        City("Barcelona", "Catalonia", "08001", 41.4, 2.2, "Europe/Madrid"),
    ), ("José", "Lucía", "Pablo", "Carmen", "Álvaro", "Marta", "Javier", "Elena"),
        ("García", "Fernández", "López", "Martínez", "Sánchez", "Romero", "Navarro", "Ruiz"), 5),
    Country("IT", "ITA", "Italy", ("it_IT",), (
        City("Rome", "Lazio", "00184", 41.9, 12.5, "Europe/Rome"),
        City("Milan", "Lombardy", "20121", 45.5, 9.2, "Europe/Rome"),
    ), ("Giulia", "Marco", "Francesca", "Luca", "Chiara", "Matteo", "Sara", "Andrea"),
        ("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci"), 5),
    Country("NL", "NLD", "Netherlands", ("nl_NL",), (
        City("Amsterdam", "North Holland", "1012 AB", 52.4, 4.9, "Europe/Amsterdam"),
        City("Rotterdam", "South Holland", "3011 AA", 51.9, 4.5, "Europe/Amsterdam"),
    ), ("Daan", "Emma", "Sem", "Julia", "Bram", "Tess", "Lars", "Fleur"),
        ("de Jong", "Jansen", "de Vries", "van Dijk", "Bakker", "Visser", "Smit", "Meijer"), 4),
    Country("SE", "SWE", "Sweden", ("sv_SE",), (
        City("Stockholm", "Stockholm County", "111 20", 59.3, 18.1, "Europe/Stockholm"),
        City("Gothenburg", "Västra Götaland", "411 04", 57.7, 12.0, "Europe/Stockholm"),
    ), ("Åsa", "Erik", "Elsa", "Oskar", "Maja", "Nils", "Ebba", "Viktor"),
        ("Ström", "Andersson", "Johansson", "Karlsson", "Nilsson", "Lindqvist", "Berg", "Holm"), 4),
    Country("ZA", "ZAF", "South Africa", ("en_ZA",), (
        City("Johannesburg", "Gauteng", "2001", -26.2, 28.0, "Africa/Johannesburg"),
        City("Cape Town", "Western Cape", "8001", -33.9, 18.4, "Africa/Johannesburg"),
    ), ("Thabo", "Naledi", "Sipho", "Lerato", "Pieter", "Anele", "Kagiso", "Zanele"),
        ("Nkosi", "Dlamini", "van der Merwe", "Botha", "Mokoena", "Naidoo", "Khumalo", "Pillay"), 4,
        makes=("samsung", "huawei", "apple")),
    Country("NG", "NGA", "Nigeria", ("en_NG",), (
        City("Lagos", "Lagos", "100001", 6.5, 3.4, "Africa/Lagos"),
        City("Abuja", "Federal Capital Territory", "900001", 9.1, 7.5, "Africa/Lagos"),
    ), ("Chinedu", "Ngozi", "Emeka", "Amaka", "Tunde", "Funmi", "Ifeanyi", "Zainab"),
        ("Okafor", "Adeyemi", "Balogun", "Eze", "Okonkwo", "Bello", "Nwosu", "Abubakar"), 4,
        makes=("tecno", "infinix", "samsung")),
    Country("KR", "KOR", "South Korea", ("ko_KR",), (
        City("Seoul", "Seoul", "04524", 37.6, 127.0, "Asia/Seoul"),
        City("Busan", "Busan", "48058", 35.2, 129.1, "Asia/Seoul"),
    ), ("Minjun", "Seoyeon", "Jiho", "Jiwoo", "Hyun", "Soyeon", "Dohyun", "Yuna"),
        ("Kim", "Lee", "Park", "Choi", "Jung", "Kang", "Cho", "Yoon"), 4,
        makes=("samsung", "lg", "apple")),
    Country("CN", "CHN", "China", ("zh_CN",), (
        City("Shanghai", "Shanghai", "200000", 31.2, 121.5, "Asia/Shanghai"),
        City("Beijing", "Beijing", "100000", 39.9, 116.4, "Asia/Shanghai"),
    ), ("Xiulan", "Wei", "Fang", "Lei", "Jing", "Tao", "Min", "Yang"),
        ("Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Zhao", "Huang"), 7,
        makes=("xiaomi", "huawei", "oppo")),
    Country("IE", "IRL", "Ireland", ("en_IE", "ga_IE"), (
        City("Dublin", "Leinster", "D02 X285", 53.3, -6.3, "Europe/Dublin"),
    ), ("Aoife", "Seán", "Niamh", "Cian", "Saoirse", "Darragh"),
        ("Murphy", "Kelly", "O'Sullivan", "Walsh", "O'Brien", "Byrne"), 3),
    Country("SG", "SGP", "Singapore", ("en_SG", "zh_SG"), (
        City("Singapore", "Singapore", "018956", 1.3, 103.9, "Asia/Singapore"),
    ), ("Wei Ling", "Jun Jie", "Hui Min", "Zhi Hao", "Priya", "Arif"),
        ("Tan", "Lim", "Lee", "Ng", "Wong", "Rahman"), 3),
    Country("PL", "POL", "Poland", ("pl_PL",), (
        City("Warsaw", "Masovian", "00-001", 52.2, 21.0, "Europe/Warsaw"),
        City("Kraków", "Lesser Poland", "30-001", 50.1, 19.9, "Europe/Warsaw"),
    ), ("Zofia", "Jakub", "Zuzanna", "Kacper", "Maja", "Szymon"),
        ("Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kamińska", "Lewandowski"), 3),
    Country("NZ", "NZL", "New Zealand", ("en_NZ", "mi_NZ"), (
        City("Auckland", "Auckland", "1010", -36.8, 174.8, "Pacific/Auckland"),
    ), EN_FIRST, EN_LAST, 3),
    Country("AR", "ARG", "Argentina", ("es_AR",), (
        City("Buenos Aires", "Buenos Aires", "C1002", -34.6, -58.4, "America/Argentina/Buenos_Aires"),
    ), ("Martina", "Santiago", "Valentina", "Benjamín", "Catalina", "Thiago"),
        ("González", "Rodríguez", "Gómez", "Fernández", "Díaz", "Álvarez"), 2,
        makes=("samsung", "motorola", "apple")),
)
BY_CODE = {c.code: c for c in COUNTRIES}

INTERESTS = ("Music", "Books", "Travel", "Cooking", "Sports", "News", "Gaming", "Fitness",
             "Fashion", "Photography", "Gardening", "Movies", "Technology", "Art", "Outdoors")
TIERS = ("Bronze", "Silver", "Gold", "Platinum")
SOURCES = ("web", "ios_app", "android_app", "store", "referral", "newsletter")
COMPANIES = ("ExampleCorp, Inc.", "Example Holdings", 'Beispiel "GmbH"', "Exemple SARL",
             "AnyCompany", "Example Trading Co.", "Contoso Ltd", "Fabrikam, Inc.")
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")
APP_VERSIONS = ("2.3.1", "2.3.0", "2.2.9", "2.4.0-beta", "3.0.0")
IOS = (("17.4", "iPhone", "15"), ("18.1", "iPhone", "16"), ("16.7", "iPhone", "13"),
       ("17.6", "iPad", "10"))
ANDROID_MODELS = {
    "samsung": ("SM-S911B", "SM-A546B", "SM-G991B"), "google": ("Pixel 8", "Pixel 7a"),
    "xiaomi": ("2201123G", "23049PCD8G"), "oneplus": ("CPH2449", "CPH2581"),
    "motorola": ("moto g54", "XT2343-1"), "huawei": ("NOH-NX9", "ELS-NX9"),
    "oppo": ("CPH2505",), "sony": ("XQ-DQ72",), "sharp": ("SH-53C",), "lg": ("LM-V600",),
    "tecno": ("CK7n",), "infinix": ("X6833B",), "amazon": ("KFTRWI", "KFRAWI"),
}
ANDROID_VERSIONS = ("15", "14", "13", "12")

# Column layout of the CSV (documented Pinpoint import names, exact case). The multi-value
# attribute Attributes.Interests repeats its header three times, one value per column.
INTEREST_SLOTS = 3
HEADER = (
    "Id", "ChannelType", "Address", "OptOut",
    "Location.Country", "Location.Region", "Location.City", "Location.PostalCode",
    "Location.Latitude", "Location.Longitude",
    "Demographic.Platform", "Demographic.PlatformVersion", "Demographic.Make", "Demographic.Model",
    "Demographic.ModelVersion", "Demographic.AppVersion", "Demographic.Locale", "Demographic.Timezone",
    *("Attributes.Interests",) * INTEREST_SLOTS, "Attributes.Tier", "Attributes.SignupSource",
    "Metrics.sessions", "Metrics.cart_items", "Metrics.lifetime_value",
    "User.UserId", "User.UserAttributes.FirstName", "User.UserAttributes.LastName",
    "User.UserAttributes.Company",
)

# --------------------------------------------------------------------------------------------
# Phone numbers
# --------------------------------------------------------------------------------------------

MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
FIXED_TYPES = {PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


def _valid(e164: str, region: str, types: set) -> bool:
    n = phonenumbers.parse(e164)
    return (phonenumbers.is_valid_number(n) and phonenumbers.region_code_for_number(n) == region
            and phonenumbers.number_type(n) in types)


def _vary(prefix: str, digits: int) -> list[str]:
    return [f"{prefix}{k:0{digits}d}" for k in range(10 ** digits)]


class PhoneBook:
    """Hands out unique, valid, fictional-where-possible numbers per (region, kind)."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.pools: dict[tuple[str, str], list[str]] = {}

    def _build(self, country: Country, city: City, kind: str) -> list[str]:
        types = MOBILE_TYPES if kind == "mobile" else FIXED_TYPES
        if city.area:  # NANP: 555-0100 … 555-0199 is reserved for fiction
            cands = _vary(f"+1{city.area}55501", 2)
        elif kind == "mobile" and country.mobile_fiction:
            cands = list(country.mobile_fiction)
        elif kind == "fixed" and country.fixed_fiction:
            cands = [n for p, digits in country.fixed_fiction for n in _vary(p, digits)]
        else:
            ptype = PhoneNumberType.MOBILE if kind == "mobile" else PhoneNumberType.FIXED_LINE
            example = phonenumbers.format_number(
                phonenumbers.example_number_for_type(country.code, ptype), PhoneNumberFormat.E164)
            cands = _vary(example[:-3], 3)
        pool = [n for n in cands if _valid(n, country.code, types)]
        if not pool:
            raise RuntimeError(f"no valid {kind} numbers for {country.code}")
        self.rng.shuffle(pool)
        return pool

    def take(self, country: Country, city: City, kind: str) -> str:
        key = (city.area or country.code, kind)
        if key not in self.pools:
            self.pools[key] = self._build(country, city, kind)
        return self.pools[key].pop()


def national(e164: str) -> str:
    return phonenumbers.format_number(phonenumbers.parse(e164), PhoneNumberFormat.NATIONAL)


def spaced(e164: str) -> str:
    return phonenumbers.format_number(phonenumbers.parse(e164), PhoneNumberFormat.INTERNATIONAL)


# --------------------------------------------------------------------------------------------
# Records: a flat dict keyed by dotted names; Attributes.Interests holds a list.
# --------------------------------------------------------------------------------------------


@dataclass
class Endpoint:
    rec: dict
    tag: str = "clean"               # clean | messy | rejected | superseded | winner
    notes: list[dict] = field(default_factory=list)


def _fmt1(x: float) -> str:
    return f"{x:.1f}"


HEX = "0123456789abcdef"
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _ascii(text: str) -> str:
    """Email-safe lower-case ASCII of a name (accents dropped, spaces and apostrophes removed)."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", text)
                   if ch.isascii() and (ch.isalnum() or ch == "-")).lower()


class Maker:
    def __init__(self, rng: random.Random, user_prefix: str):
        self.rng = rng
        self.phones = PhoneBook(rng)
        self.user_prefix = user_prefix
        self.user_seq = 0
        self.email_seen: set[str] = set()

    def pick_country(self) -> Country:
        return self.rng.choices(COUNTRIES, weights=[c.weight for c in COUNTRIES])[0]

    def token(self, alphabet: str, n: int) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def push_token(self, channel: str) -> str:
        if channel == "APNS":
            return self.token(HEX, 64)
        if channel == "GCM":
            return f"{self.token(B64, 11)}:APA91b{self.token(B64, 134)}"
        if channel == "ADM":
            return f"amzn1.adm-registration.v3.{self.token(B64, 92)}"
        if channel == "BAIDU":
            return self.token("0123456789", 19)
        return f"inapp-{self.token(HEX, 32)}"  # IN_APP

    def email(self, first: str, last: str) -> str:
        base = f"{_ascii(first)}.{_ascii(last)}"
        n = 0
        while True:
            suffix = "" if n == 0 else str(n)
            addr = f"{base}{suffix}@{EMAIL_DOMAINS[len(base) % 3]}"
            if addr not in self.email_seen:
                self.email_seen.add(addr)
                return addr
            n += self.rng.randint(1, 9)

    def channels_for(self, country: Country, n: int) -> list[str]:
        push = "BAIDU" if country.code == "CN" else self.rng.choices(
            ["APNS", "GCM", "ADM"], weights=[45, 45, 8])[0]
        extra = self.rng.choices(["VOICE", "CUSTOM", "IN_APP", "GCM" if push != "GCM" else "APNS"],
                                 weights=[40, 28, 20, 12])[0]
        order = self.rng.choices([["EMAIL", "SMS", push, extra], ["SMS", "EMAIL", push, extra],
                                  [push, "EMAIL", "SMS", extra], ["EMAIL", push, extra, "SMS"]],
                                 weights=[45, 25, 20, 10])[0]
        return order[:n]

    def user(self) -> list[dict]:
        """One user with 1–4 endpoints on distinct channels, sharing location and profile."""
        rng = self.rng
        self.user_seq += 1
        uid = f"{self.user_prefix}{self.user_seq:04d}"
        country = self.pick_country()
        city = rng.choice(country.cities)
        first, last = rng.choice(country.first), rng.choice(country.last)
        locale = rng.choice(country.locales)
        n = rng.choices([1, 2, 3, 4], weights=[30, 35, 22, 13])[0]
        profile = {
            "Location.Country": country.code, "Location.Region": city.region,
            "Location.City": city.name, "Location.PostalCode": city.postal,
            "Location.Latitude": _fmt1(city.lat), "Location.Longitude": _fmt1(city.lon),
            "Demographic.Locale": locale, "Demographic.Timezone": city.tz,
            "Demographic.AppVersion": rng.choice(APP_VERSIONS),
            "Attributes.Interests": rng.sample(INTERESTS, rng.choices([0, 1, 2, 3], [15, 30, 35, 20])[0]),
            "Attributes.Tier": rng.choice(TIERS + ("",)),
            "Attributes.SignupSource": rng.choice(SOURCES),
            "Metrics.sessions": str(rng.randint(0, 250)),
            "Metrics.cart_items": str(rng.choice([0, 0, 0, 1, 2, 3, 5])),
            "Metrics.lifetime_value": f"{rng.uniform(0, 2500):.2f}" if rng.random() < 0.7 else "",
            "User.UserId": uid, "User.UserAttributes.FirstName": first,
            "User.UserAttributes.LastName": last,
            "User.UserAttributes.Company": rng.choice(COMPANIES) if rng.random() < 0.3 else "",
        }
        ios = rng.random() < (0.2 if country.code in {"CN", "IN", "NG"} else 0.5)
        out = []
        for ch in self.channels_for(country, n):
            rec = dict(profile, Id=f"{ch.lower().replace('_', '')}-{uid}", ChannelType=ch,
                       OptOut="ALL" if rng.random() < 0.08 else "NONE")
            if ch == "EMAIL":
                rec["Address"] = self.email(first, last)
            elif ch == "SMS":
                rec["Address"] = self.phones.take(country, city, "mobile")
            elif ch == "VOICE":
                rec["Address"] = self.phones.take(country, city, "fixed")
            elif ch == "CUSTOM":
                rec["Address"] = f"crm-contact-{rng.randint(10000, 99999)}"
            else:
                if ch == "APNS" or (ch == "IN_APP" and ios):
                    pv, model, mv = rng.choice(IOS)
                    dev = ("ios", pv, "apple", model, mv)
                else:
                    make = "amazon" if ch == "ADM" else rng.choice(
                        [m for m in country.makes if m != "apple"] or ["samsung"])
                    dev = ("android", rng.choice(ANDROID_VERSIONS), make,
                           rng.choice(ANDROID_MODELS[make]), "1")
                rec.update(zip(("Demographic.Platform", "Demographic.PlatformVersion",
                                "Demographic.Make", "Demographic.Model", "Demographic.ModelVersion"), dev))
                rec["Address"] = self.push_token(ch)
            out.append(rec)
        return out


# --------------------------------------------------------------------------------------------
# Messy values. Each function takes a clean record and a variant (mostly the raw value to
# write) and returns (field, raw value, expected normalised value, ...) or None when the record
# does not qualify for that variant.
# --------------------------------------------------------------------------------------------

COUNTRY_ALIASES = {"UK": "GB", "U.S.": "US", "U.S.A.": "US"}
PLATFORMS = {"iOS": "ios", "iPhone OS": "ios", "Android": "android", "ANDROID": "android"}


def m_channel_case(r, rng, raw):
    return ("ChannelType", raw, r["ChannelType"]) if r["ChannelType"] == raw.upper() else None


def m_phone_national(r, rng, countries):
    if r["ChannelType"] not in {"SMS", "VOICE"} or r["Location.Country"] not in countries.split():
        return None
    raw = national(r["Address"])
    parsed = phonenumbers.parse(raw, r["Location.Country"])
    assert phonenumbers.format_number(parsed, PhoneNumberFormat.E164) == r["Address"]
    return "Address", raw, r["Address"]


def m_phone_spaced(r, rng, dash):
    if r["ChannelType"] not in {"SMS", "VOICE"}:
        return None
    raw = spaced(r["Address"])  # +44 20 7946 0123, +1 206-555-0142
    return "Address", raw.replace(" ", "-") if dash else raw, r["Address"]


def m_email_case_space(r, rng, _):
    if r["ChannelType"] != "EMAIL":
        return None
    local, _, domain = r["Address"].partition("@")
    return "Address", f"  {local}@{domain.upper()} ", r["Address"]


def m_country_alpha3(r, rng, raw):
    c = BY_CODE[r["Location.Country"]]
    return ("Location.Country", raw, c.code) if c.alpha3 == raw.upper() else None


def m_country_name(r, rng, raw):
    c = BY_CODE[r["Location.Country"]]
    return ("Location.Country", raw, c.code) if c.name == raw else None


def m_country_alias(r, rng, raw):
    code = COUNTRY_ALIASES[raw]
    return ("Location.Country", raw, code) if r["Location.Country"] == code else None


def m_locale(r, rng, raw):
    lang, cc = raw.replace("-", "_").split("_")
    loc = f"{lang.lower()}_{cc.upper()}"
    return ("Demographic.Locale", raw, loc) if r["Demographic.Locale"] == loc else None


def m_timezone_case(r, rng, raw):
    tz = r["Demographic.Timezone"]
    return ("Demographic.Timezone", raw, tz) if tz.lower() == raw.lower() else None


def m_platform(r, rng, raw):
    p = r.get("Demographic.Platform")
    return ("Demographic.Platform", raw, p) if p and PLATFORMS[raw] == p else None


def m_make(r, rng, raw):
    mk = r.get("Demographic.Make")
    return ("Demographic.Make", raw, mk) if mk and mk == raw.lower() else None


def m_optout_case(r, rng, raw):
    return ("OptOut", raw, r["OptOut"]) if r["OptOut"] == raw.upper() else None


def m_latlon_precision(r, rng, _):
    lat, lon = float(r["Location.Latitude"]), float(r["Location.Longitude"])
    raw_lat = f"{lat + rng.uniform(-0.0449, 0.0449):.6f}"
    raw_lon = f"{lon + rng.uniform(-0.0449, 0.0449):.6f}"
    assert _fmt1(round(float(raw_lat), 1)) == r["Location.Latitude"]
    assert _fmt1(round(float(raw_lon), 1)) == r["Location.Longitude"]
    return ("Location.Latitude", raw_lat, r["Location.Latitude"],
            "Location.Longitude", raw_lon, r["Location.Longitude"])


def m_tab(r, rng, raw):
    if r["User.UserAttributes.Company"]:
        return None
    return "User.UserAttributes.Company", raw, raw.replace("\t", " ")


# (function, rule label, variants for the CSV, variants for the NDJSON): one messy row each
MESSY_KINDS = (
    (m_channel_case, "ChannelType → upper case",
     ("sms", "Email", "gcm", "Voice", "apns"), ("Sms", "email", "Apns", "custom")),
    (m_phone_national, "phone in national format + Location.Country → E.164",
     ("US", "GB", "DE", "FR", "AU JP IN BR"), ("US", "DE", "BR CA IN MX JP KR")),
    (m_phone_spaced, "phone with spaces/dashes → E.164", (False, True, False), (False, True)),
    (m_email_case_space, "email trimmed, domain lower-cased", (0, 0, 0, 0), (0, 0, 0)),
    (m_country_alpha3, "country alpha-3 → alpha-2", ("usa", "DEU", "fra"), ("JPN", "gbr")),
    (m_country_name, "country English name → alpha-2", ("Germany", "United Kingdom", "Japan"),
     ("United States", "Brazil")),
    (m_country_alias, "country alias → alpha-2", ("UK", "U.S."), ("U.S.A.", "UK")),
    (m_locale, "locale → ll_CC", ("en-US", "EN_gb", "de-de", "pt-br"), ("en-us", "FR_fr", "es-MX")),
    (m_timezone_case, "time zone case → IANA name",
     ("america/new_york", "EUROPE/LONDON", "asia/tokyo"), ("america/los_angeles", "EUROPE/BERLIN")),
    (m_platform, "platform → ios/android", ("iOS", "iPhone OS", "Android"), ("iOS", "ANDROID")),
    (m_make, "make → lower case", ("Apple", "SAMSUNG"), ("Apple",)),
    (m_optout_case, "OptOut → upper case", ("none", "all", "none"), ("all", "none")),
    (m_latlon_precision, "latitude/longitude → 1 decimal", (0, 0, 0, 0), (0, 0)),
    (m_tab, "TAB inside a value → space", ("Northwind\tTraders, Ltd.",), ("Northwind\tTraders",)),
)


def apply_messy(eps: list[Endpoint], rng: random.Random, which: int, forbidden: set[int]) -> None:
    """Give one clean row per variant (CSV: which=0, NDJSON: which=1) one messy field."""
    taken = set(forbidden)
    for fn, rule, *variants in MESSY_KINDS:
        for variant in variants[which]:
            cands = [i for i, e in enumerate(eps) if i not in taken and e.tag == "clean"]
            rng.shuffle(cands)
            for i in cands:
                res = fn(eps[i].rec, rng, variant)
                if res is not None:
                    break
            else:
                raise RuntimeError(f"no row qualifies for {fn.__name__}({variant!r})")
            for k in range(0, len(res), 3):
                fld, raw, exp = res[k:k + 3]
                eps[i].rec[fld] = raw
                eps[i].notes.append({"field": fld, "raw": raw, "expected": exp, "rule": rule})
            eps[i].tag = "messy"
            taken.add(i)


# --------------------------------------------------------------------------------------------
# Rejected rows: built from a fresh clean user endpoint, one rule broken each.
# --------------------------------------------------------------------------------------------

LONG_VALUE = ("Vintage mechanical keyboards, restoration of typewriters from the nineteen-fifties "
              "and letterpress printing")
assert len(LONG_VALUE) > 100


def r_bad_phone(mk: Maker) -> Endpoint:
    rec = next(r for r in iter(lambda: mk.user()[0], None) if r["Location.Country"] == "US")
    rec.update(ChannelType="SMS", Address="+1 000", Id=f"sms-{rec['User.UserId']}")
    _strip_device(rec)
    return Endpoint(rec, "rejected", [{"field": "Address", "raw": "+1 000",
                                       "reason": "invalid phone number"}])


def r_email_no_domain(mk: Maker) -> Endpoint:
    rec = mk.user()[0]
    local = mk.email(rec["User.UserAttributes.FirstName"], rec["User.UserAttributes.LastName"])
    raw = local.split("@")[0] + "@"
    rec.update(ChannelType="EMAIL", Address=raw, Id=f"email-{rec['User.UserId']}")
    _strip_device(rec)
    return Endpoint(rec, "rejected", [{"field": "Address", "raw": raw,
                                       "reason": "email address without a domain"}])


def _broken(field_: str, raw: str, reason: str):
    def make(mk: Maker) -> Endpoint:
        rec = mk.user()[0]
        rec[field_] = raw
        return Endpoint(rec, "rejected", [{"field": field_, "raw": raw, "reason": reason}])
    return make


def r_no_id_no_address(mk: Maker) -> Endpoint:
    rec = mk.user()[0]
    rec.update(Id="", Address="", ChannelType="EMAIL")
    _strip_device(rec)
    return Endpoint(rec, "rejected", [{"field": "Address", "raw": "",
                                       "reason": "new endpoint (no Id) without Address"}])


def r_long_attribute(mk: Maker) -> Endpoint:
    rec = mk.user()[0]
    rec["Attributes.Interests"] = ["Books", LONG_VALUE]
    return Endpoint(rec, "rejected", [{"field": "Attributes.Interests", "raw": LONG_VALUE,
                                       "reason": f"attribute value longer than 100 characters "
                                                 f"({len(LONG_VALUE)})"}])


def _strip_device(rec: dict) -> None:
    for k in ("Demographic.Platform", "Demographic.PlatformVersion", "Demographic.Make",
              "Demographic.Model", "Demographic.ModelVersion"):
        rec.pop(k, None)


r_atlantis = _broken("Location.Country", "Atlantis", "unknown country")
r_mars = _broken("Demographic.Timezone", "Mars/Olympus_Mons", "unknown time zone")
r_maybe = _broken("OptOut", "MAYBE", "OptOut not ALL or NONE")
r_lat = _broken("Location.Latitude", "123", "latitude out of range [-90, 90]")

CSV_REJECTS = (r_bad_phone, r_email_no_domain, r_atlantis, r_mars, r_maybe, r_lat,
               r_no_id_no_address, r_long_attribute)
NDJSON_REJECTS = (r_bad_phone, r_email_no_domain, r_mars, r_long_attribute)


# --------------------------------------------------------------------------------------------
# Assembly
# --------------------------------------------------------------------------------------------


def build(rng: random.Random, mk: Maker, total: int, rejects, n_dups: int, which: int) -> list[Endpoint]:
    n_clean = total - len(rejects) - n_dups
    eps: list[Endpoint] = []
    while len(eps) < n_clean:
        for rec in mk.user():
            if len(eps) < n_clean:
                eps.append(Endpoint(rec))
    # duplicate Ids: a later update of an earlier endpoint (the later row wins)
    dup_src = [i for i in range(20, n_clean // 2) if eps[i].rec["ChannelType"] in {"EMAIL", "SMS"}]
    winners = []
    for k, i in enumerate(sorted(rng.sample(dup_src, n_dups))):
        old = eps[i]
        new = dict(old.rec)
        change = ("OptOut", "Metrics.sessions", "Address")[k % 3]
        if change == "OptOut":
            new["OptOut"] = "ALL" if old.rec["OptOut"] == "NONE" else "NONE"
        elif change == "Metrics.sessions":
            new["Metrics.sessions"] = str(int(old.rec["Metrics.sessions"]) + 17)
        elif old.rec["ChannelType"] == "EMAIL":  # the user moved to another mail domain
            local, _, domain = old.rec["Address"].partition("@")
            new["Address"] = f"{local}@{next(d for d in EMAIL_DOMAINS if d != domain)}"
            assert new["Address"] not in mk.email_seen
            mk.email_seen.add(new["Address"])
        else:  # a new mobile number
            country = BY_CODE[new["Location.Country"]]
            city = next(c for c in country.cities if c.name == new["Location.City"])
            new["Address"] = mk.phones.take(country, city, "mobile")
        old.tag = "superseded"
        winners.append(Endpoint(new, "winner", [{"field": change, "old": old.rec[change],
                                                 "new": new[change]}]))
    apply_messy(eps, rng, which, forbidden=set(range(3)))
    rejected = [fn(mk) for fn in rejects]
    # winners in the last fifth of the file, rejects spread evenly
    out = list(eps)
    for k, w in enumerate(winners):
        out.insert(len(out) - 5 - 17 * k, w)
    step = len(out) // (len(rejected) + 1)
    for k, r in enumerate(rejected):
        out.insert(step * (k + 1) + k, r)
    assert len(out) == total
    verify(out)
    return out


_EMAIL_RE = re.compile(r"^[a-z0-9.\-]+@example\.(com|org|net)$")
_LOCALE_RE = re.compile(r"^[a-z]{2}_[A-Z]{2}$")


def verify(eps: list[Endpoint]) -> None:
    """Every row that should pass is canonical once its messy fields take their expected values."""
    per_user: dict[str, set[str]] = {}
    zones = available_timezones()
    for n, e in enumerate(eps, start=1):
        if e.tag == "rejected":
            continue
        rec = dict(e.rec)
        for note in e.notes:
            if "expected" in note:
                assert rec[note["field"]] == note["raw"], (n, note)
                rec[note["field"]] = note["expected"]
        where = f"row {n} {rec['Id']}"
        assert rec["Id"] and rec["ChannelType"] in {"EMAIL", "SMS", "VOICE", "GCM", "APNS", "ADM",
                                                    "BAIDU", "CUSTOM", "IN_APP"}, where
        if rec["ChannelType"] == "EMAIL":
            assert _EMAIL_RE.match(rec["Address"]), where
        elif rec["ChannelType"] in {"SMS", "VOICE"}:
            num = phonenumbers.parse(rec["Address"])
            assert phonenumbers.is_valid_number(num), where
            assert phonenumbers.format_number(num, PhoneNumberFormat.E164) == rec["Address"], where
            assert phonenumbers.region_code_for_number(num) == rec["Location.Country"], where
        assert rec["Location.Country"] in BY_CODE, where
        assert _LOCALE_RE.match(rec["Demographic.Locale"]), where
        assert rec["Demographic.Timezone"] in zones, where
        assert rec["OptOut"] in {"ALL", "NONE"}, where
        for axis, lim in (("Location.Latitude", 90), ("Location.Longitude", 180)):
            assert re.fullmatch(r"-?\d{1,3}\.\d", rec[axis]) and abs(float(rec[axis])) <= lim, where
        assert rec.get("Demographic.Platform", "") in {"", "ios", "android"}, where
        assert (rec.get("Demographic.Make") or "x").islower(), where
        values = [*rec["Attributes.Interests"], *(v for k, v in rec.items()
                                                  if k.startswith(("Attributes.", "User.UserAttributes."))
                                                  and isinstance(v, str))]
        assert all(len(v) <= 100 and "\t" not in v for v in values), where
        per_user.setdefault(rec["User.UserId"], set()).add(rec["Id"])
    assert max(len(ids) for ids in per_user.values()) <= 4


def csv_row(rec: dict) -> list[str]:
    interests = list(rec.get("Attributes.Interests") or [])
    interests += [""] * (INTEREST_SLOTS - len(interests))
    row, slot = [], 0
    for col in HEADER:
        if col == "Attributes.Interests":
            row.append(interests[slot])
            slot += 1
        else:
            row.append(rec.get(col, "") or "")
    return row


def _num(text: str):
    v = float(text)
    return int(v) if v.is_integer() and "." not in text else v


def json_obj(rec: dict) -> dict:
    """Nested NDJSON object; empty values are left out, numbers are JSON numbers."""
    obj: dict = {}
    for key in ("Id", "ChannelType", "Address", "OptOut"):
        if rec.get(key):
            obj[key] = rec[key]
    for group in ("Location", "Demographic"):
        sub = {}
        for col, val in rec.items():
            if col.startswith(group + ".") and val not in ("", None):
                name = col.split(".", 1)[1]
                numeric = name in {"Latitude", "Longitude"}
                try:
                    sub[name] = _num(val) if numeric else val
                except ValueError:
                    sub[name] = val
        if sub:
            obj[group] = sub
    attrs = {}
    if rec.get("Attributes.Interests"):
        attrs["Interests"] = list(rec["Attributes.Interests"])
    for name in ("Tier", "SignupSource"):
        if rec.get(f"Attributes.{name}"):
            attrs[name] = [rec[f"Attributes.{name}"]]
    if attrs:
        obj["Attributes"] = attrs
    metrics = {k.split(".", 1)[1]: _num(v) for k, v in rec.items() if k.startswith("Metrics.") and v}
    if metrics:
        obj["Metrics"] = metrics
    user: dict = {"UserId": rec["User.UserId"]}
    uattrs = {k.split(".", 2)[2]: [v] if isinstance(v, str) else list(v)
              for k, v in rec.items() if k.startswith("User.UserAttributes.") and v}
    if uattrs:
        user["UserAttributes"] = uattrs
    obj["User"] = user
    return obj


def describe(eps: list[Endpoint]) -> dict:
    messy, rejected, dups = [], [], []
    first_row_of: dict[str, int] = {}
    for n, e in enumerate(eps, start=1):
        rid = e.rec.get("Id", "")
        if e.tag == "messy":
            messy.append({"row": n, "id": rid, "changes": e.notes})
        elif e.tag == "rejected":
            rejected.append({"row": n, "id": rid, **e.notes[0]})
        elif e.tag == "winner":
            dups.append({"id": rid, "superseded_row": first_row_of[rid], "winning_row": n, **e.notes[0]})
        if rid and rid not in first_row_of:
            first_row_of[rid] = n
    return {
        "rows_read": len(eps), "rows_superseded": len(dups), "rows_rejected": len(rejected),
        "rows_valid": len(eps) - len(dups) - len(rejected),
        "messy_rows": len(messy),
        "messy_by_rule": dict(sorted(Counter(c["rule"] for m in messy for c in m["changes"][:1]).items())),
        "messy": messy, "rejected": rejected, "duplicates": dups,
    }


def _cell(value) -> str:
    """A table cell showing a value exactly: JSON-quoted so spaces and TABs stay visible."""
    return "`" + json.dumps(value, ensure_ascii=False) + "`"


README_HEAD = """\
# sample_data

Small, realistic, **fictional** Amazon Pinpoint endpoint files for the quickstart and the tests.
Generated by `make_sample_data.py` (seeded, deterministic): do not edit the data files or this
README by hand; change the script and run

```
python sample_data/make_sample_data.py           # rewrite every data file, expected.json, crm_expected.json, README.md
python sample_data/make_sample_data.py --check   # exit 1 if the files differ from what the script makes
```

| file | what |
| --- | --- |
| `endpoints.csv` | {csv_rows} data rows + header; `Attributes.Interests` header repeated {slots} times (one value per column) |
| `endpoints.ndjson` | {nd_rows} lines, one nested JSON object each (`Location`, `Demographic`, `Attributes`, `Metrics`, `User`; attribute values are arrays) |
| `expected.json` | everything below in machine-readable form (counts, messy fields with their expected normalised values, rejects with reasons, duplicates) |
| `crm_contacts.csv`, `crm_contacts.mapping.yaml` | a 32-row CRM export (email, mobile, names, countries as names in several languages, city, time zone, plan, signup date, yes/no opt-out) and its mapping spec: see the last section |
| `app_users.ndjson`, `app_users.mapping.yaml` | a nested app-backend export (user, device, prefs, stats, tags) and its mapping spec |
| `crm_expected.json` | every endpoint and reject the two specs must give |

All data is fictional: emails are at `example.com` / `example.org` / `example.net`; phone numbers
come from ranges reserved for fiction where libphonenumber accepts them (NANP 555-0100…0199, Ofcom
020 7946 0xxx and 0161 496 0xxx, ACMA 0491 570 xxx and (02) 5550 xxxx, ARCEP 01 99 00 xx xx) and
otherwise from `phonenumbers.example_number_for_type(region, MOBILE/FIXED_LINE)` with the last
digits varied; every one passes `phonenumbers.is_valid_number`. Push tokens are random strings.
Users (`User.UserId`) have 1–4 endpoints each, on distinct channels; the two files share no Id and
no user (CSV users `u0001…`, NDJSON users `u50001…`), so the counts of a run over both files are the
sums of the counts below.

Headers are documented Pinpoint import names in exact case (reference §1.2); there is no
`EndpointStatus` or `EffectiveDate`. Every row has an explicit `Id` except the one rejected row
that tests "new endpoint without Id and without Address".

**Row numbers**: for the CSV, `row` is the 1-based *data* row (the header is not counted, so row
1 is line 2 of the file); for the NDJSON it is the 1-based line number. These are the numbers a
rejects record carries.

## Expected counts

| file | rows read | superseded | rejected | valid (read − superseded − rejected) | messy rows (normalised, then valid) |
| --- | --- | --- | --- | --- | --- |
{counts}

*Superseded*: an earlier row whose `Id` appears again later in the same file; the later row wins.
Both rows of each pair are valid, so the count does not depend on whether duplicates are dropped
before or after validation. Each rejected row breaks exactly one rule and is otherwise clean; each
messy row has exactly one messy field (latitude and longitude count as one) and is valid once it is
normalised.
"""


def render_readme(expected: dict) -> str:
    counts = "\n".join(
        f"| `{name}` | {e['rows_read']} | {e['rows_superseded']} | {e['rows_rejected']} | {e['rows_valid']} "
        f"| {e['messy_rows']} |" for name, e in expected.items() if name.startswith("endpoints."))
    out = [README_HEAD.format(csv_rows=CSV_ROWS, nd_rows=NDJSON_LINES, slots=INTEREST_SLOTS, counts=counts)]
    for name in ("endpoints.csv", "endpoints.ndjson"):
        e = expected[name]
        out.append(f"\n## `{name}`\n\n### Rejected rows ({e['rows_rejected']})\n\n"
                   "| row | Id | field | value | why |\n| --- | --- | --- | --- | --- |")
        for r in e["rejected"]:
            out.append(f"| {r['row']} | {_cell(r['id'])} | `{r['field']}` | {_cell(r['raw'])} | {r['reason']} |")
        if e["duplicates"]:
            out.append(f"\n### Duplicate Ids ({e['rows_superseded']} superseded rows)\n\n"
                       "| Id | superseded row | winning row | what the later row changes |\n| --- | --- | --- | --- |")
            for d in e["duplicates"]:
                out.append(f"| {_cell(d['id'])} | {d['superseded_row']} | {d['winning_row']} | "
                           f"`{d['field']}` {_cell(d['old'])} → {_cell(d['new'])} |")
        else:
            out.append("\n### Duplicate Ids\n\nNone.")
        out.append(f"\n### Messy rows ({e['messy_rows']}), all expected to pass after normalisation\n\n"
                   "| row | Id | field | raw value | expected value | rule |\n| --- | --- | --- | --- | --- | --- |")
        for m in e["messy"]:
            for c in m["changes"]:
                out.append(f"| {m['row']} | {_cell(m['id'])} | `{c['field']}` | {_cell(c['raw'])} | "
                           f"{_cell(c['expected'])} | {c['rule']} |")
        out.append("\nMessy rows by rule: " + ", ".join(f"{k}: {v}" for k, v in e["messy_by_rule"].items()) + ".")
    return "\n".join(out) + "\n"


def render_csv(eps: list[Endpoint]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(HEADER)
    for e in eps:
        w.writerow(csv_row(e.rec))
    return buf.getvalue()


def render_ndjson(eps: list[Endpoint]) -> str:
    return "".join(json.dumps(json_obj(e.rec), ensure_ascii=False, separators=(",", ":")) + "\n"
                   for e in eps)


def generate() -> dict[str, str]:
    rng = random.Random(SEED)
    csv_eps = build(rng, Maker(rng, "u"), CSV_ROWS, CSV_REJECTS, 3, which=0)
    rng2 = random.Random(SEED + 1)
    mk2 = Maker(rng2, "u5")  # user ids u5xxxx: no Id or user shared with the CSV
    nd_eps = build(rng2, mk2, NDJSON_LINES, NDJSON_REJECTS, 0, which=1)
    # a multi-value user attribute in JSON (arrays): a few users belong to teams
    for e in nd_eps:
        if e.tag == "clean" and rng2.random() < 0.15:
            e.rec["User.UserAttributes.Teams"] = rng2.sample(["Marketing", "EMEA Launch", "Support",
                                                               "Sales", "Design"], rng2.randint(1, 2))
    expected = {"seed": SEED, "endpoints.csv": describe(csv_eps), "endpoints.ndjson": describe(nd_eps)}
    return {
        "endpoints.csv": render_csv(csv_eps),
        "endpoints.ndjson": render_ndjson(nd_eps),
        "expected.json": json.dumps(expected, ensure_ascii=False, indent=1) + "\n",
        **crm_data.files(),
        "README.md": render_readme(expected) + crm_data.readme_section(),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE)
    ap.add_argument("--check", action="store_true", help="compare with the files on disk, write nothing")
    args = ap.parse_args(argv)
    files = generate()
    if args.check:
        stale = [n for n, t in files.items()
                 if not (args.out / n).exists() or (args.out / n).read_text(encoding="utf-8") != t]
        print("stale: " + ", ".join(stale) if stale else "up to date")
        return 1 if stale else 0
    for name, text in files.items():
        (args.out / name).write_text(text, encoding="utf-8", newline="")
        print(f"wrote {args.out / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
