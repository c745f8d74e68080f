"""Chinese UI: a user who picks zh-Hans sees Chinese pages; the catalog is complete and compiled."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from aftersales.inbox.services import ticket_change_status

LOCALE_DIR = Path(settings.LOCALE_PATHS[0]) / "zh_Hans" / "LC_MESSAGES"
PO = LOCALE_DIR / "django.po"
MO = LOCALE_DIR / "django.mo"
WEB_DIR = Path(__file__).resolve().parent.parent


def test_a_user_who_switches_to_chinese_sees_chinese(world, login, story):
    ticket_change_status(ticket=story.ticket, actor=world.agent, status="pending_customer")
    client = login(world.agent)
    assert client.post(reverse("web:settings_language"), {"language": "zh-hans"}).status_code == 302

    inbox = client.get(reverse("web:inbox")).content.decode()
    expected = ["收件箱", "通知", "设置", "已保存视图", "批量操作", "指派给", "待客户回复", "质量问题", "平台", "德语"]
    for text in expected:
        assert text in inbox, text
    assert 'lang="zh-hans"' in inbox and ">Inbox<" not in inbox

    page = client.get(reverse("web:ticket", args=[story.ticket.pk])).content.decode()
    expected = ["回复客户", "内部备注", "指派给", "待客户回复", "发送回复", "订单号", "累计消费", "发送失败"]
    for text in expected:
        assert text in page, text
    assert "Alice 将状态从“处理中”改为“待客户回复”" in page
    assert "Reply to customer" not in page and "Internal note" not in page


def test_english_stays_english(world, login, story):
    page = login(world.agent).get(reverse("web:ticket", args=[story.ticket.pk])).content.decode()
    assert "Reply to customer" in page and "回复客户" not in page


def parse_po(path: Path) -> list[dict[str, object]]:
    """Entries of a .po file: msgid, msgid_plural, msgstr values and flags (header excluded)."""
    entries: list[dict[str, object]] = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry: dict[str, object] = {"flags": set(), "msgstr": []}
        key = None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] = {f.strip() for f in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            elif match := re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) (".*")$', line):
                key = match.group(1)
                value = ast.literal_eval(match.group(2))
                if key.startswith("msgstr"):
                    entry["msgstr"].append(value)  # type: ignore[union-attr]
                else:
                    entry[key] = value
            elif line.startswith('"') and key:
                value = ast.literal_eval(line)
                if key.startswith("msgstr"):
                    entry["msgstr"][-1] += value  # type: ignore[index]
                else:
                    entry[key] += value  # type: ignore[operator]
        if "msgid" in entry and entry["msgid"] != "":
            entries.append(entry)
    return entries


def test_catalog_has_no_untranslated_or_fuzzy_entries():
    entries = parse_po(PO)
    assert len(entries) > 250
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]  # type: ignore[operator]
    untranslated = [e["msgid"] for e in entries if not all(e["msgstr"])]  # type: ignore[arg-type]
    assert fuzzy == [], fuzzy
    assert untranslated == [], untranslated
    assert "#, fuzzy" not in PO.read_text(encoding="utf-8").split("\n\n")[0]


def test_placeholders_survive_translation():
    for entry in parse_po(PO):
        names = set(re.findall(r"%\((\w+)\)[sd]", str(entry["msgid"])))
        for msgstr in entry["msgstr"]:  # type: ignore[attr-defined]
            assert set(re.findall(r"%\((\w+)\)[sd]", msgstr)) == names, entry["msgid"]


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="gettext's msgfmt is not installed")
def test_committed_mo_is_compiled_from_the_po(tmp_path):
    fresh = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check-format", "-o", str(fresh), str(PO)], check=True)
    assert fresh.read_bytes() == MO.read_bytes(), "run `make messages` and commit the compiled .mo"


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="gettext's xgettext is not installed")
def test_every_string_of_the_web_ui_is_in_the_catalog(tmp_path, monkeypatch):
    """Extract the web app's strings afresh: a new UI string without a translation fails here."""
    shutil.copytree(WEB_DIR, tmp_path / "web", ignore=shutil.ignore_patterns("tests", "static", "__pycache__"))
    (tmp_path / "locale").mkdir()
    monkeypatch.chdir(tmp_path)
    with override_settings(LOCALE_PATHS=[str(tmp_path / "locale")]):
        call_command("makemessages", locale=["zh_Hans"], verbosity=0)
    extracted = {e["msgid"] for e in parse_po(tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")}
    catalog = {e["msgid"] for e in parse_po(PO)}
    assert len(extracted) > 200
    assert sorted(extracted - catalog) == []
