"""The simulator writes each file source in its real encoding and layout."""
import gzip
import json

import pytest

from hcp_dev.simulator import deliveries as sim
from hcp_dev.simulator.world import DEFAULT_END


def test_hall_files_are_gb18030_with_crlf_and_a_chinese_header(tmp_path, demo_world):
    paths = sim.write_hall_day(demo_world, tmp_path, DEFAULT_END)
    data = paths[0].read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    text = data.decode("gb18030")
    assert text.startswith("评价编号,办件编号") and "\r\n" in text


def test_app_exports_are_gzipped_json_lines_with_success(tmp_path, demo_world):
    folder = sim.write_app_day(demo_world, tmp_path, DEFAULT_END)
    assert (folder / "_SUCCESS").exists()
    lines = gzip.decompress((folder / "part-0000.jsonl.gz").read_bytes()).decode().splitlines()
    first = json.loads(lines[0])
    assert first["satisfaction_code"] in range(1, 6) and isinstance(first["tags"], list)
    assert len(first["eval_time"]) == 15 and first["eval_time"][8] == "T"
    # the same export gives the same bytes (no timestamp in the gzip header)
    before = (folder / "part-0000.jsonl.gz").read_bytes()
    sim.write_app_day(demo_world, tmp_path, DEFAULT_END)
    assert (folder / "part-0000.jsonl.gz").read_bytes() == before
