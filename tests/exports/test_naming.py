"""Destination placeholders and never-overwrite -N suffixes."""

from __future__ import annotations

from osctl.exports.naming import candidates, free_name, placeholders, render, split_extensions
from osctl.schedule import parse_time


def values(**kw):
    base = dict(app="prod", app_id="5eb5a37e-b458-11e3-ac11-000c2940e62c", export="nightly",
                kind="subscriptions", tick=parse_time("2026-11-22T03:05:09Z"))
    base.update(kw)
    return placeholders(**base)


def test_every_placeholder_is_filled():
    path = render("{app}/{app_id}/{export}/{kind}/{date}_{time}_{tick}_{message_id}.csv.gz",
                  values(message_id="m-1"))
    assert path == ("prod/5eb5a37e-b458-11e3-ac11-000c2940e62c/nightly/subscriptions/"
                    "2026-11-22_030509_20261122T030509Z_m-1.csv.gz")


def test_date_and_time_are_in_the_export_zone_tick_in_utc():
    v = values(tick=parse_time("2026-11-22T02:30:00Z"), timezone="America/New_York")
    assert (v["date"], v["time"], v["tick"]) == ("2026-11-21", "213000", "20261122T023000Z")


def test_values_cannot_add_or_climb_directories():
    v = values(app="../../etc", export="a/b", message_id="x:y")
    path = render("exports/{app}/{export}-{message_id}.csv.gz", v)
    assert path == "exports/.._.._etc/a_b-x_y.csv.gz"
    assert values(app="..")["app"] == "_"


def test_suffix_goes_before_the_extensions():
    assert split_extensions("2026-11-22.csv.gz") == ("2026-11-22", ".csv.gz")
    assert split_extensions("report.v2.csv.gz") == ("report.v2", ".csv.gz")
    assert split_extensions("2026.11.22.csv") == ("2026.11.22", ".csv")
    assert split_extensions("noext") == ("noext", "")
    got = candidates("exports/prod/2026-11-22.csv.gz")
    assert [next(got) for _ in range(3)] == ["exports/prod/2026-11-22.csv.gz", "exports/prod/2026-11-22-1.csv.gz",
                                             "exports/prod/2026-11-22-2.csv.gz"]


def test_free_name_skips_existing_files():
    taken = {"a/x.csv.gz", "a/x-1.csv.gz"}
    assert free_name("a/x.csv.gz", taken.__contains__) == "a/x-2.csv.gz"
    assert free_name("a/y.csv.gz", taken.__contains__) == "a/y.csv.gz"


def test_local_destinations_stay_inside_the_config_directory_and_end_in_csv_gz():
    from osctl.exports.naming import local_destination_problem
    from osctl.exports.remote import url_scheme

    for fine in ("exports/{app}/{export}/{date}.csv.gz", "a/../b/{date}.csv.gz", "./x.CSV.GZ", "{export}.csv.gz"):
        assert local_destination_problem(fine) is None, fine
    for absolute in ("/tmp/x-{date}.csv.gz", "\\\\server\\share\\x.csv.gz", "C:\\exports\\x.csv.gz"):
        assert local_destination_problem(absolute)[0].startswith("an absolute path"), absolute
    assert local_destination_problem("~/x.csv.gz")[0].startswith("'~' is not expanded")
    for escaping in ("../../../elsewhere/{date}.csv.gz", "a/../../x.csv.gz", "a\\..\\..\\x.csv.gz"):
        assert local_destination_problem(escaping)[0].startswith("'..' leads out"), escaping
    for wrong in ("x/{date}.csv", "x/{date}.gz", "x/{date}"):
        assert local_destination_problem(wrong)[0].endswith("its name must end in .csv.gz"), wrong
    assert url_scheme("s3://bucket/{date}.csv.gz") == "s3" and url_scheme("exports/s3:/x.csv.gz") is None
