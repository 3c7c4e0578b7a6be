from tests.domain_reference import COWS_ALLOWED, SOWS_KEYS


def test_instruments_describe_each_scale_for_building_forms(as_user, front_desk):
    body = as_user(front_desk).get("/api/v1/instruments/").json()
    by_code = {row["instrument"]: row for row in body["results"]}
    assert set(by_code) == {"cows", "sows", "withdrawal_checklist"}
    cows = {item["key"]: tuple(item["allowed"]) for item in by_code["cows"]["items"]}
    assert cows == COWS_ALLOWED
    assert [item["key"] for item in by_code["sows"]["items"]] == list(SOWS_KEYS)
    assert "interpretation" in by_code["sows"]["bands_label"].lower()
    assert by_code["withdrawal_checklist"]["criteria_threshold"] == 3


def test_sows_bands_shown_follow_the_programs_settings(as_user, counselor, settings):
    settings.CASELOAD_SOWS_BANDS = [
        {"severity": "none", "low": 0, "high": 5},
        {"severity": "severe", "low": 6, "high": 64},
    ]
    body = as_user(counselor).get("/api/v1/instruments/").json()
    sows = next(row for row in body["results"] if row["instrument"] == "sows")
    assert sows["bands"] == settings.CASELOAD_SOWS_BANDS


def test_staff_list_shows_only_the_callers_program(
    as_user, front_desk, counselor, other_program_staff
):
    body = as_user(front_desk).get("/api/v1/staff/?role=counselor").json()
    assert [row["id"] for row in body["results"]] == [str(counselor.pk)]
    assert "password" not in body["results"][0]


def test_only_supervisors_see_sign_in_names(as_user, supervisor, counselor, front_desk):
    for reader in (counselor, front_desk):
        rows = as_user(reader).get("/api/v1/staff/").json()["results"]
        assert all("username" not in row for row in rows)
        assert "username" not in as_user(reader).get(f"/api/v1/staff/{counselor.pk}/").json()
    rows = as_user(supervisor).get("/api/v1/staff/").json()["results"]
    assert "counselor" in {row["username"] for row in rows}
