"""Test data put into a real database through the store, as the import would leave it."""

from __future__ import annotations

from console import books
from console.clock import now_iso
from console.store import Store


def nik_of(i: int) -> str:
    """A structurally valid NIK of Selong (52.03.07), a man born 01-01-1990, serial i."""
    return f"520307010190{i:04d}"


async def add_residents(store: Store, count: int, start: int = 1) -> list[str]:
    niks = [nik_of(i) for i in range(start, start + count)]
    at = now_iso()
    async with store.transaction("test") as tx:
        await tx.executemany(
            "INSERT INTO residents (nik, nama, tempat_lahir, tanggal_lahir, jenis_kelamin, alamat, rt, rw, kel_desa, "
            "kecamatan, agama, status_perkawinan, pekerjaan, imported_at, updated_at) "
            "VALUES (?, ?, 'SELONG', '1990-01-01', 'LAKI-LAKI', 'JL. PAHLAWAN NO. 7', '002', '001', 'PANCOR', "
            "'SELONG', 'ISLAM', 'KAWIN', 'PETANI', ?, ?)",
            [(nik, f"LALU AHMAD {i}", at, at) for i, nik in enumerate(niks)],
        )
    return niks


async def receive_blanks(store: Store, allocation_id: str, count: int, period: str | None, actor: str) -> None:
    """An allocation received, and on a ledger issued whole to the store's station (its own SQLite file holds
    every blank at once): the station may print from it."""
    await books.add_allocation(store, allocation_id, count, period, actor)
    if store.dialect == "postgresql":
        await books.issue(store, allocation_id, store.station_id, count, actor)
