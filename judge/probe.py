"""The probe: a small video classifier, trained here on factory clips, that reads a clip's
ground truth (`judge.truth.Truth`) back from its pixels.

No downloaded network may judge, so this one learns from clips whose truth is known.
Its accuracy on factory clips it never saw is the ceiling any generated video can reach
on the same questions; its features are the space the probe Fréchet distance is
measured in. The conv trunk sees the clip plus its frame differences, so motion is one
layer away; colours and their motion also come from the calibrated colour tracker.
"""
from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from simreel.judge.track import Palette, track
from simreel.judge.truth import MOTIONS, Truth

ATTRIBUTES = ("colours", "shapes", "count", "collision", "camera", "motion")
THREADS = 2  # the judge's torch thread count on CPU, whatever OMP_NUM_THREADS or the core count say


@contextmanager
def fixed_threads(n: int = THREADS):
    """Run torch on `n` CPU threads, then restore the caller's count. Reductions split by
    thread count, so the probe would otherwise train to other last bits on each machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@dataclass(frozen=True)
class Vocab:
    """The label space, taken from the probe's training clips (saved with the probe)."""

    colours: tuple[str, ...]
    shapes: tuple[str, ...]
    counts: tuple[int, ...]
    cameras: tuple[str, ...]

    @staticmethod
    def of(truths: list[Truth]) -> "Vocab":
        return Vocab(
            colours=tuple(sorted({c for t in truths for c in t.colours})),
            shapes=tuple(sorted({s for t in truths for s in t.shapes})),
            counts=tuple(sorted({t.count for t in truths})),
            cameras=tuple(sorted({t.camera for t in truths})),
        )


def colour_features(video: np.ndarray, palette: Palette) -> np.ndarray:
    """[C, 6] per palette colour, from the calibrated tracker: how often and how large it is
    seen, and how its centroid moves (first to last sighting, and its highest point).
    Pixels cannot say more plainly whether a colour is there and where it goes."""
    t = track(video, palette)
    out = np.zeros((len(palette.names), 6), np.float32)
    for c in range(len(palette.names)):
        seen = np.flatnonzero(t.present[:, c])
        if len(seen):
            x, y = t.centroid[seen, c, 0], t.centroid[seen, c, 1]
            out[c] = (len(seen) / len(video), 20 * t.area[:, c].max(), 20 * t.area[:, c].mean(),
                      5 * (x[-1] - x[0]), 5 * (y[-1] - y[0]), 5 * (y[-1] - y.min()))
    return out


SCENE_FEATURES = 11


def scene_features(video: np.ndarray) -> np.ndarray:
    """[11]: how much each ninth of the picture changes from frame to frame, and the whole
    picture's mean shift (phase correlation, frame widths per frame). A still camera
    changes only where objects move; a panning or orbiting one shifts everything."""
    grey = np.asarray(video, np.float32).mean(-1) / 255.0
    diff = np.abs(np.diff(grey, axis=0)) if len(grey) > 1 else np.zeros_like(grey)
    cells = [10 * diff[:, ys][:, :, xs].mean() for ys in np.array_split(np.arange(grey.shape[1]), 3)
             for xs in np.array_split(np.arange(grey.shape[2]), 3)]
    shifts = []
    for a, b in zip(grey, grey[1:]):
        cross = np.fft.fft2(a) * np.conj(np.fft.fft2(b))
        peak = np.unravel_index(np.argmax(np.fft.ifft2(cross / (np.abs(cross) + 1e-9)).real), a.shape)
        shifts.append([(p + n // 2) % n - n // 2 for p, n in zip(peak, a.shape)])
    dy, dx = np.mean(shifts, axis=0) / np.array(grey.shape[1:]) if shifts else (0.0, 0.0)
    return np.array(cells + [10 * dx, 10 * dy], np.float32)


class Probe(nn.Module):
    """Reads a clip's truth: a 3D conv trunk's pooled features with `scene_features` for
    shapes, count, collision and camera; for each colour, its tracker features
    (`colour_features`, calibrated on factory clips) with the trunk's, through heads shared
    by all colours, for presence and main motion (sharing lets a few hundred clips teach
    every colour). The count head also sees which colours the probe finds present."""

    def __init__(self, vocab: Vocab, palette: Palette, width: int = 32):
        super().__init__()
        missing = set(vocab.colours) - set(palette.names)
        if missing:
            raise ValueError(f"colours {sorted(missing)} are not in the palette {palette.names}")
        self.vocab, self.palette, self.width = vocab, palette, width
        self.register_buffer("colour_index", torch.tensor([palette.names.index(c) for c in vocab.colours]),
                             persistent=False)
        w = width
        self.trunk = nn.Sequential(
            nn.Conv3d(6, w, 3, stride=(1, 2, 2), padding=1), nn.GroupNorm(4, w), nn.SiLU(),
            nn.Conv3d(w, 2 * w, 3, stride=2, padding=1), nn.GroupNorm(8, 2 * w), nn.SiLU(),
            nn.Conv3d(2 * w, 4 * w, 3, stride=2, padding=1), nn.GroupNorm(8, 4 * w), nn.SiLU(),
        )
        self.dim = 8 * w + SCENE_FEATURES  # mean and max pooled, and the scene features
        v, C = vocab, len(vocab.colours)
        self.count_from_colours = nn.Linear(C, len(v.counts))
        self.camera_from_scene = nn.Linear(SCENE_FEATURES, len(v.cameras))
        self.register_buffer("scene_mean", torch.zeros(SCENE_FEATURES))  # set from the training clips
        self.register_buffer("scene_std", torch.ones(SCENE_FEATURES))
        self.dropout = nn.Dropout(0.3)  # the trunk memorises a few hundred clips otherwise
        self.heads = nn.ModuleDict({
            "shapes": nn.Linear(self.dim, len(v.shapes)),
            "count": nn.Linear(self.dim, len(v.counts)),
            "collision": nn.Linear(self.dim, 1),
            "camera": nn.Linear(self.dim, len(v.cameras)),
        })
        self.colour_bias = nn.Parameter(torch.zeros(C))
        self.per_colour = nn.Sequential(nn.Linear(6 + 16, 32), nn.SiLU(), nn.Linear(32, 1 + len(MOTIONS)))
        self.context = nn.Linear(self.dim, 16)

    def forward(self, x: torch.Tensor, colour_feats: torch.Tensor, scene_feats: torch.Tensor) -> dict:
        """x [B, T, H, W, 3] uint8; colour_feats [B, palette colours, 6] (`colour_features`);
        scene_feats [B, SCENE_FEATURES] (`scene_features`)."""
        x = x.float().permute(0, 4, 1, 2, 3) / 127.5 - 1.0
        diff = torch.cat([torch.zeros_like(x[:, :, :1]), x.diff(dim=2)], dim=2)
        h = self.trunk(torch.cat([x, diff], dim=1))
        scene = (scene_feats - self.scene_mean) / self.scene_std
        f = torch.cat([h.mean(dim=(2, 3, 4)), h.amax(dim=(2, 3, 4)), scene], dim=1)
        out = {k: head(self.dropout(f)) for k, head in self.heads.items()}
        out["camera"] = out["camera"] + self.camera_from_scene(scene)
        cf = colour_feats[:, self.colour_index]  # [B, C, 6]
        ctx = self.context(f)[:, None].expand(-1, cf.shape[1], -1)
        per = self.per_colour(torch.cat([cf, ctx], dim=-1))  # [B, C, 1 + motions]
        out["colours"] = per[..., 0] + self.colour_bias
        out["motion"] = per[..., 1:]
        out["count"] = out["count"] + self.count_from_colours(torch.sigmoid(out["colours"]))
        out["features"] = torch.cat([f, colour_feats.flatten(1)], dim=1)  # the Fréchet distance's space
        return out


def targets(vocab: Vocab, truths: list[Truth]) -> dict[str, torch.Tensor]:
    """Truths -> label tensors; motion is -100 (ignored) for colours absent from a clip."""
    n = len(truths)
    colours = torch.zeros(n, len(vocab.colours))
    shapes = torch.zeros(n, len(vocab.shapes))
    motion = torch.full((n, len(vocab.colours)), -100, dtype=torch.long)
    for i, t in enumerate(truths):
        for c in t.colours & set(vocab.colours):
            colours[i, vocab.colours.index(c)] = 1.0
        for s in t.shapes & set(vocab.shapes):
            shapes[i, vocab.shapes.index(s)] = 1.0
        for c, m in t.motions:
            if c in vocab.colours:
                motion[i, vocab.colours.index(c)] = MOTIONS.index(m)
    index = lambda values, v: torch.tensor([values.index(x) if x in values else -100 for x in v])  # noqa: E731
    return {
        "colours": colours,
        "shapes": shapes,
        "count": index(vocab.counts, [t.count for t in truths]),
        "collision": torch.tensor([[float(t.collision)] for t in truths]),
        "camera": index(vocab.cameras, [t.camera for t in truths]),
        "motion": motion,
    }


def loss(out: dict[str, torch.Tensor], y: dict[str, torch.Tensor], balance: dict[str, torch.Tensor]) -> torch.Tensor:
    """Sum of the heads' losses; `balance` weighs the rare "present" labels of colours and
    shapes as much as the common "absent" ones (else the probe learns to see nothing)."""
    return (
        F.binary_cross_entropy_with_logits(out["colours"], y["colours"], pos_weight=balance["colours"])
        + F.binary_cross_entropy_with_logits(out["shapes"], y["shapes"], pos_weight=balance["shapes"])
        + F.cross_entropy(out["count"], y["count"], ignore_index=-100)
        + F.binary_cross_entropy_with_logits(out["collision"], y["collision"])
        + F.cross_entropy(out["camera"], y["camera"], ignore_index=-100)
        + F.cross_entropy(out["motion"].flatten(0, 1), y["motion"].flatten(), ignore_index=-100)
    )


def train_probe(
    videos: np.ndarray, truths: list[Truth], palette: Palette, *, epochs: int = 30, batch_size: int = 16,
    lr: float = 2e-3, width: int = 32, seed: int = 0, log=None,
) -> Probe:
    """Fit a probe on uint8 clips [N, T, H, W, 3] of one size and their truths (on a GPU if
    there is one; the clips stay in host memory), seeded and on `fixed_threads`."""
    with fixed_threads():
        return _train(videos, truths, palette, epochs=epochs, batch_size=batch_size, lr=lr, width=width, seed=seed,
                      log=log)


def _train(videos, truths, palette, *, epochs, batch_size, lr, width, seed, log) -> Probe:
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)  # parameter init
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    probe = Probe(Vocab.of(truths), palette, width).to(device)
    x, y = torch.from_numpy(np.ascontiguousarray(videos)), targets(probe.vocab, truths)
    cf = torch.from_numpy(np.stack([colour_features(v, palette) for v in videos]))
    sf = torch.from_numpy(np.stack([scene_features(v) for v in videos]))
    probe.scene_mean.copy_(sf.mean(0))
    probe.scene_std.copy_(sf.std(0).clamp(min=1e-3) if len(sf) > 1 else torch.ones_like(sf[0]))
    balance = {k: ((1 - y[k].mean(0)) / y[k].mean(0).clamp(min=1e-3)).clamp(max=20).to(device)
               for k in ("colours", "shapes")}
    steps = epochs * max(len(x) // batch_size, 1)
    opt = torch.optim.AdamW(probe.parameters(), lr=lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.15)
    probe.train()
    step = 0
    for epoch in range(epochs):
        order = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x) - batch_size + 1 if len(x) >= batch_size else 1, batch_size):
            idx = order[i : i + batch_size]
            xb = x[idx]
            if torch.rand(1, generator=gen).item() < 0.5:  # lighting varies; labels do not depend on it
                xb = (xb.float() * (0.85 + 0.3 * torch.rand(len(idx), 1, 1, 1, 1, generator=gen))).clamp(0, 255).byte()
            out = probe(xb.to(device), cf[idx].to(device), sf[idx].to(device))
            batch_loss = loss(out, {k: v[idx].to(device) for k, v in y.items()}, balance)
            opt.zero_grad()
            batch_loss.backward()
            opt.step()
            if step < steps:
                sched.step()
            step += 1
        if log is not None:
            log(f"probe epoch {epoch + 1}/{epochs}: loss {batch_loss.item():.3f}")
    return probe.cpu().eval()


@torch.no_grad()
def read(probe: Probe, videos: np.ndarray, batch_size: int = 32) -> tuple[list[Truth], np.ndarray]:
    """What the probe reads in each clip, and its features (trunk and colour features, for the
    Fréchet distance)."""
    with fixed_threads():
        return _read(probe, videos, batch_size)


def _read(probe: Probe, videos: np.ndarray, batch_size: int) -> tuple[list[Truth], np.ndarray]:
    v = probe.vocab
    readings, feats = [], []
    for i in range(0, len(videos), batch_size):
        chunk = videos[i : i + batch_size]
        cf = torch.from_numpy(np.stack([colour_features(clip, probe.palette) for clip in chunk]))
        sf = torch.from_numpy(np.stack([scene_features(clip) for clip in chunk]))
        out = probe(torch.from_numpy(np.ascontiguousarray(chunk)), cf, sf)
        motion = out["motion"].argmax(-1)
        feats.append(out["features"].numpy())
        for j in range(len(chunk)):
            colours = frozenset(c for c, p in zip(v.colours, out["colours"][j]) if p > 0)
            readings.append(Truth(
                colours=colours,
                shapes=frozenset(s for s, p in zip(v.shapes, out["shapes"][j]) if p > 0),
                count=v.counts[int(out["count"][j].argmax())],
                collision=bool(out["collision"][j, 0] > 0),
                camera=v.cameras[int(out["camera"][j].argmax())],
                motions=tuple((c, MOTIONS[int(motion[j, k])]) for k, c in enumerate(v.colours)),
            ))
    return readings, np.concatenate(feats)


def _f1(pred: frozenset, true: frozenset) -> float:
    if not pred and not true:
        return 1.0
    return 2 * len(pred & true) / (len(pred) + len(true))


def agreement(reading: Truth, truth: Truth) -> dict[str, float]:
    """Per-attribute score of a reading against the truth, each in [0, 1].

    Sets (colours, shapes) score F1; count, collision and camera score exact match;
    motion is the fraction of the truth's colours whose motion the reading names right.
    """
    motions = [reading.motion(c) == m for c, m in truth.motions]
    return {
        "colours": _f1(reading.colours, truth.colours),
        "shapes": _f1(reading.shapes, truth.shapes),
        "count": float(reading.count == truth.count),
        "collision": float(reading.collision == truth.collision),
        "camera": float(reading.camera == truth.camera),
        "motion": float(np.mean(motions)) if motions else float("nan"),
    }


def faithful(reading: Truth, claims: dict) -> dict[str, float]:
    """Per-attribute score of a reading against what a prompt states (`truth.claimed`), in
    [0, 1]: the fraction of named colours (shapes) seen, exact count, collision and camera,
    the fraction of named objects whose motion is read right. Unstated attributes are absent."""
    scores = {}
    if claims.get("colours"):
        scores["colours"] = len(claims["colours"] & reading.colours) / len(claims["colours"])
    if claims.get("shapes"):
        scores["shapes"] = len(claims["shapes"] & reading.shapes) / len(claims["shapes"])
    for a, got in (("count", reading.count), ("collision", reading.collision), ("camera", reading.camera)):
        if a in claims:
            scores[a] = float(got == claims[a])
    if claims.get("motion"):
        scores["motion"] = float(np.mean([reading.motion(c) == m for c, m in claims["motion"].items()]))
    return scores


def prior_reading(truths: list[Truth]) -> Truth:
    """The best constant guess from training truths: what chance means for each attribute."""
    colour_counts = Counter(c for t in truths for c in t.colours)
    shape_counts = Counter(s for t in truths for s in t.shapes)
    count = Counter(t.count for t in truths).most_common(1)[0][0]
    motion = Counter(m for t in truths for _, m in t.motions).most_common(1)[0][0]
    return Truth(
        colours=frozenset(c for c, _ in colour_counts.most_common(count)),
        shapes=frozenset(s for s, _ in shape_counts.most_common(count)),
        count=count,
        collision=Counter(t.collision for t in truths).most_common(1)[0][0],
        camera=Counter(t.camera for t in truths).most_common(1)[0][0],
        motions=tuple((c, motion) for c in sorted(colour_counts)),
    )


def save(probe: Probe, path) -> None:
    vocab = {k: list(v) for k, v in probe.vocab.__dict__.items()}
    torch.save({"vocab": vocab, "palette": probe.palette.to_dict(), "width": probe.width,
                "state": probe.state_dict()}, path)


def load(path) -> Probe:
    d = torch.load(path, map_location="cpu", weights_only=True)
    probe = Probe(Vocab(**{k: tuple(v) for k, v in d["vocab"].items()}), Palette.from_dict(d["palette"]), d["width"])
    probe.load_state_dict(d["state"])
    return probe.eval()
