"""A card as it should have come out of the printer, in text: the operator holds the card and compares.

The labels are the card's own (it is printed in Bahasa Indonesia whatever the console's language); they live in
the catalogue all the same, with the words of the card in both languages.
"""

from __future__ import annotations

from rich.console import Group
from rich.text import Text

from console.i18n import t
from drivers.layout import CardFields

LABEL_WIDTH = 18


def card_text(fields: CardFields) -> Group:
    def row(label_key: str, value: str, indent: int = 0) -> Text:
        label = (" " * indent + t(label_key)).ljust(LABEL_WIDTH)
        line = Text(f"{label}: ")
        line.append(value, style="bold")
        return line

    header = Text(f"{fields.provinsi} · {fields.kabupaten}", style="bold", justify="center")
    sex = row("ui.card.jenis_kelamin", fields.jenis_kelamin)
    sex.append(f"   {t('ui.card.gol_darah')} : ")
    sex.append(fields.gol_darah, style="bold")
    photo = t("ui.card.photo_yes") if fields.photo else t("ui.card.photo_no")
    issued = Text(t("ui.card.issued", photo=photo, place=fields.tempat_terbit, date=fields.tanggal_terbit),
                  style="dim")  # fmt: skip
    return Group(
        header,
        row("ui.card.nik", fields.nik),
        row("ui.card.nama", fields.nama),
        row("ui.card.lahir", f"{fields.tempat_lahir}, {fields.tanggal_lahir}"),
        sex,
        row("ui.card.alamat", fields.alamat),
        row("ui.card.rt_rw", fields.rt_rw, indent=3),
        row("ui.card.kel_desa", fields.kel_desa, indent=3),
        row("ui.card.kecamatan", fields.kecamatan, indent=3),
        row("ui.card.agama", fields.agama),
        row("ui.card.status", fields.status_perkawinan),
        row("ui.card.pekerjaan", fields.pekerjaan),
        row("ui.card.warga", fields.kewarganegaraan),
        row("ui.card.berlaku", fields.berlaku_hingga),
        issued,
    )
