"""The demo world: who rates whom, when, and how.

Everything is drawn from one ``random.Random(seed)`` so the same seed and size
always give the same world, byte for byte.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from hcp import uscc

DEFAULT_SEED = 20191201
DEFAULT_END = date(2026, 10, 31)  # covers National Day 2026 and its make-up working days
DEFAULT_DAYS = 61

# Prefecture-level divisions of one demo province (Jiangsu's codes, real and public).
CITIES = {"320100": "南京市", "320200": "无锡市", "320500": "苏州市", "320600": "南通市"}
COUNTY_SUFFIXES = ["02", "04", "05"]
DEPARTMENTS = ["政务服务管理办公室", "市场监督管理局", "人力资源和社会保障局", "公安局", "自然资源和规划局"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚"

# Share of ratings at canonical levels 1..5 (1 = very satisfied); bad reviews are rare.
LEVEL_WEIGHTS = (0.86, 0.10, 0.03, 0.007, 0.003)
REASON_CODES = ("501", "502", "503", "504", "505", "506", "507", "599")


@dataclass(frozen=True)
class Agency:
    org_code: str
    org_name: str
    parent_org_code: str | None
    area_code: str
    admin_level: str
    # Agencies differ in quality so that scores and ranks mean something.
    quality: float


@dataclass(frozen=True)
class Platform:
    platform_code: str
    platform_name: str
    platform_type: str
    org_code: str


@dataclass(frozen=True)
class Staff:
    staff_no: str
    staff_name: str
    org_code: str
    window_no: str


@dataclass(frozen=True)
class ServiceItem:
    item_code: str
    item_name: str
    org_code: str
    case_type: str
    promised_days: int


@dataclass(frozen=True)
class Rating:
    """One rating in canonical terms; each channel renders it in its own format."""

    channel: str
    evaluation_id: str
    case_no: str
    item_code: str
    org_code: str
    area_code: str
    platform_code: str
    staff_no: str | None
    level: int  # canonical: 1 very satisfied .. 5 very dissatisfied
    reason_codes: tuple[str, ...]
    comment: str | None
    rated_at: datetime  # Beijing wall-clock time, naive
    updated_at: datetime
    seq: int  # 1 first rating, 2 follow-up
    user_type: int  # 1 person, 2 legal entity
    user_name: str
    user_phone: str
    is_default: bool = False  # system default rating after 7 days without one


@dataclass
class World:
    seed: int
    start: date
    end: date
    agencies: list[Agency] = field(default_factory=list)
    platforms: list[Platform] = field(default_factory=list)
    staff: list[Staff] = field(default_factory=list)
    items: list[ServiceItem] = field(default_factory=list)
    ratings: list[Rating] = field(default_factory=list)


def make_org_code(rng: random.Random, area_code: str) -> str:
    # 1 = 机构编制 registry, 1 = 机关 (government body), then the division, then a 9-character body id.
    body = "".join(rng.choice(uscc.ALPHABET[:10]) for _ in range(8)) + rng.choice(uscc.ALPHABET)
    first17 = "11" + area_code + body
    return first17 + uscc.check_character(first17)


def _person(rng: random.Random) -> tuple[str, str]:
    name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
    phone = "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))
    return name, phone


def build_world(
    seed: int = DEFAULT_SEED,
    ratings_per_day: int = 400,
    end: date = DEFAULT_END,
    days: int = DEFAULT_DAYS,
) -> World:
    rng = random.Random(seed)
    world = World(seed=seed, start=end - timedelta(days=days - 1), end=end)
    _build_organisation(rng, world)
    _build_pc_ratings(rng, world, ratings_per_day)
    return world


def _build_organisation(rng: random.Random, world: World) -> None:
    province = Agency(make_org_code(rng, "320000"), "江苏省政务服务管理办公室", None, "320000", "province", 0.8)
    world.agencies.append(province)
    for city_code, city_name in CITIES.items():
        city = Agency(
            make_org_code(rng, city_code), f"{city_name}政务服务管理办公室", province.org_code,
            city_code, "city", rng.uniform(0.3, 1.0),
        )
        world.agencies.append(city)
        for dept in DEPARTMENTS[1:3]:
            world.agencies.append(
                Agency(make_org_code(rng, city_code), f"{city_name}{dept}", city.org_code, city_code, "city",
                       rng.uniform(0.2, 1.0))
            )
        for suffix in COUNTY_SUFFIXES:
            county_code = city_code[:4] + suffix
            world.agencies.append(
                Agency(make_org_code(rng, county_code), f"{city_name}{suffix}区政务服务中心", city.org_code,
                       county_code, "county", rng.uniform(0.2, 1.0))
            )
    world.platforms.append(Platform("PT32PC0001", "江苏政务服务网", "portal", province.org_code))
    for i, agency in enumerate(world.agencies):
        for w in range(1, 4):
            name, _ = _person(rng)
            world.staff.append(Staff(f"S{agency.area_code}{i:03d}{w}", name, agency.org_code, f"W{w:02d}"))
        for k in range(1, 5):
            case_type = "即办件" if k % 2 else "承诺件"
            world.items.append(
                ServiceItem(f"11{agency.area_code}{i:03d}{k:04d}", f"{agency.org_name}事项{k}", agency.org_code,
                            case_type, 0 if case_type == "即办件" else rng.choice((3, 5, 10, 20)))
            )


def _level(rng: random.Random, quality: float) -> int:
    # Worse agencies shift weight from "very satisfied" toward the lower levels.
    weights = list(LEVEL_WEIGHTS)
    shift = (1.0 - quality) * 0.25
    weights[0] -= shift
    weights[1] += shift * 0.5
    weights[2] += shift * 0.3
    weights[3] += shift * 0.13
    weights[4] += shift * 0.07
    return rng.choices((1, 2, 3, 4, 5), weights)[0]


def _build_pc_ratings(rng: random.Random, world: World, per_day: int) -> None:
    agencies = {a.org_code: a for a in world.agencies}
    staff_by_org: dict[str, list[Staff]] = {}
    for s in world.staff:
        staff_by_org.setdefault(s.org_code, []).append(s)
    platform = world.platforms[0]
    serial = 0
    day = world.start
    while day <= world.end:
        for _ in range(per_day):
            serial += 1
            item = rng.choice(world.items)
            agency = agencies[item.org_code]
            level = _level(rng, agency.quality)
            rated_at = datetime.combine(day, datetime.min.time()) + timedelta(seconds=rng.randrange(8 * 3600, 22 * 3600))
            # Most rows never change; a few are updated days later (rows that change).
            updated_at = rated_at + timedelta(minutes=rng.randrange(0, 30))
            if rng.random() < 0.01:
                updated_at += timedelta(days=rng.randrange(1, 4))
            name, phone = _person(rng)
            # A case left unrated for 7 days gets the system's default "satisfied" (pf = 7).
            is_default = rng.random() < 0.05
            if is_default:
                level = 2
            bad = level >= 4
            world.ratings.append(
                Rating(
                    channel="pc",
                    evaluation_id=f"PC{world.seed % 1000:03d}{serial:09d}",
                    case_no=f"{agency.area_code}{day:%Y%m%d}{serial:08d}",
                    item_code=item.item_code,
                    org_code=agency.org_code,
                    area_code=agency.area_code,
                    platform_code=platform.platform_code,
                    staff_no=rng.choice(staff_by_org[agency.org_code]).staff_no if rng.random() < 0.4 else None,
                    level=level,
                    reason_codes=tuple(sorted(rng.sample(REASON_CODES, rng.randint(1, 2)))) if bad else (),
                    comment=("办事太慢，来回跑了三次" if bad else "服务很好") if rng.random() < 0.2 else None,
                    rated_at=rated_at,
                    updated_at=updated_at,
                    seq=1,
                    user_type=1 if rng.random() < 0.85 else 2,
                    user_name=name,
                    user_phone=phone,
                    is_default=is_default,
                )
            )
        day += timedelta(days=1)
