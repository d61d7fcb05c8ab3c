"""Runs last: after every flow of the API suite, the exchange keys and secrets it used appear in no HTTP
response body, no log file and no text or binary column of the database (the sealed blobs included)."""
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
    for table, column, kind in columns:
        for s in PLAINTEXT_SECRETS:
            test = (f"position(convert_to(:'p1', 'UTF8') in \"{column}\") > 0" if kind == "bytea"
                    else f"strpos(\"{column}\"::text, :'p1') > 0")
            hits = sql(f'SELECT count(*) FROM "{table}" WHERE {test}', s)[0][0]
            assert hits == "0", f"{s[:6]}… in {table}.{column}"
