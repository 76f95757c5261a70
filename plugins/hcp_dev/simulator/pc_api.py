"""The 政务服务网 portal's evaluation API (docs/contract.md §4.1), served over real HTTP.

Quirks kept as the real system has them: ``satisfaction`` runs 1 = 非常不满意 ..
5 = 非常满意 (reversed), ``pf`` = 7 marks a system default rating, times are
Beijing wall-clock strings, ``since`` is inclusive and results come ordered by
``updateTime``.
"""
from __future__ import annotations

from hcp.timeutil import parse_iso_to_beijing
from hcp_dev.simulator.http_server import PagedApi
from hcp_dev.simulator.world import Rating

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def to_api_item(r: Rating) -> dict:
    return {
        "evaluationId": r.evaluation_id,
        "projectNo": r.case_no,
        "taskCode": r.item_code,
        "deptCode": r.org_code,
        "areaCode": r.area_code,
        "platformCode": r.platform_code,
        "staffNo": r.staff_no,
        "pf": 7 if r.is_default else 1,
        "satisfaction": 6 - r.level,
        "evalDetail": ",".join(r.reason_codes),
        "writingEvaluation": r.comment,
        "assessTime": r.rated_at.strftime(TIME_FORMAT),
        "updateTime": r.updated_at.strftime(TIME_FORMAT),
        "assessNumber": r.seq,
        "userProp": r.user_type,
        "userName": r.user_name,
        "userPhone": r.user_phone,
    }


def pc_api(ratings: list[Rating], token: str) -> PagedApi:
    items = [to_api_item(r) for r in ratings if r.channel == "pc"]
    return PagedApi(
        "/api/evaluations", items,
        since_key=lambda i: (i["updateTime"], i["evaluationId"]),
        parse_since=lambda since: (parse_iso_to_beijing(since).strftime(TIME_FORMAT), ""),
        token=token,
        clock_key=lambda now: (now.strftime(TIME_FORMAT), "\uffff"),
    )
