from importlib import resources

from console import regions

LOMBOK_TIMUR_KECAMATAN = [
    "Keruak", "Sakra", "Terara", "Sikur", "Masbagik", "Sukamulia", "Selong", "Pringgabaya", "Aikmel", "Sambelia",
    "Montong Gading", "Pringgasela", "Suralaga", "Wanasaba", "Sembalun", "Suwela", "Labuhan Haji", "Sakra Timur",
    "Sakra Barat", "Jerowaru", "Lenek",
]  # fmt: skip


def test_the_data_ships_inside_the_package_with_its_licence():
    data = resources.files("console").joinpath("data")
    for name in ("kode-wilayah-kecamatan.csv", "kode-wilayah-historis.csv", "kode-wilayah-desa-5203.csv"):
        assert data.joinpath(name).is_file()
    assert "Copyright (c) 2017-2025 Cahya DSN" in data.joinpath("README.md").read_text(encoding="utf-8")


def test_a_current_kecamatan_has_the_names_of_its_three_levels():
    selong = regions.district("520307")
    assert selong == regions.district("52.03.07")
    assert (selong.name, selong.regency, selong.province) == ("Selong", "Kabupaten Lombok Timur", "Nusa Tenggara Barat")
    assert (selong.code, selong.regency_code, selong.province_code) == ("520307", "5203", "52")
    assert not selong.historical


def test_a_historical_code_stays_known_and_says_so():
    # Merauke was 91.01.01 before Papua Selatan was split off (now 93.01.01); NIKs issued under it stay valid.
    merauke = regions.district("910101")
    assert merauke is not None and merauke.historical
    assert merauke.name == "Merauke"
    assert merauke.regency == "KAB. MERAUKE"
    assert merauke.province == "Papua"
    assert regions.district("930101") is not None and not regions.district("930101").historical


def test_unknown_codes_are_none():
    assert regions.district("999999") is None
    assert regions.district("520399") is None
    assert regions.province_name("99") is None
    assert regions.regency_name("5299") is None


def test_province_and_regency_names():
    assert regions.province_name("52") == "Nusa Tenggara Barat"
    assert regions.regency_name("52.03") == "Kabupaten Lombok Timur"
    assert regions.regency_name("520307") == "Kabupaten Lombok Timur"


def test_lombok_timur_has_its_21_kecamatan_in_code_order():
    districts = regions.districts_of("5203")
    assert [d.name for d in districts] == LOMBOK_TIMUR_KECAMATAN
    assert [d.code for d in districts] == [f"5203{n:02d}" for n in range(1, 22)]


def test_the_desa_of_lombok_timur_by_kecamatan():
    villages = regions.lombok_timur_villages()
    assert sum(len(v) for v in villages.values()) == 254
    assert set(villages) == {d.code for d in regions.districts_of("5203")}
    selong = {v.name: v for v in regions.villages_of("52.03.07")}
    assert selong["Pancor"].is_kelurahan and selong["Pancor"].code == "5203071001"
    keruak = {v.name for v in regions.villages_of("520301")}
    assert "Tanjung Luar" in keruak
    assert all(not v.is_kelurahan for v in regions.villages_of("520301"))


def test_villages_are_known_only_for_lombok_timur():
    assert regions.villages_of("520101") == ()
