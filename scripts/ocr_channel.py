#!/usr/bin/env python3
"""A real OCR channel: prints each input line as an image, degrades it, and reads it back with tesseract.

    python3 scripts/ocr_channel.py --severity N [--seed S] [--cache DIR] < lines.txt > read.txt

Reads text lines on stdin; for each writes exactly one line on stdout, in order, flushed: what
tesseract read (newlines inside collapsed to a space). An empty line gives an empty line.

Per line: the text is drawn black on white (grey levels 0..255) with DejaVu Sans at 48 px
(Debian fonts-dejavu-core, /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf), then degraded by
severity: shrunk (box filter) so the font is FONT PX pixels (a low-resolution scan), Gaussian blur
of radius BLUR px, Gaussian pixel noise of sigma NOISE, JPEG at quality JPEG; tesseract then reads
it as one text line: `tesseract stdin stdout -l eng --psm 7`.

    severity  font px  blur  noise  jpeg   CER measured (train, tesseract 5.3.0)
    1         10.6     0.42  21     72     ~0.02
    2         10.2     0.50  24     65     ~0.05
    3          9.8     0.52  26     62     ~0.09
    4          9.5     0.55  28     60     ~0.14
    5          9.35    0.57  30     52     ~0.22
(scripts/derive_ocr_table.py measures them: corruptions/ocr/channel_stats.json.)

The noise is seeded from sha256(VERSION, the severity's settings, seed, severity, text), so a line
always gives the same output. --cache DIR stores each output in DIR/<hash> and reuses it.

Needs: apt-get install tesseract-ocr fonts-dejavu-core; pip install pillow numpy
"""
import argparse
import hashlib
import io
import os
import shutil
import subprocess
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

VERSION = "ocr-channel-1"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
RENDER_PX = 48  # print size before the low-resolution scan
TESSERACT = ["tesseract", "stdin", "stdout", "-l", "eng", "--psm", "7"]
# severity: (font px, blur radius px, noise sigma, JPEG quality)
SETTINGS = {
    1: (10.6, 0.42, 21, 72),
    2: (10.2, 0.50, 24, 65),
    3: (9.8, 0.52, 26, 62),
    4: (9.5, 0.55, 28, 60),
    5: (9.35, 0.57, 30, 52),
}


def line_key(seed, severity, text, settings=SETTINGS):
    """Hex sha256 of everything the output depends on (the settings too, so a cache never goes stale)."""
    parts = [VERSION, repr(settings[severity]), str(seed), str(severity), text]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def render(text, severity, key, settings=SETTINGS):
    """The degraded image of `text` as PNG bytes (lossless wrapper around the JPEG-damaged pixels)."""
    font_px, blur, noise, quality = settings[severity]
    font = ImageFont.truetype(FONT, RENDER_PX)
    ascent, descent = font.getmetrics()
    margin = RENDER_PX
    img = Image.new("L", (round(font.getlength(text)) + 2 * margin, ascent + descent + 2 * margin), 255)
    ImageDraw.Draw(img).text((margin, margin), text, font=font, fill=0)
    # Scan at low resolution: the crisp print shrunk so the font is font_px pixels.
    scale = font_px / RENDER_PX
    img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))), Image.BOX)
    if blur > 0:
        img = img.filter(ImageFilter.GaussianBlur(blur))
    rng = np.random.default_rng(int(key[:16], 16))
    pixels = np.asarray(img, dtype=np.float64) + rng.normal(0.0, noise, (img.height, img.width))
    img = Image.fromarray(np.clip(pixels, 0, 255).round().astype(np.uint8))
    jpeg = io.BytesIO()
    img.save(jpeg, "JPEG", quality=quality)
    png = io.BytesIO()
    Image.open(jpeg).save(png, "PNG")
    return png.getvalue()


def read(png):
    """Tesseract's single-line reading of a PNG, whitespace collapsed."""
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    done = subprocess.run(TESSERACT, input=png, capture_output=True, env=env)
    if done.returncode != 0:
        sys.exit(f"ocr_channel: tesseract failed: {done.stderr.decode(errors='replace').strip()}")
    return " ".join(done.stdout.decode("utf-8", "replace").split())


def channel(text, severity, seed=0, cache=None, settings=SETTINGS):
    """The OCR channel's output for one line of text."""
    if not text.strip():
        return ""
    key = line_key(seed, severity, text, settings)
    path = os.path.join(cache, key[:2], key + ".txt") if cache else None
    if path and os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            return f.read()
    out = read(render(text, severity, key, settings))
    if path:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            f.write(out)
        os.replace(path + ".tmp", path)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--severity", type=int, required=True, choices=sorted(SETTINGS))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache", help="directory memoising outputs by line hash")
    args = ap.parse_args()
    if shutil.which("tesseract") is None:
        sys.exit("ocr_channel: `tesseract` not found; install it with: apt-get install tesseract-ocr")
    if not os.path.exists(FONT):
        sys.exit(f"ocr_channel: font {FONT} not found; install it with: apt-get install fonts-dejavu-core")
    sys.stdin.reconfigure(encoding="utf-8")
    sys.stdout.reconfigure(encoding="utf-8")
    for line in sys.stdin:
        text = line.rstrip("\r\n")
        print(channel(text, args.severity, args.seed, args.cache), flush=True)


if __name__ == "__main__":
    main()
