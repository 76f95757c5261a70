"""The demo world: who rates whom, on which channel, when, and how.

The organisation comes from ``random.Random(seed)``; each day's ratings from a
generator seeded by (seed, day), so the same seed and size always give the
same world, byte for byte, and a day can be made without the days before it.
Ratings are kept in canonical terms (level 1 = 非常满意 .. 5 = 非常不满意);
each channel module renders them in its own native format.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

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

# Realistic channel shares of a province's ratings.
CHANNEL_SHARES = {"pc": 0.30, "app": 0.35, "hall": 0.22, "hotline": 0.07, "sms": 0.06}
# Share of ratings at canonical levels 1..5 at an agency of full quality. Worse agencies shift weight toward
# the lower levels, pain points and follow-ups add bad reviews: unscaled, about 4% of ratings are bad, which a
# small test world needs to exercise every path of the work orders. A province sees 0.003-0.5% (docs/contract.md §1.2):
# the demo and the benchmark keep each of those bad reviews with probability BAD_REVIEW_SCALE (about 0.4%).
LEVEL_WEIGHTS = (0.86, 0.10, 0.03, 0.007, 0.003)
BAD_REVIEW_SCALE = 0.1
RELISTED_SHARE = 0.02  # cases listed again later with a corrected completed_at
REASON_CODES = ("501", "502", "503", "504", "505", "506", "507", "599")
# Every PAIN_POINT_EVERY-th service item is a 堵点: people get stuck there, and say why.
PAIN_POINT_EVERY = 25
PAIN_POINT_BAD_SHARE = 0.25
PAIN_POINT_REASONS = ("502", "506")  # too slow, had to come back
APP_CLIENTS = ("ios", "android", "wechat", "alipay")
LEVEL_NAMES = {1: "非常满意", 2: "满意", 3: "基本满意", 4: "不满意", 5: "非常不满意"}


@dataclass(frozen=True)
class Agency:
    org_code: str
    org_name: str
    parent_org_code: str | None
    area_code: str
    admin_level: str
    quality: float  # agencies differ so that scores and ranks mean something


@dataclass(frozen=True)
class Platform:
    platform_code: str
    platform_name: str
    platform_type: str  # portal / mobile / hall_device / hotline / sms
    org_code: str


@dataclass(frozen=True)
class Staff:
    staff_no: str
    staff_name: str
    org_code: str
    window_no: str
    active: bool = True


@dataclass(frozen=True)
class ServiceItem:
    item_code: str
    item_name: str
    org_code: str
    case_type: str  # 即办件 / 承诺件
    promised_days: int


@dataclass(frozen=True, slots=True)  # slots: a benchmark day holds millions of cases and ratings
class Case:
    case_no: str
    item_code: str
    org_code: str
    platform_code: str
    staff_no: str | None
    applicant_type: int
    submitted_at: datetime
    completed_at: datetime
    listed_on: date | None  # the master-data snapshot that first lists it; None: never listed


@dataclass(frozen=True, slots=True)
class Rating:
    """One rating in canonical terms."""

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
    seq: int  # 1 first rating, 2 follow-up (追评)
    user_type: int  # 1 person, 2 legal entity
    user_name: str
    user_phone: str
    user_id_card: str
    is_default: bool = False  # pc only: system default rating after 7 days without one
    client: str | None = None  # app only
    window_no: str | None = None  # hall only
    hall_code: str | None = None  # hall only
    reply_text: str | None = None  # sms only: the reply as the rater typed it
    is_deleted: bool = False  # hotline only: a withdrawn rating


@dataclass(frozen=True)
class SmsNoise:
    """An SMS reply that is not a rating: an opt-out or junk."""

    msg_id: str
    case_no: str
    phone: str
    reply_text: str
    received_at: datetime


@dataclass
class World:
    seed: int
    start: date
    end: date
    bad_review_scale: float = BAD_REVIEW_SCALE
    agencies: list[Agency] = field(default_factory=list)
    platforms: list[Platform] = field(default_factory=list)
    staff: list[Staff] = field(default_factory=list)
    items: list[ServiceItem] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    ratings: list[Rating] = field(default_factory=list)
    sms_noise: list[SmsNoise] = field(default_factory=list)
    relistings: list[Case] = field(default_factory=list)  # later listings that correct a case
    _by_day: dict = field(default_factory=dict, repr=False, compare=False)

    def ratings_on(self, channel: str, day: date) -> list[Rating]:
        """The channel's ratings of one Beijing day, in the order they were made."""
        if not self._by_day:
            for r in self.ratings:
                self._by_day.setdefault((r.channel, r.rated_at.date()), []).append(r)
        return self._by_day.get((channel, day), [])

    def cases_listed_on(self, day: date) -> list[Case]:
        """The cases the master-data snapshot of one day lists: those first known that day, and corrections."""
        return [c for c in self.cases if c.listed_on == day] + [c for c in self.relistings if c.listed_on == day]

    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    def pain_point_items(self) -> set[str]:
        """The service items the world makes hard to get through (the 堵点 the marts should find)."""
        return {item.item_code for i, item in enumerate(self.items) if i % PAIN_POINT_EVERY == PAIN_POINT_EVERY // 2}

    def platform(self, platform_type: str) -> Platform:
        return next(p for p in self.platforms if p.platform_type == platform_type)


def make_org_code(rng: random.Random, area_code: str) -> str:
    # 1 = 机构编制 registry, 1 = 机关 (government body), then the division, then a 9-character body id.
    body = "".join(rng.choice(uscc.ALPHABET[:10]) for _ in range(8)) + rng.choice(uscc.ALPHABET)
    first17 = "11" + area_code + body
    return first17 + uscc.check_character(first17)


def _person(rng: random.Random) -> tuple[str, str, str]:
    name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
    phone = "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))
    id_card = "3201" + "".join(rng.choice("0123456789") for _ in range(13)) + rng.choice("0123456789X")
    return name, phone, id_card


def build_world(
    seed: int = DEFAULT_SEED,
    ratings_per_day: int = 400,
    end: date = DEFAULT_END,
    days: int = DEFAULT_DAYS,
    bad_review_scale: float = BAD_REVIEW_SCALE,
) -> World:
    world = World(seed=seed, start=end - timedelta(days=days - 1), end=end, bad_review_scale=bad_review_scale)
    _build_organisation(random.Random(seed), world)
    for day in world.days():
        _build_day(world, day, ratings_per_day)
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
    for code, name, kind in (
        ("PT32PC0001", "江苏政务服务网", "portal"),
        ("PT32APP001", "苏服办", "mobile"),
        ("PT32HALL01", "政务服务大厅评价器", "hall_device"),
        ("PT3212345H", "12345政务服务便民热线", "hotline"),
        ("PT32SMS001", "好差评短信评价", "sms"),
    ):
        world.platforms.append(Platform(code, name, kind, province.org_code))
    for i, agency in enumerate(world.agencies):
        for w in range(1, 4):
            name, _, _ = _person(rng)
            world.staff.append(Staff(f"S{agency.area_code}{i:03d}{w}", name, agency.org_code, f"W{w:02d}"))
        for k in range(1, 5):
            case_type = "即办件" if k % 2 else "承诺件"
            world.items.append(
                ServiceItem(f"11{agency.area_code}{i:03d}{k:04d}", f"{agency.org_name}事项{k}", agency.org_code,
                            case_type, 0 if case_type == "即办件" else rng.choice((3, 5, 10, 20)))
            )


def _level(rng: random.Random, quality: float, channel: str) -> int:
    # Worse agencies shift weight from "very satisfied" toward the lower levels.
    weights = list(LEVEL_WEIGHTS)
    shift = (1.0 - quality) * 0.25
    weights[0] -= shift
    weights[1] += shift * 0.5
    weights[2] += shift * 0.3
    weights[3] += shift * 0.13
    weights[4] += shift * 0.07
    level = rng.choices((1, 2, 3, 4, 5), weights)[0]
    if channel == "hotline":  # the hotline asks on three levels only: 满意 / 基本满意 / 不满意
        level = min(max(level, 2), 4)
    return level


def _stays_bad(rng: random.Random, scale: float) -> bool:
    """Whether a bad review drawn at the unscaled rates is kept (BAD_REVIEW_SCALE). Unscaled, no draw is
    spent, so a test world stays the world it always was."""
    return scale >= 1 or rng.random() < scale


def sms_reply_text(rng: random.Random, level: int) -> str:
    """What a rater types back: a digit, often full-width or padded, or the level's words."""
    form = rng.random()
    if form < 0.55:
        return str(level)
    if form < 0.70:
        return chr(0xFF10 + level)  # full-width digit, e.g. "５"
    if form < 0.80:
        return f" {level} "
    if form < 0.90:
        return LEVEL_NAMES[level]
    return LEVEL_NAMES[level] + rng.choice(("!!", "！", "，谢谢", "。"))


def _build_day(world: World, day: date, per_day: int) -> None:
    rng = random.Random(f"{world.seed}:{day.isoformat()}")
    agencies = {a.org_code: a for a in world.agencies}
    staff_by_org: dict[str, list[Staff]] = {}
    for s in world.staff:
        staff_by_org.setdefault(s.org_code, []).append(s)
    channels = list(CHANNEL_SHARES)
    shares = list(CHANNEL_SHARES.values())
    pain_points = world.pain_point_items()
    day_start = datetime.combine(day, time.min)
    prefix = f"{day:%Y%m%d}"
    first_case = len(world.cases)
    for n in range(1, per_day + 1):
        channel = rng.choices(channels, shares)[0]
        item = rng.choice(world.items)
        agency = agencies[item.org_code]
        platform = world.platform({"pc": "portal", "app": "mobile", "hall": "hall_device", "hotline": "hotline",
                                   "sms": "sms"}[channel])
        staff = rng.choice(staff_by_org[agency.org_code]) if channel == "hall" or rng.random() < 0.4 else None
        rated_at = day_start + timedelta(seconds=rng.randrange(7 * 3600, 23 * 3600))
        completed_at = rated_at - timedelta(minutes=rng.randrange(1, 600))
        completed_at = max(completed_at, day_start)
        case_no = f"{agency.area_code}{prefix}{n:07d}"
        # SMS invitations go out for cases the master data may list only days later (or never).
        listed_on: date | None = day
        if channel == "sms":
            late = rng.random()
            listed_on = day + timedelta(days=rng.randint(1, 5)) if late < 0.15 else (None if late < 0.18 else day)
        user_type = 1 if rng.random() < 0.85 else 2
        world.cases.append(Case(case_no, item.item_code, agency.org_code, platform.platform_code,
                                staff.staff_no if staff else None, user_type,
                                completed_at - timedelta(days=item.promised_days), completed_at, listed_on))
        level = _level(rng, agency.quality, channel)
        if level >= 4 and not _stays_bad(rng, world.bad_review_scale):
            level = 2 if channel == "hotline" else rng.choice((1, 2))
        stuck = (item.item_code in pain_points and rng.random() < PAIN_POINT_BAD_SHARE
                 and _stays_bad(rng, world.bad_review_scale))
        if stuck:
            level = 4 if channel == "hotline" else rng.choice((4, 5))
        is_default = channel == "pc" and rng.random() < 0.05
        if is_default:
            level = 2  # a case left unrated for 7 days gets the system's default "satisfied" (pf = 7)
        bad = level >= 4
        name, phone, id_card = _person(rng)
        updated_at = rated_at + timedelta(minutes=rng.randrange(0, 30))
        if rng.random() < 0.01:  # rows that change days later
            updated_at += timedelta(days=rng.randint(1, 3))
        rating = Rating(
            channel=channel,
            evaluation_id=_evaluation_id(channel, world.seed, day, n),
            case_no=case_no,
            item_code=item.item_code,
            org_code=agency.org_code,
            area_code=agency.area_code,
            platform_code=platform.platform_code,
            staff_no=staff.staff_no if staff else None,
            level=level,
            reason_codes=(PAIN_POINT_REASONS if stuck else tuple(sorted(rng.sample(REASON_CODES, rng.randint(1, 2)))))
            if bad else (),
            comment=("办事太慢，来回跑了三次" if bad else "服务很好") if rng.random() < 0.2 else None,
            rated_at=rated_at,
            updated_at=updated_at,
            seq=1,
            user_type=user_type,
            user_name=name,
            user_phone=phone,
            user_id_card=id_card,
            is_default=is_default,
            client=rng.choice(APP_CLIENTS) if channel == "app" else None,
            window_no=staff.window_no if channel == "hall" and staff else None,
            hall_code=f"H{agency.area_code}" if channel == "hall" else None,
            reply_text=sms_reply_text(rng, level) if channel == "sms" else None,
            is_deleted=channel == "hotline" and rng.random() < 0.02,
        )
        world.ratings.append(rating)
        # A few raters come back and rate the same case again (追评), on pc and app.
        if channel in ("pc", "app") and not is_default and rng.random() < 0.02:
            follow_at = rated_at + timedelta(minutes=rng.randrange(30, 600))
            follow_level = rng.choice((1, 2, 4, 5))
            if follow_level >= 4 and not _stays_bad(rng, world.bad_review_scale):
                follow_level = rng.choice((1, 2))
            world.ratings.append(replace(
                rating,
                evaluation_id=rating.evaluation_id + "F",
                level=follow_level,
                reason_codes=tuple(sorted(rng.sample(REASON_CODES, 1))) if follow_level >= 4 else (),
                rated_at=follow_at, updated_at=follow_at, seq=2,
            ))
        if channel == "sms" and rng.random() < 0.15:  # opt-outs and junk beside the ratings
            text = rng.choice(("TD", "退订", "td", "谢谢", "好的", "？？"))
            world.sms_noise.append(SmsNoise(f"M{prefix}{n:07d}N", case_no, phone, text,
                                            rated_at + timedelta(minutes=5)))
    # Cases completed that day with no rating at all: the evaluation rate's denominator.
    for n in range(per_day + 1, per_day + 1 + per_day // 4):
        item = rng.choice(world.items)
        agency = agencies[item.org_code]
        completed_at = day_start + timedelta(seconds=rng.randrange(8 * 3600, 18 * 3600))
        world.cases.append(Case(f"{agency.area_code}{prefix}{n:07d}", item.item_code, agency.org_code,
                                world.platform("hall_device").platform_code, None, 1,
                                completed_at - timedelta(days=item.promised_days), completed_at, day))
    _relist_some(world, day, world.cases[first_case:])


def _relist_some(world: World, day: date, cases: list[Case]) -> None:
    """A few cases are listed again days later, corrected: they were completed the day before (the case
    counts in the period of its own completed_at, so it moves to another day). A generator of its own keeps
    the day's other draws as they were."""
    rng = random.Random(f"{world.seed}:{day.isoformat()}:relisted")
    for case in cases:
        if case.listed_on is not None and rng.random() < RELISTED_SHARE:
            world.relistings.append(replace(
                case, submitted_at=case.submitted_at - timedelta(days=1),
                completed_at=case.completed_at - timedelta(days=1),
                listed_on=case.listed_on + timedelta(days=rng.randint(1, 3)),
            ))


def _evaluation_id(channel: str, seed: int, day: date, n: int) -> str:
    if channel == "hotline":  # the hotline table's bigint id
        return str(int(f"{day:%Y%m%d}{n:07d}"))
    return f"{channel.upper()}{seed % 1000:03d}{day:%Y%m%d}{n:07d}"
