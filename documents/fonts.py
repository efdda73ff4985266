"""Font stacks of the official-document templates (DOMAIN.md §6).

The licensed GB fonts come first, so a site that installs them gets them; then the free
Debian fonts (fonts-arphic-ukai, fonts-noto-cjk). No free simplified 仿宋 exists in Debian:
body text falls back to AR PL UKai CN (楷, the closest look), then Noto Serif CJK SC.
The templates receive these as `fonts.<name>` (CSS font-family values); the system check
(`documents.checks`) warns when none of a stack's fonts is installed.
"""

from __future__ import annotations

FREE_SERIF = ["AR PL UKai CN", "Noto Serif CJK SC", "Noto Sans CJK SC"]

STACKS: dict[str, list[str]] = {
    # 仿宋: body text (3号仿宋)
    "fangsong": ["仿宋_GB2312", "FangSong_GB2312", "方正仿宋_GBK", "仿宋", "FangSong", *FREE_SERIF],
    # 小标宋: title and issuing-authority mark (2号小标宋)
    "xiaobiaosong": [
        "方正小标宋简体",
        "方正小标宋_GBK",
        "FZXiaoBiaoSong-B05S",
        "华文中宋",
        "STZhongsong",
        "Noto Serif CJK SC",
        "AR PL UKai CN",
        "Noto Sans CJK SC",
    ],
    # 黑体: first-level headings 一、. Set in bold: a regular-only licensed 黑体 stays regular
    # (WeasyPrint synthesises no bold), the free fallback is Noto Serif CJK SC Bold, the font
    # of the title: every CJK OpenType font embedded costs ~80 KB however few glyphs it
    # holds (WeasyPrint keeps glyph ids), so the free fallbacks share two fonts, not three.
    "heiti": [
        "黑体",
        "SimHei",
        "方正黑体_GBK",
        "方正黑体简体",
        "Noto Serif CJK SC",
        "Noto Sans CJK SC",
    ],
    # 楷体: second-level headings （一）
    "kaiti": ["楷体_GB2312", "KaiTi_GB2312", "方正楷体_GBK", "楷体", "KaiTi", *FREE_SERIF],
    # 宋体: page numbers (4号半角宋体)
    "songti": ["宋体", "SimSun", "Noto Serif CJK SC", "AR PL UKai CN", "Noto Sans CJK SC"],
}


def css_family(stack: list[str]) -> str:
    return ", ".join(f'"{name}"' for name in stack)


def css_stacks() -> dict[str, str]:
    return {name: css_family(stack) for name, stack in STACKS.items()}
