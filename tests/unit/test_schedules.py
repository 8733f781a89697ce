"""Schedules: parsing to exact rationals, validation messages, the silver formula."""

from __future__ import annotations

import json
import math
from fractions import Fraction

import pytest

from pepstep import InputError, Schedule, constant, parse_schedule, parse_steps, silver

RHO = 1.0 + math.sqrt(2.0)


def test_steps_parse_exactly_from_decimal_text():
    sched = parse_steps("1.5,4.9,1.5")
    assert sched.exact == (Fraction(3, 2), Fraction(49, 10), Fraction(3, 2))
    assert sched.steps == (1.5, 4.9, 1.5)
    assert parse_steps("0.1").exact == (Fraction(1, 10),)  # not the binary float 0.1000000000000000055...


def test_silver_matches_altschuler_parrilo_definition():
    # h_t = 1 + rho^(nu(t+1) - 1): sqrt 2, 2, sqrt 2, 1 + rho, sqrt 2, 2, sqrt 2 (t = 0..6).
    expected = [math.sqrt(2), 2.0, math.sqrt(2), 1 + RHO, math.sqrt(2), 2.0, math.sqrt(2)]
    assert silver(7).steps == pytest.approx(expected, rel=1e-15)
    assert silver(16).steps[15] == pytest.approx(1 + RHO**3, rel=1e-15)


def test_named_schedules(tmp_path):
    assert parse_schedule("constant:1.5:4").exact == (Fraction(3, 2),) * 4
    assert parse_schedule("silver:3").num_steps == 3
    pattern = tmp_path / "p.json"
    pattern.write_text(json.dumps({"steps": [1.5, 4.9, 1.5]}))
    sched = parse_schedule(f"pattern:{pattern}:2")
    assert sched.exact == (Fraction(3, 2), Fraction(49, 10), Fraction(3, 2)) * 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1.5,-1", "Step 1 must be finite and > 0. Got h_1=-1."),
        ("1,0", "Step 1 must be finite and > 0. Got h_1=0."),
        ("nan", "Step 0 must be finite and > 0. Got h_0=nan."),
        ("1,inf", "Step 1 must be finite and > 0. Got h_1=inf."),
        ("1,,2", "Step 1 is empty"),
        ("1.5;2", "Step 0 is not a number: '1.5;2'"),
        ("", "The steps must be a comma-separated list"),
    ],
)
def test_bad_steps_name_the_value(text, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(".", r"\.")):
        parse_steps(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("constant:1.5", "constant:H:N"),
        ("constant:1.5:0", "positive integer. Got 0"),
        ("silver:x", "positive integer. Got 'x'"),
        ("cosine:10", "Unknown schedule 'cosine'"),
        ("pattern:/nonexistent.json:2", "Cannot read the pattern file"),
    ],
)
def test_bad_named_schedules(text, message):
    with pytest.raises(InputError, match=message):
        parse_schedule(text)


def test_schedule_validation():
    with pytest.raises(InputError, match="at least one step"):
        Schedule(())
    with pytest.raises(InputError, match=r"Step 2 must be finite and > 0. Got h_2=-0.5"):
        Schedule((1.0, 1.0, -0.5))
    with pytest.raises(InputError, match="num_steps=0"):
        constant(1.0, 0)
