"""Why a row or a file was kept out: the documented reason codes of ``audit.quarantine``."""
from __future__ import annotations

REASONS: dict[str, str] = {
    # whole files (line_no is null)
    "truncated_gzip": "the .gz file ends before its compressed stream does; no row of it is trusted",
    "header_mismatch": "the CSV header is not the one docs/contract.md names (§4.3, §4.5, §5.1; a column missing or added)",
    "unreadable_file": "the file could not be read or decompressed",
    # single rows
    "bad_encoding": "bytes that do not decode in the file's encoding (GB18030 for hall files, UTF-8 elsewhere)",
    "not_json": "a JSON Lines line that is not a JSON object",
    "wrong_field_count": "a CSV row with more or fewer fields than the header",
    "nul_byte": "a NUL byte, which PostgreSQL text cannot hold",
    # row rules, judged at validation (plugins/hcp/rules.py)
    "missing_id": "no evaluation, message or event id",
    "bad_time_format": "the rating time is missing, not in the source's format, or not a real date and time",
    "time_before_launch": "a rating time before 2019-12-01, when the rating system started",
    "time_in_future": "a rating time after the end of D+1 (plus a small clock skew) for night D",
    "level_out_of_scale": "a level that does not exist on the channel's own scale (pc 1-5, hotline's three words, ...)",
    "missing_case": "no case number (办件编号)",
    "invalid_agency_code": "the agency code is not a valid unified social credit code (GB 32100-2015 check character)",
    "bad_rating_seq": "a rating's sequence (pc assessNumber, app eval_seq) is neither 1 (first rating) nor 2 (follow-up 追评)",
    "conflicting_duplicate": "the same id (and version) twice in one batch with different content",
    "sms_opt_out": "an SMS reply TD / 退订: an opt-out, not a rating",
    "sms_unparseable": "an SMS reply with no leading digit 1-5 and not exactly one level phrase",
    "unknown_case": "an SMS reply whose case no master-data snapshot within 7 days of the reply lists",
    "unknown_event_type": "a rectification event type docs/contract.md §6.2 does not define",
    "unknown_evaluation": "a rectification event for an evaluation no channel has delivered (judged again when re-read)",
}


def check(reason: str) -> str:
    if reason not in REASONS:
        raise ValueError(f"undocumented quarantine reason {reason!r}")
    return reason
