"""What we tried to make the demo's model follow its captions, as measured: the report's appendix.

Rows are records of runs, not figures this code computes; each says what it was measured with.
Update them when a lever is tried (the note of the change says the command).
"""
from __future__ import annotations

DEMO_SCALE = "the demo (configs/demo.yaml: 1,200 steps, 16 frames at 32x32, ~1M parameters), judged by its own judge on 24 prompts"
SCREEN = ("screening: the demo's model at 600 steps on 8 frames, 1 thread; colour F1 of the palette tracker on 48 "
          "eval prompts, own caption − other captions")

DEMO = {  # lever -> the demo judge's figures (colours: generated [ci95] / ceiling, floor, gain [ci95])
    "as in the issue (2026-11)": {"colours": "0.04 / 0.85", "floor": "0.00", "gain": "0.04",
                                  "objects seen": "0.08", "position error (copy-last 0.177)": "0.191"},
    "objects ×4, clean-clip loss at every t, 30% uniform t": {
        "colours": "0.46 [0.27, 0.65] / 0.79", "floor": "0.43", "gain": "0.03 [−0.13, 0.20]",
        "objects seen": "0.72", "position error (copy-last 0.177)": "0.187"},
    "+ word embeddings at unit scale (24 prompts)": {
        "colours": "0.58 [0.42, 0.75] / 0.79", "floor": "0.38", "gain": "0.21 [0.03, 0.38]",
        "objects seen": "0.75", "position error (copy-last 0.177)": "0.223"},
    "  the same model, all 48 eval captions as prompts (the demo since 2026-11-28)": {
        "colours": "0.62 [0.49, 0.73] / 0.79", "floor": "0.35", "gain": "0.27 [0.14, 0.38]",
        "objects seen": "0.74", "position error (copy-last 0.177)": "0.223"},
    "  1,600 steps instead of 1,200, 48 prompts (12.7 min: too near the 15)": {
        "colours": "0.62 [0.49, 0.73] / 0.79", "floor": "0.31", "gain": "0.30 [0.17, 0.43]",
        "objects seen": "0.63", "position error (copy-last 0.177)": "0.219"},
    "  the same model, continuations at guidance 1, prompts at 4 (the demo since 2026-11-28)": {
        "colours": "0.62 [0.49, 0.73] / 0.79", "floor": "0.35", "gain": "0.27 [0.14, 0.38]",
        "objects seen": "0.74", "position error (copy-last 0.177)": "0.174 [0.148, 0.199]"},
    "  + a 3x3 conv after the patch decoder (U-ViT; motion gain −0.09 [−0.20, 0.03], was 0.06: not kept)": {
        "colours": "0.75 [0.64, 0.85] / 0.79", "floor": "0.38", "gain": "0.37 [0.27, 0.48]",
        "objects seen": "0.80", "position error (copy-last 0.177)": "0.203 [0.171, 0.231]"},
    "  the same model, guidance 2 instead of 4 (24 prompts)": {
        "colours": "0.54 [0.35, 0.71] / 0.79", "floor": "0.31", "gain": "0.23 [0.05, 0.41]",
        "objects seen": "0.75", "position error (copy-last 0.177)": "0.188"},
    "a fresh machine, 2026-12-08 (PyAV 18, another CPU: the probe reads a higher floor): the demo as it was": {
        "colours": "0.72 [0.60, 0.82] / 0.77", "floor": "0.47", "gain": "0.25 [0.14, 0.36]",
        "objects seen": "0.85", "position error (copy-last 0.177)": "0.22 [0.17, 0.28] (copy-last 0.20)"},
    "  + lr decayed by a cosine to 0.1x (motion gain −0.05 → 0.04; the demo since 2026-12-08)": {
        "colours": "0.70 [0.58, 0.81] / 0.77", "floor": "0.45", "gain": "0.25 [0.13, 0.36]",
        "objects seen": "0.83", "position error (copy-last 0.177)": "0.24 [0.20, 0.29] (copy-last 0.20)"},
    "    the same model, guidance 7 instead of 4 (floor rises with it)": {
        "colours": "0.77 [0.67, 0.88] / 0.77", "floor": "0.53", "gain": "0.24 [0.12, 0.34]",
        "objects seen": "0.83", "position error (copy-last 0.177)": "0.24 [0.20, 0.29] (copy-last 0.20)"},
    "    + the 3x3 conv head": {
        "colours": "0.73 [0.61, 0.84] / 0.77", "floor": "0.51", "gain": "0.22 [0.10, 0.33]",
        "objects seen": "0.87", "position error (copy-last 0.177)": "0.26 [0.21, 0.32] (copy-last 0.20)"},
    "    + 10% of clips at t = 1 exactly (loss at t = 1: 0.089 → 0.080, the mean clip's; captions still read as noise)": {
        "colours": "0.67 [0.55, 0.79] / 0.77", "floor": "0.48", "gain": "0.19 [0.06, 0.31]",
        "objects seen": "0.86", "position error (copy-last 0.177)": "0.25 [0.20, 0.31] (copy-last 0.20)"},
    "    latents of a frame autoencoder, 64x64 frames, 2x2x2 latent patches (motion gain 0.11 [−0.00, 0.24])": {
        "colours": "0.40 [0.27, 0.52] / 0.85", "floor": "0.32", "gain": "0.08 [−0.02, 0.17]",
        "objects seen": "0.56", "position error (copy-last 0.177)": "0.22 [0.17, 0.27] (copy-last 0.20)"},
}

SCREENED = {  # lever -> own − other colour F1 (n = 48; noise about ±0.04) and training minutes (most on a loaded machine)
    "text at std 0.02 (before)": {"gain": 0.008, "minutes": 4.3},
    "  + input faded out above t = 0.95, 15% of t there": {"gain": -0.028, "minutes": 4.0},
    "  + the same, short captions only": {"gain": -0.032, "minutes": 5.6},
    "text at unit scale": {"gain": 0.061, "minutes": 4.5},
    "  + input faded out above t = 0.95": {"gain": 0.036, "minutes": 4.5},
    "  + objects ×8 (colour washes, no objects)": {"gain": 0.101, "minutes": 6.5},
    "  + no pooled caption in adaLN": {"gain": 0.078, "minutes": 4.3},
    "  + a 3x3 conv after the patch decoder (U-ViT)": {"gain": 0.093, "minutes": 2.3},
}

SCALING_SCALE = ("configs/learn.yaml on 2026-11-28 (1,984 training clips, 1,800 steps, 96 prompts, 24 continuations; "
                 "continuations at guidance 4): each row one model with one setting changed, judged like the main one")

SCALING = {  # study point -> caption following gain, colours gain [ci95] / generated, position error [ci95]
    "main: 1,984 clips, 1,800 steps, width 96": {"following": "0.14 [0.10, 0.18]", "colours": "0.37 [0.30, 0.44] / 0.78",
                                                "position error (copy-last 0.146, linear 0.312)": "0.186 [0.155, 0.220]"},
    "250 clips": {"following": "0.14 [0.10, 0.18]", "colours": "0.35 [0.28, 0.43] / 0.71",
                  "position error (copy-last 0.146, linear 0.312)": "0.205 [0.173, 0.237]"},
    "1,000 clips": {"following": "0.16 [0.11, 0.20]", "colours": "0.35 [0.27, 0.43] / 0.65",
                    "position error (copy-last 0.146, linear 0.312)": "0.208 [0.164, 0.254]"},
    "450 steps": {"following": "0.04 [0.00, 0.08]", "colours": "0.09 [0.02, 0.17] / 0.48",
                  "position error (copy-last 0.146, linear 0.312)": "0.240 [0.197, 0.284]"},
    "900 steps": {"following": "0.08 [0.02, 0.14]", "colours": "0.26 [0.17, 0.34] / 0.46",
                  "position error (copy-last 0.146, linear 0.312)": "0.199 [0.163, 0.238]"},
    "width 48": {"following": "0.10 [0.06, 0.14]", "colours": "0.35 [0.27, 0.43] / 0.61",
                 "position error (copy-last 0.146, linear 0.312)": "0.224 [0.193, 0.256]"},
    "width 72": {"following": "0.14 [0.10, 0.18]", "colours": "0.37 [0.29, 0.45] / 0.62",
                 "position error (copy-last 0.146, linear 0.312)": "0.210 [0.177, 0.242]"},
}
