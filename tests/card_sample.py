"""A card's fields as the layout takes them, for the layout's and the driver's tests and the printer benchmark
(which varies the name, the address and the village, and adds pictures)."""

from __future__ import annotations

from drivers.layout import CardFields

NIK = "5203074708900001"

FIELDS = CardFields(
    provinsi="PROVINSI NUSA TENGGARA BARAT",
    kabupaten="KABUPATEN LOMBOK TIMUR",
    nik=NIK,
    nama="BAIQ NURUL AINI",
    tempat_lahir="SELONG",
    tanggal_lahir="07-08-1990",
    jenis_kelamin="PEREMPUAN",
    gol_darah="O",
    alamat="JL. PAHLAWAN NO. 7",
    rt_rw="002/001",
    kel_desa="PANCOR",
    kecamatan="SELONG",
    agama="ISLAM",
    status_perkawinan="KAWIN",
    pekerjaan="GURU",
    kewarganegaraan="WNI",
    berlaku_hingga="SEUMUR HIDUP",
    tempat_terbit="LOMBOK TIMUR",
    tanggal_terbit="28-11-2026",
)
