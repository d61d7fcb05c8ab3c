"""Runs last: after every flow of the API suite, the exchange keys and secrets it used appear in no HTTP
response body, no log file and no text or binary column of the database (the sealed blobs included)."""
import json
import os
import pathlib

from conftest import PLAINTEXT_SECRETS, RESPONSE_BODIES, sql


def test_no_plaintext_secret_anywhere():
    assert len(PLAINTEXT_SECRETS) >= 20, "the connect tests must have run first"
    for body in RESPONSE_BODIES:
        for s in PLAINTEXT_SECRETS:
            assert s not in body
    log_dir = pathlib.Path(os.environ["SIGNALBRIDGE_STATE_DIR"]) / "log"
    logs = list(log_dir.glob("*.log"))
    assert logs
    for path in logs:
        text = path.read_text(errors="replace")
        for s in PLAINTEXT_SECRETS:
            assert s not in text, f"{s[:6]}… in {path.name}"
    columns = sql("""SELECT table_name, column_name, data_type FROM information_schema.columns
                     WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'jsonb', 'json', 'bytea')""")
    assert len(columns) > 20
    # One query per column, every secret at once (one psql per column and secret took ~10 minutes), against the
    # column's distinct values (signal_skips holds ~165k rows of a few distinct messages by the end of the suite:
    # every secret against every row took over 30 s for that column alone).
    secrets = json.dumps(sorted(set(PLAINTEXT_SECRETS)))
    for table, column, kind in columns:
        value, test = (f't."{column}"', "position(convert_to(s, 'UTF8') in v.v) > 0") if kind == "bytea" \
            else (f't."{column}"::text', "strpos(v.v, s) > 0")
        hits = sql(f"""WITH v AS (SELECT DISTINCT {value} AS v FROM "{table}" t)
                       SELECT left(s, 6) FROM jsonb_array_elements_text(:'p1'::jsonb) AS secret(s)
                       WHERE EXISTS (SELECT 1 FROM v WHERE {test})""", secrets)
        assert hits == [], f"{hits}… in {table}.{column}"
