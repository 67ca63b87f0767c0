"""Rectified flow: the training objective, the held-out loss and the Euler sampler.

Convention (as in SD3): t = 0 is data, t = 1 is noise, and the path between is straight,
x_t = (1 - t) x0 + t * noise, whose velocity is v = dx_t/dt = noise - x0. Sampling
integrates v from t = 1 down to t = 0. Every latent frame (pt video frames) has its own t:
frames given clean as a condition sit at t = 0 and carry no loss.

The network predicts the clean clip x0 and the velocity is derived from it,
v = (x_t - x0_hat) / t, with the loss taken on v (as in JiT, Li & He 2025). In pixel
space a patch holds more numbers than a small model is wide (2x4x4x3 = 96 here): asked
for v directly, the network must copy the noise through that bottleneck and it learned
only the background in our trials; asked for x0 it learns the scene. Times are drawn
logit-normal with a mean shifted towards noise (t_mean = 1 by default): near t = 0 the
clip is visible and the caption is useless, so with a centred draw the caption was not
learned in 200 steps on 8 clips, with the shift it was in every trial.
All randomness comes from an explicit CPU torch.Generator, so CPU and GPU runs draw alike.
"""
from __future__ import annotations

import torch

HELDOUT_TIMES = (0.1, 0.3, 0.5, 0.7, 0.9, 1.0)  # 1.0: pure noise, where sampling starts
T_MIN = 0.05  # v = (x_t - x0_hat) / t divides by at least this: the loss weight 1/t^2 stays bounded


def logit_normal(n: int, gen: torch.Generator, mean: float = 0.0, std: float = 1.0) -> torch.Tensor:
    """Diffusion times in (0, 1): sigmoid of a normal draw, so the ends (trivial) are rare."""
    return torch.sigmoid(mean + std * torch.randn(n, generator=gen))


def noisy(x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor, pt: int) -> torch.Tensor:
    """x_t for clips [B, C, T, H, W] at per-latent-frame times t [B, T // pt]."""
    tt = t.repeat_interleave(pt, dim=1)[:, None, :, None, None].to(x0.dtype)
    return (1 - tt) * x0 + tt * noise


def velocity(x0_hat: torch.Tensor, x: torch.Tensor, t: torch.Tensor, pt: int, t_min: float = T_MIN) -> torch.Tensor:
    """The flow velocity implied by a clean-clip prediction at x_t, per-latent-frame times t."""
    tt = t.repeat_interleave(pt, dim=1)[:, None, :, None, None].clamp(min=t_min)
    return (x - x0_hat.float()) / tt


def training_loss(model, x0: torch.Tensor, captions: list[str], gen: torch.Generator, *,
                  caption_dropout: float = 0.1, cond_prob: float = 0.25, t_mean: float = 1.0, t_std: float = 1.0,
                  t_uniform: float = 0.0, t_one: float = 0.0, loss_t_min: float = T_MIN,
                  pixel_weight: torch.Tensor | None = None):
    """Flow-matching loss for a batch of clips x0 [B, C, T, H, W] in [-1, 1].

    Captions are blanked with probability `caption_dropout` (the unconditional branch of
    guidance); with probability `cond_prob` a random prefix of latent frames is given clean.
    A `t_uniform` share of the clips draws its time uniformly, so that t near 1, where
    sampling starts, is trained too, and a `t_one` share sits at t = 1 exactly. Below it a
    clip's floor and sky colours can be read from the noisy input itself, averaged over
    thousands of pixels, even at t = 0.99: only at t = 1 must the caption say them, and a
    model that never learned that starts every sample from a random colour. The velocity
    error (x0 - x0_hat) / t is taken with t no smaller than `loss_t_min` (1.0: a plain
    clean-clip error at every t).
    `pixel_weight` [B, T, H, W] weights pixels (e.g. objects over the floor).
    Returns (loss, t [B], per-clip loss [B] detached) for per-time-bin logging.
    """
    B, device = x0.shape[0], x0.device
    pt = _dit(model).cfg.patch[0]
    Tp = x0.shape[2] // pt
    t = logit_normal(B, gen, t_mean, t_std)
    if t_uniform:
        t = torch.where(torch.rand(B, generator=gen) < t_uniform, torch.rand(B, generator=gen), t)
    if t_one:
        t = torch.where(torch.rand(B, generator=gen) < t_one, torch.ones(B), t)
    frames_t = t[:, None].repeat(1, Tp)
    if Tp > 1:
        prefix = torch.randint(1, Tp, (B,), generator=gen) * (torch.rand(B, generator=gen) < cond_prob)
        frames_t[torch.arange(Tp)[None, :] < prefix[:, None]] = 0.0
    keep = torch.rand(B, generator=gen) >= caption_dropout
    captions = [c if k else "" for c, k in zip(captions, keep.tolist())]
    noise = torch.randn(x0.shape, generator=gen).to(device)
    frames_t = frames_t.to(device)
    x = noisy(x0, noise, frames_t, pt)
    x0_hat = model(x, frames_t, captions).float()
    # v_hat - v = (x0 - x0_hat) / t: the velocity error, its weight 1 / t^2 capped at 1 / loss_t_min^2
    tt = frames_t.repeat_interleave(pt, dim=1)[:, None, :, None, None].clamp(min=loss_t_min)
    weight = (frames_t > 0).repeat_interleave(pt, dim=1)[:, None, :, None, None].float()  # no loss on given frames
    if pixel_weight is not None:
        weight = weight * pixel_weight.to(device)[:, None]
    err = (((x0 - x0_hat) / tt) ** 2) * weight
    per_clip = err.flatten(1).sum(1) / weight.expand_as(err).flatten(1).sum(1)  # a weighted mean per clip
    return per_clip.mean(), t, per_clip.detach()


@torch.no_grad()
def heldout_loss(model, clips: torch.Tensor, captions: list[str], *, times=HELDOUT_TIMES, seed: int = 0,
                 batch_size: int = 8) -> dict[float, float]:
    """Loss at fixed diffusion times with fixed noise: deterministic, so runs compare.

    No caption dropout, no clean prefix; `clips` [N, C, T, H, W]. -> {t: mean loss}.
    """
    gen = torch.Generator().manual_seed(seed)
    pt = _dit(model).cfg.patch[0]
    Tp, device = clips.shape[2] // pt, _device(model)
    noise = torch.randn(clips.shape, generator=gen)
    totals = {t: 0.0 for t in times}
    for i in range(0, len(clips), batch_size):
        x0, eps = clips[i: i + batch_size].to(device), noise[i: i + batch_size].to(device)
        context = _dit_context(model, captions[i: i + batch_size])
        for t in times:
            frames_t = torch.full((len(x0), Tp), t, device=device)
            x = noisy(x0, eps, frames_t, pt)
            v = velocity(_dit(model)(x, frames_t, *context), x, frames_t, pt)
            totals[t] += ((v - (eps - x0)) ** 2).mean(dim=(1, 2, 3, 4)).sum().item()
    return {t: total / len(clips) for t, total in totals.items()}


def mean_clip_loss(clips: torch.Tensor) -> float:
    """The held-out loss at t = 1 of a guess that ignores noise and caption alike: each clip
    scored against the mean of the others. A model above it at t = 1 starts every sample
    from a worse guess than the average clip, and its samples stay flat (the demo's models
    of 2026-11 sat there); below it, the caption tells the model something."""
    if len(clips) < 2:
        return float("nan")
    others = (clips.sum(0, keepdim=True) - clips) / (len(clips) - 1)
    return ((clips - others) ** 2).mean().item()


def guided_velocity(model, x: torch.Tensor, t: torch.Tensor, context, guidance: float) -> torch.Tensor:
    """Classifier-free guidance: v_uncond + guidance * (v_cond - v_uncond), both in one batch.

    `context` encodes the B captions followed by B empty captions (see `sample`);
    guidance 1 is the conditional prediction, 0 the unconditional one. The sampler never
    evaluates t = 0 for frames it generates, so t is not clipped here: an Euler step then
    moves exactly towards the predicted clean clip and the last step lands on it.
    """
    dit = _dit(model)
    x0_hat = dit(torch.cat([x, x]), torch.cat([t, t]), *context)
    v_cond, v_uncond = velocity(x0_hat, torch.cat([x, x]), torch.cat([t, t]), dit.cfg.patch[0], 1e-6).chunk(2)
    return v_uncond + guidance * (v_cond - v_uncond)


@torch.no_grad()
def sample(model, captions: list[str], frames: int, height: int, width: int, *, steps: int = 50,
           guidance: float = 3.0, seed: int = 0, first: torch.Tensor | None = None) -> torch.Tensor:
    """Generate clips [B, 3, frames, height, width] in [-1, 1] with `steps` Euler steps (in the
    autoencoder's latent space when the model has one, decoded at the end).

    `first` [B, 3, k, height, width] (k a multiple of the temporal patch, k < frames) are
    given clean at t = 0 and the model continues them; they are returned unchanged.
    """
    dit, device, unit = _dit(model), _device(model), getattr(model, "module", model)
    pt, C, B = dit.cfg.patch[0], dit.cfg.channels, len(captions)
    if frames % pt:
        raise ValueError(f"frames ({frames}) must be a multiple of the temporal patch size {pt}")
    k = 0 if first is None else first.shape[2]
    if k % pt or k >= frames:
        raise ValueError(f"{k} first frames: need a multiple of {pt} below {frames}")
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn((B, C, frames, *unit.latent_size(height, width)), generator=gen).to(device)
    given = unit.to_latent(first.to(device)) if k else None
    context = _dit_context(model, list(captions) + [""] * B)
    ts = torch.linspace(1.0, 0.0, steps + 1)
    for i in range(steps):
        frames_t = torch.full((B, frames // pt), ts[i].item(), device=device)
        frames_t[:, : k // pt] = 0.0
        if k:
            x[:, :, :k] = given
        x = x + (ts[i + 1] - ts[i]).item() * guided_velocity(model, x, frames_t, context, guidance)
    x = unit.to_pixels(x)
    if k:
        x[:, :, :k] = first.to(device)
    return x.clamp(-1, 1)


def _dit(model):
    return getattr(model, "module", model).dit  # DDP wraps the TextToVideo in .module


def _device(model):
    return _dit(model).patch_embed.weight.device


def _dit_context(model, captions):
    return getattr(model, "module", model).encode(captions)
