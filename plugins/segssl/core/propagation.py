"""Pixel propagation heads (the PixPro thesis, sections 2.4.1 and 3.1): PPM, LocalPPM, self-attention.

All take a feature map ``x`` of shape (N, C, H, W) and return ``y`` of the same shape.

PPM (PixPro):       y_i = sum_{j in Omega} s(x_i, x_j) g(x_j),  s = max(cos(x_i, x_j), 0)^gamma
LocalPPM (the PixPro thesis): the same sum with Omega = the non-overlapping n x n frame holding i; the map
                    is zero-padded to a multiple of n (padded pixels have s = 0, so they add
                    nothing) and the frames are computed as one batched matmul, so memory is
                    O(N H W n^2), never O(N (H W)^2).
Self-attention:     y = x + gamma * softmax(Q K^T / sqrt(d_k)) V on x + 2-D sinusoidal PE,
                    gamma a learnable scalar initialised to 0.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def build_value_transform(channels: int, kind: str = 'conv', num_layers: int = 1) -> nn.Module:
    """g() of the PPM. ``kind='conv'``: ``num_layers`` 1x1 convs with BN+ReLU between them (PixPro
    code's default is one conv); ``kind='linear_bn_relu'``: 1x1 conv + BN + ReLU (the thesis text)."""
    if kind == 'conv':
        layers = []
        for k in range(num_layers):
            layers.append(nn.Conv2d(channels, channels, 1))
            if k < num_layers - 1:
                layers += [nn.BatchNorm2d(channels), nn.ReLU(inplace=True)]
        return nn.Sequential(*layers)
    if kind == 'linear_bn_relu':
        return nn.Sequential(nn.Conv2d(channels, channels, 1), nn.BatchNorm2d(channels), nn.ReLU(inplace=True))
    raise ValueError(f"value transform kind={kind!r}: expected 'conv' or 'linear_bn_relu'")


def propagation_similarity(q: torch.Tensor, k: torch.Tensor, gamma: float) -> torch.Tensor:
    """s = max(cos, 0)^gamma between L2-normalised columns: q (B, C, P), k (B, C, Q) -> (B, P, Q)."""
    sim = torch.bmm(q.transpose(1, 2), k).clamp(min=0)
    if gamma < 1:  # d/ds s^gamma is infinite at 0 for gamma < 1 (PixPro adds 1e-6)
        sim = sim + 1e-6
    return sim.pow(gamma)


class PixelPropagation(nn.Module):
    """PPM: every pixel propagates to every pixel of the same map (PixPro). O((HW)^2) memory.

    Args:
        channels: C of the input map (the projector output, 256 in PixPro).
        gamma: sharpness exponent of s (PixPro: 2).
        value_transform: 'conv' or 'linear_bn_relu' (see build_value_transform).
        value_layers: number of 1x1 convs of g() when value_transform='conv'.
        normalize_value: L2-normalise g(x) over channels before propagating (PixPro code does).
    """

    def __init__(self, channels: int, gamma: float = 2.0, value_transform: str = 'conv', value_layers: int = 1,
                 normalize_value: bool = True):
        super().__init__()
        self.gamma, self.normalize_value = gamma, normalize_value
        self.value = build_value_transform(channels, value_transform, value_layers)

    def _values(self, x):
        v = self.value(x)
        return F.normalize(v, dim=1) if self.normalize_value else v

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        N, C, H, W = x.shape
        v = self._values(x).flatten(2)  # (N, C, HW)
        q = F.normalize(x, dim=1).flatten(2)  # (N, C, HW)
        s = propagation_similarity(q, q, self.gamma)  # (N, HW_i, HW_j)
        return torch.bmm(v, s.transpose(1, 2)).view(N, -1, H, W)


class LocalPixelPropagation(PixelPropagation):
    """LocalPPM: propagation restricted to non-overlapping ``frame x frame`` windows (the PixPro thesis, 3.1.2).

    Args:
        frame: n, the frame side in feature pixels (seed: 7 and 5; final 5).
        other args: as PixelPropagation.
    """

    def __init__(self, channels: int, frame: int = 5, **kwargs):
        super().__init__(channels, **kwargs)
        if frame < 1:
            raise ValueError(f'LocalPPM frame={frame}: expected a positive frame side in pixels')
        self.frame = frame

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        N, C, H, W = x.shape
        n = self.frame
        v = self._values(x)
        q = F.normalize(x, dim=1)
        ph, pw = (-H) % n, (-W) % n  # zero padding to a multiple of n
        if ph or pw:
            v, q = F.pad(v, (0, pw, 0, ph)), F.pad(q, (0, pw, 0, ph))
        fh, fw = (H + ph) // n, (W + pw) // n

        def frames(t):  # (N, C, fh*n, fw*n) -> (N*fh*fw, C, n*n)
            c = t.shape[1]
            return t.view(N, c, fh, n, fw, n).permute(0, 2, 4, 1, 3, 5).reshape(N * fh * fw, c, n * n)

        qf, vf = frames(q), frames(v)
        s = propagation_similarity(qf, qf, self.gamma)  # (N*fh*fw, n*n, n*n)
        y = torch.bmm(vf, s.transpose(1, 2))  # (N*fh*fw, C, n*n)
        y = y.view(N, fh, fw, -1, n, n).permute(0, 3, 1, 4, 2, 5).reshape(N, -1, fh * n, fw * n)
        return y[:, :, :H, :W].contiguous()


def sinusoidal_position_encoding_2d(channels: int, height: int, width: int, temperature: float = 10000.0, device=None,
                                    dtype=None) -> torch.Tensor:
    """2-D sine/cosine encoding (1, C, H, W): the first C/2 channels encode y, the rest x, each as
    [sin(p w_k), cos(p w_k)] with w_k = temperature^(-2k/(C/2)) (Transformer style, per axis)."""
    if channels % 4:
        raise ValueError(f'2-D sinusoidal encoding needs channels divisible by 4, got {channels}')
    quarter = channels // 4
    dtype = dtype or torch.get_default_dtype()
    omega = temperature**(-torch.arange(quarter, device=device, dtype=dtype) / quarter)
    ys = torch.arange(height, device=device, dtype=dtype)[:, None] * omega  # (H, C/4)
    xs = torch.arange(width, device=device, dtype=dtype)[:, None] * omega  # (W, C/4)
    pe_y = torch.cat([ys.sin(), ys.cos()], 1).t()[:, :, None].expand(-1, height, width)
    pe_x = torch.cat([xs.sin(), xs.cos()], 1).t()[:, None, :].expand(-1, height, width)
    return torch.cat([pe_y, pe_x], 0)[None]


class SelfAttentionPropagation(nn.Module):
    """Self-attention head (the PixPro thesis, 3.1.3): y = x + gamma * o,  o = softmax(Q K^T / sqrt(d_k)) V,
    with Q, K, V 1x1 convs of x + PE, and gamma a learnable scalar initialised to 0.

    Args:
        channels: C of the input map.
        key_channels: d_k of Q and K (default C // 8, as in SAGAN-style attention heads).
        position_encoding: add the 2-D sinusoidal PE before Q, K, V.
    """

    def __init__(self, channels: int, key_channels: int = None, position_encoding: bool = True):
        super().__init__()
        dk = key_channels or max(1, channels // 8)
        self.query, self.key = nn.Conv2d(channels, dk, 1), nn.Conv2d(channels, dk, 1)
        self.value = nn.Conv2d(channels, channels, 1)
        self.gamma = nn.Parameter(torch.zeros(()))
        self.key_channels, self.position_encoding = dk, position_encoding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        N, C, H, W = x.shape
        # the encoding is built in float32 at least (in float16 the sines of large arguments are
        # off by up to 0.026 at 56 x 56), then added in the input's dtype
        pe_dtype = torch.promote_types(x.dtype, torch.float32)
        h = (x + sinusoidal_position_encoding_2d(C, H, W, device=x.device, dtype=pe_dtype).to(x.dtype)
             if self.position_encoding else x)
        q, k, v = self.query(h).flatten(2), self.key(h).flatten(2), self.value(h).flatten(2)
        attn = torch.softmax(torch.bmm(q.transpose(1, 2), k) / math.sqrt(self.key_channels), dim=-1)
        o = torch.bmm(v, attn.transpose(1, 2)).view(N, C, H, W)
        return x + self.gamma * o
