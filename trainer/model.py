"""VideoDiT: a diffusion transformer over spacetime patches, conditioned on text.

Read top to bottom: patchify -> positions -> time embedding -> attention -> block ->
final layer -> the model -> the named sizes. Shapes: a video is [B, C, T, H, W] in [-1, 1];
inside the blocks tokens are kept as [B, Tp, S, D] (Tp latent frames, S = Hp*Wp patches a
frame) so that the per-frame conditioning (each latent frame has its own diffusion time,
which is what lets clean prefix frames condition the rest) is a plain broadcast.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class DiTConfig:
    width: int = 192
    depth: int = 6
    heads: int = 3
    patch: tuple[int, int, int] = (2, 4, 4)  # (pt, ph, pw)
    channels: int = 3
    mlp_ratio: float = 4.0
    attention: str = "full"  # "full" over all spacetime tokens, or "factorised" spatial then temporal
    context_dim: int = 128  # width of the text tokens cross-attended to
    conv_head: bool = False  # a 3x3 convolution over the decoded frames (as U-ViT): patches that meet at edges

    def __post_init__(self):
        if self.attention not in ("full", "factorised"):
            raise ValueError(f"attention must be 'full' or 'factorised', got {self.attention!r}")
        if self.width % self.heads or (self.width // self.heads) % 2:
            raise ValueError(f"width {self.width} must split into {self.heads} heads of even size")
        if self.width % 2:
            raise ValueError(f"width must be even, got {self.width}")


SIZES = {  # named sizes; tiny: tests in seconds, small: the CPU demo, base: one GPU
    "tiny": dict(width=128, depth=2, heads=2),
    "small": dict(width=256, depth=4, heads=4),
    "base": dict(width=768, depth=12, heads=12),
}


def patchify(x: torch.Tensor, patch: tuple[int, int, int]) -> torch.Tensor:
    """[B, C, T, H, W] -> [B, Tp, Hp, Wp, pt*ph*pw*C]."""
    B, C, T, H, W = x.shape
    pt, ph, pw = patch
    if T % pt or H % ph or W % pw:
        raise ValueError(f"clip of {T} frames at {H}x{W} does not divide into patches {patch}")
    x = x.reshape(B, C, T // pt, pt, H // ph, ph, W // pw, pw)
    return x.permute(0, 2, 4, 6, 3, 5, 7, 1).reshape(B, T // pt, H // ph, W // pw, pt * ph * pw * C)


def unpatchify(x: torch.Tensor, patch: tuple[int, int, int], channels: int) -> torch.Tensor:
    """[B, Tp, Hp, Wp, pt*ph*pw*C] -> [B, C, T, H, W]; the inverse of `patchify`."""
    B, Tp, Hp, Wp, _ = x.shape
    pt, ph, pw = patch
    x = x.reshape(B, Tp, Hp, Wp, pt, ph, pw, channels)
    return x.permute(0, 7, 1, 4, 2, 5, 3, 6).reshape(B, channels, Tp * pt, Hp * ph, Wp * pw)


def sincos(pos: torch.Tensor, dim: int) -> torch.Tensor:
    """Sin-cos features of positions `pos` [...] -> [..., dim] (dim even), as in the Transformer."""
    freqs = torch.exp(-math.log(10000.0) * torch.arange(dim // 2, dtype=torch.float32, device=pos.device) / (dim // 2))
    angles = pos.float()[..., None] * freqs
    return torch.cat([angles.sin(), angles.cos()], dim=-1)


def spacetime_positions(frames: int, height: int, width: int, dim: int, device=None) -> torch.Tensor:
    """Factorised sin-cos positions [frames, height*width, dim] for a patch grid of any size.

    A third of the channels encodes the frame index, a third the row, the rest the column;
    computed on the fly, so clips of any length and aspect ratio share one model.
    """
    dt = dh = 2 * (dim // 6)
    dw = dim - dt - dh
    t, h, w = torch.meshgrid(*(torch.arange(n, device=device) for n in (frames, height, width)), indexing="ij")
    pos = torch.cat([sincos(t, dt), sincos(h, dh), sincos(w, dw)], dim=-1)
    return pos.reshape(frames, height * width, dim)


class TimestepEmbedder(nn.Module):
    """Diffusion time in [0, 1] -> a width-D vector (sin-cos of 1000 t, then an MLP), as in DiT."""

    def __init__(self, width: int, freq_dim: int = 256):
        super().__init__()
        self.freq_dim = freq_dim
        self.mlp = nn.Sequential(nn.Linear(freq_dim, width), nn.SiLU(), nn.Linear(width, width))

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        return self.mlp(sincos(1000.0 * t, self.freq_dim))


class Attention(nn.Module):
    """Multi-head attention with QK-norm (RMSNorm on queries and keys, which keeps logits
    bounded and training stable); self-attention when `context_dim` is None, else cross."""

    def __init__(self, width: int, heads: int, context_dim: int | None = None):
        super().__init__()
        self.heads = heads
        self.cross = context_dim is not None
        if self.cross:
            self.q = nn.Linear(width, width)
            self.kv = nn.Linear(context_dim, 2 * width)
        else:
            self.qkv = nn.Linear(width, 3 * width)
        self.q_norm = nn.RMSNorm(width // heads, eps=1e-6)
        self.k_norm = nn.RMSNorm(width // heads, eps=1e-6)
        self.proj = nn.Linear(width, width)

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None, mask: torch.Tensor | None = None):
        """x [B, N, D]; context [B, L, Dc]; mask [B, L] True where a context token is real."""
        B, N, D = x.shape
        if self.cross:
            q = self.q(x)
            k, v = self.kv(context).chunk(2, dim=-1)
        else:
            q, k, v = self.qkv(x).chunk(3, dim=-1)
        q, k, v = (y.unflatten(-1, (self.heads, -1)).transpose(1, 2) for y in (q, k, v))
        q, k = self.q_norm(q), self.k_norm(k)
        attn_mask = None if mask is None else mask[:, None, None, :]
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
        return self.proj(out.transpose(1, 2).reshape(B, N, D))


def modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """x [B, Tp, S, D] with per-frame shift/scale [B, Tp, D]."""
    return x * (1 + scale[:, :, None]) + shift[:, :, None]


class Block(nn.Module):
    """DiT block with adaLN-Zero: self-attention (full, or spatial then temporal), cross-attention
    to the text, MLP. The modulation layer starts at zero, so every block starts as the identity."""

    def __init__(self, cfg: DiTConfig):
        super().__init__()
        D = cfg.width
        self.factorised = cfg.attention == "factorised"
        self.norm1 = nn.LayerNorm(D, elementwise_affine=False, eps=1e-6)
        self.attn = Attention(D, cfg.heads)
        if self.factorised:
            self.norm_t = nn.LayerNorm(D, elementwise_affine=False, eps=1e-6)
            self.attn_t = Attention(D, cfg.heads)
        self.norm2 = nn.LayerNorm(D, eps=1e-6)
        self.cross = Attention(D, cfg.heads, context_dim=cfg.context_dim)
        self.norm3 = nn.LayerNorm(D, elementwise_affine=False, eps=1e-6)
        hidden = int(D * cfg.mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(D, hidden), nn.GELU(approximate="tanh"), nn.Linear(hidden, D))
        self.n_mod = 9 if self.factorised else 6  # (shift, scale, gate) per modulated sub-layer
        self.adaLN = nn.Sequential(nn.SiLU(), nn.Linear(D, self.n_mod * D))

    def forward(self, x, c, context, mask):
        """x [B, Tp, S, D]; c [B, Tp, D] conditioning per latent frame; context [B, L, Dc]."""
        B, Tp, S, D = x.shape
        mods = self.adaLN(c).chunk(self.n_mod, dim=-1)
        shift1, scale1, gate1, shift3, scale3, gate3 = mods[:6]
        h = modulate(self.norm1(x), shift1, scale1)
        if self.factorised:  # spatial: the tokens of one frame attend to each other
            h = self.attn(h.reshape(B * Tp, S, D)).reshape(B, Tp, S, D)
        else:  # full: every spacetime token attends to every other
            h = self.attn(h.reshape(B, Tp * S, D)).reshape(B, Tp, S, D)
        x = x + gate1[:, :, None] * h
        if self.factorised:  # temporal: one patch position attends across frames
            shift_t, scale_t, gate_t = mods[6:]
            h = modulate(self.norm_t(x), shift_t, scale_t).transpose(1, 2).reshape(B * S, Tp, D)
            h = self.attn_t(h).reshape(B, S, Tp, D).transpose(1, 2)
            x = x + gate_t[:, :, None] * h
        x = x + self.cross(self.norm2(x).reshape(B, Tp * S, D), context, mask).reshape(B, Tp, S, D)
        x = x + gate3[:, :, None] * self.mlp(modulate(self.norm3(x), shift3, scale3))
        return x


class FinalLayer(nn.Module):
    """adaLN-modulated norm, then a zero-initialised linear map back to patch pixels."""

    def __init__(self, cfg: DiTConfig):
        super().__init__()
        D = cfg.width
        self.norm = nn.LayerNorm(D, elementwise_affine=False, eps=1e-6)
        self.linear = nn.Linear(D, math.prod(cfg.patch) * cfg.channels)
        self.adaLN = nn.Sequential(nn.SiLU(), nn.Linear(D, 2 * D))

    def forward(self, x, c):
        shift, scale = self.adaLN(c).chunk(2, dim=-1)
        return self.linear(modulate(self.norm(x), shift, scale))


class VideoDiT(nn.Module):
    """Predicts the flow velocity of a noisy video given per-frame diffusion times and text."""

    def __init__(self, cfg: DiTConfig):
        super().__init__()
        self.cfg = cfg
        D = cfg.width
        self.patch_embed = nn.Linear(math.prod(cfg.patch) * cfg.channels, D)
        self.t_embed = TimestepEmbedder(D)
        self.text_pool = nn.Linear(cfg.context_dim, D)  # pooled caption joins the adaLN input
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.depth))
        self.final = FinalLayer(cfg)
        if cfg.conv_head:
            self.refine = nn.Conv3d(cfg.channels, cfg.channels, (1, 3, 3), padding=(0, 1, 1))
        self.initialize()

    def initialize(self):
        """DiT's scheme: Xavier linears, small time-MLP, zero adaLN and zero output (identity at start)."""
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
        for m in self.t_embed.mlp[0::2]:
            nn.init.normal_(m.weight, std=0.02)
        for block in self.blocks:
            nn.init.zeros_(block.adaLN[-1].weight)
            nn.init.zeros_(block.adaLN[-1].bias)
            nn.init.zeros_(block.cross.proj.weight)  # cross-attention, unmodulated, also starts silent
        for m in (self.final.adaLN[-1], self.final.linear, *([self.refine] if self.cfg.conv_head else [])):
            nn.init.zeros_(m.weight)
            nn.init.zeros_(m.bias)

    def forward(self, x, t, context, mask, pooled):
        """x [B, C, T, H, W]; t [B, T//pt] diffusion time per latent frame (or [B]);
        context [B, L, Dc] text tokens, mask [B, L], pooled [B, Dc] -> velocity like x."""
        cfg = self.cfg
        tokens = self.patch_embed(patchify(x, cfg.patch))  # [B, Tp, Hp, Wp, D]
        B, Tp, Hp, Wp, D = tokens.shape
        x = tokens.reshape(B, Tp, Hp * Wp, D) + spacetime_positions(Tp, Hp, Wp, D, x.device).to(tokens.dtype)
        if t.dim() == 1:
            t = t[:, None].expand(B, Tp)
        c = self.t_embed(t) + self.text_pool(pooled)[:, None]  # [B, Tp, D]
        for block in self.blocks:
            x = block(x, c, context, mask)
        out = unpatchify(self.final(x, c).reshape(B, Tp, Hp, Wp, -1), cfg.patch, cfg.channels)
        return out + self.refine(out) if cfg.conv_head else out

    def flops_per_clip(self, frames: int, height: int, width: int, text_len: int) -> float:
        """Training FLOPs (forward + backward = 3x forward) for one clip: 6 x (weights a token
        meets) x tokens, plus the attention products, which no parameter count sees."""
        cfg = self.cfg
        pt, ph, pw = cfg.patch
        Tp, S = frames // pt, (height // ph) * (width // pw)
        N, D, depth = Tp * S, cfg.width, cfg.depth
        per_token = sum(p.numel() for n, p in self.named_parameters()
                        if p.dim() == 2 and not n.startswith(("t_embed", "text_pool")) and "adaLN" not in n
                        and ".kv." not in n)
        per_frame = sum(p.numel() for n, p in self.named_parameters()
                        if p.dim() == 2 and (n.startswith("t_embed") or "adaLN" in n))
        per_text_token = sum(p.numel() for n, p in self.named_parameters() if ".kv." in n)
        matmuls = 2 * (per_token * N + per_frame * Tp + per_text_token * text_len)
        seq = [(N, N)] if cfg.attention == "full" else [(S, S)] * Tp + [(Tp, Tp)] * S
        attention = depth * (sum(4 * q * k * D for q, k in seq) + 4 * N * text_len * D)
        conv = 2 * 9 * cfg.channels ** 2 * frames * height * width if cfg.conv_head else 0
        return 3.0 * (matmuls + attention + conv)


class TextToVideo(nn.Module):
    """The unit that trains: a text encoder, the DiT and, when it learns in a latent space, the frame
    autoencoder (trainer/autoencoder.py); one module for DDP, EMA and checkpoints."""

    def __init__(self, text: nn.Module, dit: VideoDiT, autoencoder: nn.Module | None = None):
        super().__init__()
        self.text, self.dit, self.autoencoder = text, dit, autoencoder

    @torch.no_grad()
    def to_latent(self, video: torch.Tensor) -> torch.Tensor:
        """Pixels [B, 3, T, H, W] in [-1, 1] -> what the DiT denoises (the pixels themselves without an autoencoder)."""
        return video if self.autoencoder is None else self.autoencoder.encode(video)

    @torch.no_grad()
    def to_pixels(self, latent: torch.Tensor) -> torch.Tensor:
        return latent if self.autoencoder is None else self.autoencoder.decode(latent)

    def latent_size(self, height: int, width: int) -> tuple[int, int]:
        f = 1 if self.autoencoder is None else self.autoencoder.factor
        return height // f, width // f

    def encode(self, captions: list[str]):
        """-> (context [B, L, Dc], mask [B, L], pooled [B, Dc]) on the DiT's device."""
        return self.text(captions, device=self.dit.patch_embed.weight.device)

    def forward(self, x, t, captions: list[str]):
        return self.dit(x, t, *self.encode(captions))

    def flops_per_clip(self, frames: int, height: int, width: int) -> float:
        """Training FLOPs for one captioned clip, text encoder included."""
        h, w = self.latent_size(height, width)
        encode = 0.0 if self.autoencoder is None else frames * self.autoencoder.flops_per_frame(height, width)
        return self.dit.flops_per_clip(frames, h, w, self.text.length) + self.text.flops_per_caption() + encode


def build_dit(size: str, **overrides) -> VideoDiT:
    """A named size (`SIZES`), with any DiTConfig field overridden."""
    if size not in SIZES:
        raise ValueError(f"unknown model size {size!r}; choose one of {sorted(SIZES)}")
    return VideoDiT(DiTConfig(**{**SIZES[size], **{k: v for k, v in overrides.items() if v is not None}}))
