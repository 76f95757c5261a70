"""dbt's unit tests (the SQL of each rule on hand-made rows) run here, in CI: the nightly run leaves them out, as
dbt advises, because they prove the code rather than the night's data."""
import json
import re

from hcp import connections, dbt, settings


def test_every_dbt_unit_test_passes(demo_run, monkeypatch, dbt_manifest):
    env = demo_run[2]
    monkeypatch.setenv(connections.env_var(settings.WAREHOUSE_CONN_ID),
                       env[connections.env_var(settings.WAREHOUSE_CONN_ID)])
    # unit tests read the column types of their inputs from the warehouse the demo night built
    output = dbt.run(["test", "--select", "test_type:unit"])
    expected = len(json.loads(dbt_manifest.read_text())["unit_tests"])
    assert expected >= 15
    passed = re.findall(r"\d+ of \d+ PASS (\S+::\S+)", output)
    assert len(set(passed)) == expected and "ERROR=0 " in output, output[-3000:]
