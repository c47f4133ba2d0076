"""Finding residents by their village or kecamatan (the name, or the Kemendagri code), and a NIK typed in groups,
on a real SQLite file and on a ledger: a page at a time, nobody twice, the count agreeing with the pages."""

from __future__ import annotations

import pytest

from console.clock import now_iso
from console.residents import count_residents, search_residents
from console.store import Store

# (NIK serial, name, village, kecamatan): Pijot is 52.03.01.2002 in Keruak (52.03.01); Suwangi is in Sakra.
PEOPLE = [
    (1, "AMAQ SAHNAN", "PIJOT", "KERUAK"),
    (2, "INAQ SAHRIAH", "PIJOT", "KERUAK"),
    (3, "PIJOT SAPUTRA", "SUWANGI", "SAKRA"),  # a name that is also a village's
    (4, "SITI PIJOTI", "PIJOT", "KERUAK"),  # in Pijot, and named so too: found once
    (5, "BAIQ NURUL", "TANJUNG LUAR", "KERUAK"),
    (6, "LALU AHMAD", "SUWANGI", "SAKRA"),
    (7, "HAERUDIN", "KERUAK", "KERUAK"),  # a village named as its kecamatan
]


def nik(serial: int) -> str:
    return f"520301010190{serial:04d}"


@pytest.fixture
async def store(database):
    """On both backends: the same answers in the same order on a regency ledger."""
    at = now_iso()
    async with await Store.open(database) as store:
        async with store.transaction("test") as tx:
            await tx.executemany(
                "INSERT INTO residents (nik, nama, tempat_lahir, tanggal_lahir, jenis_kelamin, alamat, rt, rw, "
                "kel_desa, kecamatan, agama, status_perkawinan, pekerjaan, imported_at, updated_at) "
                "VALUES (?, ?, 'SELONG', '1990-01-01', 'LAKI-LAKI', 'DUSUN', '001', '001', ?, ?, 'ISLAM', 'KAWIN', "
                "'PETANI', ?, ?)",
                [(nik(n), nama, village, district, at, at) for n, nama, village, district in PEOPLE],
            )
        yield store


async def names(store: Store, text: str) -> list[str]:
    return [r.nama for r in await search_residents(store, text)]


async def test_a_village_by_its_name_after_the_names_that_match(store):
    # Names first (starting with it, then containing it), then the villages' residents by village and name.
    assert await names(store, "pijot") == ["PIJOT SAPUTRA", "SITI PIJOTI", "AMAQ SAHNAN", "INAQ SAHRIAH"]
    assert await count_residents(store, "pijot") == 4
    assert await names(store, "Tanjung") == ["BAIQ NURUL"]


async def test_a_kecamatan_by_its_name_after_its_villages_of_that_name(store):
    assert await names(store, "KERUAK") == ["HAERUDIN", "AMAQ SAHNAN", "INAQ SAHRIAH", "SITI PIJOTI", "BAIQ NURUL"]
    assert await names(store, "sakra") == ["LALU AHMAD", "PIJOT SAPUTRA"]
    assert await count_residents(store, "keruak") == 5


async def test_a_region_by_its_kemendagri_code(store):
    assert await names(store, "52.03.01.2002") == ["AMAQ SAHNAN", "INAQ SAHRIAH", "SITI PIJOTI"]  # Pijot
    assert await names(store, "52.03.02") == ["LALU AHMAD", "PIJOT SAPUTRA"]  # Sakra
    assert await count_residents(store, "52.03.01") == 5
    assert await names(store, "52.03.99") == [] and await count_residents(store, "52.03.99") == 0  # no such code
    assert await names(store, "52.03.01.2999") == []


@pytest.mark.parametrize(
    "typed", ["5203 0101 0190 0002", "5203.0101.0190.0002", "520301-010190-0002", " 5203010101900002 "]
)
async def test_a_nik_typed_in_groups(store, typed):
    assert [r.nik for r in await search_residents(store, typed)] == [nik(2)]
    assert await count_residents(store, typed) == 1


@pytest.mark.parametrize("text", ["pijot", "keruak", "a", "52.03.01", "", "5203"])
async def test_pages_join_up_to_the_whole_and_nobody_comes_twice(store, text):
    whole = [r.nik for r in await search_residents(store, text, limit=100)]
    for size in (1, 2, 3):
        paged = []
        for offset in range(0, len(whole) + size, size):
            page = await search_residents(store, text, limit=size, offset=offset)
            assert len(page) <= size
            paged += [r.nik for r in page]
        assert paged == whole
    assert len(set(whole)) == len(whole) == await count_residents(store, text)
