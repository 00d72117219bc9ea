"""A canonical header means the canonical column of the table's own kind."""

from __future__ import annotations

from estate.mapping import guess_columns


def test_services_desks_is_desks_not_building_capacity() -> None:
    headers = ["service_id", "agency", "building_id", "desks", "service_type"]
    found = guess_columns(headers, kind="services")
    assert found["desks"] == "desks"
    assert "capacity_desks" not in found


def test_register_desks_is_capacity() -> None:
    assert guess_columns(["Site", "Desks"], kind="register")["capacity_desks"] == "Desks"


def test_demo_services_file_loads_as_services(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from estate.io import write_csv
    from estate.load import load_files
    from scenarios.places.demo import demo_place

    services = demo_place(1).register.services.drop(columns=["source_file", "source_row"])
    path = tmp_path / "services.csv"
    write_csv(path, services)
    result = load_files([str(path)], kind="services")
    report = result.files[0]
    assert report.rows_read == len(services)
    assert report.rows_rejected == 0
