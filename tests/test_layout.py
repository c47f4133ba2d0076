"""The KTP-el card layout: texts, the black panel and the frames the printer gets, checked by decoding them."""

from __future__ import annotations

import dataclasses
import io
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from drivers.layout import (
    PHOTO_BOX,
    SIGNATURE_BOX,
    CardLayout,
    LayoutError,
    TextItem,
    layout_card,
    render_preview,
    text_width,
)
from drivers.protocol import (
    BYTES_PER_LINE,
    DOTS_PER_LINE,
    LINES,
    PANEL_BYTES,
    BadFrame,
    Command,
    CommandDecoder,
    decompress_dbc,
    encode_command,
)
from tests.card_sample import FIELDS, NIK

WIRE_BUDGET = 3 * 115200 // 10  # bytes a 115200-baud line carries in 3 s: 34,560


# ------------------------------------------------------------------------------------------------ pictures


def _encoded(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def portrait_jpeg() -> bytes:
    """A passport-like picture: a coloured backdrop, a face, shoulders."""
    width, height = 600, 800
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    for y in range(height):
        draw.line((0, y, width, y), fill=(200 - y // 8, 40 + y // 10, 70))
    draw.ellipse((150, 120, 450, 480), fill=(230, 190, 160))
    draw.ellipse((230, 250, 270, 280), fill=(40, 30, 30))
    draw.ellipse((330, 250, 370, 280), fill=(40, 30, 30))
    draw.rectangle((90, 500, 510, 800), fill=(30, 30, 60))
    return _encoded(image, "JPEG")


def quadrant_png() -> bytes:
    """Black top-left quarter on white, at the photo box's own proportions (nothing is cropped)."""
    width, height = PHOTO_BOX.width * 2, PHOTO_BOX.height * 2
    image = Image.new("L", (width, height), 255)
    ImageDraw.Draw(image).rectangle((0, 0, width // 2 - 1, height // 2 - 1), fill=0)
    return _encoded(image, "PNG")


def signature_png() -> bytes:
    """Black strokes on a transparent background, as signature pads give them."""
    image = Image.new("RGBA", (400, 120), (0, 0, 0, 0))
    ImageDraw.Draw(image).line(
        [(10, 90), (60, 20), (110, 100), (170, 30), (250, 80), (390, 40)], fill=(0, 0, 0, 255), width=6
    )
    return _encoded(image, "PNG")


# ------------------------------------------------------------------------------------------------- helpers


def decode(layout: CardLayout) -> list[Command]:
    """The frames as the printer reads them, fed in odd-sized pieces as a serial line delivers them."""
    decoder, events = CommandDecoder(), []
    wire = b"".join(layout.frames)
    for start in range(0, len(wire), 997):
        events += decoder.feed(wire[start : start + 997])
    assert not [e for e in events if isinstance(e, BadFrame)]
    return events


def printed_panel(layout: CardLayout) -> bytes:
    """The panel the printer draws from the Dbc command it receives."""
    dbc = decode(layout)[0]
    assert dbc.name == "Dbc" and dbc.params[:2] == ("k", "2")
    panel = decompress_dbc(dbc.payload, int(dbc.params[2]))
    assert panel is not None
    return panel


def ink_dots(panel: bytes) -> set[tuple[int, int]]:
    """Every inked dot as (x, y): line n is column x = n, bit k (MSB first) of the line is y = k."""
    dots = set()
    for index, byte in enumerate(panel):
        if byte:
            x, first_y = divmod(index, BYTES_PER_LINE)
            dots.update((x, first_y * 8 + bit) for bit in range(8) if byte & (0x80 >> bit))
    return dots


def ink_share(dots: set[tuple[int, int]], x0: int, y0: int, x1: int, y1: int) -> float:
    inked = sum(1 for x in range(x0, x1) for y in range(y0, y1) if (x, y) in dots)
    return inked / ((x1 - x0) * (y1 - y0))


def texts_on_wire(layout: CardLayout) -> list[str]:
    return [c.params[4] for c in decode(layout) if c.name == "Wt"]


def text_box(item: TextItem) -> tuple[int, int, int, int]:
    return item.x, item.y, item.x + text_width(item.text, item.font, item.height), item.y + item.height


def assert_texts_on_card_and_apart(layout: CardLayout) -> None:
    boxes = [text_box(t) for t in layout.texts]
    for x0, y0, x1, y1 in boxes:
        assert x0 >= 0 and y0 >= 0 and x1 <= LINES and y1 <= DOTS_PER_LINE
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)


# --------------------------------------------------------------------------------------------------- texts


def test_the_nik_is_the_first_text_and_holds_the_16_digits() -> None:
    layout = layout_card(FIELDS)
    texts = texts_on_wire(layout)
    assert texts[0] == f"NIK : {NIK}"
    first_run = next(m.group() for t in texts for m in [re.search(r"\d{16}", t)] if m)
    assert first_run == NIK


def test_every_label_of_the_card_is_printed_in_order() -> None:
    texts = texts_on_wire(layout_card(FIELDS))
    assert texts == [
        f"NIK : {NIK}",
        "PROVINSI NUSA TENGGARA BARAT",
        "KABUPATEN LOMBOK TIMUR",
        "Nama : BAIQ NURUL AINI",
        "Tempat/Tgl Lahir : SELONG, 07-08-1990",
        "Jenis kelamin : PEREMPUAN",
        "Gol. Darah : O",
        "Alamat : JL. PAHLAWAN NO. 7",
        "RT/RW : 002/001",
        "Kel/Desa : PANCOR",
        "Kecamatan : SELONG",
        "Agama : ISLAM",
        "Status Perkawinan : KAWIN",
        "Pekerjaan : GURU",
        "Kewarganegaraan : WNI",
        "Berlaku Hingga : SEUMUR HIDUP",
        "LOMBOK TIMUR",
        "28-11-2026",
        "TANPA FOTO",
    ]


def test_texts_stay_on_the_card_clear_of_each_other_and_of_the_photo() -> None:
    layout = layout_card(dataclasses.replace(FIELDS, photo=portrait_jpeg()))
    assert_texts_on_card_and_apart(layout)
    for item in layout.texts:
        x0, y0, x1, y1 = text_box(item)
        overlaps_photo = x0 < PHOTO_BOX.right and PHOTO_BOX.x < x1 and y0 < PHOTO_BOX.bottom and PHOTO_BOX.y < y1
        assert not overlaps_photo, item


def test_a_name_with_a_semicolon_goes_on_the_wire_whole() -> None:
    layout = layout_card(dataclasses.replace(FIELDS, nama="BAIQ NURUL AINI; S.Pd"))
    assert "Nama : BAIQ NURUL AINI; S.Pd" in texts_on_wire(layout)


def test_latin1_letters_are_printed_as_latin1() -> None:
    layout = layout_card(dataclasses.replace(FIELDS, nama="JOSÉ MARÍA ÑUÑEZ"))
    assert "Nama : JOSÉ MARÍA ÑUÑEZ".encode("latin-1") in b"".join(layout.frames)


@pytest.mark.parametrize("bad", ["BAIQ\x1b[2J", "BAIQ\rNURUL", "BAIQ\x7f", "BAIQ\x85NURUL"])
def test_a_control_character_in_the_name_is_refused_naming_the_field(bad: str) -> None:
    with pytest.raises(LayoutError) as refused:
        layout_card(dataclasses.replace(FIELDS, nama=bad))
    assert refused.value.field == "nama" and refused.value.code == "control_character"
    assert str(refused.value).startswith("nama: ")


def test_a_name_outside_latin1_is_refused_naming_the_field() -> None:
    with pytest.raises(LayoutError) as refused:
        layout_card(dataclasses.replace(FIELDS, nama="ZHANG WEI 张伟"))
    assert refused.value.field == "nama" and refused.value.code == "not_latin1"
    assert "U+5F20" in str(refused.value)


@pytest.mark.parametrize("field", ["alamat", "kel_desa", "tempat_terbit", "provinsi", "tanggal_lahir"])
def test_every_text_field_is_checked(field: str) -> None:
    with pytest.raises(LayoutError) as refused:
        layout_card(dataclasses.replace(FIELDS, **{field: "SATU\nDUA"}))
    assert refused.value.field == field


def test_a_blank_field_is_refused() -> None:
    with pytest.raises(LayoutError) as refused:
        layout_card(dataclasses.replace(FIELDS, pekerjaan="  "))
    assert (refused.value.field, refused.value.code) == ("pekerjaan", "empty")


@pytest.mark.parametrize(
    "nik", ["520307470890000", "52030747089000012", "5203O74708900001", "５２０３０７４７０８９００００１"]
)
def test_a_nik_that_is_not_16_digits_is_refused(nik: str) -> None:
    with pytest.raises(LayoutError) as refused:
        layout_card(dataclasses.replace(FIELDS, nik=nik))
    assert refused.value.field == "nik"


def test_a_long_name_goes_on_two_lines_and_nothing_is_lost() -> None:
    name = "RADEN AYU SITI NURHALIZAH BINTI HAJI MUHAMMAD ABDULLAH SALEH"
    layout = layout_card(dataclasses.replace(FIELDS, nama=name))
    texts = texts_on_wire(layout)
    first = texts.index(next(t for t in texts if t.startswith("Nama : ")))
    assert texts[first][len("Nama : ") :] + " " + texts[first + 1] == name
    assert_texts_on_card_and_apart(layout)


def test_a_slightly_long_value_is_shrunk_on_one_line() -> None:
    layout = layout_card(dataclasses.replace(FIELDS, agama="KEPERCAYAAN TERHADAP TUHAN YME"))
    (agama,) = [t for t in layout.texts if t.text.startswith("Agama : ")]
    assert agama.text == "Agama : KEPERCAYAAN TERHADAP TUHAN YME" and 24 <= agama.height < 28


def test_a_name_too_long_for_two_lines_is_refused_never_cut() -> None:
    with pytest.raises(LayoutError) as refused:
        layout_card(dataclasses.replace(FIELDS, nama="W" * 60))
    assert (refused.value.field, refused.value.code) == ("nama", "too_long")


def test_a_header_too_wide_is_refused_naming_it() -> None:
    with pytest.raises(LayoutError) as refused:
        layout_card(dataclasses.replace(FIELDS, kabupaten="KABUPATEN " + "W" * 60))
    assert (refused.value.field, refused.value.code) == ("kabupaten", "too_long")


NAME_CHARS = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ      .,'-ÀÉÑÖ")


@settings(max_examples=60, deadline=None)
@given(name=st.text(NAME_CHARS, min_size=1, max_size=60))
def test_any_name_is_printed_whole_or_refused_naming_nama(name: str) -> None:
    try:
        layout = layout_card(dataclasses.replace(FIELDS, nama=name))
    except LayoutError as refused:
        assert refused.field == "nama" and refused.code in ("too_long", "no_room", "empty")
        return
    texts = texts_on_wire(layout)
    first = next(i for i, t in enumerate(texts) if t.startswith("Nama : "))
    printed = texts[first][len("Nama : ") :]
    if not texts[first + 1].startswith("Tempat/Tgl Lahir : "):
        printed += " " + texts[first + 1]
    assert printed == name
    assert_texts_on_card_and_apart(layout)


# --------------------------------------------------------------------------------------------- the panel


def test_the_photo_dots_land_in_the_photo_box() -> None:
    layout = layout_card(dataclasses.replace(FIELDS, photo=portrait_jpeg()))
    dots = ink_dots(printed_panel(layout))
    in_photo = {d for d in dots if PHOTO_BOX.contains(*d)}
    assert all(PHOTO_BOX.contains(*d) or SIGNATURE_BOX.contains(*d) for d in dots)
    assert len(in_photo) > 0.2 * PHOTO_BOX.width * PHOTO_BOX.height
    assert "TANPA FOTO" not in texts_on_wire(layout)


def test_the_photo_keeps_its_orientation() -> None:
    dots = ink_dots(printed_panel(layout_card(dataclasses.replace(FIELDS, photo=quadrant_png()))))
    b, w, h = PHOTO_BOX, PHOTO_BOX.width, PHOTO_BOX.height
    left, right, top, bottom = b.x + w * 2 // 5, b.x + w * 3 // 5, b.y + h * 2 // 5, b.y + h * 3 // 5
    assert ink_share(dots, b.x, b.y, left, top) > 0.95  # the black quarter: top left
    assert ink_share(dots, right, b.y, b.right, top) < 0.05
    assert ink_share(dots, b.x, bottom, left, b.bottom) < 0.05
    assert ink_share(dots, right, bottom, b.right, b.bottom) < 0.05


def test_without_a_photo_a_placeholder_is_drawn() -> None:
    layout = layout_card(FIELDS)
    dots = ink_dots(printed_panel(layout))
    (placeholder,) = [t for t in layout.texts if t.text == "TANPA FOTO"]
    x0, y0, x1, y1 = text_box(placeholder)
    assert PHOTO_BOX.contains(x0, y0) and PHOTO_BOX.contains(x1, y1)
    assert ink_share(dots, x0, y0, x1, y1) == 0  # the words are on clear paper
    for corner in [(PHOTO_BOX.x, PHOTO_BOX.y), (PHOTO_BOX.right - 1, PHOTO_BOX.bottom - 1)]:
        assert corner in dots  # the frame
    quarter = (PHOTO_BOX.x + PHOTO_BOX.width // 4, PHOTO_BOX.y + PHOTO_BOX.height // 4)
    assert any((quarter[0], y) in dots for y in range(quarter[1] - 4, quarter[1] + 5))  # the cross
    assert ink_share(dots, PHOTO_BOX.x, PHOTO_BOX.y, PHOTO_BOX.right, PHOTO_BOX.bottom) < 0.1  # no picture


def test_a_signature_lands_in_its_box_strokes_only() -> None:
    layout = layout_card(dataclasses.replace(FIELDS, signature=signature_png()))
    dots = ink_dots(printed_panel(layout))
    in_box = {d for d in dots if SIGNATURE_BOX.contains(*d)}
    box_area = SIGNATURE_BOX.width * SIGNATURE_BOX.height
    assert 0.02 * box_area < len(in_box) < 0.3 * box_area  # strokes, not a black box from the transparency


def test_without_a_signature_the_box_has_a_line_to_sign_on() -> None:
    dots = ink_dots(printed_panel(layout_card(FIELDS)))
    in_box = [d for d in dots if SIGNATURE_BOX.contains(*d)]
    assert in_box and len({y for _, y in in_box}) <= 4  # one thin horizontal rule
    assert max(x for x, _ in in_box) - min(x for x, _ in in_box) > SIGNATURE_BOX.width * 0.8


def test_the_panel_is_the_raw_panel_of_the_layout_and_starts_at_the_first_inked_line() -> None:
    layout = layout_card(dataclasses.replace(FIELDS, photo=portrait_jpeg()))
    assert len(layout.black_panel) == PANEL_BYTES
    assert printed_panel(layout) == layout.black_panel
    first_line = int(decode(layout)[0].params[2])
    assert first_line == min(x for x, _ in ink_dots(layout.black_panel)) == PHOTO_BOX.x


@pytest.mark.parametrize("field", ["photo", "signature"])
@pytest.mark.parametrize(
    "damage",
    [
        lambda: b"this is not a picture",
        lambda: portrait_jpeg()[:2000],  # a JPEG cut short
        lambda: _encoded(Image.new("RGB", (60, 80), "white"), "GIF"),  # an image, but not JPEG or PNG
        lambda: b"",
    ],
    ids=["garbage", "truncated-jpeg", "gif", "empty"],
)
def test_a_bad_image_is_refused_naming_the_field(field: str, damage) -> None:
    with pytest.raises(LayoutError) as refused:
        layout_card(dataclasses.replace(FIELDS, **{field: damage()}))
    assert (refused.value.field, refused.value.code) == (field, "bad_image")


# -------------------------------------------------------------------------------------------------- frames


def test_the_frames_decode_back_to_the_same_commands() -> None:
    layout = layout_card(dataclasses.replace(FIELDS, photo=portrait_jpeg(), signature=signature_png()))
    commands = decode(layout)
    assert [c.name for c in commands] == ["Dbc"] + ["Wt"] * len(layout.texts) + ["Wcb"]
    dbc, wts, wcb = commands[0], commands[1:-1], commands[-1]
    assert dbc.params[3] == str(len(dbc.payload))
    assert [c.params for c in wts] == [(str(t.x), str(t.y), str(t.font), str(t.height), t.text) for t in layout.texts]
    assert wcb.params == ("o", "255")
    reencoded = [encode_command(c.name, *c.params, payload=c.payload) for c in commands]
    assert tuple(reencoded) == layout.frames


def test_a_ymcko_ribbon_gets_the_same_frames_and_an_unknown_ribbon_is_refused() -> None:
    assert layout_card(FIELDS, ribbon="ymcko").frames == layout_card(FIELDS, ribbon="ko").frames
    with pytest.raises(LayoutError) as refused:
        layout_card(FIELDS, ribbon="kr")
    assert refused.value.field == "ribbon"


@pytest.mark.parametrize("photo,signature", [(True, True), (True, False), (False, False)])
def test_bytes_on_the_wire_per_card(photo: bool, signature: bool) -> None:
    fields = dataclasses.replace(
        FIELDS, photo=portrait_jpeg() if photo else None, signature=signature_png() if signature else None
    )
    wire = sum(len(frame) for frame in layout_card(fields).frames)
    print(f"photo={photo} signature={signature}: {wire:,} bytes, {wire / (115200 / 10):.2f} s at 115200 baud")
    assert wire < WIRE_BUDGET


# ------------------------------------------------------------------------------------------------- preview


def test_the_preview_shows_the_panel_and_the_texts() -> None:
    layout = layout_card(dataclasses.replace(FIELDS, photo=portrait_jpeg()))
    preview = render_preview(layout).convert("L")
    assert preview.size == (LINES, DOTS_PER_LINE)
    nik = layout.texts[0]
    nik_area = preview.crop((nik.x, nik.y, nik.x + 300, nik.y + nik.height))
    assert nik_area.getextrema()[0] < 64  # the NIK is drawn
    photo_area = preview.crop((PHOTO_BOX.x, PHOTO_BOX.y, PHOTO_BOX.right, PHOTO_BOX.bottom))
    assert photo_area.getextrema() == (0, 255)  # the dithered photo is there
    assert preview.crop((0, DOTS_PER_LINE - 10, LINES, DOTS_PER_LINE)).getextrema() == (255, 255)  # clear margin
