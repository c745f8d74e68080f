"""Customers' HTML: sanitised once, remote images parked when stored, placeholders on the ticket page,
restored only for the sandboxed "load images" frame (finding 6)."""

from __future__ import annotations

import pytest

from aftersales.inbox.message_html import (
    html_with_remote_images,
    html_without_images,
    remote_image_count,
    sanitise_html,
)

PIXEL = '<p>Hi</p><img src="https://tracker.example/p.gif?u=1&amp;m=2" width="1" height="1">'


def test_a_tracking_pixel_is_parked_not_loaded():
    stored = sanitise_html(PIXEL)
    assert " src=" not in stored
    assert 'data-remote-src="https://tracker.example/p.gif?u=1&amp;m=2"' in stored
    assert remote_image_count(stored) == 1


@pytest.mark.parametrize(
    ("html", "count"),
    [
        ('<img src="//cdn.example/a.png">', 1),  # protocol-relative
        ('<img src="HTTP://cdn.example/a.png">', 1),
        ('<img src="/logout/">', 0),  # relative: dropped, it would hit our own origin
        ('<img src="cid:part1@mail">', 0),
        ('<img src="data:image/png;base64,iVBORw0KGgo=">', 0),  # nh3 drops data: URLs
        ('<img srcset="https://a.example/1x.png 1x, https://a.example/2x.png 2x">', 0),
        ('<img src="javascript:alert(1)">', 0),
    ],
)
def test_image_sources(html, count):
    stored = sanitise_html(html)
    assert remote_image_count(stored) == count
    assert "srcset" not in stored and "/logout/" not in stored and "javascript" not in stored


def test_scripts_handlers_and_styles_are_still_removed():
    stored = sanitise_html(
        '<p onclick="x()" style="background:url(https://t.example/bg.png)">Hi<script>alert(1)</script></p>'
        '<style>body{background:url(https://t.example/css.png)}</style><a href="https://shop.example/">shop</a>'
    )
    assert "script" not in stored and "onclick" not in stored and "t.example" not in stored
    assert 'rel="noopener noreferrer nofollow"' in stored


def test_the_ticket_page_shows_placeholders_and_no_address():
    shown = html_without_images(
        sanitise_html(PIXEL + '<img src="https://x.example/logo.png" alt="Shop &lt;logo&gt;">'),
        placeholder="image not loaded",
    )
    assert "tracker.example" not in shown and "x.example" not in shown and "<img" not in shown
    assert '<span class="img-blocked">[image not loaded: Shop &lt;logo&gt;]</span>' in shown


def test_an_img_written_inside_an_attribute_is_not_a_tag():
    stored = sanitise_html('<a title="<img> onmouseover=alert(1) x" href="https://a.example/">a</a>')
    shown = html_without_images(stored, placeholder="image")
    assert "onmouseover" not in shown.replace("&lt;img&gt; onmouseover", "")
    assert 'title="&lt;img&gt; onmouseover=alert(1) x"' in shown


def test_legacy_html_with_plain_remote_src_is_blocked_too():
    legacy = '<p>Hi</p><img src="https://tracker.example/p.gif">'
    assert remote_image_count(legacy) == 1
    assert "tracker" not in html_without_images(legacy, placeholder="image")


def test_load_images_restores_http_sources_only_and_cleans_again():
    stored = sanitise_html(PIXEL + '<img src="//cdn.example/a.png" alt="A">')
    shown = html_with_remote_images(stored + '<img data-remote-src="javascript:alert(1)"><script>x()</script>')
    assert 'src="https://tracker.example/p.gif?u=1&amp;m=2"' in shown
    assert 'src="https://cdn.example/a.png"' in shown
    assert "javascript" not in shown and "<script" not in shown
