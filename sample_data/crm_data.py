"""The CRM export and the app-backend export of sample_data (issue 13), with their mapping specs.

Written by ``make_sample_data.py`` (with the other sample files): ``crm_contacts.csv`` (a CRM export:
one row per customer, email and mobile columns, countries written as names in several languages,
yes/no opt-outs, day-first dates) and ``app_users.ndjson`` (nested app-backend records: user, device,
prefs, stats, tags), each with a ``.mapping.yaml`` spec, and ``crm_expected.json``: every endpoint
the specs must make (Id, channel, address, user, country, opt-out) and every reject, worked out
here from the rows as written — by phonenumbers for E.164 and by hand for everything else — not by
the pipeline.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

CRM_HEADER = ("customer_id", "email", "mobile", "first_name", "last_name", "country", "city", "timezone", "plan",
              "signup_date", "opted_out")

# customer | email | mobile: (region, k, format) or raw text | first | last | country as written | ISO |
# city | time zone as written | plan | signup (dd/mm/yyyy) | opted_out | what the row shows
CRM_ROWS = [
    ("C1001", "anna.schmidt@example.com", ("DE", 1, "national"), "Anna", "Schmidt", "Deutschland", "DE", "Berlin",
     "Europe/Berlin", "pro", "01/03/2024", "no", "German name; national mobile read with the row's country"),
    ("C1002", "luca.rossi@example.com", ("IT", 1, "intl"), "Luca", "Rossi", "Italia", "IT", "Milano", "Europe/Rome",
     "free", "15/02/2023", "yes", "opted out; both endpoints superseded by row 31"),
    ("C1003", "amy.jones@example.org", ("GB", 1, "national"), "Amy", "Jones", "United Kingdom", "GB", "London",
     "Europe/London", "free", "03/11/2022", "no", ""),
    ("C1004", "pablo.garcia@example.net", ("ES", 1, "national"), "Pablo", "García", "España", "ES", "Madrid",
     "Europe/Madrid", "business", "28/12/2021", "", "blank opt-out is NONE"),
    ("C1005", "", "", "Kenji", "Sato", "日本", "JP", "Tokyo", "Asia/Tokyo", "free", "05/05/2024", "no",
     "no email, no mobile: the row is rejected"),
    ("C1006", "sophie.devries@example.com", ("NL", 1, "national"), "Sophie", "de Vries", "Nederland", "NL",
     "Amsterdam", "europe/amsterdam", "pro", "19/07/2023", "N", "time zone in lower case"),
    ("C1007", "joao.silva@example.com", ("BR", 1, "intl"), "João", "Silva", "Brasil", "BR", "São Paulo",
     "America/Sao_Paulo", "free", "02/01/2024", "Y", ""),
    ("C1008", "zofia.nowak@example.org", ("PL", 1, "e164"), "Zofia", "Nowak", "Polska", "PL", "Warszawa",
     "Europe/Warsaw", "pro", "11/09/2022", "no", ""),
    ("C1009", "lukas.huber@example.net", ("AT", 1, "national"), "Lukas", "Huber", "Österreich", "AT", "Wien",
     "Europe/Vienna", "business", "30/04/2023", "no", ""),
    ("C1010", "  Mary.Major@EXAMPLE.COM ", ("US", 1, "national"), "Mary", "Major", "United States", "US", "Seattle",
     "America/Los_Angeles", "pro", "14/02/2024", "no", "email padded, domain upper case"),
    ("C1011", "claire.martin@example.com", "", "Claire", "Martin", "France", "FR", "Paris", "Europe/Paris", "free",
     "21/06/2021", "true", "email only"),
    ("C1012", "", ("FR", 1, "national"), "Hugo", "Bernard", "FR", "FR", "Lyon", "Europe/Paris", "free", "08/08/2022",
     "false", "mobile only"),
    ("C1013", "maria.lopez@", ("MX", 1, "national"), "María", "López", "México", "MX", "Ciudad de México",
     "America/Mexico_City", "pro", "17/10/2023", "no", "email without a domain: its endpoint rejected, SMS kept"),
    ("C1014", "tom.baker@example.com", "+1 000", "Tom", "Baker", "USA", "US", "Boston", "America/New_York", "free",
     "25/12/2020", "no", "not a phone number: the SMS endpoint rejected"),
    ("C1015", "ines.costa@example.net", ("ES", 2, "e164"), "Inês", "Costa", "Atlantis", None, "Lisboa",
     "Europe/Lisbon", "free", "01/01/2024", "no", "unknown country: both endpoints rejected"),
    ("C1016", "yui.tanaka@example.org", ("JP", 1, "national"), "Yui", "Tanaka", "Japan", "JP", "Osaka", "Asia/Tokyo",
     "pro", "03/03/2023", "no", ""),
    ("C1017", "lena.weber@example.com", ("CH", 1, "national"), "Lena", "Weber", "Schweiz", "CH", "Zürich",
     "Europe/Zurich", "business", "29/02/2024", "no", ""),
    ("C1018", "erik.strom@example.net", "", "Erik", "Ström", "Sverige", "SE", "Stockholm", "Europe/Stockholm",
     "free", "31/02/2024", "no", "no 31 February: the endpoint rejected"),
    ("C1019", "priya.sharma@example.com", ("IN", 1, "e164"), "Priya", "Sharma", "India", "IN", "Mumbai",
     "Asia/Kolkata", "pro", "12/12/2022", "no", ""),
    ("C1020", "noah.brooks@example.org", ("US", 2, "e164"), "Noah", "Brooks", "US", "US", "Chicago",
     "America/Chicago", "free", "09/09/2021", "yes", ""),
    ("C1021", "chloe.dubois@example.com", ("GB", 2, "intl"), "Chloé", "Dubois", "Royaume-Uni", "GB", "London",
     "Europe/London", "pro", "06/06/2023", "no", "French name"),
    ("C1022", "ella.walsh@example.net", ("GB", 3, "national"), "Ella", "Walsh", "UK", "GB", "Manchester",
     "Europe/London", "free", "14/01/2022", "no", ""),
    ("C1023", "felix.mueller@example.com", ("DE", 2, "e164"), "Felix", "Müller", "Germany", "DE", "München",
     "Europe/Berlin", "pro", "20/05/2024", "no", ""),
    ("C1024", "jakub.kowalski@example.org", "", "Jakub", "Kowalski", "Polen", "PL", "Kraków", "Europe/Warsaw",
     "free", "07/07/2023", "no", "German name"),
    ("C1025", "lucia.martinez@example.com", ("ES", 3, "intl"), "Lucía", "Martínez", "Spain", "ES", "Barcelona",
     "Europe/Madrid", "business", "16/11/2022", "no", ""),
    ("C1026", "hana.kim@example.com", "", "Hana", "Kim", "South Korea", "KR", "Seoul", "Mars/Base", "free",
     "02/02/2022", "no", "unknown time zone: the endpoint rejected"),
    ("C1027", "olivia.parker@example.com", ("US", 3, "national"), "Olivia", "Parker", "Vereinigte Staaten", "US",
     "New York", "America/New_York", "pro", "01/10/2023", "no", "German name"),
    ("C1028", "liam.murphy@example.net", ("IE", 1, "national"), "Liam", "Murphy", "Éire", "IE", "Dublin",
     "Europe/Dublin", "free", "23/03/2024", "no", "Irish name"),
    ("C1029", "mia.rossi@example.net", ("IT", 2, "national"), "Mia", "Rossi", "Italie", "IT", "Roma", "Europe/Rome",
     "free", "04/04/2024", "opted out", "French name; opted out"),
    ("C1030", "haruto.sato@example.com", ("JP", 2, "e164"), "Haruto", "Sato", "JP", "JP", "Kyoto", "Asia/Tokyo",
     "pro", "18/08/2022", "no", ""),
    ("C1002", "luca.rossi@example.org", ("IT", 1, "intl"), "Luca", "Rossi", "Italia", "IT", "Milano", "Europe/Rome",
     "pro", "15/02/2023", "yes", "C1002 again: its new email and plan win"),
    ("C1032", "grace.hughes@example.com", ("AU", 1, "national"), "Grace", "Hughes", "Australien", "AU", "Sydney",
     "Australia/Sydney", "business", "10/10/2021", "no", "German name"),
]
TRUE = ("yes", "y", "true", "opted out")
CRM_SPEC = """\
# How a row of crm_contacts.csv becomes endpoints: one EMAIL and one SMS endpoint per customer,
# each where its column holds a value; the other columns are shared by both.
endpoints:
  - name: email
    address: email
    channel: EMAIL
    id: "{customer_id}-email"
  - name: mobile
    address: mobile
    channel: SMS
    id: "{customer_id}-sms"
fields:
  User.UserId: customer_id
  User.UserAttributes.FirstName: first_name
  User.UserAttributes.LastName: last_name
  Location.Country: country          # names in any language: Deutschland, España, 日本 …
  Location.City: city
  Demographic.Timezone: timezone
  Attributes.Plan: plan
  Attributes.SignupDate: {column: signup_date, date_formats: ["%d/%m/%Y"]}
  OptOut: {column: opted_out, map: boolean}
"""
APP_SPEC = """\
# How a record of app_users.ndjson becomes endpoints: an EMAIL endpoint and a push endpoint (APNS or
# GCM by device.platform) per user, each where its field holds a value. Nested fields are dotted paths.
endpoints:
  - name: email
    address: user.email
    channel: EMAIL
    id: "{user.id}-email"
  - name: push
    address: device.push_token
    channel_column: device.platform
    channel_map: {ios: APNS, android: GCM}
    id_hash: [user.id, device.push_token]
    id_prefix: "push-"
    fields:
      Demographic.Platform: device.platform
      Demographic.Model: device.model
      Demographic.AppVersion: device.app_version
fields:
  User.UserId: user.id
  User.UserAttributes.FirstName: user.name.first
  User.UserAttributes.LastName: user.name.last
  Location.Country: user.country
  Demographic.Locale: user.locale
  Demographic.Timezone: prefs.timezone
  OptOut: {column: prefs.marketing_opt_in, map: {"true": NONE, "false": ALL}}
  Metrics.sessions: stats.sessions
  EffectiveDate: {column: stats.last_seen, date_formats: ["%Y-%m-%dT%H:%M:%S%z"]}
  Attributes.Tags: tags
"""
# user | email | first | last | country | ISO | locale | (platform, model) or None | opt-in | tz | sessions | tags
APP_ROWS = [
    ("u-2001", "ana.souza@example.com", "Ana", "Souza", "Brasil", "BR", "pt-BR", ("ios", "iPhone15,2"), True,
     "America/Sao_Paulo", 42, ["beta", "premium"]),
    ("u-2002", "ben.fischer@example.org", "Ben", "Fischer", "Deutschland", "DE", "de_DE", ("android", "Pixel 8"),
     False, "Europe/Berlin", 7, ["premium"]),
    ("u-2003", None, "Chen", "Wei", "中国", "CN", "zh_CN", ("android", "SM-S918B"), True, "Asia/Shanghai", 130, []),
    ("u-2004", "dana.levi@example.net", "Dana", "Levi", "Israel", "IL", "he_IL", None, True, "Asia/Jerusalem", 3,
     ["beta"]),
    ("u-2005", "emil.novak@example.com", "Emil", "Novák", "Česko", "CZ", "cs-CZ", ("ios", "iPad13,1"), True,
     "Europe/Prague", 18, []),
    ("u-2006", None, "Fatima", "Zahra", "Maroc", "MA", "fr_MA", None, True, "Africa/Casablanca", 1, []),
    ("u-2007", "gus.olsen@example.org", "Gus", "Olsen", "Norge", "NO", "nb_NO", ("web", "Firefox"), True,
     "Europe/Oslo", 9, ["web"]),
    ("u-2008", "hiro.ito@example.com", "Hiro", "Ito", "日本", "JP", "ja_JP", ("ios", "iPhone14,5"), False, "Asia/Tokyo",
     55, ["premium", "jp"]),
    ("u-2009", "isla.reid@example.net", "Isla", "Reid", "United Kingdom", "GB", "en-GB", ("android", "Pixel 7a"),
     True, "Europe/London", 21, []),
    ("u-2010", "jon.berg@example.com", "Jon", "Berg", "Sverige", "SE", "sv_SE", ("ios", "iPhone13,2"), True,
     "Europe/Stockholm", 11, ["beta"]),
]
# lines that are not records, put after the records above (line number → the raw line)
APP_BAD_LINES = {
    11: '{"user":{"id":"u-2011","email":"kim.park@example.com","email":"kim.p@example.com"}}',
    12: '{"user":{"id":"u-2012","email":"lee.ng@example.com"',
}


def _phones(region: str, count: int = 4) -> list:
    """Valid mobile numbers of ``region``: NANP 555-01XX for the US, else its example with the last digits varied."""
    if region == "US":
        cands = [f"+1206555{100 + k:04d}" for k in range(1, 100)]
    else:
        ex = phonenumbers.format_number(phonenumbers.example_number_for_type(region, PhoneNumberType.MOBILE),
                                        PhoneNumberFormat.E164)
        cands = [f"{ex[:-2]}{k:02d}" for k in range(11, 100)]
    out = []
    for c in cands:
        num = phonenumbers.parse(c)
        if phonenumbers.is_valid_number(num) and phonenumbers.region_code_for_number(num) == region:
            out.append(num)
            if len(out) == count:
                return out
    raise RuntimeError(f"no valid phone numbers for {region}")


def _mobile(spec) -> tuple[str, str | None]:
    """(text in the file, E.164 or None when it is not a valid number)."""
    if not isinstance(spec, tuple):
        return spec, None
    region, k, fmt = spec
    num = _phones(region)[k - 1]
    style = {"national": PhoneNumberFormat.NATIONAL, "intl": PhoneNumberFormat.INTERNATIONAL,
             "e164": PhoneNumberFormat.E164}[fmt]
    return phonenumbers.format_number(num, style), phonenumbers.format_number(num, PhoneNumberFormat.E164)


def _token(user: str) -> str:
    return hashlib.sha256(f"push-token-{user}".encode()).hexdigest()


def _push_id(user: str) -> str:
    joined = f"{user}\x1f{_token(user)}"
    return "push-" + hashlib.blake2b(joined.encode(), digest_size=10).hexdigest()


def _email(text: str) -> str:
    """An email address as the pipeline stages it: trimmed, domain in lower case."""
    local, _, domain = text.strip().partition("@")
    return f"{local}@{domain.lower()}"


def crm_csv() -> tuple[str, dict]:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CRM_HEADER)
    endpoints, rejects, superseded = {}, [], []
    for row, r in enumerate(CRM_ROWS, start=1):
        cid, email, mobile, first, last, country, iso, city, tz, plan, signup, opted, _ = r
        text, e164 = _mobile(mobile)
        w.writerow([cid, email, text, first, last, country, city, tz, plan, signup, opted])
        made = []
        if email.strip():
            made.append(("email", f"{cid}-email", "EMAIL", _email(email)))
        if text:
            made.append(("mobile", f"{cid}-sms", "SMS", e164))
        if not made:
            rejects.append({"row": row, "endpoint": None, "reason": "no endpoint"})
        for block, eid, channel, address in made:
            why = ("Location.Country" if iso is None else "Timezone" if tz.startswith("Mars") else
                   "not a date" if signup == "31/02/2024" else
                   "email address" if channel == "EMAIL" and address.endswith("@") else
                   "phone number" if channel == "SMS" and address is None else None)
            if why:
                rejects.append({"row": row, "endpoint": block, "reason": why})
                continue
            if eid in endpoints:  # the later row's endpoint wins
                superseded.append(endpoints[eid]["row"])
            endpoints[eid] = {"row": row, "ChannelType": channel, "Address": address, "User.UserId": cid,
                              "Location.Country": iso, "OptOut": "ALL" if opted.lower() in TRUE else "NONE",
                              "Attributes.Plan": plan, "Attributes.SignupDate": "-".join(reversed(signup.split("/")))}
    return buf.getvalue(), {"source_rows": len(CRM_ROWS), "endpoints": endpoints, "rejects": rejects,
                            "superseded_rows": sorted(superseded)}


def app_ndjson() -> tuple[str, dict]:
    lines, endpoints, rejects = [], {}, []
    for row, (uid, email, first, last, country, iso, locale, device, opt_in, tz, sessions, tags) in \
            enumerate(APP_ROWS, start=1):
        rec: dict = {"user": {"id": uid, "name": {"first": first, "last": last}, "country": country, "locale": locale}}
        if email:
            rec["user"]["email"] = email
        if device:
            rec["device"] = {"platform": device[0], "push_token": _token(uid), "app_version": "3.2.0",
                             "model": device[1]}
        rec["prefs"] = {"marketing_opt_in": opt_in, "timezone": tz}
        rec["stats"] = {"sessions": sessions, "last_seen": f"2024-05-{row:02d}T10:00:00Z"}
        if tags:
            rec["tags"] = tags
        lines.append(json.dumps(rec, ensure_ascii=False, separators=(",", ":")))
        common = {"row": row, "User.UserId": uid, "Location.Country": iso, "OptOut": "NONE" if opt_in else "ALL",
                  "EffectiveDate": f"2024-05-{row:02d}T10:00:00Z", "Attributes.Tags": tags}
        if email:
            endpoints[f"{uid}-email"] = {**common, "ChannelType": "EMAIL", "Address": email}
        if device and device[0] == "web":
            rejects.append({"row": row, "endpoint": "push", "reason": "ChannelType"})
        elif device:
            endpoints[_push_id(uid)] = {**common, "ChannelType": {"ios": "APNS", "android": "GCM"}[device[0]],
                                        "Address": _token(uid), "Demographic.Platform": device[0]}
        if not email and not device:
            rejects.append({"row": row, "endpoint": None, "reason": "no endpoint"})
    for row, line in sorted(APP_BAD_LINES.items()):
        assert row == len(lines) + 1
        lines.append(line)
        rejects.append({"row": row, "endpoint": None,
                        "reason": "appears twice" if "email\":\"kim.p" in line else "invalid JSON"})
    return "\n".join(lines) + "\n", {"source_rows": len(lines), "endpoints": endpoints, "rejects": rejects,
                                     "superseded_rows": []}


def files() -> dict[str, str]:
    """name → text of every file this module writes."""
    crm, crm_expected = crm_csv()
    app, app_expected = app_ndjson()
    expected = {"crm_contacts.csv": crm_expected, "app_users.ndjson": app_expected}
    return {"crm_contacts.csv": crm, "crm_contacts.mapping.yaml": CRM_SPEC, "app_users.ndjson": app,
            "app_users.mapping.yaml": APP_SPEC,
            "crm_expected.json": json.dumps(expected, ensure_ascii=False, indent=1) + "\n"}


def readme_section() -> str:
    _, crm = crm_csv()
    _, app = app_ndjson()
    lines = ["", "## CRM and app-backend exports (mapping specs)", "",
             "Files shaped like what users have, not like Pinpoint's import format; each has a mapping spec",
             "(`--mapping-file`) saying how its rows become endpoints. `crm_expected.json` lists every endpoint",
             "and reject the specs must give, worked out from the rows as written.", "",
             "```",
             "pinpoint-etl import sample_data/crm_contacts.csv --mapping-file sample_data/crm_contacts.mapping.yaml",
             "pinpoint-etl import sample_data/app_users.ndjson --mapping-file sample_data/app_users.mapping.yaml",
             "```", "",
             "| file | source rows | endpoints imported | rejected (endpoints, or rows with none) | superseded |",
             "| --- | --- | --- | --- | --- |"]
    for name, e in (("crm_contacts.csv", crm), ("app_users.ndjson", app)):
        lines.append(f"| `{name}` | {e['source_rows']} | {len(e['endpoints'])} | {len(e['rejects'])} | "
                     f"{len(e['superseded_rows'])} |")
    lines += ["", "### `crm_contacts.csv` row by row", "", "| row | customer | what the row shows |", "| --- | --- | --- |"]
    for row, r in enumerate(CRM_ROWS, start=1):
        if r[-1]:
            lines.append(f"| {row} | `{r[0]}` | {r[-1]} |")
    lines += ["", "`app_users.ndjson`: 10 users (user, device, prefs, stats, tags objects); u-2003 has no email,",
              "u-2004 no device, u-2006 neither (rejected), u-2007's device is a web browser (its push endpoint is",
              "rejected: `web` is not a ChannelType); line 11 holds `email` twice and line 12 is cut short: both",
              "are rejected as malformed records."]
    return "\n".join(lines) + "\n"
