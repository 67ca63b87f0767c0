"""The DiT, text encoder, flow objective and sampler on tensors (no dataset needed)."""
from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from simreel.trainer import flow
from simreel.trainer.model import TextToVideo, build_dit, patchify, unpatchify
from simreel.trainer.text import FrozenEncoder, TextEncoder, Tokenizer, words

CAPTIONS = ["a red cube falls onto the floor", "a blue ball rolls left", "two green cylinders collide"]


def make_model(attention="full", patch=(2, 4, 4), seed=0, randomize=True) -> TextToVideo:
    """A tiny model; `randomize` also fills the zero-initialised layers so outputs depend on inputs."""
    torch.manual_seed(seed)
    text = TextEncoder(Tokenizer.build(CAPTIONS), width=32, depth=1, heads=2, length=16)
    model = TextToVideo(text, build_dit("tiny", width=32, heads=2, patch=patch, attention=attention, context_dim=32))
    if randomize:
        with torch.no_grad():
            for p in model.parameters():
                p.add_(0.05 * torch.randn_like(p))
    return model.eval()


def videos(b=2, t=8, h=16, w=16, seed=1):
    return torch.rand((b, 3, t, h, w), generator=torch.Generator().manual_seed(seed)) * 2 - 1


def test_patchify_roundtrip():
    x = videos(2, 8, 16, 24)
    p = patchify(x, (2, 4, 4))
    assert p.shape == (2, 4, 4, 6, 2 * 4 * 4 * 3)
    assert torch.equal(unpatchify(p, (2, 4, 4), 3), x)
    with pytest.raises(ValueError, match="does not divide"):
        patchify(videos(1, 7, 16, 16), (2, 4, 4))


def test_variable_frame_count_and_size_through_one_model():
    model = make_model().train()
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(0)
    for shape in [(8, 16, 16), (4, 16, 32), (12, 8, 24)]:
        x = videos(2, *shape)
        v = model(x, torch.rand(2), CAPTIONS[:2])
        assert v.shape == x.shape and torch.isfinite(v).all()
        loss, t, per_clip = flow.training_loss(model, x, CAPTIONS[:2], gen)
        opt.zero_grad()
        loss.backward()
        assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
        opt.step()


def test_adaln_zero_starts_as_identity():
    model = make_model(randomize=False)
    x = videos()
    assert torch.equal(model(x, torch.rand(2), CAPTIONS[:2]), torch.zeros_like(x))  # zero final layer
    block = model.dit.blocks[0]
    tokens = torch.randn(2, 4, 16, 32)
    c, ctx = torch.randn(2, 4, 32), torch.randn(2, 5, 32)
    assert torch.equal(block(tokens, c, ctx, torch.ones(2, 5, dtype=torch.bool)), tokens)


@pytest.mark.parametrize("attention", ["full", "factorised"])
def test_attention_mixes_space_and_time(attention):
    """A change in one patch of the first latent frame reaches another patch of the last one."""
    model = make_model(attention)
    x = videos(1)
    y = x.clone()
    y[:, :, 0:2, 0:4, 0:4] += 0.5
    t = torch.full((1,), 0.5)
    diff = (model(x, t, CAPTIONS[:1]) - model(y, t, CAPTIONS[:1]))[:, :, 6:8, 12:16, 12:16]
    assert diff.abs().max() > 1e-4


def test_text_changes_the_prediction_and_padding_does_not():
    model = make_model()
    x, t = videos(1), torch.full((1,), 0.5)
    a, b = model(x, t, CAPTIONS[:1]), model(x, t, CAPTIONS[1:2])
    assert (a - b).abs().max() > 1e-4
    longer = TextEncoder(model.text.tokenizer, width=32, depth=1, heads=2, length=24)
    longer.load_state_dict(model.text.state_dict())
    # sin-cos positions are computed, so the same weights work at another caption length; pads are masked out
    c = TextToVideo(longer, model.dit).eval()(x, t, CAPTIONS[:1])
    assert torch.allclose(a, c, atol=1e-5)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_word_not_its_position_makes_its_token(seed):
    """Untrained, a caption's colour word must already move its token and the pooled caption:
    with word embeddings 50x smaller than the positions (std 0.02), swapping "red" for "blue"
    moved the token 3% and the demo's samples ignored their captions' colours."""
    torch.manual_seed(seed)
    pair = ["a red cube falls onto the floor", "a blue cube falls onto the floor"]
    tokens, _, pooled = TextEncoder(Tokenizer.build(pair), width=64, depth=2, heads=2, length=48)(pair)
    colour = 2  # <bos> a red
    assert (tokens[0, colour] - tokens[1, colour]).norm() > 0.5 * tokens[0, colour].norm()
    assert (pooled[0] - pooled[1]).norm() > 0.1 * pooled[0].norm()


def test_guidance_one_is_the_conditional_prediction():
    model = make_model()
    x, frames_t = videos(2), torch.full((2, 4), 0.7)
    context = model.encode(CAPTIONS[:2] + ["", ""])
    with torch.no_grad():  # the network predicts the clean clip; the sampler works with the velocity it implies
        cond = flow.velocity(model(x, frames_t, CAPTIONS[:2]), x, frames_t, 2)
        uncond = flow.velocity(model(x, frames_t, ["", ""]), x, frames_t, 2)
        assert torch.allclose(flow.guided_velocity(model, x, frames_t, context, 1.0), cond, atol=1e-5)
        assert torch.allclose(flow.guided_velocity(model, x, frames_t, context, 0.0), uncond, atol=1e-5)
        guided = flow.guided_velocity(model, x, frames_t, context, 3.0)
        assert torch.allclose(guided, uncond + 3 * (cond - uncond), atol=1e-4)
        assert (guided - cond).abs().max() > 1e-3


def test_sampler_is_deterministic_and_keeps_given_frames():
    model = make_model()
    first = videos(2, 4, 16, 16, seed=5)
    a = flow.sample(model, CAPTIONS[:2], 8, 16, 16, steps=4, guidance=2.0, seed=3, first=first)
    b = flow.sample(model, CAPTIONS[:2], 8, 16, 16, steps=4, guidance=2.0, seed=3, first=first)
    assert torch.equal(a, b) and a.shape == (2, 3, 8, 16, 16)
    assert torch.equal(a[:, :, :4], first)
    c = flow.sample(model, CAPTIONS[:2], 8, 16, 16, steps=4, guidance=2.0, seed=4, first=first)
    assert (c[:, :, 4:] - a[:, :, 4:]).abs().max() > 1e-3
    with pytest.raises(ValueError, match="multiple of 2"):
        flow.sample(model, CAPTIONS[:1], 8, 16, 16, steps=2, first=first[:1, :, :3])


def test_given_frames_carry_no_loss():
    """Frames given clean (t = 0) are not targets: a wild first latent frame leaves the loss
    normal when it is always given, and blows it up when it has to be predicted."""
    model = make_model()
    x = videos(4)
    x[:, :, :2] = 1000.0
    with torch.no_grad():
        given, _, _ = flow.training_loss(model, x, CAPTIONS[:1] * 4, torch.Generator().manual_seed(0), cond_prob=0.999999)
        predicted, _, _ = flow.training_loss(model, x, CAPTIONS[:1] * 4, torch.Generator().manual_seed(0), cond_prob=0.0)
    assert given < 1e3 < predicted


def test_path_and_time_sampling():
    x0, noise = videos(2), videos(2, seed=9)
    assert torch.equal(flow.noisy(x0, noise, torch.zeros(2, 4), 2), x0)  # t = 0 is data
    assert torch.equal(flow.noisy(x0, noise, torch.ones(2, 4), 2), noise)  # t = 1 is noise
    t = flow.logit_normal(20000, torch.Generator().manual_seed(0))
    assert 0 < t.min() and t.max() < 1 and abs(t.mean() - 0.5) < 0.01 and abs(t.median() - 0.5) < 0.01
    assert ((t > 0.3) & (t < 0.7)).float().mean() > 0.55  # denser in the middle than uniform's 0.4


@pytest.mark.parametrize("t_one", [0.0, 0.3])
def test_a_share_of_clips_trains_at_pure_noise(t_one):
    """`t_one` puts that share of the clips at t = 1 exactly (a logit-normal draw never reaches it)."""
    model, gen = make_model().train(), torch.Generator().manual_seed(0)
    ts = torch.cat([flow.training_loss(model, videos(8, seed=i), [""] * 8, gen, t_one=t_one, cond_prob=0.0)[1]
                    for i in range(50)])
    share = (ts == 1.0).float().mean().item()
    assert (share == 0.0) if t_one == 0 else abs(share - t_one) < 0.08  # 400 draws: 4.6 standard errors


def test_heldout_loss_is_deterministic():
    model = make_model()
    clips = videos(3)
    a = flow.heldout_loss(model, clips, CAPTIONS, seed=1, batch_size=2)
    b = flow.heldout_loss(model, clips, CAPTIONS, seed=1, batch_size=3)
    assert list(a) == list(flow.HELDOUT_TIMES)
    assert all(abs(a[t] - b[t]) <= 1e-5 * a[t] for t in a)  # batching changes only float rounding
    assert flow.heldout_loss(model, clips, CAPTIONS, seed=1, batch_size=2) == a


def test_tokenizer_unknown_words_and_languages():
    tok = Tokenizer.build(CAPTIONS + ["一个红色的立方体落下"])
    ids, mask = tok.encode(["a red zebra", ""], length=6)
    assert ids[0, 0] == Tokenizer.BOS and ids[0, 3] == Tokenizer.UNK and mask[0].sum() == 4
    assert mask[1].tolist() == [True] + [False] * 5  # the empty caption keeps its start token
    assert tok.unknown("a red zebra!") == ["zebra"]
    assert words("一个红色") == ["一", "个", "红", "色"] and words("Ball, rolls.") == ["ball", ",", "rolls", "."]
    assert Tokenizer(tok.vocab).encode(["a red cube"], 8)[0].tolist() == tok.encode(["a red cube"], 8)[0].tolist()


def test_frozen_encoder_from_a_local_directory(tmp_path):
    """Without sentence-transformers: a clear error. With it: a tiny model written to disk here
    (nothing downloaded) encodes captions, stays frozen and out of the checkpoint."""
    try:
        from sentence_transformers import SentenceTransformer, models
        from transformers import BertConfig, BertModel, BertTokenizerFast
    except ImportError:
        with pytest.raises(RuntimeError, match="sentence-transformers package"):
            FrozenEncoder(tmp_path)
        return
    with pytest.raises(FileNotFoundError, match="not a local sentence-transformers model directory"):
        FrozenEncoder(tmp_path)
    bert = tmp_path / "bert"
    bert.mkdir()
    (bert / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "red", "cube"]))
    BertTokenizerFast(vocab_file=str(bert / "vocab.txt")).save_pretrained(bert)
    BertModel(BertConfig(vocab_size=8, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                         intermediate_size=64)).save_pretrained(bert)
    body = models.Transformer(str(bert))
    SentenceTransformer(modules=[body, models.Pooling(32)]).save(str(tmp_path / "st"))
    encoder = FrozenEncoder(tmp_path / "st", length=16)
    tokens, mask, pooled = encoder(["a red cube", "", "a zebra"])
    assert tokens.shape == (3, 5, 32) and mask.sum(1).tolist() == [5, 2, 4] and pooled.shape == (3, 32)
    model = TextToVideo(encoder, build_dit("tiny", width=32, heads=2, context_dim=encoder.width))
    model(videos(), torch.rand(2), ["a red cube", ""]).square().mean().backward()
    assert not any(k.startswith("text.") for k in model.state_dict())
    assert all(p.grad is not None for p in model.dit.parameters())


def test_flop_count_matches_torch_counter():
    """The analytic count (used for MFU) agrees with torch's FLOP counter on the matrix products;
    torch does not count CPU attention kernels, so those are added from their formula."""
    model = make_model().train()
    x = videos(2, 8, 16, 16)
    with FlopCounterMode(display=False) as counter:
        loss, _, _ = flow.training_loss(model, x, CAPTIONS[:2], torch.Generator().manual_seed(0), cond_prob=0.0)
        loss.backward()
    cfg, dit, L = model.dit.cfg, model.dit, model.text.length
    N = (8 // 2) * (16 // 4) * (16 // 4)
    attention = 3 * (cfg.depth * (4 * N * N * cfg.width + 4 * N * L * cfg.width) + len(model.text.layers.layers) * 4 * L * L * model.text.width)
    counted = counter.get_total_flops() / 2 + attention
    assert abs(model.flops_per_clip(8, 16, 16) - counted) / counted < 0.03
    assert dit.flops_per_clip(8, 16, 16, L) > 6 * N * sum(p.numel() for p in dit.blocks.parameters() if p.dim() == 2) * 0.9


def test_the_conv_head_starts_as_the_identity_and_learns():
    """A zero-initialised convolution after the patch decoder: at first the model is the plain one
    (so it cannot hurt at step 0); one step of training moves it, and the count of FLOPs has it."""
    torch.manual_seed(0)
    text = TextEncoder(Tokenizer.build(CAPTIONS), width=32, depth=1, heads=2, length=16)
    plain = TextToVideo(text, build_dit("tiny", width=32, heads=2, context_dim=32))
    torch.manual_seed(0)
    text = TextEncoder(Tokenizer.build(CAPTIONS), width=32, depth=1, heads=2, length=16)
    conv = TextToVideo(text, build_dit("tiny", width=32, heads=2, context_dim=32, conv_head=True))
    conv.load_state_dict(plain.state_dict(), strict=False)
    with torch.no_grad():
        for p in list(plain.dit.final.parameters()):
            p.add_(0.05 * torch.randn_like(p))
    conv.dit.final.load_state_dict(plain.dit.final.state_dict())
    x, t = videos(), torch.full((2,), 0.5)
    assert torch.equal(conv(x, t, CAPTIONS[:2]), plain(x, t, CAPTIONS[:2]))
    loss, _, _ = flow.training_loss(conv.train(), x, CAPTIONS[:2], torch.Generator().manual_seed(0), cond_prob=0.0)
    loss.backward()
    assert conv.dit.refine.weight.grad.abs().sum() > 0
    assert conv.flops_per_clip(8, 16, 16) > plain.flops_per_clip(8, 16, 16)


class Oracle(torch.nn.Module):
    """Stands in for the network: predicts a fixed clean clip whatever it is given."""

    def __init__(self, model: TextToVideo, x0: torch.Tensor):
        super().__init__()
        self.dit, self.x0 = model.dit, x0

    def forward(self, x, t, captions):
        return self.x0.clone()


@pytest.mark.parametrize("loss_t_min", [0.05, 0.3, 1.0])
def test_the_loss_is_zero_for_the_true_clip_at_every_time(loss_t_min):
    """Capping the loss weight must not change the target: the true clean clip costs nothing,
    also at times below the cap (t_uniform=0.999 draws many there), and a wrong one costs
    its squared error over max(t, loss_t_min)^2."""
    x0 = videos(64)
    exact, t, _ = flow.training_loss(Oracle(make_model(), x0), x0, CAPTIONS[:1] * 64, torch.Generator().manual_seed(0),
                                     cond_prob=0.0, t_uniform=0.999, loss_t_min=loss_t_min)
    assert (t < 0.05).any() and exact.item() == 0.0
    off, t, per_clip = flow.training_loss(Oracle(make_model(), x0 + 0.1), x0, CAPTIONS[:1] * 64,
                                          torch.Generator().manual_seed(0), cond_prob=0.0, t_uniform=0.999,
                                          loss_t_min=loss_t_min)
    assert torch.allclose(per_clip, 0.01 / t.clamp(min=loss_t_min) ** 2, rtol=1e-3)


def test_pixel_weights_weigh_the_loss():
    """Errors on heavily weighted pixels cost more than the same errors on the rest."""
    x0 = videos(8)
    weight = torch.ones(8, 8, 16, 16)
    weight[:, :, :4] = 8.0  # the top rows: "objects"
    wrong_top, wrong_bottom = x0.clone(), x0.clone()
    wrong_top[:, :, :, :4] += 0.5
    wrong_bottom[:, :, :, -4:] += 0.5
    losses = [flow.training_loss(Oracle(make_model(), guess), x0, CAPTIONS[:1] * 8, torch.Generator().manual_seed(0),
                                 cond_prob=0.0, loss_t_min=1.0, pixel_weight=weight)[0].item()
              for guess in (wrong_top, wrong_bottom)]
    assert losses[0] == pytest.approx(8 * losses[1], rel=1e-4)


def test_mean_clip_yardstick():
    clips = videos(5)
    assert flow.mean_clip_loss(clips) > 0 and flow.mean_clip_loss(clips[:1].repeat(3, 1, 1, 1, 1)) < 1e-12


def test_object_weights_cover_objects_and_their_edges():
    """Weights from instance ids: `weight` on object pixels and the ring around them, 1 elsewhere,
    area-averaged when the model's size is smaller than the stored one."""
    import numpy as np

    from simreel.trainer.data import ClipShape, object_weights

    ids = np.zeros((4, 16, 16), np.uint8)
    ids[:, 6:8, 6:8] = 1
    w = object_weights(ids, ClipShape(2, 16, 16), start=1, weight=8.0)
    assert w.shape == (2, 16, 16) and w[0, 6, 6] == 8.0 and w[0, 5, 5] == 8.0 and w[0, 8, 8] == 8.0
    assert w[0, 9, 9] == 1.0 and w[0, 4, 4] == 1.0 and int((w == 8.0).sum()) == 2 * 16
    small = object_weights(ids, ClipShape(2, 8, 8), start=0, weight=8.0)
    assert small.shape == (2, 8, 8) and small.max() == 8.0 and small.min() == 1.0


def test_the_frame_autoencoder_learns_scales_and_freezes():
    """Trained on a stream of clips (each a coloured square on a plain floor), its reconstructions
    beat the mean frame by a wide margin, latents come out at unit scale (the flow's noise scale), and it is
    frozen afterwards."""
    from simreel.trainer.autoencoder import FrameAutoencoder, fit

    gen = torch.Generator().manual_seed(0)

    def clip():
        x = torch.full((3, 4, 16, 16), -0.5)
        y, z = torch.randint(0, 9, (2,), generator=gen).tolist()
        x[:, :, y: y + 8, z: z + 8] = (torch.rand(3, generator=gen) * 2 - 1)[:, None, None, None]
        return x

    def stream():
        while True:
            yield torch.stack([clip() for _ in range(8)]), None, None, None, None

    torch.manual_seed(0)
    ae = FrameAutoencoder(channels=4, width=16)
    fit(ae, stream(), steps=500, lr=3e-3, gen=gen)  # 0.09-0.14 of the mean frame's error over seeds 0-3
    x = torch.stack([clip() for _ in range(8)])
    with torch.no_grad():
        z = ae.encode(x)
        error = ((ae.decode(z) - x) ** 2).mean().item()
    assert z.shape == (8, 4, 4, 4, 4)
    assert 0.5 < z.std().item() < 2.0
    assert error < 0.3 * ((x - x.mean(0)) ** 2).mean().item()
    assert not any(p.requires_grad for p in ae.parameters())


def test_a_latent_model_samples_pixels_and_keeps_given_frames():
    """With an autoencoder the DiT denoises latents 4x smaller each side; the sampler hands back
    pixels, the given first frames exactly, and the FLOP count includes encoding the clip."""
    from simreel.trainer.autoencoder import FrameAutoencoder

    torch.manual_seed(0)
    text = TextEncoder(Tokenizer.build(CAPTIONS), width=32, depth=1, heads=2, length=16)
    dit = build_dit("tiny", width=32, heads=2, patch=(2, 2, 2), context_dim=32, channels=4)
    model = TextToVideo(text, dit, FrameAutoencoder(channels=4, width=8)).eval()
    first = videos(2, 4, 32, 32, seed=5)
    out = flow.sample(model, CAPTIONS[:2], 8, 32, 32, steps=3, first=first)
    assert out.shape == (2, 3, 8, 32, 32) and torch.equal(out[:, :, :4], first)
    assert model.to_latent(first).shape == (2, 4, 4, 8, 8)
    pixel = TextToVideo(text, build_dit("tiny", width=32, heads=2, patch=(2, 2, 2), context_dim=32, channels=4))
    assert model.flops_per_clip(8, 32, 32) > pixel.flops_per_clip(8, 8, 8)
