import random

from hcp import uscc
from hcp_dev.simulator.world import make_org_code


def test_a_published_code_is_valid():
    # A unified social credit code printed on a real business licence (GB 32100-2015 check character "3").
    assert uscc.is_valid("91350100M000100Y43")


def test_a_wrong_check_character_is_caught():
    assert not uscc.is_valid("91350100M000100Y44")


def test_letters_the_standard_excludes_are_caught():
    # I, O, S, V and Z never appear: they read like digits.
    assert not uscc.is_valid("91350100M0001OOY43")
    assert not uscc.is_valid("9135010")
    assert not uscc.is_valid(None)


def test_the_simulator_makes_valid_codes():
    rng = random.Random(1)
    assert all(uscc.is_valid(make_org_code(rng, "320100")) for _ in range(200))
