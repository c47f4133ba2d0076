from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console import regions
from console.nik import FEMALE, MALE, Nik, NikError, check_record_against_nik, make_nik, parse_nik

TODAY = date(2026, 11, 28)


pytestmark = pytest.mark.usefixtures("english")


def rejects(text: str, kind: str, today: date = TODAY) -> str:
    with pytest.raises(NikError) as caught:
        parse_nik(text, today)
    assert caught.value.kind == kind, str(caught.value)
    return str(caught.value)


def test_a_man_of_selong():
    nik = parse_nik("5203071708900001", TODAY)
    selong = regions.District(code="520307", name="Selong", regency_code="5203", regency="Kabupaten Lombok Timur",
                              province_code="52", province="Nusa Tenggara Barat", historical=False)  # fmt: skip
    assert nik == Nik(text="5203071708900001", region=selong, birth_date=date(1990, 8, 17), sex=MALE, serial=1)
    assert nik.birth_digits == "170890"


def test_a_woman_has_forty_added_to_her_birth_day():
    nik = parse_nik("5203015708900002", TODAY)
    assert (nik.birth_date, nik.sex, nik.serial, nik.region.name) == (date(1990, 8, 17), FEMALE, 2, "Keruak")
    assert parse_nik("5203014101000001", TODAY).birth_date == date(2000, 1, 1)
    assert parse_nik("5203017112990001", TODAY).birth_date == date(1999, 12, 31)


def test_a_nik_issued_under_a_historical_code_stays_valid():
    nik = parse_nik("9101011708900001", TODAY)
    assert nik.region.historical and nik.region.name == "Merauke" and nik.region.regency == "KAB. MERAUKE"


def test_empty():
    rejects("", "empty")


@pytest.mark.parametrize(
    "text, position",
    [("52030717089000A1", 15), ("5203 71708900001", 5), ("5203071708900001 ", 17), ("520307170890000١", 16),
     ("５203071708900001", 1), ("-203071708900001", 1)],
)  # fmt: skip
def test_only_ascii_digits(text, position):
    assert f"character {position} " in rejects(text, "digits")


@pytest.mark.parametrize("text", ["520307170890001", "52030717089000011", "5"])
def test_sixteen_digits_exactly(text):
    assert f"this one has {len(text)}" in rejects(text, "length")


def test_an_unknown_region_code_is_named():
    assert "999999" in rejects("9999991708900001", "region")
    assert "520399" in rejects("5203991708900001", "region")


@pytest.mark.parametrize("month", ["00", "13", "99"])
def test_month_01_to_12(month):
    assert f"({month}," in rejects(f"52030717{month}900001", "month")


@pytest.mark.parametrize("day", ["00", "32", "39", "40", "72", "99"])
def test_day_01_to_31_or_41_to_71(day):
    assert f"({day}," in rejects(f"520307{day}08900001", "day")


def test_impossible_dates_including_leap_years():
    assert "31-04-1990" in rejects("5203073104900001", "date")
    assert "not a leap year" in rejects("5203072902010001", "date")  # 2001
    assert "not a leap year" in rejects("5203076902230001", "date")  # a woman, 2023
    assert parse_nik("5203072902000001", TODAY).birth_date == date(2000, 2, 29)
    assert parse_nik("5203076902960001", TODAY).birth_date == date(1996, 2, 29)
    # 1900 was not a leap year: when the two-digit year 00 reads as 1900, 29 February does not exist.
    assert "1900" in rejects("5203072902000001", "date", today=date(1999, 6, 1))


def test_serial_0000_is_not_valid():
    assert "0000" in rejects("5203071708900000", "serial")


def test_two_digit_year_is_the_latest_not_in_the_future():
    assert parse_nik("5203071708260001", date(2026, 8, 17)).birth_date == date(2026, 8, 17)
    assert parse_nik("5203071708260001", date(2026, 8, 16)).birth_date == date(1926, 8, 17)
    assert parse_nik("5203071708270001", date(2026, 11, 28)).birth_date == date(1927, 8, 17)
    assert parse_nik("5203070101000001", date(2026, 11, 28)).birth_date == date(2000, 1, 1)
    assert parse_nik("5203070101000001", date(2099, 1, 1)).birth_date == date(2000, 1, 1)


def test_the_record_agrees_with_its_nik():
    nik = parse_nik("5203075708900001", TODAY)
    assert check_record_against_nik(nik, birth_date=date(1990, 8, 17), sex=FEMALE, kecamatan="Selong") == []
    assert check_record_against_nik(nik, birth_date=date(1990, 8, 17), sex=FEMALE, kecamatan=" SELONG ") == []


def test_birth_date_sex_and_kecamatan_that_disagree_are_each_named():
    nik = parse_nik("5203075708900001", TODAY)
    found = check_record_against_nik(nik, birth_date=date(1990, 8, 18), sex=MALE, kecamatan="Sakra")
    assert [m.column for m in found] == ["tanggal_lahir", "jenis_kelamin", "kecamatan"]
    assert "570890" in found[0].reason
    assert "520307" in found[2].reason and "Selong" in found[2].reason
    only_year = check_record_against_nik(nik, birth_date=date(1991, 8, 17), sex=None, kecamatan=None)
    assert [m.column for m in only_year] == ["tanggal_lahir"]


def test_the_record_settles_the_century():
    nik = parse_nik("5203071708200001", TODAY)  # reads as 2020
    assert check_record_against_nik(nik, birth_date=date(1920, 8, 17), sex=MALE, kecamatan="Selong") == []


def test_the_kecamatan_is_checked_only_for_this_regency():
    mataram = parse_nik("5271011708900001", TODAY)
    assert check_record_against_nik(mataram, birth_date=date(1990, 8, 17), sex=MALE, kecamatan="Anywhere") == []


def test_make_nik():
    assert make_nik("52.03.07", date(1990, 8, 7), FEMALE, 1) == "5203074708900001"
    assert make_nik("520301", date(2001, 12, 31), MALE, 9999) == "5203013112019999"
    for bad in (("5203", date(1990, 1, 1), MALE, 1), ("520307", date(1990, 1, 1), "L", 1),
                ("520307", date(1990, 1, 1), MALE, 0), ("520307", date(1990, 1, 1), MALE, 10000)):  # fmt: skip
        with pytest.raises(ValueError):
            make_nik(*bad)


DISTRICT_CODES = sorted({d.code for d in regions.districts_of("5203")} | {"910101", "527101", "110101", "960101"})


@settings(max_examples=300, deadline=None)
@given(
    region=st.sampled_from(DISTRICT_CODES),
    age_days=st.integers(min_value=0, max_value=36_400),
    sex=st.sampled_from([MALE, FEMALE]),
    serial=st.integers(min_value=1, max_value=9999),
)
def test_a_made_nik_parses_back_to_its_parts(region, age_days, sex, serial):
    born = TODAY - timedelta(days=age_days)
    nik = parse_nik(make_nik(region, born, sex, serial), TODAY)
    assert (nik.region.code, nik.birth_date, nik.sex, nik.serial) == (region, born, sex, serial)
    assert nik.region == regions.district(region)
    assert check_record_against_nik(nik, birth_date=born, sex=sex, kecamatan=nik.region.name) == []


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(max_size=24), st.text(alphabet="0123456789", min_size=14, max_size=18)))
def test_any_text_is_a_nik_or_a_nik_error(text):
    try:
        nik = parse_nik(text, TODAY)
    except NikError as exc:
        assert exc.kind in {"empty", "digits", "length", "region", "month", "day", "date", "serial"}
        assert str(exc)
    else:
        assert len(text) == 16 and text.isdigit() and nik.birth_date <= TODAY
