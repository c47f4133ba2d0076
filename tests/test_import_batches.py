"""The import's batches on both backends (on a ledger: COPY's text made by the staging, one statement a batch):
refusals and bad rows named by their row wherever they fall in a batch, and texts that COPY would read as escapes
stored exactly as written."""

from __future__ import annotations

import pytest
from PIL import Image

from console import jobs
from console.residents import get_resident
from tests.test_import import mark_printed, person, run_import, store, write_csv  # noqa: F401  the fixture

pytestmark = pytest.mark.usefixtures("english")


async def test_refusals_at_the_edges_of_batches_are_named_by_row_and_the_rest_written(store, tmp_path):
    await run_import(store, write_csv(tmp_path / "a.csv", [person(serial) for serial in range(1, 11)]))
    for serial in (4, 5):  # the last of the first batch, the first of the second (batches of 4 in NIK order)
        await mark_printed(store, person(serial)["nik"])
    assert (await jobs.enqueue(store, [person(8)["nik"]], "op")).queued == [person(8)["nik"]]
    rows = [person(serial, nama=f"BARU {serial}") for serial in range(11, 0, -1)]  # row 2 is NIK 11, row 13 NIK 1
    rows.insert(6, person(12, rt="x"))  # row 8, among the second batch's NIKs
    result, rejections = await run_import(store, write_csv(tmp_path / "b.csv", rows), batch_rows=4)
    assert [(r.row, r.problems[0].column) for r in rejections] == [(5, "nik"), (8, "rt"), (9, "nik"), (10, "nik")]
    reasons = [r.problems[0].reason for r in rejections]
    assert (
        "in the print queue" in reasons[0]
        and "already been printed" in reasons[2]
        and "already been printed" in reasons[3]
    )
    assert (result.added, result.updated, result.unchanged, result.rejected) == (1, 7, 0, 4)
    for serial in range(1, 12):
        kept = serial in (4, 5, 8)
        assert (await get_resident(store, person(serial)["nik"])).nama == (
            "BAIQ NURUL HIDAYATI" if kept else f"BARU {serial}"
        )
    assert await get_resident(store, person(12)["nik"]) is None


async def test_texts_copy_would_read_as_escapes_are_stored_as_written(store, tmp_path):
    folder = tmp_path / "foto\tbaru\\lama"  # a tab and a backslash in the CSV's own folder: in the photo's path
    folder.mkdir()
    Image.new("RGB", (30, 40), "white").save(folder / "a.png")
    names = ["SITI \\N", "BAIQ \\t NURUL", "AMAQ \\", "\\.", "INAQ \\\\ SAHNAN"]
    rows = [person(i + 1, nama=name) for i, name in enumerate(names)]
    rows[0]["foto"] = "a.png"
    rows[1]["foto"] = ""
    path = write_csv(folder / "r.csv", rows)
    result, rejections = await run_import(store, path, batch_rows=2)
    assert (result.added, rejections) == (5, [])
    for i, name in enumerate(names):
        assert (await get_resident(store, person(i + 1)["nik"])).nama == name
    first = await get_resident(store, person(1)["nik"])
    assert first.foto == str((folder / "a.png").resolve()) and "\t" in first.foto
    assert (await get_resident(store, person(2)["nik"])).foto is None
    again, _ = await run_import(store, path, batch_rows=2)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 5)
