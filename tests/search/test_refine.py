"""refine_pattern: position-wise moves keep Grimmer's criterion, certified exactly by the kernel."""

from __future__ import annotations

import pytest

from pepstep.cyclic import certify_pattern, verify_pattern
from pepstep.errors import InputError
from pepstep.search import certified_backoff, refine_pattern

#: Grimmer (2024), Table 1: t = 3, (1.5, 4.9, 1.5), average 2.6333.
GRIMMER_T3 = (1.5, 4.9, 1.5)


@pytest.mark.parametrize("tie", ["palindrome", "none"])
def test_refined_t3_is_certified_and_not_worse(tie):
    h = refine_pattern(GRIMMER_T3, tie, passes=1)
    assert sum(h) >= sum(GRIMMER_T3) - 1e-12
    if tie == "palindrome":
        assert h[0] == h[2]
    hc, cert = certified_backoff(h)
    assert cert is not None and cert.valid
    assert sum(hc) >= (1 - 1e-2) * sum(h)  # the back-off costs at most 1%
    # the exact re-check, independent of the search: the kernel accepts the certificate
    assert verify_pattern(cert.steps, cert.delta, cert.q, cert.lam, cert.gamma)
    assert certify_pattern(hc).valid


def test_refine_refuses_a_start_that_is_not_straightforward():
    # a middle step past the flip bound (sum of the others plus 2 = 5): not straightforward
    with pytest.raises(InputError, match="straightforward start"):
        refine_pattern((1.5, 6.0, 1.5), passes=1)


def test_refine_refuses_an_unknown_tie():
    with pytest.raises(InputError, match="tie"):
        refine_pattern(GRIMMER_T3, "mirror")
