"""The public namespace: every name resolves, import stays light, results print short, one calling
convention for optimization."""

from __future__ import annotations

import subprocess
import sys
import warnings

import pytest

import pepstep
from pepstep import Problem, Status, constant

#: Longest acceptable ``repr`` of a result: one line a user can read in a REPL.
MAX_REPR = 300
#: ``optimize(Problem(...))`` and ``optimize_schedule(...)`` run the same computation (same
#: template, starts, seeds and solver calls in the same order), so their values agree to the last
#: bits; 1e-9 leaves room only for nondeterministic summation in multithreaded BLAS.
RTOL_SAME_COMPUTATION = 1e-9


@pytest.mark.parametrize("name", pepstep.__all__)
def test_every_public_name_resolves(name):
    assert getattr(pepstep, name) is not None
    assert name in dir(pepstep)


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        pepstep.no_such_name  # noqa: B018


def test_import_loads_no_numerical_stack():
    code = "import sys, pepstep; print(sorted(m for m in ('numpy', 'cvxpy', 'scipy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_functions_named_like_their_modules_stay_functions():
    # Importing the submodules (as the CLI and other modules do) must not replace the functions.
    code = (
        "import pepstep.optimize, pepstep.search, pepstep.certify, pepstep.reproduce\n"
        "import pepstep\n"
        "print([callable(getattr(pepstep, n)) and not hasattr(getattr(pepstep, n), '__path__')"
        " and getattr(pepstep, n).__module__.startswith('pepstep.')"
        " for n in ('optimize', 'search', 'certify', 'reproduce')])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[True, True, True, True]"
    from pepstep.optimize import optimize_schedule  # the modules stay importable by name

    assert callable(optimize_schedule)


def test_status_prints_as_its_value():
    assert str(Status.OPTIMAL) == "optimal"
    assert f"{Status.INACCURATE}" == "inaccurate"
    assert f"{Status.FAILED:>8}" == "  failed"
    assert Status.OPTIMAL == "optimal"


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """One real instance of every public result type, from tiny solves (N <= 3)."""
    from pepstep.generation import worst_case_generated

    problem = Problem(constant(1.0, 2))
    cert = pepstep.certify(problem, rate="1/9")
    path = tmp_path_factory.mktemp("cert") / "h1_n2.json"
    path.write_text(cert.to_json())
    sched = pepstep.optimize(2, starts=2, restarts=0)
    generated = worst_case_generated(Problem(constant(1.0, 3)))
    spec_path = tmp_path_factory.mktemp("spec") / "tiny.toml"
    spec_path.write_text(
        'schema_version = 1\nclaim = "h = 1: L R^2 / (4 N + 2)"\n'
        '[source]\nauthors = "Y. Drori and M. Teboulle"\ntitle = "Performance of first-order methods"\n'
        'year = 2014\nwhere = "Theorem 3.1"\n[problem]\nclass = "convex"\n'
        '[[rows]]\nlabel = "h=1, N=1"\nschedule = "constant:1:1"\npublished = 0.16666666666666666\n'
    )
    spec_result = pepstep.reproduce(spec_path)
    return {
        "WorstCase": pepstep.worst_case(problem),
        "Certificate": cert,
        "VerifyReport": pepstep.verify(cert),
        "Verdict": pepstep.verify_file(path),
        "ScheduleResult": sched,
        "StartResult": sched.starts[0],
        "PatternCheck": pepstep.check_pattern([1.5, 4.9, 1.5]),
        "PatternCertificate": pepstep.certify_pattern([1.5, 4.9, 1.5]),
        "PatternResult": pepstep.search(3, first=1.5, certify=False),
        "GenerationInfo": generated.info,
        "GeneratedWorstCase": generated,
        "SpecResult": spec_result,
        "RowResult": spec_result.rows[0],
    }


RESULT_TYPES = [
    "WorstCase",
    "Certificate",
    "VerifyReport",
    "Verdict",
    "ScheduleResult",
    "StartResult",
    "PatternCheck",
    "PatternCertificate",
    "PatternResult",
    "GenerationInfo",
    "GeneratedWorstCase",
    "SpecResult",
    "RowResult",
]
#: Result types that also have the long form (the kernel's records are not pepstep's to extend).
WITH_SUMMARY = [t for t in RESULT_TYPES if t not in ("Certificate", "VerifyReport", "Verdict")]


@pytest.mark.parametrize("kind", RESULT_TYPES)
def test_repr_is_short_and_one_line(results, kind):
    obj = results[kind]
    assert type(obj).__name__ == kind
    text = repr(obj)
    assert len(text) < MAX_REPR, f"repr({kind}) is {len(text)} characters: {text[:400]}"
    assert "\n" not in text
    assert text.startswith(f"{kind}(")


@pytest.mark.parametrize("kind", WITH_SUMMARY)
def test_summary_is_the_long_form(results, kind):
    text = results[kind].summary()
    assert isinstance(text, str) and text.count("\n") >= 2


def test_worst_case_repr_names_value_status_and_size(results):
    text = repr(results["WorstCase"])
    assert "value=0.1," in text and "optimal" in text and "N=2" in text and "clarabel" in text


def test_optimize_problem_equals_optimize_schedule():
    options = {"starts": 2, "restarts": 0, "seed": 3}
    new = pepstep.optimize(Problem(constant(1.5, 3), R=2.0), **options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        old = __import__("pepstep.optimize", fromlist=["x"]).optimize_schedule(3, L_R=2.0, **options)
    assert new.ok and old.ok
    assert new.value == pytest.approx(old.value, rel=RTOL_SAME_COMPUTATION)
    assert new.steps == pytest.approx(old.steps, rel=RTOL_SAME_COMPUTATION)
    assert new.problem.R == old.problem.R == 2.0
    assert [s.kind for s in new.starts] == [s.kind for s in old.starts]


def test_optimize_takes_a_number_of_steps_or_a_problem():
    by_n = pepstep.optimize(1, starts=1)
    by_problem = pepstep.optimize(Problem(constant(1.5, 1)), starts=1)
    assert by_n.value == pytest.approx(by_problem.value, rel=RTOL_SAME_COMPUTATION)
    assert by_n.value == pytest.approx(0.125, rel=1e-6)  # h = 3/2 at N = 1: w = 1/8


def test_optimize_schedule_is_deprecated_and_keeps_its_old_spellings():
    from pepstep.optimize import optimize_schedule

    with pytest.warns(DeprecationWarning, match="pepstep.optimize"):
        r = optimize_schedule(1, starts=1, method="lbfgsb", L_R=2.0)
    assert r.problem.R == 2.0 and r.value == pytest.approx(0.5, rel=1e-6)  # L R^2 / 8
    with pytest.raises(pepstep.InputError, match="Give 'R' or its old name 'L_R', not both"):
        optimize_schedule(1, R=1.0, L_R=2.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"problem": 0}, "The number of steps must be a positive integer. Got num_steps=0"),
        ({"problem": "3"}, "must be a Problem, a Schedule or a number of steps. Got str"),
        ({"problem": 1, "local_method": "newton"}, "The 'local_method' must be one of trust-region, lbfgsb"),
    ],
)
def test_optimize_refuses_bad_arguments(kwargs, message):
    with pytest.raises(pepstep.InputError, match=message):
        pepstep.optimize(**kwargs)
