"""Space types: what a service needs, what a building provides, what may be fitted out.

Checked by hand on tiny estates; the brute-force harness (tests/test_bruteforce.py)
checks the optimiser against its own implementation of the same rules.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from estate.errors import InputDataError
from estate.space_types import SPACE_TYPES, markdown_tables, parse_space
from optimise import AccessStandard, EstateModel, SolverSettings
from optimise.candidates import candidate_pairs
from optimise.settings import SpaceSettings
from tests.toy import building, instance, service

EXACT = SolverSettings(mip_rel_gap=0.0)
ROOT = Path(__file__).resolve().parents[1]


def test_the_documented_table_is_the_table_the_code_uses() -> None:
    assert markdown_tables() in (ROOT / "docs" / "model.md").read_text(encoding="utf-8")


def test_space_cells_are_read_or_refused_with_a_reason() -> None:
    assert parse_space("clinical=320; office: 1,200.5") == {"clinical": 320.0, "office": 1200.5}
    assert parse_space("") == {}
    for text, reason in (
        ("clinic=3", "unknown space type 'clinic'"),
        ("office 30", "is not 'space_type=m2'"),
        ("office=1; office=2", "given twice"),
    ):
        with pytest.raises(ValueError, match=reason):
            parse_space(text)


def test_a_bad_space_cell_names_its_row_and_column() -> None:
    buildings = [building("A", space_m2="office=10; bays=4"), building("B")]
    with pytest.raises(InputDataError) as info:
        instance(buildings, [service("s", "A")])
    text = str(info.value)
    assert "row 2" in text and "space_m2" in text and "unknown space type 'bays'" in text


def test_a_fixed_part_above_the_running_cost_is_refused() -> None:
    buildings = [building("A", building_type="office", gia_m2=100, running_cost_fixed=2_000)]
    with pytest.raises(InputDataError, match="running_cost_fixed"):
        instance(buildings, [service("s", "A")])


def test_a_gp_needs_the_clinical_space_it_has_today_and_an_office_fits_it_out() -> None:
    """A surgery of 400 m2 (clinical 65%, 260 m2) with room for 10 desks; its practice of
    5 desks uses half the room, so it needs 130 m2 of clinical space.  An office of 1,000
    m2 has no clinical space but may have 130 m2 fitted out of its 700 m2 of office, at
    1,800 a m2 over 2 years; a depot may not (its type allows no clinical fit-out)."""
    buildings = [
        building("S", building_type="gp_surgery", gia_m2=400),
        building("O", building_type="office", gia_m2=1_000),
        building("D", building_type="depot", gia_m2=1_000),
    ]
    services = [service("gp", "S", desks=5, service_type="gp", public_facing=True)]
    inst = instance(buildings, services, access={"gp": None})
    space = inst.spaces
    clinical = SPACE_TYPES.index("clinical")
    assert space.floor_m2[0] == pytest.approx(0.65 * 400 * 5 / 10)
    assert space.area_m2[1, clinical] == 0
    option = space.conversion(1, clinical)
    assert option is not None and option.lead_years == 2 and option.cost_per_m2 == 1_800
    assert option.max_m2 == pytest.approx(700)
    pairs = set(zip(*candidate_pairs(inst), strict=True))
    assert (0, 1) in pairs and (0, 2) not in pairs


def test_a_custody_suite_never_goes_into_an_office() -> None:
    buildings = [
        building("P", building_type="police_station", gia_m2=600, running_cost=50_000),
        building("O", building_type="office", gia_m2=5_000, capacity_desks=200),
    ]
    services = [
        service("custody", "P", desks=4, service_type="custody"),
        service("team", "P", desks=4),
    ]
    inst = instance(buildings, services)
    pairs = set(zip(*candidate_pairs(inst), strict=True))
    assert (0, 1) not in pairs and (1, 1) in pairs  # the team may go, the custody suite not
    result = EstateModel(inst).solve(EXACT)
    assert result.evaluation is not None
    assert result.evaluation.buildings.set_index("building_id").loc["P", "decision"] != "dispose"


def test_hosting_costs_the_host_its_occupancy_and_emptying_saves_only_that() -> None:
    """An office of 1,000 m2 costing 50,000 a year, 20 of its 40 desks used by one team
    (700 m2 of office x 20/40 = 350 m2 at 45 a m2: 15,750 of occupancy, 34,250 fixed).
    Moving the team into the other office (which keeps it, empty, at its fixed cost) saves
    nothing of the 34,250 while the first is kept; disposing of it saves the fixed part."""
    buildings = [
        building("A", building_type="office", gia_m2=1_000, capacity_desks=40, running_cost=50_000),
        building("B", building_type="office", gia_m2=1_000, capacity_desks=40, running_cost=10_000),
    ]
    services = [service("t", "A", desks=20)]
    inst = instance(buildings, services)
    space = inst.spaces
    assert space.floor_m2[0] == pytest.approx(350)
    assert space.fixed_running[0] == pytest.approx(50_000 - 45 * 350)
    assert space.fixed_running[1] == pytest.approx(10_000)  # nobody in it: all fixed
    result = EstateModel(inst).solve(EXACT)
    assert result.evaluation is not None
    b = result.evaluation.buildings.set_index("building_id")
    assert list(b["decision"]) == ["dispose", "host"]
    # 10 years, no discounting: A's fixed part for 9 years, less the move (20 desks at
    # 1,000); the team's occupancy costs 45 a m2 in either office.
    assert result.evaluation.npv_saving == pytest.approx(9 * (50_000 - 45 * 350) - 20_000)
    cash = result.evaluation.cash_flows
    occupancy = cash.loc[cash["category"] == "running_occupancy"]
    assert occupancy["scenario_gbp"].sum() == pytest.approx(10 * 45 * 350)


def test_a_scenario_overrides_the_table_per_type() -> None:
    settings = SpaceSettings.model_validate(
        {
            "building_types": {
                "office": {"occupancy_cost_per_m2": 10, "conversions": []},
            },
            "service_types": {"gp": {"space_type": "office"}},
        }
    )
    assert settings.building("office").occupancy_cost_per_m2 == 10
    assert settings.building("office").conversions == ()
    assert settings.service("gp", True).space_type == "office"
    with pytest.raises(ValueError, match="unknown building types"):
        SpaceSettings.model_validate({"building_types": {"castle": {}}})


def test_a_public_type_left_out_keeps_its_users_and_is_reported() -> None:
    """Two libraries; the scenario names a standard for neither 'gp' (so the default,
    nobody further than today, applies and the run says so) nor the library (exempt)."""
    buildings = [building("A", running_cost=9_000), building("B"), building("C")]
    services = [
        service("L", "A", service_type="library", public_facing=True),
        service("G", "B", service_type="gp", public_facing=True),
    ]
    minutes = [[5, 5, 9]]
    inst = instance(buildings, services, minutes, access={"library": None})
    assert inst.access_defaulted == ("gp",)
    assert inst.access_none == ("library",)
    assert inst.access["gp"] == AccessStandard(max_increase_minutes=0.0, modes=("drive",))
    assert any("public-facing service type(s) gp" in note for note in inst.notes)
    result = EstateModel(inst).solve(EXACT)
    assert result.evaluation is not None
    summary = result.evaluation.access_summary.set_index("service_type")
    assert summary.loc["gp", "source"] == "default"
    assert summary.loc["library", "source"] == "none"
    # The library (no standard) may go to C, 9 minutes away; the gp may not.
    moves = result.evaluation.moves.set_index("service_id")
    assert "G" not in moves.index or moves.loc["G", "to_building"] != "C"
    access = result.evaluation.access
    assert set(access["service_type"]) == {"gp", "library"}
    assert np.isnan(access.loc[access["service_type"] == "library", "max_increase_minutes"]).all()


def test_untyped_buildings_are_named_and_keep_the_old_rules() -> None:
    buildings = [building("A", building_type="office", gia_m2=500), building("B")]
    inst = instance(buildings, [service("s", "A")])
    assert any("no building_type or space_m2" in n and "B" in n for n in inst.notes)
    assert not inst.spaces.ruled[1]
    assert inst.spaces.occupancy_rate[1] == 0


def test_a_scenarios_space_section_is_written_and_read_back() -> None:
    """A run writes the scenario it ran; overrides of the space table survive the trip."""
    import yaml

    from scenarios.scenario.schema import InputFiles, Scenario
    from scenarios.scenario.template import render_scenario

    scenario = Scenario(
        inputs=InputFiles(buildings="b.csv", services="s.csv", zones="z.csv"),
        space=SpaceSettings.model_validate(
            {
                "building_types": {
                    "office": {
                        "occupancy_cost_per_m2": 50,
                        "conversions": [
                            {
                                "to": "clinical",
                                "source": "office",
                                "cost_per_m2": 2000,
                                "lead_years": 2,
                            }
                        ],
                    }
                },
                "service_types": {"gp": {"m2_per_desk": 30}},
            }
        ),
        access={"gp": AccessStandard(drive=15, walk=20, max_increase_minutes=10), "museum": None},
    )
    again = Scenario.model_validate(yaml.safe_load(render_scenario(scenario)))
    assert again == scenario


def test_an_older_scenario_file_reads_as_the_new_form(tmp_path: Path) -> None:
    """Scenario files written before multi-mode standards still load, to the same
    standards; a key they never had (walk) can be added beside them."""
    from scenarios.scenario.file import load_scenario

    for name in ("b.csv", "s.csv", "z.csv"):
        (tmp_path / name).write_text("x\n", encoding="utf-8")
    path = tmp_path / "old.yaml"
    path.write_text(
        "inputs: {buildings: b.csv, services: s.csv, zones: z.csv}\n"
        "access:\n"
        "  library: {max_minutes: 10, mode: drive, max_loss: 0.0}\n"
        "  gp: {max_minutes: 20, mode: walk, min_share: 0.9}\n"
        "  jobcentre: {max_minutes: 30}\n",
        encoding="utf-8",
    )
    access = load_scenario(path).scenario.access
    assert access["library"] == AccessStandard(drive=10, max_loss=0.0)
    assert access["gp"] == AccessStandard(walk=20, min_share=0.9)
    assert access["jobcentre"] == AccessStandard(drive=30)
    both = load_scenario(path, {"access.library.walk": "20"}).scenario.access["library"]
    assert both.thresholds() == {"drive": 10, "walk": 20}
