"""Why a row or a file was kept out: the documented reason codes of ``audit.quarantine``."""
from __future__ import annotations

REASONS: dict[str, str] = {
    # whole files (line_no is null)
    "truncated_gzip": "the .gz file ends before its compressed stream does; no row of it is trusted",
    "header_mismatch": "the CSV header is not the one domain.md names (a column missing or added)",
    "unreadable_file": "the file could not be read or decompressed",
    # single rows
    "bad_encoding": "bytes that do not decode in the file's encoding (GB18030 for hall files, UTF-8 elsewhere)",
    "not_json": "a JSON Lines line that is not a JSON object",
    "wrong_field_count": "a CSV row with more or fewer fields than the header",
    "nul_byte": "a NUL byte, which PostgreSQL text cannot hold",
}


def check(reason: str) -> str:
    if reason not in REASONS:
        raise ValueError(f"undocumented quarantine reason {reason!r}")
    return reason
