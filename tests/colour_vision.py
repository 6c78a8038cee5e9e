"""Colour differences as people see them, for the colour tests: sRGB to CIELAB (D65), the CIEDE2000
difference (Sharma, Wu & Dalal 2005, checked against their published test pairs in
test_colours.py), and how a red-blind (protanopia) or green-blind (deuteranopia) eye sees a colour
(Machado, Oliveira & Fernandes 2009, severity 1, a linear map in linear RGB), and WCAG 2's contrast
ratio of two colours."""

import numpy as np

CVD = {
    "protanopia": np.array(
        [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]]
    ),
    "deuteranopia": np.array(
        [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]]
    ),
}
_XYZ = np.array(  # linear sRGB to CIE XYZ
    [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]]
)
_WHITE = np.array([0.95047, 1.0, 1.08883])  # D65


def rgb(hex_colour: str) -> np.ndarray:
    """ "#RRGGBB" as sRGB in [0, 1]."""
    return np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)]) / 255


def linear(srgb) -> np.ndarray:
    srgb = np.asarray(srgb, float)
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def encoded(lin) -> np.ndarray:
    lin = np.clip(lin, 0, 1)
    return np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * lin ** (1 / 2.4) - 0.055)


def seen_by(srgb, vision: str) -> np.ndarray:
    """The sRGB colour that looks to a typical eye as `srgb` looks to `vision` ("normal" or a CVD)."""
    return np.asarray(srgb, float) if vision == "normal" else encoded(CVD[vision] @ linear(srgb))


def lab(srgb) -> np.ndarray:
    xyz = _XYZ @ linear(srgb) / _WHITE
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def ciede2000(lab1, lab2) -> float:
    """ΔE00 between two CIELAB colours (kL = kC = kH = 1)."""
    (l1, a1, b1), (l2, a2, b2) = lab1, lab2
    c_mean = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_mean**7 / (c_mean**7 + 25**7)))
    a1, a2 = (1 + g) * a1, (1 + g) * a2
    c1, c2 = np.hypot(a1, b1), np.hypot(a2, b2)
    h1 = np.degrees(np.arctan2(b1, a1)) % 360 if c1 else 0.0
    h2 = np.degrees(np.arctan2(b2, a2)) % 360 if c2 else 0.0
    dh = 0.0 if c1 * c2 == 0 else (h2 - h1 + 180) % 360 - 180
    d_l, d_c, d_h = l2 - l1, c2 - c1, 2 * np.sqrt(c1 * c2) * np.sin(np.radians(dh / 2))
    l_mean, c_mean = (l1 + l2) / 2, (c1 + c2) / 2
    if c1 * c2 == 0:
        h_mean = h1 + h2
    elif abs(h1 - h2) <= 180:
        h_mean = (h1 + h2) / 2
    else:
        h_mean = (h1 + h2 + 360) / 2 if h1 + h2 < 360 else (h1 + h2 - 360) / 2
    t = (
        1
        - 0.17 * np.cos(np.radians(h_mean - 30))
        + 0.24 * np.cos(np.radians(2 * h_mean))
        + 0.32 * np.cos(np.radians(3 * h_mean + 6))
        - 0.20 * np.cos(np.radians(4 * h_mean - 63))
    )
    rotation = (
        -np.sin(np.radians(60 * np.exp(-(((h_mean - 275) / 25) ** 2))))
        * 2
        * np.sqrt(c_mean**7 / (c_mean**7 + 25**7))
    )
    s_l = 1 + 0.015 * (l_mean - 50) ** 2 / np.sqrt(20 + (l_mean - 50) ** 2)
    s_c, s_h = 1 + 0.045 * c_mean, 1 + 0.015 * c_mean * t
    return float(
        np.sqrt((d_l / s_l) ** 2 + (d_c / s_c) ** 2 + (d_h / s_h) ** 2 + rotation * (d_c / s_c) * (d_h / s_h))
    )


def contrast(srgb1, srgb2) -> float:
    """WCAG 2's contrast ratio (L1 + 0.05) / (L2 + 0.05), L the relative luminance, L1 the lighter:
    1 for equal colours, 21 for black on white; text needs 4.5, lines and shapes 3."""
    l1, l2 = sorted((float(linear(c) @ _XYZ[1]) for c in (srgb1, srgb2)), reverse=True)
    return (l1 + 0.05) / (l2 + 0.05)
