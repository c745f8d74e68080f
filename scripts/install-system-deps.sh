#!/usr/bin/env bash
# Installs the Debian packages the tests need (a real headless Chromium and its driver; gettext).
# Runs apt-get only when something is missing and we are root (as in CI); otherwise says what to do.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
command -v msgfmt >/dev/null 2>&1 || need+=(gettext)
fc-list 2>/dev/null | grep -qi "noto.*cjk\|wqy" || need+=(fonts-noto-cjk)
# Language engine: Apertium and its pairs (cg3 for the Italian pair), Tesseract, espeak-ng, ffmpeg.
command -v apertium >/dev/null 2>&1 || need+=(apertium)
for pair in eng-spa es-pt fr-es spa-ita; do
  dpkg -s "apertium-$pair" >/dev/null 2>&1 || need+=("apertium-$pair")
done
command -v cg-proc >/dev/null 2>&1 || need+=(cg3)
command -v tesseract >/dev/null 2>&1 || need+=(tesseract-ocr)
# One Tesseract model per supported language: Japanese is read with jpn (RapidOCR's Chinese model
# drops kana), Korean, Cyrillic, Arabic and Thai with theirs (RapidOCR cannot read those scripts).
for lang in eng deu fra spa por ita nld pol tur ind vie jpn jpn-vert kor chi-sim rus ukr ara tha ell heb; do
  dpkg -s "tesseract-ocr-$lang" >/dev/null 2>&1 || need+=("tesseract-ocr-$lang")
done
command -v espeak-ng >/dev/null 2>&1 || need+=(espeak-ng)
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
# E-mail: a real IMAP server the tests start unprivileged from a temporary config.
[ -x /usr/sbin/dovecot ] || need+=(dovecot-imapd)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "missing system packages: ${need[*]} (run as root, or: sudo apt-get install ${need[*]})" >&2
  exit 0
fi
echo "installing system packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
