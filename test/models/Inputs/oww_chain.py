"""openWakeWord end to end, as upstream openWakeWord streams it
(docs/models.md, "The chain"): audio -> melspectrogram -> embedding ->
a wake-word head, each stage run by ONNX Runtime or by a qnnc build.

  oww_chain.py speak --set NAME --out DIR
      The utterances of set NAME (UTTERANCES), spoken by espeak-ng and
      resampled to 16 kHz as make_inputs.py speech does (half a second of
      silence either side), each after LEAD more seconds of silence:
      DIR/calib/U.npy and DIR/eval/U.npy, int16 values as f32 [1, n].

  oww_chain.py run WORK AUDIO_DIR... --mel RUNNER --emb RUNNER --head RUNNER
      Runs the chain on every AUDIO_DIR/U.npy (names unique across the
      folders).  A RUNNER is `ort MODEL`
      (ONNX Runtime, Inputs/ort_run.js) or a command that takes
      `--runs LIST` (qnnc-run MODEL.qir, scripts/run-target TARGET EXE),
      as one string.  Streaming, as upstream openWakeWord:
        - every 1,280 new samples, melspectrogram.onnx on those and the
          480 before them (1,760 samples -> 8 frames of 32 bands):
          WORK/mel_in/U_CCC.npy -> WORK/mel/U_CCC.0.npy;
        - the frames, scaled x/10 + 2 (openWakeWord's melspec_transform),
          join the utterance's frame buffer; once it holds 76 frames,
          every chunk gives one embedding of the last 76 frames:
          WORK/emb_in/U_EEE.npy [1,76,32,1] -> WORK/emb/U_EEE.0.npy [1,1,1,96];
        - once 16 embeddings are there, every new one gives a head score
          on the last 16: WORK/head_in/U_HHH.npy [1,16,96] ->
          WORK/score/U_HHH.0.npy [1,1];
        - WORK/max/U.0.npy: the utterance's highest score (what
          openWakeWord compares with its threshold, 0.5).
      Stages run one after the other over all utterances (each stage is a
      function of the one before: the same values as chunk by chunk), one
      process per stage.  Each stage's inputs are the previous stage's
      outputs of this same runner chain, never ONNX Runtime's.

  oww_chain.py pick SRC DST PREFIX N
      Copies N of the files SRC/PREFIX*.npy, evenly spread in name order,
      to DST (a calibration set from a chain's stage inputs).

  oww_chain.py compare REF GOT --label L "STAGE [NPYCMP OPTION]..."...
      npycmp.py REF/STAGE GOT/STAGE --label L-STAGE OPTIONS for each
      argument (STAGE: mel, emb, score or max), in one process; exits 1
      if any comparison fails.

The buffers start empty for each utterance (upstream starts its mel
buffer with ones and its embeddings with those of noise; the silence
before the speech stands in for them), so an utterance of n samples gives
(n - 1760) / 1280 + 1 melspectrogram runs, 9 fewer embeddings and 15 fewer
head scores than that: the first head window covers the first 2 seconds.
"""
import argparse
import os
import shlex
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

CHUNK, CONTEXT, FRAMES, EMB_WINDOW, HEAD_WINDOW = 1280, 480, 8, 76, 16
LEAD = 0.5

# Per set, (name, text, voice, words per minute).  Calibration and
# evaluation never share a voice and sentence.
UTTERANCES = {
    # "Hey Jarvis" slowly in two voices (what makes the head fire,
    # make_inputs.py --wake) and at the usual rate at the start of a
    # sentence (fires too); a sentence without it.
    "jarvis": {
        "calib": [("cal_jarvis_us", "Hey Jarvis", "en-us", 120),
                  ("cal_weather", "What is the weather like tomorrow?", "en-us", 150)],
        "eval": [("ev_jarvis_gb", "Hey Jarvis", "en-gb", 120),
                 ("ev_jarvis_door", "Hey Jarvis, open the garage door.", "en-us", 150),
                 ("ev_alexa", "Alexa, play some music.", "en-us", 150)],
    },
    # espeak-ng says "Mycroft" as one word in a way hey_mycroft does not
    # take (ORT's highest score over 18 voices and rates: 0.02); spelt
    # "My croft" it fires in most voices at 130-160 words a minute.
    "mycroft": {
        "calib": [("cal_mycroft_us", "Hey My croft", "en-us", 160),
                  ("cal_mycroft_scot", "Hey My croft", "en-gb-scotland", 160),
                  ("cal_mycroft_one", "Hey Mycroft", "en-us", 130),
                  ("cal_fox", "The quick brown fox jumps over the lazy dog.", "en-us", 150)],
        "eval": [("ev_mycroft_gb", "Hey My croft", "en-gb", 130),
                 ("ev_mycroft_rp", "Hey My croft", "en-gb-x-rp", 130),
                 ("ev_mycroft_f3", "Hey My croft", "en-us+f3", 160),
                 ("ev_mycroft_one", "Hey Mycroft", "en-gb", 130),
                 ("ev_timer", "Set a timer for five minutes.", "en-us", 150)],
    },
}


def save(path, x):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    np.save(path, np.ascontiguousarray(x))


def speak_all(a):
    from make_inputs import speak
    with tempfile.TemporaryDirectory() as tmp:
        for part, utts in UTTERANCES[a.set].items():
            for name, text, voice, wpm in utts:
                pcm = speak(text, os.path.join(tmp, "s.wav"), voice, wpm)
                audio = np.concatenate([np.zeros(int(LEAD * 16000), np.int16), pcm])
                save(os.path.join(a.out, part, name + ".npy"), audio.astype(np.float32)[None])
    print(f"speak: {sum(len(u) for u in UTTERANCES[a.set].values())} utterances in {a.out}")


def run_stage(runner, ind, outd):
    """Runs RUNNER once per IN_DIR/STEM.npy, writing OUT_DIR/STEM.0.npy."""
    argv = shlex.split(runner)
    if argv[0] == "ort":
        if len(argv) != 2:
            sys.exit(f"oww_chain: error: runner '{runner}': 'ort MODEL'")
        argv = ["node", os.path.join(HERE, "ort_run.js"), argv[1], "--each", ind, outd]
    else:
        argv = [sys.executable, os.path.join(HERE, "each.py"), ind, outd, "1"] + argv
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode != 0:
        sys.stderr.write(r.stdout + r.stderr)
        sys.exit(f"oww_chain: error: {' '.join(argv)}: exit status {r.returncode}")


def by_utt(d):
    """{utterance: [arrays in order]} of D/U_NNN.0.npy."""
    out = {}
    for f in sorted(os.listdir(d)):
        out.setdefault(f.rsplit("_", 1)[0], []).append(np.load(os.path.join(d, f)))
    return out


def run(a):
    w = a.work
    utts = []
    for d in a.audio:
        names = sorted(f for f in os.listdir(d) if f.endswith(".npy"))
        if not names:
            sys.exit(f"oww_chain: error: {d}: no .npy files")
        utts += [(f[:-4], os.path.join(d, f)) for f in names]
    for u, path in utts:
        x = np.load(path).astype(np.float32).reshape(1, -1)
        n = CHUNK + CONTEXT
        for c, s in enumerate(range(0, x.shape[1] - n + 1, CHUNK)):
            save(os.path.join(w, "mel_in", f"{u}_{c:03d}.npy"), x[:, s:s + n])
    run_stage(a.mel, os.path.join(w, "mel_in"), os.path.join(w, "mel"))
    for u, mels in by_utt(os.path.join(w, "mel")).items():
        frames = np.concatenate([m.reshape(-1, 32) for m in mels]) / np.float32(10) + np.float32(2)
        e = 0
        for end in range(FRAMES, frames.shape[0] + 1, FRAMES):
            if end >= EMB_WINDOW:
                win = frames[end - EMB_WINDOW:end].reshape(1, EMB_WINDOW, 32, 1)
                save(os.path.join(w, "emb_in", f"{u}_{e:03d}.npy"), win.astype(np.float32))
                e += 1
    run_stage(a.emb, os.path.join(w, "emb_in"), os.path.join(w, "emb"))
    for u, embs in by_utt(os.path.join(w, "emb")).items():
        embs = np.stack([x.reshape(96) for x in embs])
        for h in range(embs.shape[0] - HEAD_WINDOW + 1):
            save(os.path.join(w, "head_in", f"{u}_{h:03d}.npy"),
                 embs[h:h + HEAD_WINDOW][None].astype(np.float32))
    run_stage(a.head, os.path.join(w, "head_in"), os.path.join(w, "score"))
    scores = by_utt(os.path.join(w, "score"))
    for u, s in scores.items():
        save(os.path.join(w, "max", f"{u}.0.npy"), np.max(np.stack(s)).reshape(1, 1).astype(np.float32))
    n = {k: len(os.listdir(os.path.join(w, k))) for k in ("mel", "emb", "score")}
    print(f"chain: {len(utts)} utterances, {n['mel']} melspectrogram runs, {n['emb']} embeddings, "
          f"{n['score']} head scores")
    for u in sorted(scores):
        print(f"chain: {u}: highest score {float(np.max(scores[u])):.4f}")


def pick(a):
    import shutil
    names = sorted(f for f in os.listdir(a.src) if f.startswith(a.prefix) and f.endswith(".npy"))
    if not names:
        sys.exit(f"oww_chain: error: {a.src}: no {a.prefix}*.npy files")
    if len(names) > a.n:
        names = [names[int(i * len(names) / a.n)] for i in range(a.n)]
    os.makedirs(a.dst, exist_ok=True)
    for f in names:
        shutil.copy(os.path.join(a.src, f), os.path.join(a.dst, f))
    print(f"pick: {len(names)} files to {a.dst}")


def compare(a):
    import npycmp
    fail = 0
    for spec in a.stages:
        stage, *opts = shlex.split(spec)
        fail |= npycmp.main([os.path.join(a.ref, stage), os.path.join(a.got, stage),
                             "--label", f"{a.label}-{stage}"] + opts)
    return fail


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("speak")
    p.add_argument("--set", required=True, choices=sorted(UTTERANCES))
    p.add_argument("--out", required=True)
    p = sub.add_parser("run")
    p.add_argument("work")
    p.add_argument("audio", nargs="+")
    p.add_argument("--mel", required=True)
    p.add_argument("--emb", required=True)
    p.add_argument("--head", required=True)
    p = sub.add_parser("pick")
    p.add_argument("src")
    p.add_argument("dst")
    p.add_argument("prefix")
    p.add_argument("n", type=int)
    p = sub.add_parser("compare")
    p.add_argument("ref")
    p.add_argument("got")
    p.add_argument("--label", required=True)
    p.add_argument("stages", nargs="+")
    a = ap.parse_args()
    return {"speak": speak_all, "run": run, "pick": pick, "compare": compare}[a.cmd](a) or 0


if __name__ == "__main__":
    sys.exit(main())
