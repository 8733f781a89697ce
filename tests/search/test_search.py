"""Pattern search: Grimmer's t = 3 middle step from scratch, local pool == Dask cluster, resume."""

import json
from pathlib import Path

import pytest

from pepstep.errors import InputError
from pepstep.search import levels_to_steps, local_pool, search_patterns

GRIMMER_T3_MIDDLE = 4.9  # Grimmer (2024), Table 1, printed to one decimal
TOL_T3 = 0.1  # the tolerance
GRIMMER_T15_SUM = 57.9  # Table 1: 8 * 1.4 + 4 * 2.0 + 2 * 4.5 + 29.7


def test_levels_to_steps_matches_published_t15_layout():
    assert levels_to_steps([1.4, 2.0, 4.5, 29.7]) == tuple(
        json.loads(Path("problems/patterns/grimmer2023_t15.json").read_text())["steps"]
    )


def test_t3_middle_step_with_outer_steps_fixed():
    res = search_patterns(3, first=1.5, certify=True)
    assert res.steps[0] == res.steps[2] == 1.5
    assert abs(res.steps[1] - GRIMMER_T3_MIDDLE) <= TOL_T3
    assert res.certified is True


def test_local_pool_and_dask_cluster_agree(tmp_path):
    distributed = pytest.importorskip("distributed")
    with local_pool(2) as ex:
        local = search_patterns(3, ex, seed=7, first=1.5, certify=False)
    with distributed.LocalCluster(
        n_workers=2, processes=False, protocol="tcp", host="127.0.0.1", dashboard_address=None
    ) as cl:
        with distributed.Client(cl) as client:
            remote = search_patterns(3, client.get_executor(), seed=7, first=1.5, certify=False)
    assert remote.steps == local.steps
    assert remote.candidates_evaluated == local.candidates_evaluated


def test_checkpoint_resume(tmp_path):
    ck = tmp_path / "ck.json"
    first = search_patterns(3, seed=1, first=1.5, certify=False, checkpoint=ck)
    state = json.loads(ck.read_text())
    assert state["levels"] == list(first.levels)
    again = search_patterns(3, seed=1, first=1.5, certify=False, checkpoint=ck)
    assert again.steps == first.steps
    assert again.candidates_evaluated == first.candidates_evaluated  # nothing re-solved


def test_bad_length():
    with pytest.raises(InputError, match=r"The 'length' must be of the form 2\^k - 1 .* Got length=4."):
        search_patterns(4)


@pytest.mark.slow
def test_t15_from_scratch_reaches_99_percent_of_grimmer():
    with local_pool(2) as ex:
        res = search_patterns(15, ex, seed=0)
    assert res.certified is True
    assert sum(res.steps) >= 0.99 * GRIMMER_T15_SUM
