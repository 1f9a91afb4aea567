"""Drafting a mapping spec from a header and sampled values: columns recognised by content."""

from __future__ import annotations

import yaml
from pinpoint_etl.transforms.spec import parse_spec
from pinpoint_etl.transforms.spec_draft import classify, draft

SAMPLE = {
    "customer_id": ["C001", "C002", "C003", "C004"],
    "email": ["a@example.com", "b@example.org", "c@example.net", "d@example.com"],
    "mobile": ["+49 1512 3456789", "07700 900123", "(206) 555-0100", "+33612345678"],
    "first_name": ["Anna", "Luca", "Amy", "Pablo"],
    "pays": ["Deutschland", "Italia", "United Kingdom", "日本"],
    "zone": ["Europe/Berlin", "europe/rome", "Europe/London", "Asia/Tokyo"],
    "signup_date": ["01/03/2024", "15/02/2023", "03/11/2022", "28/12/2021"],
    "opted_out": ["yes", "no", "No", "Y"],
    "plan": ["pro", "free", "free", "pro"],
}


def test_columns_are_recognised_by_their_content():
    kinds = {name: classify(name, values).kind for name, values in SAMPLE.items()}
    assert kinds == {"customer_id": "id", "email": "email", "mobile": "phone", "first_name": "text",
                     "pays": "country", "zone": "timezone", "signup_date": "date", "opted_out": "yes_no",
                     "plan": "text"}
    assert classify("signup_date", SAMPLE["signup_date"]).formats == ["%d/%m/%Y"]
    ambiguous = classify("d", ["01/02/2024", "11/12/2023"])  # day-first and month-first both read these
    assert ambiguous.formats == ["%d/%m/%Y"] and "also read by %m/%d/%Y: check which is meant" in ambiguous.why


def test_the_draft_is_a_valid_spec_with_a_block_per_address_column():
    text = draft([classify(name, values) for name, values in SAMPLE.items()], "crm.csv")
    spec = parse_spec(yaml.safe_load(text), "draft")
    assert [(b.address, b.channel, b.id) for b in spec.endpoints] == [
        ("email", "EMAIL", "{customer_id}-email"), ("mobile", "SMS", "{customer_id}-sms")]
    assert spec.fields["User.UserId"].column == "customer_id"
    assert spec.fields["Location.Country"].column == "pays"
    assert spec.fields["Demographic.Timezone"].column == "zone"
    assert spec.fields["OptOut"].map == "boolean"
    assert spec.fields["Attributes.SignupDate"].date_formats == ["%d/%m/%Y"]
    assert spec.fields["User.UserAttributes.FirstName"].column == "first_name"
    assert spec.fields["Attributes.Plan"].column == "plan"
    assert "# 4 of 4 sampled values look like email addresses" in text


def test_without_an_id_column_ids_hash_the_address_and_without_addresses_the_draft_says_so():
    spec = parse_spec(yaml.safe_load(draft([classify("email", SAMPLE["email"])], "x.csv")), "draft")
    assert spec.endpoints[0].id_hash == ["email"]
    text = draft([classify("plan", SAMPLE["plan"])], "x.csv")
    assert "No email, phone or push-token column was recognised" in text


def test_a_date_column_with_one_impossible_date_is_still_dates_not_phone_numbers():
    # sample_data/crm_contacts.csv holds 31/02/2024 on purpose (a reject): the column stays a date column
    values = [*SAMPLE["signup_date"], "31/02/2024"]
    col = classify("signup_date", values)
    assert (col.kind, col.formats) == ("date", ["%d/%m/%Y"])
    assert col.why.startswith("4 of 5 sampled values are dates in %d/%m/%Y")


def test_two_address_columns_of_one_kind_get_distinct_ids():
    columns = [classify("customer_id", SAMPLE["customer_id"]), classify("mobile", SAMPLE["mobile"]),
               classify("work_phone", SAMPLE["mobile"])]
    spec = parse_spec(yaml.safe_load(draft(columns, "crm.csv")), "draft")
    assert [b.id for b in spec.endpoints] == ["{customer_id}-sms", "{customer_id}-sms-workphone"]


def test_the_crm_sample_drafts_the_spec_it_ships_with():
    import csv
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "sample_data" / "crm_contacts.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    columns = [classify(name, [r[name] for r in rows if r[name].strip()]) for name in rows[0]]
    spec = parse_spec(yaml.safe_load(draft(columns, str(path))), "draft")
    assert [(b.address, b.channel) for b in spec.endpoints] == [("email", "EMAIL"), ("mobile", "SMS")]
    assert spec.fields["Attributes.SignupDate"].date_formats == ["%d/%m/%Y"]
