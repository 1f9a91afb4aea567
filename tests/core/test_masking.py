from pinpoint_etl.core.masking import mask_address, mask_email, mask_phone, scrub


def test_mask_email_keeps_first_letter_and_domain():
    assert mask_email("mary.major@example.com") == "m***@example.com"


def test_mask_phone_keeps_prefix_and_last_four():
    assert mask_phone("+12065550100") == "+1******0100"


def test_mask_address_by_channel():
    assert mask_address("+442079460000", "SMS") == "+4*******0000"
    assert "@example.org" in mask_address("a.b@example.org", "EMAIL")
    assert mask_address("tokentokentoken", "GCM") != "tokentokentoken"


def test_scrub_free_text():
    text = "row 3: mary.major@example.com and +1 206 555 0100 failed; aws_secret_access_key=abc123XYZ"
    out = scrub(text)
    assert "mary.major" not in out and "555 0100" not in out and "abc123XYZ" not in out
    assert "m***@example.com" in out and "row 3" in out
