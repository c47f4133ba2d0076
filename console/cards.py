"""A resident's record as the card shows it: the plain field values the printer's layout takes."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date
from typing import Any

from console import regions
from console.clock import now
from console.formats import local
from console.jobs import Job
from console.photo_file import read_photo
from console.store import Store
from drivers.layout import CardFields, layout_card


def issuing_regency(station_id: str, nik: str) -> str:
    """The regency that issues the card: the station's (its id starts with the regency code), else the NIK's."""
    code = station_id[:4] if station_id[:4].isascii() and station_id[:4].isdigit() else nik[:4]
    return code


def _ddmmyyyy(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%d-%m-%Y")


def card_fields(resident: Any, station_id: str, issued: date) -> CardFields:
    regency_code = issuing_regency(station_id, resident["nik"])
    regency = (regions.regency_name(regency_code) or "").upper()
    province = (regions.province_name(regency_code) or "").upper()
    photo = read_photo(resident["foto"]) if resident["foto"] else None
    berlaku = resident["berlaku_hingga"]
    return CardFields(
        provinsi=f"PROVINSI {province}",
        kabupaten=regency,
        nik=resident["nik"],
        nama=resident["nama"],
        tempat_lahir=resident["tempat_lahir"],
        tanggal_lahir=_ddmmyyyy(resident["tanggal_lahir"]),
        jenis_kelamin=resident["jenis_kelamin"],
        gol_darah=resident["gol_darah"],
        alamat=resident["alamat"],
        rt_rw=f"{int(resident['rt']):03d}/{int(resident['rw']):03d}",
        kel_desa=resident["kel_desa"],
        kecamatan=resident["kecamatan"],
        agama=resident["agama"],
        status_perkawinan=resident["status_perkawinan"],
        pekerjaan=resident["pekerjaan"],
        kewarganegaraan=resident["kewarganegaraan"],
        berlaku_hingga=berlaku if berlaku == "SEUMUR HIDUP" else _ddmmyyyy(berlaku),
        tempat_terbit=regency.removeprefix("KABUPATEN ").removeprefix("KOTA "),
        tanggal_terbit=issued.strftime("%d-%m-%Y"),
        photo=photo,
    )


class CardBuilder:
    """Builds a job's card frames off the event loop (the layout dithers a photo: milliseconds that add up)."""

    def __init__(self, store: Store, station_id: str, ribbon: str) -> None:
        self.store = store
        self.station_id = station_id
        self.ribbon = ribbon

    async def __call__(self, job: Job) -> Sequence[bytes]:
        resident = await self.store.fetchone("SELECT * FROM residents WHERE nik = ?", (job.nik,))
        if resident is None:
            raise ValueError(f"no resident record for {job.nik}")
        # in a thread: the photo is read from a file (PhotoError, a ValueError, holds the job)
        fields = await asyncio.to_thread(card_fields, resident, self.station_id, local(now()).date())
        layout = await asyncio.to_thread(layout_card, fields, self.ribbon)
        return layout.frames
