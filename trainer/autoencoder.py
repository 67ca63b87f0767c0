"""A small frame autoencoder: the transformer can learn in its latent space (Sora's "compression network").

In pixel space the demo's transformer decodes each 4x4 patch with one linear map, and its
samples come out as a mosaic of coloured squares. Here each frame is encoded to a latent
grid 4x smaller on each side; the transformer denoises latents, and a convolutional decoder
trained on the factory's frames draws them back, so at the same number of tokens the
transformer sees 64x64 frames instead of 32x32. It trains first, for a few hundred steps on
the training clips' frames with the instance ids weighting object pixels (small objects are
not averaged into the floor), then stays frozen; `scale` makes latents unit-variance, the
flow noise's scale. At the demo's size (2026-12) its samples were smooth and had a sky, but
the objects stayed blobs and colours were followed less: a lever for larger runs.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from simreel.trainer.config import LATENT_FACTOR as FACTOR


class FrameAutoencoder(nn.Module):
    """Video [B, 3, T, H, W] in [-1, 1] <-> latents [B, C, T, H/4, W/4], frame by frame."""

    def __init__(self, channels: int = 4, width: int = 16):
        super().__init__()
        w = width
        self.channels, self.factor = channels, FACTOR
        self.encoder = nn.Sequential(
            nn.Conv2d(3, w, 3, padding=1), nn.SiLU(),
            nn.Conv2d(w, 2 * w, 4, 2, 1), nn.SiLU(),
            nn.Conv2d(2 * w, 2 * w, 4, 2, 1), nn.SiLU(),
            nn.Conv2d(2 * w, channels, 3, padding=1))
        self.decoder = nn.Sequential(
            nn.Conv2d(channels, 2 * w, 3, padding=1), nn.SiLU(),
            nn.Upsample(scale_factor=2), nn.Conv2d(2 * w, 2 * w, 3, padding=1), nn.SiLU(),
            nn.Upsample(scale_factor=2), nn.Conv2d(2 * w, w, 3, padding=1), nn.SiLU(),
            nn.Conv2d(w, 3, 3, padding=1))
        self.register_buffer("scale", torch.ones(()))

    @staticmethod
    def _frames(x: torch.Tensor) -> torch.Tensor:
        B, C, T, H, W = x.shape
        return x.transpose(1, 2).reshape(B * T, C, H, W)

    @staticmethod
    def _video(y: torch.Tensor, B: int) -> torch.Tensor:
        BT, C, H, W = y.shape
        return y.reshape(B, BT // B, C, H, W).transpose(1, 2)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self._video(self.encoder(self._frames(x)), len(x)) / self.scale

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self._video(self.decoder(self._frames(z * self.scale)), len(z))

    def reconstruction_loss(self, x: torch.Tensor, pixel_weight: torch.Tensor | None = None) -> torch.Tensor:
        """Weighted squared error of frames x [N, 3, H, W] and their reconstruction; pixel_weight [N, H, W]."""
        z = self.encoder(x)
        err = (self.decoder(z) - x) ** 2
        if pixel_weight is not None:
            err = err * pixel_weight[:, None]
            return err.sum() / (pixel_weight.sum() * 3) + 1e-4 * z.pow(2).mean()
        return err.mean() + 1e-4 * z.pow(2).mean()  # a little weight decay on z keeps latents from drifting large

    def flops_per_frame(self, height: int, width: int) -> float:
        """Forward FLOPs of the encoder for one frame (the training loop encodes every clip)."""
        flops, h, w = 0.0, height, width
        for m in self.encoder:
            if isinstance(m, nn.Conv2d):
                h, w = h // m.stride[0], w // m.stride[1]
                flops += 2 * h * w * m.weight.numel()
        return flops


def fit(ae: FrameAutoencoder, stream, steps: int, lr: float, gen: torch.Generator, frames_per_step: int = 32,
        log=None) -> float:
    """Train `ae` on frames drawn from `stream` (the trainer's batches), then set its latent scale
    and freeze it. -> the last reconstruction loss."""
    optimizer = torch.optim.AdamW(ae.parameters(), lr=lr)
    loss = torch.zeros(())
    latents = []
    for step in range(steps):
        videos, _, _, _, weights = next(stream)
        frames = FrameAutoencoder._frames(videos)
        pick = torch.randperm(len(frames), generator=gen)[:frames_per_step]
        weight = None if weights is None else weights.reshape(-1, *weights.shape[-2:])[pick]
        loss = ae.reconstruction_loss(frames[pick], weight)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if steps - step <= 8:
            with torch.no_grad():
                latents.append(ae.encoder(frames[pick]))
        if log is not None and (step + 1) % 50 == 0:
            log(step + 1, loss.item())
    with torch.no_grad():
        ae.scale.fill_(torch.cat(latents).std().clamp(min=1e-3) if latents else 1.0)
    ae.requires_grad_(False)
    return loss.item()


def downsample_weight(weight: torch.Tensor) -> torch.Tensor:
    """Pixel weights [B, T, H, W] -> the latent grid's [B, T, H/4, W/4] (each cell the mean of its pixels)."""
    return F.avg_pool2d(weight, FACTOR)
