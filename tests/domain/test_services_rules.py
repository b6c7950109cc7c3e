"""The services' state machines and rules (domain/services.py): every (state,
action) pair either is listed or refused, ended states stay ended, and the
validation limits hold for any input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import IllegalTransition, QuotaExceeded, ValidationError
from domain.services import (
    MAX_PACKAGES,
    SERVICE,
    SERVICE_ORDER,
    TIERS,
    Service,
    ServiceOrderStatus,
    ServiceStatus,
    check_price,
    check_room,
    delivery_days_of,
    max_price,
    next_tier,
    order_total,
    parse_delivery_days,
    parse_revisions,
)

ENDED_ORDERS = {
    ServiceOrderStatus.COMPLETED,
    ServiceOrderStatus.DECLINED,
    ServiceOrderStatus.EXPIRED,
    ServiceOrderStatus.CANCELLED,
}


@pytest.mark.parametrize(
    ("machine", "states"), [(SERVICE, ServiceStatus), (SERVICE_ORDER, ServiceOrderStatus)]
)
def test_every_pair_is_listed_or_refused(machine, states):
    for state in states:
        for action in machine.actions():
            if (state, action) in machine.table:
                assert machine.next(state, action) in states
            else:
                with pytest.raises(IllegalTransition):
                    machine.next(state, action)


def test_ended_states_have_no_way_out():
    assert not any(state is ServiceStatus.DELETED for state, _ in SERVICE.table)
    assert not any(state in ENDED_ORDERS for state, _ in SERVICE_ORDER.table)
    # Only publishing takes a draft into the catalogue; nothing brings a service back to draft.
    assert SERVICE.allowing("publish") == {ServiceStatus.DRAFT}
    assert ServiceStatus.DRAFT not in {nxt for (s, _), nxt in SERVICE.table.items() if s != nxt}


@given(st.lists(st.sampled_from(sorted(SERVICE.actions())), max_size=30))
def test_any_sequence_of_service_actions(actions):
    service = Service(seller_id=1)
    for action in actions:
        before = service.status
        try:
            service.apply(action)
        except IllegalTransition:
            assert service.status is before  # a refusal changes nothing
            continue
        assert before is not ServiceStatus.DELETED


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_prices_are_positive_and_within_the_limit(amount):
    if 0 < amount <= max_price("USD"):
        assert check_price(amount, "USD") == amount
    else:
        with pytest.raises(ValidationError):
            check_price(amount, "USD")


@given(st.integers(min_value=-1000, max_value=1000))
def test_days_and_revisions(n):
    if 1 <= n <= 365:
        assert parse_delivery_days(str(n)) == n
    else:
        with pytest.raises(ValidationError):
            parse_delivery_days(str(n))
    if 0 <= n <= 50:
        assert parse_revisions(n) == n
    else:
        with pytest.raises(ValidationError):
            parse_revisions(n)


def test_tiers_and_rooms():
    assert next_tier([]) == "basic"
    assert next_tier(["basic", "premium"]) == "standard"
    with pytest.raises(QuotaExceeded):
        next_tier(TIERS)
    check_room("packages", MAX_PACKAGES - 1, MAX_PACKAGES)
    with pytest.raises(QuotaExceeded) as refused:
        check_room("packages", MAX_PACKAGES, MAX_PACKAGES)
    assert refused.value.code == "service_packages_full"


@given(
    st.integers(min_value=1, max_value=10**9),
    st.lists(
        st.fixed_dictionaries(
            {
                "price": st.integers(min_value=1, max_value=10**6),
                "days_delta": st.integers(min_value=-60, max_value=60),
            }
        ),
        max_size=5,
    ),
    st.integers(min_value=1, max_value=365),
)
def test_order_total_and_days(price, extras, days):
    assert order_total(price, extras) == price + sum(x["price"] for x in extras)
    assert delivery_days_of(days, extras) >= 1
