from collections import Counter

from hcp_dev.simulator.world import build_world


def test_same_seed_same_world_other_seed_other_world():
    a = build_world(seed=7, ratings_per_day=20, days=3)
    b = build_world(seed=7, ratings_per_day=20, days=3)
    c = build_world(seed=8, ratings_per_day=20, days=3)
    assert a.ratings == b.ratings
    assert a.ratings != c.ratings
    assert len(a.ratings) == 60


def test_ratings_fall_on_the_days_of_the_world(demo_world):
    days = Counter(r.rated_at.date() for r in demo_world.ratings)
    assert min(days) == demo_world.start and max(days) == demo_world.end
    assert len(days) == (demo_world.end - demo_world.start).days + 1


def test_bad_reviews_are_rare_and_carry_reasons(demo_world):
    bad = [r for r in demo_world.ratings if r.level >= 4]
    assert 0 < len(bad) < 0.1 * len(demo_world.ratings)
    assert all(r.reason_codes for r in bad)
    assert not any(r.reason_codes for r in demo_world.ratings if r.level < 4)


def test_the_demo_and_benchmark_world_has_bad_reviews_at_a_real_provinces_rate():
    world = build_world(ratings_per_day=5000, days=4)  # the default scale, as `make run` and `make bench` use
    bad = sum(1 for r in world.ratings if r.level >= 4)
    assert 0.00003 <= bad / len(world.ratings) <= 0.005  # docs/contract.md §1.2: 0.003%-0.5%
    assert bad > 0.001 * len(world.ratings)  # yet not so few that the work orders go untested at volume


def test_some_cases_are_listed_again_with_a_corrected_completed_date(demo_world):
    first = {c.case_no: c for c in demo_world.cases}
    assert demo_world.relistings
    for again in demo_world.relistings:
        assert again.listed_on > first[again.case_no].listed_on
        assert again.completed_at.date() < first[again.case_no].completed_at.date()
        assert again in demo_world.cases_listed_on(again.listed_on)


def test_default_ratings_are_satisfied(demo_world):
    defaults = [r for r in demo_world.ratings if r.is_default]
    assert defaults and {r.level for r in defaults} == {2}


def test_some_rows_change_after_they_were_rated(demo_world):
    assert any((r.updated_at - r.rated_at).days >= 1 for r in demo_world.ratings)


def test_every_channel_with_its_own_quirks(demo_world):
    by_channel = Counter(r.channel for r in demo_world.ratings)
    assert set(by_channel) == {"pc", "app", "hall", "hotline", "sms"}
    assert {r.level for r in demo_world.ratings if r.channel == "hotline"} <= {2, 3, 4}  # three-level scale
    assert any(r.is_deleted for r in demo_world.ratings if r.channel == "hotline")
    replies = [r.reply_text for r in demo_world.ratings if r.channel == "sms"]
    assert any(ch in "１２３４５" for text in replies for ch in text)  # full-width digits
    assert any(not text.strip().isdigit() and text.strip()[0] not in "１２３４５" for text in replies)  # level words
    assert {n.reply_text for n in demo_world.sms_noise} & {"TD", "退订"}


def test_follow_ups_rate_the_same_case_again(demo_world):
    follow_ups = [r for r in demo_world.ratings if r.seq == 2]
    firsts = {(r.channel, r.case_no) for r in demo_world.ratings if r.seq == 1}
    assert follow_ups and all((r.channel, r.case_no) in firsts for r in follow_ups)


def test_some_sms_cases_are_listed_late_or_never(demo_world):
    sms_cases = {r.case_no for r in demo_world.ratings if r.channel == "sms"}
    listings = {c.case_no: (c.listed_on, c.completed_at.date()) for c in demo_world.cases if c.case_no in sms_cases}
    assert any(listed is None for listed, _ in listings.values())
    assert any(listed is not None and listed > done for listed, done in listings.values())
