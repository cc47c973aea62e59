"""The simulated world: deterministic, consistent month to month, plausible."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import date, time
from itertools import pairwise

import pytest

from citydw.city import load_city
from citydw.demo import names
from citydw.demo.world import STATUSES, World, add_months
from citydw.months import month_range

PROJECT_CODE = re.compile(r"^(\d{4})-(\d{6})-(\d{2})-(\d{2})-(\d{6})$")
MONTHS = month_range(date(2020, 1, 1), date(2023, 12, 1))


@pytest.fixture(scope="module")
def world() -> World:
    return World(load_city(), seed=2022)


@pytest.fixture(scope="module")
def history(world: World) -> dict[str, list]:
    """Each project's monthly states over four years, by project code."""
    by_code: dict[str, list] = defaultdict(list)
    for month in MONTHS:
        for state in world.snapshot(month):
            by_code[state.project.code].append(state)
    return by_code


def test_same_seed_same_world_and_another_seed_another(world: World) -> None:
    again = World(load_city(), seed=2022)
    assert again.snapshot(date(2022, 7, 1)) == world.snapshot(date(2022, 7, 1))
    other = World(load_city(), seed=7)
    assert [s.project.code for s in other.snapshot(date(2022, 7, 1))] != [
        s.project.code for s in world.snapshot(date(2022, 7, 1))
    ]


def test_a_month_is_the_same_whatever_was_asked_before() -> None:
    fresh = World(load_city(), seed=2022).snapshot(date(2022, 7, 1))
    warmed = World(load_city(), seed=2022)
    for month in month_range(date(2015, 1, 1), date(2024, 12, 1)):
        warmed.snapshot(month)
    assert warmed.snapshot(date(2022, 7, 1)) == fresh


def test_the_yearly_list_has_about_200_projects_of_every_category(world: World) -> None:
    for year in (2021, 2022, 2023):
        projects = world.projects_listed(year)
        assert 170 <= len(projects) <= 240, year
        assert set(Counter(p.category for p in projects)) == set(names.CATEGORIES)
        assert len({p.code for p in projects}) == len(projects), "project codes are unique on a list"


def test_projects_are_plausible(world: World) -> None:
    city = load_city()
    projects = world.projects_listed(2022)
    for project in projects:
        match = PROJECT_CODE.match(project.code)
        assert match, project.code
        assert match.group(2) in city.district_codes
        assert project.district_code == match.group(2)
        assert int(match.group(1)) in (project.entry_year - 1, project.entry_year)
        assert 5_000 <= project.total_investment <= 800_000
        assert project.responsible_unit and project.name
        assert project.planned_start_date.day == 1 and project.planned_completion_date > project.planned_start_date
        assert sum(project.spending) <= project.total_investment * 100
    bond_share = sum(p.is_bond_funded for p in projects) / len(projects)
    assert 0.15 <= bond_share <= 0.35


def test_statuses_only_move_forward_and_start_dates_follow_them(history: dict[str, list]) -> None:
    for code, states in history.items():
        ranks = [STATUSES.index(s.status) for s in states]
        assert ranks == sorted(ranks), code
        for state in states:
            project = state.project
            if state.status == "储备":
                assert state.actual_start_date is None
            else:
                assert state.actual_start_date == project.actual_start_date
            if state.status == "新开工":
                assert state.month == project.start_month
                assert (state.actual_start_date.year, state.actual_start_date.month) == (
                    state.month.year,
                    state.month.month,
                )
        assert sum(s.status == "新开工" for s in states) <= 1


def test_ytd_never_falls_within_a_year_and_resets_in_january(history: dict[str, list]) -> None:
    for code, states in history.items():
        previous = None
        for state in states:
            assert state.month_investment >= 0
            if state.month.month == 1:
                assert state.ytd_investment == pytest.approx(state.month_investment), code
            elif previous is not None and previous.month.year == state.month.year:
                assert state.ytd_investment >= previous.ytd_investment, code
                assert state.ytd_investment == pytest.approx(previous.ytd_investment + state.month_investment)
            previous = state
            if state.status == "储备":
                assert state.month_investment == 0


def test_a_project_stays_on_the_list_until_the_year_it_completes(world: World) -> None:
    listed_2021 = {p.code: p for p in world.projects_listed(2021)}
    listed_2022 = {p.code for p in world.projects_listed(2022)}
    for code, project in listed_2021.items():
        assert (code in listed_2022) == (project.completion_month.year >= 2022)


def test_a_fair_share_of_reserve_projects_is_overdue(world: World) -> None:
    reserve = [s for s in world.snapshot(date(2022, 7, 1)) if s.status == "储备"]
    overdue = [s for s in reserve if s.is_start_overdue]
    assert 0.1 <= len(overdue) / len(reserve) <= 0.7
    assert any(s.blocker_type for s in overdue), "overdue projects say what holds them up"


def test_blockers_appear_on_projects_not_started_or_stalled_and_clear(history: dict[str, list]) -> None:
    blocked_before_start = cleared = 0
    for states in history.values():
        for state in states:
            if state.blocker_type:
                assert state.blocker_type in names.BLOCKER_TYPES
                assert state.blocker_note
                assert state.status in ("储备", "在建"), "blocked before the start, or stalled while building"
                blocked_before_start += state.status == "储备"
            if state.status == "新开工":
                assert state.blocker_type is None, "a problem that held up the start is solved by the start"
        types = [s.blocker_type for s in states]
        cleared += any(t and not later for t, later in pairwise(types))
    assert blocked_before_start > 0 and cleared > 0


def test_stalled_months_see_little_investment(history: dict[str, list]) -> None:
    stalled = [
        s
        for states in history.values()
        for s in states
        if s.status == "在建" and s.blocker_type and (s.project.blocker(s.month).stalls_construction)
    ]
    assert stalled
    for state in stalled:
        project = state.project
        average = sum(project.spending) / len(project.spending) / 100
        assert state.month_investment <= average * 0.35


def test_annual_plans_are_set_for_every_listed_year(world: World) -> None:
    for project in world.projects_listed(2022):
        assert project.annual_plan(2022) >= 0
        assert project.annual_plan(project.last_listed_year + 1) == 0


def test_deliveries_land_a_few_working_days_after_month_end_in_office_hours(world: World) -> None:
    for month in month_range(date(2021, 1, 1), date(2022, 12, 1)):
        delivery = world.delivery("drc.major_projects", month, 5)
        local = delivery.delivered_at
        assert str(local.tzinfo) == "Asia/Shanghai"
        assert add_months(month, 1) <= local.date() <= delivery.due_date
        assert time(9) <= local.time() < time(18)
        assert not delivery.is_late
        assert delivery == world.delivery("drc.major_projects", month, 5)


def test_late_deliveries_can_be_switched_on_without_moving_anything_else() -> None:
    city = load_city()
    on_time = World(city, seed=2022)
    late = World(city, seed=2022, late_share={"drc.major_projects": 1.0})
    month = date(2022, 7, 1)
    assert late.delivery("drc.major_projects", month, 5).is_late
    assert late.snapshot(month) == on_time.snapshot(month)


def test_a_delivery_can_be_made_late_and_yearly_data_arrives_in_march(world: World) -> None:
    late = world.delivery("water.water_projects", date(2022, 5, 1), 5, late=True)
    assert late.is_late and late.delivered_at.date() > late.due_date
    on_time = world.delivery("water.water_projects", date(2022, 5, 1), 5)
    assert not on_time.is_late and on_time.due_date == late.due_date
    yearly = world.yearly_delivery("stats.population", 2021, (3, 31))
    assert yearly.due_date == date(2022, 3, 31)
    assert date(2022, 3, 14) <= yearly.delivered_at.date() <= yearly.due_date
    assert yearly.delivered_at.weekday() < 5
    assert world.yearly_delivery("stats.population", 2021, (3, 31), late=True).is_late


def test_the_minor_world_never_clashes_with_the_list(world: World) -> None:
    for year in (2021, 2022):
        listed = world.projects_listed(year)
        for sector in ("transport", "water"):
            minor = world.minor_projects(year, sector)
            assert minor
            assert not {p.code for p in minor} & {p.code for p in listed}
            assert not {p.name for p in minor} & {p.name for p in listed}
