"""The request's files are written before its draft is kept: a folder that cannot take them leaves no draft, no
audit entry and no file of it (neither the JSON nor the letter), and the error names the folder and why."""

from __future__ import annotations

import json

from tests.command import station, write_config


def _nothing_kept(config) -> None:
    assert json.loads(station(config, "request", "list", "--json").stdout) == []
    exported = config.parent / "audit.jsonl"
    assert station(config, "audit", "export", "--out", str(exported)).returncode == 0
    assert "request.drafted" not in exported.read_text(encoding="utf-8")


def test_an_output_folder_under_a_file_keeps_no_draft(tmp_path):
    config = write_config(tmp_path)
    (tmp_path / "not-a-folder").write_text("x", encoding="utf-8")
    out = tmp_path / "not-a-folder" / "usulan"
    result = station(config, "request", "draft", "2031-01", "--out", str(out))
    assert result.returncode == 2, result.stderr
    assert str(out) in result.stderr and "request" in result.stderr and "not a folder" in result.stderr
    _nothing_kept(config)


def test_a_letter_that_cannot_be_written_leaves_neither_file_nor_draft(tmp_path):
    """The JSON could be written, the letter's name is taken by a folder: nothing of the request stays."""
    config = write_config(tmp_path)
    out = tmp_path / "usulan"
    (out / "usulan-2031-01.pdf").mkdir(parents=True)
    result = station(config, "request", "draft", "2031-01", "--out", str(out))
    assert result.returncode == 2, result.stderr
    assert str(out) in result.stderr and "folder" in result.stderr
    assert not (out / "usulan-2031-01.json").exists()
    assert sorted(p.name for p in out.iterdir()) == ["usulan-2031-01.pdf"]  # no temporary file left either
    _nothing_kept(config)
    (out / "usulan-2031-01.pdf").rmdir()
    assert station(config, "request", "draft", "2031-01", "--out", str(out)).returncode == 0
    [kept] = json.loads(station(config, "request", "list", "--json").stdout)
    assert kept["state"] == "drafted" and (out / "usulan-2031-01.json").exists()
